package models

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrWeights is returned when a TF.js weights manifest or its binary is not
// the face-api ResNet this package knows how to convert.
var ErrWeights = errors.New("face-api weights")

// tfjsManifest is the weights manifest format of TensorFlow.js.
type tfjsManifest []struct {
	Paths   []string     `json:"paths"`
	Weights []tfjsWeight `json:"weights"`
}

type tfjsWeight struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	DType        string `json:"dtype"`
	Quantization *struct {
		DType string  `json:"dtype"`
		Scale float64 `json:"scale"`
		Min   float64 `json:"min"`
	} `json:"quantization"`
}

// Tensor is one named weight tensor, dequantized, in its TF.js layout.
type Tensor struct {
	Name   string
	Shape  []int
	Values []float32
}

// ParseTFJS decodes a TF.js weights manifest and its single binary shard into
// tensors in manifest order. Quantized tensors (uint8/uint16) are expanded as
// value = min + scale·q, computed in float64 and rounded once to float32, so
// the result is the same on every platform.
func ParseTFJS(manifestJSON, bin []byte) ([]Tensor, error) {
	var m tfjsManifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest is not TF.js JSON: %v", ErrWeights, err)
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("%w: want one weight group, got %d", ErrWeights, len(m))
	}
	var out []Tensor
	off := 0
	for _, w := range m[0].Weights {
		n := 1
		for _, d := range w.Shape {
			if d <= 0 || d > 1<<20 {
				return nil, fmt.Errorf("%w: tensor %q has bad dimension %d", ErrWeights, w.Name, d)
			}
			n *= d
		}
		if n > 1<<26 {
			return nil, fmt.Errorf("%w: tensor %q too large (%d values)", ErrWeights, w.Name, n)
		}
		vals := make([]float32, n)
		switch {
		case w.Quantization == nil && w.DType == "float32":
			if off+4*n > len(bin) {
				return nil, fmt.Errorf("%w: binary ends inside tensor %q", ErrWeights, w.Name)
			}
			for i := range vals {
				vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[off+4*i:]))
			}
			off += 4 * n
		case w.Quantization != nil && w.Quantization.DType == "uint8":
			if off+n > len(bin) {
				return nil, fmt.Errorf("%w: binary ends inside tensor %q", ErrWeights, w.Name)
			}
			q := w.Quantization
			for i := range vals {
				vals[i] = float32(q.Min + q.Scale*float64(bin[off+i]))
			}
			off += n
		case w.Quantization != nil && w.Quantization.DType == "uint16":
			if off+2*n > len(bin) {
				return nil, fmt.Errorf("%w: binary ends inside tensor %q", ErrWeights, w.Name)
			}
			q := w.Quantization
			for i := range vals {
				vals[i] = float32(q.Min + q.Scale*float64(binary.LittleEndian.Uint16(bin[off+2*i:])))
			}
			off += 2 * n
		default:
			return nil, fmt.Errorf("%w: tensor %q has unsupported dtype %q", ErrWeights, w.Name, w.DType)
		}
		out = append(out, Tensor{Name: w.Name, Shape: append([]int(nil), w.Shape...), Values: vals})
	}
	if off != len(bin) {
		return nil, fmt.Errorf("%w: %d trailing bytes after the last tensor", ErrWeights, len(bin)-off)
	}
	return out, nil
}

// DlibResNetParams turns face-api's face_recognition_model tensors into the
// flat parameter vector of dlib's descriptor ResNet, input to output:
//   - conv filters [kh,kw,in,out] → dlib con_ [out][in][kh][kw], then its bias;
//   - scale/weights, scale/biases → affine gamma, beta;
//   - fc [256,128] (rows = inputs) copied straight into fc_no_bias.
//
// face-api lists tensors in exactly dlib's input-to-output order; this
// function checks the naming pattern rather than trusting it.
func DlibResNetParams(ts []Tensor) ([]float32, error) {
	var out []float32
	for i := 0; i < len(ts); {
		t := ts[i]
		switch {
		case strings.HasSuffix(t.Name, "/conv/filters"):
			if len(t.Shape) != 4 {
				return nil, fmt.Errorf("%w: %s: want 4-D filters, got %v", ErrWeights, t.Name, t.Shape)
			}
			if i+1 >= len(ts) || ts[i+1].Name != strings.TrimSuffix(t.Name, "filters")+"bias" {
				return nil, fmt.Errorf("%w: %s: not followed by its bias", ErrWeights, t.Name)
			}
			kh, kw, in, on := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
			if len(ts[i+1].Values) != on {
				return nil, fmt.Errorf("%w: %s: bias has %d values, want %d", ErrWeights, ts[i+1].Name, len(ts[i+1].Values), on)
			}
			for o := 0; o < on; o++ {
				for c := 0; c < in; c++ {
					for y := 0; y < kh; y++ {
						for x := 0; x < kw; x++ {
							out = append(out, t.Values[((y*kw+x)*in+c)*on+o])
						}
					}
				}
			}
			out = append(out, ts[i+1].Values...)
			i += 2
		case strings.HasSuffix(t.Name, "/scale/weights"):
			if i+1 >= len(ts) || ts[i+1].Name != strings.TrimSuffix(t.Name, "weights")+"biases" ||
				len(ts[i+1].Values) != len(t.Values) {
				return nil, fmt.Errorf("%w: %s: not followed by matching biases", ErrWeights, t.Name)
			}
			out = append(out, t.Values...)
			out = append(out, ts[i+1].Values...)
			i += 2
		case t.Name == "fc":
			if len(t.Shape) != 2 || i != len(ts)-1 {
				return nil, fmt.Errorf("%w: fc must be the last 2-D tensor, got %v at %d", ErrWeights, t.Shape, i)
			}
			out = append(out, t.Values...)
			i++
		default:
			return nil, fmt.Errorf("%w: unexpected tensor %q at position %d", ErrWeights, t.Name, i)
		}
	}
	return out, nil
}
