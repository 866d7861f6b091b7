// C interface of the dlib network builder. Kept C-only so cgo can call it.
#ifndef FACEGATE_DLIBNET_H
#define FACEGATE_DLIBNET_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

// Builds go-face's descriptor ResNet (anet_type), fills it with params
// (input-to-output order: per conv its filters [out][in][kh][kw] then biases;
// per affine its gamma then beta; the fc weights [in][out]) and serializes it
// to out_path. Returns 0 on success; otherwise writes a message into err.
int fg_build_resnet(const float* params, size_t n, const char* out_path, char* err, size_t errlen);

// Number of parameters fg_build_resnet expects.
size_t fg_resnet_param_count(void);

// Writes an MMOD detector network (go-face's cnn_anet_type) with no trained
// weights: it deserializes, so go-face can start, but it detects nothing.
int fg_build_inert_mmod(const char* out_path, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
