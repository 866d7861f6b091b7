// C interface of the narrow depthwise convolution (dwconv.cc), for cgo.
#ifndef FACEGATE_DWCONV_H
#define FACEGATE_DWCONV_H
#ifdef __cplusplus
extern "C" {
#endif

// While registered, OpenCV's dnn builds every 3×3 depthwise convolution of
// a net it loads as fg's layer (see dwconv.cc). Returns 0, or -1 with a
// message in err.
int fg_dwconv_register(char* err, int errlen);
void fg_dwconv_unregister(void);

#ifdef __cplusplus
}
#endif
#endif
