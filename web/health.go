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
	// Relay is what the door's relay last commanded: RelayLocked or
	// RelayUnlocked; "" when the server does not drive one.
	Relay string `json:"relay,omitempty"`
}

// Relay states in Health.
const (
	RelayLocked   = "locked"
	RelayUnlocked = "unlocked"
)

func (s *Server) health() Health {
	if s.deps.Health == nil {
		return Health{}
	}
	return s.deps.Health()
}

// healthz tells a watchdog whether frames are flowing. Without a login it
// says only that (the camera's path and errors describe the site); a
// logged-in user also gets the details.
func (s *Server) healthz(c echo.Context) error {
	h := s.health()
	ok := !h.LastFrame.IsZero() && s.deps.Now().Sub(h.LastFrame) < StaleAfter
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	if _, in := userOf(c); !in {
		return c.JSON(code, struct {
			OK bool `json:"ok"`
		}{ok})
	}
	return c.JSON(code, struct {
		OK bool `json:"ok"`
		Health
	}{ok, h})
}

func (s *Server) metrics(c echo.Context) error {
	s.metricsHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// metricsCollector reads the appliance's health once per scrape; it is
// registered once, when the server is built.
type metricsCollector struct{ s *Server }

var (
	descFrames    = prometheus.NewDesc("facegate_frames_total", "Frames processed by the pipeline since start.", nil, nil)
	descFPS       = prometheus.NewDesc("facegate_fps", "Pipeline frames per second since start.", nil, nil)
	descDecisions = prometheus.NewDesc("facegate_decisions_total", "Decisions made since start.", nil, nil)
	descTemplates = prometheus.NewDesc("facegate_templates", "Face templates in the gallery.", nil, nil)
	descCameraUp  = prometheus.NewDesc("facegate_camera_up", "1 while the camera is streaming.", nil, nil)
	descEvents    = prometheus.NewDesc("facegate_events", "Events in the evidence log.", nil, nil)
)

func (m metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFrames, descFPS, descDecisions, descTemplates, descCameraUp, descEvents} {
		ch <- d
	}
}

func (m metricsCollector) Collect(ch chan<- prometheus.Metric) {
	h := m.s.health()
	up := 0.0
	if h.SourceState == "streaming" {
		up = 1
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(descFrames, float64(h.Frames))
	gauge(descFPS, h.FPS)
	gauge(descDecisions, float64(h.Decisions))
	gauge(descTemplates, float64(h.Templates))
	gauge(descCameraUp, up)
	if n, err := m.s.deps.DB.EventCount(); err == nil {
		gauge(descEvents, float64(n))
	}
}

func newMetricsHandler(s *Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metricsCollector{s})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
