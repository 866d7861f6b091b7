package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// Server is facegate's web app.
type Server struct {
	deps     Deps
	opts     Options
	e        *echo.Echo
	tmpl     map[string]*template.Template
	sessions *sessions
	setup    setupToken
	enrol    *pendingEnrolments
	privacy  privacyNotices
	clientIP echo.IPExtractor
	// metricsHandler serves /metrics from one registry made in New.
	metricsHandler http.Handler
}

// New builds the server. When no web user exists yet it logs a one-time
// setup token for the first-admin page.
func New(d Deps, o Options) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Location == nil {
		d.Location = time.Local
	}
	if d.Hub == nil {
		d.Hub = NewHub()
	}
	s := &Server{deps: d, opts: o, sessions: newSessions(), enrol: newPendingEnrolments()}
	var err error
	if s.clientIP, err = ipExtractor(o.TrustedProxies); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	if n, err := d.DB.CountUsers(); err != nil {
		return nil, err
	} else if n == 0 {
		s.setup.token = storage.RandomToken()[:24]
		d.Log.Warn("no web administrator yet: open /setup with this token, or run `facegate admin create`",
			"setup_token", s.setup.token)
	}
	s.metricsHandler = newMetricsHandler(s)
	s.routes()
	return s, nil
}

// Handler is the whole app, for tests.
func (s *Server) Handler() http.Handler { return s.e }

// audit records an admin action in the chain; failures are logged, never
// hidden from the log.
func (s *Server) audit(by, action string, detail map[string]any) {
	if _, err := s.deps.Recorder.Audit(by, action, detail); err != nil {
		s.deps.Log.Error("audit entry not recorded", "action", action, "err", err)
	}
}
