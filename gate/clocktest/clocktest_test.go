package clocktest

import (
	"testing"
	"time"
)

// A shift keeps the weekday and the time of day, and Clock moves only
// when told.
func TestDateKeepsWeekdayAndTime(t *testing.T) {
	base := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	d := Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	if d.Weekday() != base.Weekday() || d.Hour() != 9 || d.Minute() != 30 || d.Sub(base) != Shift() {
		t.Fatalf("Date moved %s to %s (shift %s)", base, d, Shift())
	}
	c := New(d)
	c.Advance(time.Hour)
	if got := c.Now(); !got.Equal(d.Add(time.Hour)) {
		t.Fatalf("after Advance(1h): %s, want %s", got, d.Add(time.Hour))
	}
}
