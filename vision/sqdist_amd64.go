package vision

import "golang.org/x/sys/cpu"

//go:noescape
func sqDistAVX2(a, b *float32) float32

// useAVX2: the vector kernel needs both AVX2 and FMA; other CPUs use the
// portable loop.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sqDist is the squared Euclidean distance of a probe and one template.
func sqDist(a *Descriptor, b []float32) float32 {
	if useAVX2 {
		b = b[:DescriptorLen]
		return sqDistAVX2(&a[0], &b[0])
	}
	return sqDistGo(a, b)
}
