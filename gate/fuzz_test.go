package gate

import "testing"

// FuzzParseWindow: schedule text from the rules page never panics, and
// whatever parses prints back to text that parses to the same window.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"Mon-Fri 08:00-20:00", "Daily 22:00-06:00", "Sat,Sun 10:00-14:00", "Fri-Mon 00:00-24:00",
		"mon–fri 8:00–9:30", "Xyz 1:2-3:4", "", "月-金 08:00-20:00", "土・日 10:00〜14:00", "日曜日 00:00-24:00",
		"毎日 22:00-06:00", "月曜、水曜 08：00-12：00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		again, err := ParseWindow(w.String())
		if err != nil || again != w {
			t.Fatalf("%q → %q does not round-trip: %+v vs %+v (%v)", s, w.String(), w, again, err)
		}
		ParseClock(s)
		ParseDate(s)
	})
}
