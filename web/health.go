package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// StaleAfter is how long without a processed frame before /healthz says
// the appliance is unhealthy: at 30 fps that is 150 missed frames, far past
// any hiccup, and short enough for a watchdog to notice a dead camera.
const StaleAfter = 5 * time.Second

// Health is a snapshot of the appliance's state.
type Health struct {
	Frames      int64     `json:"frames"`
	FPS         float64   `json:"fps"`
	Decisions   int64     `json:"decisions"`
	Templates   int       `json:"templates"`
	LastFrame   time.Time `json:"last_frame"`
	Source      string    `json:"source"`
	SourceState string    `json:"source_state"`
	SourceError string    `json:"source_error,omitempty"`
}

// New returns the echo server with the status routes. health is called on
// every /healthz request.
func New(health func() Health, now func() time.Time) *echo.Echo {
	if now == nil {
		now = time.Now
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error {
		h := health()
		ok := !h.LastFrame.IsZero() && now().Sub(h.LastFrame) < StaleAfter
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		return c.JSON(code, struct {
			OK bool `json:"ok"`
			Health
		}{ok, h})
	})
	return e
}
