// Package dlibnet builds the dlib network files go-face loads, from weights
// prepared in Go. It is cgo over Debian's libdlib and must stay internal to
// package models: nothing else should build networks.
package dlibnet

// #cgo CXXFLAGS: -std=c++17 -O2 -DNDEBUG
// #cgo LDFLAGS: -ldlib -lcblas -lblas -llapack
// #include <stdlib.h>
// #include "dlibnet.h"
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

const errLen = 1024

// ResNetParamCount is the number of float32 values BuildResNet expects.
func ResNetParamCount() int { return int(C.fg_resnet_param_count()) }

// BuildResNet fills go-face's descriptor network with params (input-to-output
// order, dlib layouts) and writes it to outPath.
func BuildResNet(params []float32, outPath string) error {
	if len(params) == 0 {
		return errors.New("dlibnet: no parameters")
	}
	cPath := C.CString(outPath)
	defer C.free(unsafe.Pointer(cPath))
	buf := make([]byte, errLen)
	rc := C.fg_build_resnet((*C.float)(unsafe.Pointer(&params[0])), C.size_t(len(params)), cPath,
		(*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if rc != 0 {
		return fmt.Errorf("dlibnet: build resnet: %s", C.GoString((*C.char)(unsafe.Pointer(&buf[0]))))
	}
	return nil
}

// BuildInertMMOD writes an untrained MMOD detector: it loads but finds nothing.
func BuildInertMMOD(outPath string) error {
	cPath := C.CString(outPath)
	defer C.free(unsafe.Pointer(cPath))
	buf := make([]byte, errLen)
	if rc := C.fg_build_inert_mmod(cPath, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))); rc != 0 {
		return fmt.Errorf("dlibnet: build inert mmod: %s", C.GoString((*C.char)(unsafe.Pointer(&buf[0]))))
	}
	return nil
}
