//go:build !amd64

package vision

func sqDist(a Descriptor, b []float32) float32 { return sqDistGo(a, b) }
