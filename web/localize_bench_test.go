package web

import "testing"

// BenchmarkLocalizeReason: one entries-page reason rendered in Japanese
// (an entries page shows up to 100).
func BenchmarkLocalizeReason(b *testing.B) {
	for _, s := range []string{"outside schedule 'office hours' (Mon–Fri 08:00–20:00)",
		"face not recognised (not recognised in 9 frames (7 described))", "a sentence nobody wrote"} {
		b.Run(s[:10], func(b *testing.B) {
			for b.Loop() {
				localize("ja", s)
			}
		})
	}
}
