// A 3×3 depthwise convolution layer for OpenCV 4.6's dnn, used for the
// layers whose input is narrower than 18 px.
//
// OpenCV 4.6 runs a depthwise 3×3 convolution on its vectorised path only
// when the input is at least 18 px wide (convolution_layer.cpp:
// "width >= 16 + dilation_w*(kernel_w - 1)"). Narrower ones fall back to the
// generic im2row convolution, one channel per group: in fr_feature the six
// 256-channel 14×14 layers took 0.44 ms each against 0.11 ms for a 128-channel
// 28×28 one with twice the pixels (getPerfProfile, one core). This layer
// wraps OpenCV's own: at finalize, inputs of 18 px and wider keep OpenCV's
// path; narrower ones run NarrowDepthwise::plane below. Same weights, bias
// and fused activation; only the order of the float additions differs: on
// the 130 calibration photos a descriptor moved by at most 3.1e-7 (cosine
// distance to OpenCV's), a pair distance by at most 1.3e-5
// (TestNarrowDepthwiseSameDescriptors). One core (taskset -c 0), CPU-time
// medians: fr_feature 11.5 → 8.4 ms, fr_landmark's two passes 3.4 → 1.8 ms.
#include "dwconv.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

using cv::Mat;
using cv::Ptr;
using cv::dnn::LayerParams;
using cv::dnn::MatShape;

// OpenCV's vectorised depthwise path starts at this input width.
const int kOpenCVMinWidth = 18;

// intParam reads an int list param of n values (one value means all n).
bool intParam(const LayerParams& p, const char* key, int def, size_t n, std::vector<int>& v) {
    v.assign(n, def);
    if (!p.has(key)) return true;
    const cv::dnn::DictValue& d = p.get(key);
    if (d.size() == 1) {
        v.assign(n, d.get<int>(0));
        return true;
    }
    if ((size_t)d.size() != n) return false;
    for (size_t i = 0; i < n; i++) v[i] = d.get<int>((int)i);
    return true;
}

// dwRun convolves a zero-padded plane of row pitch pw as one long row:
// out[i] = b + Σ k·window at i, then PReLU with slope sl. Every output row
// of a stride-1 convolution is a stretch of out; the stretches between rows
// are discarded. One long loop lets the compiler vectorise a 14-px plane,
// which a loop per 14-px row does not.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void dwRun(const float* __restrict in, int pw, float* __restrict out, int n, const float* __restrict k, float b,
           float sl) {
    const float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8];
    const float* __restrict r0 = in;
    const float* __restrict r1 = in + pw;
    const float* __restrict r2 = in + 2 * pw;
    for (int i = 0; i < n; i++) {
        float s = b + k0 * r0[i] + k1 * r0[i + 1] + k2 * r0[i + 2] + k3 * r1[i] + k4 * r1[i + 1] + k5 * r1[i + 2] +
                  k6 * r2[i] + k7 * r2[i + 1] + k8 * r2[i + 2];
        out[i] = s > 0.f ? s : s * sl;
    }
}

class NarrowDepthwise : public cv::dnn::Layer {
public:
    NarrowDepthwise(const LayerParams& p, const Ptr<cv::dnn::Layer>& opencv, int c, int stride, const int pad[4])
        : opencv_(opencv), c_(c), stride_(stride), pt_(pad[0]), pl_(pad[1]), pb_(pad[2]), pr_(pad[3]) {
        setParamsFrom(p);
        // Not "Convolution": OpenCV's conv-specific fusions cast to its own class.
        type = "FacegateNarrowDepthwise";
        w_ = p.blobs[0].reshape(1, c).clone();
        bias_.assign(c, 0.f);
        if (p.blobs.size() > 1) std::memcpy(bias_.data(), p.blobs[1].ptr<float>(), c * sizeof(float));
        slope_.assign(c, 1.f);
    }

    bool getMemoryShapes(const std::vector<MatShape>& in, const int req, std::vector<MatShape>& out,
                         std::vector<MatShape>& internals) const override {
        return opencv_->getMemoryShapes(in, req, out, internals);
    }

    int64 getFLOPS(const std::vector<MatShape>& in, const std::vector<MatShape>& out) const override {
        return opencv_->getFLOPS(in, out);
    }

    // setActivation takes a following ReLU or per-channel PReLU, as OpenCV's
    // convolution does; both paths must apply it, so OpenCV's must accept it.
    bool setActivation(const Ptr<cv::dnn::ActivationLayer>& l) override {
        std::vector<float> sl;
        if (Ptr<cv::dnn::ReLULayer> r = l.dynamicCast<cv::dnn::ReLULayer>()) {
            sl.assign(c_, r->negativeSlope);
        } else if (!l.dynamicCast<cv::dnn::ChannelsPReLULayer>().empty() && l->blobs.size() == 1 &&
                   (int)l->blobs[0].total() == c_ && l->blobs[0].type() == CV_32F) {
            const float* s = l->blobs[0].ptr<float>();
            sl.assign(s, s + c_);
        } else {
            return false;
        }
        if (!opencv_->setActivation(l)) return false;
        slope_ = sl;
        return true;
    }

    void finalize(cv::InputArrayOfArrays ia, cv::OutputArrayOfArrays oa) override {
        opencv_->finalize(ia, oa);
        std::vector<Mat> in;
        ia.getMatVector(in);
        own_ = in.size() == 1 && in[0].dims == 4 && in[0].type() == CV_32F && in[0].size[1] == c_ &&
               in[0].size[3] < kOpenCVMinWidth;
    }

    void forward(cv::InputArrayOfArrays ia, cv::OutputArrayOfArrays oa, cv::OutputArrayOfArrays ta) override {
        if (!own_) {
            opencv_->forward(ia, oa, ta);
            return;
        }
        std::vector<Mat> in, out;
        ia.getMatVector(in);
        oa.getMatVector(out);
        const Mat& x = in[0];
        Mat& y = out[0];
        const int planes = x.size[0] * c_, h = x.size[2], w = x.size[3], oh = y.size[2], ow = y.size[3];
        const int stripes = std::max(1, std::min(planes, cv::getNumThreads()));
        cv::parallel_for_(cv::Range(0, stripes), [&](const cv::Range& r) {
            const int pw = w + pl_ + pr_, ph = h + pt_ + pb_;
            std::vector<float> padded(pw * (ph + 1) + 2), full(pw * ph);
            for (int i = r.start * planes / stripes; i < r.end * planes / stripes; i++)
                plane(x.ptr<float>() + (size_t)i * h * w, y.ptr<float>() + (size_t)i * oh * ow, h, w, oh, ow,
                      i % c_, padded.data(), full.data());
        }, stripes);
    }

private:
    // plane pads one channel with zeros, convolves it at stride 1 and keeps
    // every stride-th row and column (stride 2 computes 4× the outputs it
    // keeps; on these small planes that is still far cheaper than im2row).
    void plane(const float* src, float* dst, int h, int w, int oh, int ow, int ch, float* padded,
               float* full) const {
        const int pw = w + pl_ + pr_, ph = h + pt_ + pb_;
        std::fill(padded, padded + pw * (ph + 1) + 2, 0.f);
        for (int y = 0; y < h; y++) std::copy(src + y * w, src + (y + 1) * w, padded + (y + pt_) * pw + pl_);
        const int rows = (oh - 1) * stride_ + 1;
        dwRun(padded, pw, full, rows * pw, w_.ptr<float>(ch), bias_[ch], slope_[ch]);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) dst[oy * ow + ox] = full[oy * stride_ * pw + ox * stride_];
    }

    Ptr<cv::dnn::Layer> opencv_;
    bool own_ = false;
    int c_, stride_, pt_, pl_, pb_, pr_;
    Mat w_;
    std::vector<float> bias_, slope_;
};

// isDepthwise3x3 reports whether p is a 3×3, stride 1 or 2, undilated
// depthwise convolution padded by 0 or 1 on opposite sides alike, and its
// padding (top, left, bottom, right).
bool isDepthwise3x3(const LayerParams& p, int pad[4]) {
    std::vector<int> k, s, d, pd;
    const int group = p.get<int>("group", 1), c = p.get<int>("num_output", 0);
    if (p.blobs.empty() || p.blobs[0].dims != 4 || p.blobs[0].type() != CV_32F || p.has("pad_mode")) return false;
    if (!intParam(p, "kernel_size", 1, 2, k) || !intParam(p, "stride", 1, 2, s) || !intParam(p, "dilation", 1, 2, d))
        return false;
    if (p.has("pad") && p.get("pad").size() == 4) {
        if (!intParam(p, "pad", 0, 4, pd)) return false;
    } else {
        if (!intParam(p, "pad", 0, 2, pd)) return false;
        pd = {pd[0], pd[1], pd[0], pd[1]};
    }
    const bool ok = k[0] == 3 && k[1] == 3 && s[0] == s[1] && (s[0] == 1 || s[0] == 2) && d[0] == 1 && d[1] == 1 &&
                    group > 1 && group == c && p.blobs[0].size[0] == c && p.blobs[0].size[1] == 1 &&
                    (p.blobs.size() < 2 || (int)p.blobs[1].total() == c) &&
                    std::all_of(pd.begin(), pd.end(), [](int v) { return v >= 0 && v <= 1; }) &&
                    pd[0] == pd[2] && pd[1] == pd[3];  // symmetric, as every net here: the tested case
    std::copy(pd.begin(), pd.end(), pad);
    return ok;
}

Ptr<cv::dnn::Layer> makeConvolution(LayerParams& p) {
    Ptr<cv::dnn::Layer> opencv = cv::dnn::ConvolutionLayer::create(p);
    int pad[4];
    if (!isDepthwise3x3(p, pad)) return opencv;
    std::vector<int> s;
    intParam(p, "stride", 1, 2, s);
    return Ptr<cv::dnn::Layer>(new NarrowDepthwise(p, opencv, p.get<int>("num_output"), s[0], pad));
}

}  // namespace

extern "C" int fg_dwconv_register(char* err, int errlen) {
    try {
        cv::dnn::LayerFactory::registerLayer("Convolution", makeConvolution);
        return 0;
    } catch (const std::exception& e) {
        std::snprintf(err, errlen, "%s", e.what());
        return -1;
    }
}

extern "C" void fg_dwconv_unregister(void) {
    try {
        cv::dnn::LayerFactory::unregisterLayer("Convolution");
    } catch (...) {
    }
}
