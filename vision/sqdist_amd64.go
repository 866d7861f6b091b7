package vision

import "golang.org/x/sys/cpu"

//go:noescape
func sqDistAVX2(a, b *float32, n int) float32

// useAVX2: the vector kernel needs both AVX2 and FMA; other CPUs use the
// portable loop.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sqDist is the squared Euclidean distance of a probe and one template of
// the same length. Both descriptor sizes (128, 512) are multiples of the
// kernel's 32-float step; any other length takes the portable loop.
func sqDist(a Descriptor, b []float32) float32 {
	n := len(a)
	if useAVX2 && n%32 == 0 && n > 0 {
		b = b[:n]
		return sqDistAVX2(&a[0], &b[0], n)
	}
	return sqDistGo(a, b)
}
