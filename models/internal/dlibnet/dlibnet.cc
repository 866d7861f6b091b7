// Builds dlib networks for go-face from weights prepared in Go.
//
// The network types below must stay identical to the ones in go-face's
// facerec.cc (github.com/Kagami/go-face at the pinned commit): dlib's
// deserializer checks the layer structure, so any difference makes
// NewRecognizer fail. They are repeated here because go-face does not
// export them.
#include <cstring>
#include <string>
#include <vector>
#include <dlib/dnn.h>
#include "dlibnet.h"

using namespace dlib;

namespace {

template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual = add_prev1<block<N,BN,1,tag1<SUBNET>>>;

template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,BN,2,tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block  = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>;

template <int N, typename SUBNET> using ares      = relu<residual<block,N,affine,SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block,N,affine,SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256,SUBNET>;
template <typename SUBNET> using alevel1 = ares<256,ares<256,ares_down<256,SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128,ares<128,ares_down<128,SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64,ares<64,ares<64,ares_down<64,SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32,ares<32,ares<32,SUBNET>>>;

template <long num_filters, typename SUBNET> using con5d = con<num_filters,5,5,2,2,SUBNET>;
template <long num_filters, typename SUBNET> using con5  = con<num_filters,5,5,1,1,SUBNET>;

template <typename SUBNET> using downsampler  = relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16,SUBNET>>>>>>>>>;
template <typename SUBNET> using rcon5  = relu<affine<con5<45,SUBNET>>>;

using cnn_anet_type = loss_mmod<con<1,9,9,1,1,rcon5<rcon5<rcon5<downsampler<input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;

using anet_type = loss_metric<fc_no_bias<128,avg_pool_everything<
                            alevel0<
                            alevel1<
                            alevel2<
                            alevel3<
                            alevel4<
                            max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,
                            input_rgb_image_sized<150>
                            >>>>>>>>>>>>;

// A parameter slot: one tensor region to fill, in visiting order.
struct slot {
    float* data;
    size_t size;
};

// Switches every affine layer to CONV_MODE (one gamma/beta per channel), as
// in dlib's trained model; the default FC_MODE would have one per element.
struct set_conv_mode {
    void operator()(affine_& l) const { l = affine_(CONV_MODE); }
    template <typename T> void operator()(T&) const {}
};

// Collects the parameter regions of conv, affine and fc layers. dlib visits
// from the output towards the input; each layer's slots are kept together
// and the layer order is reversed afterwards.
struct collect_slots {
    std::vector<std::vector<slot>>* layers;

    template <long nf, long nr, long nc, int sy, int sx, int py, int px>
    void operator()(con_<nf,nr,nc,sy,sx,py,px>& l) const {
        tensor& p = l.get_layer_params();
        layers->push_back({{p.host(), p.size()}});
    }
    void operator()(affine_& l) const {
        auto g = l.get_gamma();
        auto b = l.get_beta();
        layers->push_back({{g.host(), g.size()}, {b.host(), b.size()}});
    }
    template <unsigned long n, fc_bias_mode m>
    void operator()(fc_<n,m>& l) const {
        tensor& p = l.get_layer_params();
        layers->push_back({{p.host(), p.size()}});
    }
    template <typename T> void operator()(T&) const {}
};

void set_err(char* err, size_t errlen, const std::string& msg) {
    if (errlen == 0) return;
    std::strncpy(err, msg.c_str(), errlen - 1);
    err[errlen - 1] = 0;
}

std::vector<slot> prepared_slots(anet_type& net) {
    visit_computational_layers(net, set_conv_mode());
    // One forward pass allocates every parameter tensor.
    matrix<rgb_pixel> dummy(150, 150);
    for (long r = 0; r < dummy.nr(); ++r)
        for (long c = 0; c < dummy.nc(); ++c)
            dummy(r, c) = rgb_pixel(128, 128, 128);
    net(dummy);
    std::vector<std::vector<slot>> layers;
    visit_computational_layers(net, collect_slots{&layers});
    std::vector<slot> out;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it)
        for (auto& s : *it) out.push_back(s);
    return out;
}

} // namespace

extern "C" size_t fg_resnet_param_count(void) {
    anet_type net;
    size_t n = 0;
    for (auto& s : prepared_slots(net)) n += s.size;
    return n;
}

extern "C" int fg_build_resnet(const float* params, size_t n, const char* out_path, char* err, size_t errlen) {
    try {
        anet_type net;
        std::vector<slot> slots = prepared_slots(net);
        size_t want = 0;
        for (auto& s : slots) want += s.size;
        if (want != n) {
            set_err(err, errlen, "parameter count mismatch: network needs " + std::to_string(want) +
                                 " values, got " + std::to_string(n));
            return 1;
        }
        size_t off = 0;
        for (auto& s : slots) {
            std::memcpy(s.data, params + off, s.size * sizeof(float));
            off += s.size;
        }
        net.clean();
        serialize(std::string(out_path)) << net;
        return 0;
    } catch (std::exception& e) {
        set_err(err, errlen, e.what());
        return 1;
    }
}

extern "C" int fg_build_inert_mmod(const char* out_path, char* err, size_t errlen) {
    try {
        cnn_anet_type net;
        serialize(std::string(out_path)) << net;
        return 0;
    } catch (std::exception& e) {
        set_err(err, errlen, e.what());
        return 1;
    }
}
