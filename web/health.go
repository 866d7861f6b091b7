package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

func (s *Server) health() Health {
	if s.deps.Health == nil {
		return Health{}
	}
	return s.deps.Health()
}

func (s *Server) healthz(c echo.Context) error {
	h := s.health()
	ok := !h.LastFrame.IsZero() && s.deps.Now().Sub(h.LastFrame) < StaleAfter
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	return c.JSON(code, struct {
		OK bool `json:"ok"`
		Health
	}{ok, h})
}

func (s *Server) metrics(c echo.Context) error {
	reg := prometheus.NewRegistry()
	h := s.health()
	gauge := func(name, help string, v float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v }))
	}
	gauge("facegate_frames_total", "Frames processed by the pipeline since start.", float64(h.Frames))
	gauge("facegate_fps", "Pipeline frames per second since start.", h.FPS)
	gauge("facegate_decisions_total", "Decisions made since start.", float64(h.Decisions))
	gauge("facegate_templates", "Face templates in the gallery.", float64(h.Templates))
	up := 0.0
	if h.SourceState == "streaming" {
		up = 1
	}
	gauge("facegate_camera_up", "1 while the camera is streaming.", up)
	var n int64
	s.deps.DB.Model(&struct{ ID int64 }{}).Table("events").Count(&n)
	gauge("facegate_events", "Events in the evidence log.", float64(n))
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}
