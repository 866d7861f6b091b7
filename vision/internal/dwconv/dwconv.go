// Package dwconv gives OpenCV 4.6's dnn a faster 3×3 depthwise convolution
// for inputs narrower than 18 px (see dwconv.cc for why and the figures).
// It is cgo, kept apart from package vision whose Go assembly (sqdist)
// cannot share a package with cgo; it holds no C memory of its own.
package dwconv

// #cgo pkg-config: opencv4
// #cgo CXXFLAGS: -std=c++14 -O3 -DNDEBUG
// #include "dwconv.h"
import "C"

import "errors"

// Register makes every net OpenCV loads from now on build its 3×3 depthwise
// convolutions as the narrow-input layer, until Unregister. OpenCV's layer
// factory is process-wide: the caller must keep other net loads out of the
// window.
func Register() error {
	var buf [256]C.char
	if C.fg_dwconv_register(&buf[0], C.int(len(buf))) != 0 {
		return errors.New("vision: OpenCV refused the depthwise layer: " + C.GoString(&buf[0]))
	}
	return nil
}

// Unregister restores OpenCV's own convolution for nets loaded later; nets
// already loaded keep their layers.
func Unregister() { C.fg_dwconv_unregister() }
