// Package clocktest gives tests their fixed clock, which the suite can move
// years ahead or back: `make test` runs the packages with fixed clocks again
// with FACEGATE_TEST_CLOCK_SHIFT=+7 and -7, so that a test or a code path
// that mixes a fixed clock with the wall clock (a join token made at the
// test clock + 1 h and checked against time.Now()) fails at once, not on
// the day the fixed date falls behind the calendar.
//
// A shift is whole years, applied as that many 52-week spans: the weekday
// and the time of day stay (schedules, "Mon–Fri 08:00–20:00", holidays by
// weekday), the day of the month moves by a few days.
package clocktest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Env is the variable that moves every test clock by whole years.
const Env = "FACEGATE_TEST_CLOCK_SHIFT"

var shift = sync.OnceValue(func() time.Duration {
	v := strings.TrimSpace(os.Getenv(Env))
	if v == "" {
		return 0
	}
	years, err := strconv.Atoi(strings.TrimPrefix(v, "+"))
	if err != nil || years < -50 || years > 50 {
		panic(fmt.Sprintf("clocktest: %s=%q: give whole years between -50 and +50, e.g. +7 or -7", Env, v))
	}
	return time.Duration(years) * 52 * 7 * 24 * time.Hour
})

// Shift is how far the test clocks are moved (0 unless Env is set).
func Shift() time.Duration { return shift() }

// Date is time.Date moved by Shift: the fixed instant a test's clock starts at.
func Date(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	return time.Date(year, month, day, hour, min, sec, nsec, loc).Add(Shift())
}

// Clock is a fixed clock a test moves on by hand; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New is a clock standing at t (made with Date).
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time: pass c.Now wherever a clock is taken.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
