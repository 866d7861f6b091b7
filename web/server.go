package web

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Web tunables.
const (
	// uploadLimit: a few enrolment photos of up to 40 MiB each would be
	// too much for the box; 45 MiB per request allows one large photo.
	uploadLimit = "45M"
	// formLimit bounds every other request body.
	formLimit = "1M"
	// loginRate: 5 attempts, then one every 10 s per address: a person who
	// mistypes is not slowed, a guesser gets 360 tries an hour at most.
	loginBurst = 5
	loginEvery = 10 * time.Second
)

// csp allows no inline script and no framing.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// SettingsOwner loads, validates, saves and applies the appliance's
// settings; the web app only shows and edits them.
type SettingsOwner interface {
	Settings() storage.Settings
	SaveSettings(s storage.Settings, by string) error
}

// Faces is what the web app needs of gate/identity.Service: check, enrol
// and identify photos, and reload the gallery. Nil in a server that does
// not recognise (its enrol and identify routes answer 503).
type Faces interface {
	CheckPhoto(p identity.Photo) (vision.Face, error)
	Enrol(employeeID, name string, photos []identity.Photo) (identity.EnrolResult, error)
	Identify(p identity.Photo) ([]identity.Identified, error)
	Reload() error
}

// Door is this appliance's door controller (gate.Controller).
type Door interface {
	RemoteUnlock(by, reason string) error
}

// Deps are what the web app works with.
type Deps struct {
	DB       *storage.DB
	Recorder *storage.Recorder
	Faces    Faces
	// ModelVersion is the recogniser's, recorded with identify events.
	ModelVersion string
	// Door, when set, lets admins unlock it remotely (audited).
	Door     Door
	Health   func() Health
	Settings SettingsOwner // nil: the settings page shows nothing to edit
	Hub      *Hub
	Location *time.Location
	// PolicyChanged is called after the access rules were edited.
	PolicyChanged func()
	Log           *slog.Logger
	Now           func() time.Time
}

// Options say how to listen.
type Options struct {
	Addr      string // e.g. ":8443"
	PlainHTTP bool   // serve HTTP, not HTTPS: only on loopback unless AllowPlainLAN
	// AllowPlainLAN permits plain HTTP on a non-loopback address (behind a
	// TLS-terminating proxy). Browsers then refuse the webcam.
	AllowPlainLAN     bool
	CertFile, KeyFile string
	TLSDir            string // where the self-signed certificate is kept
}

// Server is facegate's web app.
type Server struct {
	deps     Deps
	opts     Options
	e        *echo.Echo
	tmpl     map[string]*template.Template
	sessions *sessions
	setup    setupToken
	enrol    *pendingEnrolments
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

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"t": translate,
		"fmtTime": func(loc *time.Location, us int64) string {
			return time.UnixMicro(us).In(loc).Format("2006-01-02 15:04:05")
		},
		"f3":  func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"can": storage.RoleAtLeast,
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	s.tmpl = map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		s.tmpl[name] = t
	}
	return nil
}

func securityHeaders(tlsOn bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "no-store")
			if tlsOn {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			return next(c)
		}
	}
}

const (
	sessionCookie = "fg_session"
	ctxUser       = "user"
)

func (s *Server) routes() {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	tlsOn := !s.opts.PlainHTTP
	e.Use(middleware.Recover())
	e.Use(securityHeaders(tlsOn))
	e.Use(s.loadUser)
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     "fg_csrf",
		CookiePath:     "/",
		CookieSecure:   tlsOn,
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteStrictMode,
		// Bearer-token API calls carry no cookies, so no CSRF risk.
		Skipper: func(c echo.Context) bool { return bearer(c) != "" },
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "invalid or missing CSRF token: reload the page and try again")
		},
	}))
	small := middleware.BodyLimit(formLimit)
	big := middleware.BodyLimit(uploadLimit)

	static, _ := fs.Sub(staticFS, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics)
	e.GET("/lang/:code", s.setLang)

	limiter := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(loginEvery), Burst: loginBurst, ExpiresIn: 10 * time.Minute}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, id string, err error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "too many login attempts: wait 10 seconds")
		},
	})
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login, small, limiter)
	e.POST("/logout", s.logout, small)
	e.GET("/setup", s.setupPage)
	e.POST("/setup", s.setupSubmit, small, limiter)

	viewer, inv, admin := s.need(storage.RoleViewer), s.need(storage.RoleInvestigator), s.need(storage.RoleAdmin)
	e.GET("/", s.livePage, viewer)
	e.GET("/live.mjpg", s.liveMJPEG, viewer)
	e.GET("/events/stream", s.liveSSE, viewer)
	e.GET("/presence", s.presencePage, viewer)
	e.GET("/presence/attendance.csv", s.attendanceCSV, inv)

	e.GET("/entries", s.entriesPage, inv)
	e.GET("/entries.csv", s.entriesCSV, inv)
	e.GET("/entries/:seq", s.entryPage, inv)
	e.POST("/entries/export", s.exportBundle, inv, small)
	e.GET("/snapshots/:file", s.snapshot, inv)

	e.GET("/people", s.peoplePage, admin)
	e.POST("/people", s.enrolUpload, admin, big)
	e.POST("/people/:id/suspend", s.suspend, admin, small)
	e.POST("/people/:id/resume", s.resume, admin, small)
	e.POST("/people/:id/erase", s.erase, admin, small)
	e.POST("/people/:id/rename", s.rename, admin, small)
	e.GET("/people/webcam", s.webcamPage, admin)
	e.POST("/people/webcam/shot", s.webcamShot, admin, big)
	e.POST("/people/webcam/finish", s.webcamFinish, admin, small)

	e.GET("/rules", s.rulesPage, admin)
	e.POST("/rules/:kind", s.rulesAdd, admin, small)
	e.POST("/rules/:kind/delete", s.rulesDelete, admin, small)
	e.GET("/audit", s.auditPage, admin)
	e.GET("/settings", s.settingsPage, inv)
	e.POST("/settings", s.saveSettings, admin, small)

	api := e.Group("/api/v1")
	api.GET("/people", s.apiPeople, admin)
	api.POST("/people", s.apiEnrol, admin, big)
	api.POST("/people/:employee/suspend", s.apiSuspend, admin, small)
	api.DELETE("/people/:employee", s.apiErase, admin, small)
	api.POST("/identify", s.apiIdentify, inv, big)
	api.GET("/events", s.apiEvents, inv)
	api.GET("/presence", s.apiPresence, viewer)
	api.POST("/export", s.exportBundle, inv, small)
	api.GET("/rules", s.apiRules, admin)
	api.PUT("/rules", s.apiPutRules, admin, small)
	api.POST("/door/unlock", s.apiUnlock, admin, small)
	s.e = e
}

// loadUser puts the session's or bearer token's user in the context.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if t := bearer(c); t != "" {
			if u, ok := s.deps.DB.UserForToken(t); ok {
				c.Set(ctxUser, u)
			}
		} else if ck, err := c.Cookie(sessionCookie); err == nil {
			if u, ok := s.sessions.get(ck.Value, s.deps.Now()); ok {
				c.Set(ctxUser, u)
			}
		}
		return next(c)
	}
}

func bearer(c echo.Context) string {
	t, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(t)
}

func userOf(c echo.Context) (storage.User, bool) {
	u, ok := c.Get(ctxUser).(storage.User)
	return u, ok
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/api/") }

// need admits users of at least role; others go to the login page (pages)
// or get 401/403 (API and forbidden roles).
func (s *Server) need(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := userOf(c)
			if !ok {
				if isAPI(c) {
					return echo.NewHTTPError(http.StatusUnauthorized, "log in or send Authorization: Bearer <token>")
				}
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			if !u.Can(role) {
				return echo.NewHTTPError(http.StatusForbidden, "your role ("+u.Role+") does not allow this")
			}
			return next(c)
		}
	}
}

func (s *Server) errorHandler(err error, c echo.Context) {
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, msg = he.Code, fmt.Sprint(he.Message)
	} else {
		s.deps.Log.Error("web", "path", c.Path(), "err", err)
	}
	if c.Response().Committed {
		return
	}
	if isAPI(c) || !strings.Contains(c.Request().Header.Get("Accept"), "text/html") {
		c.JSON(code, map[string]string{"error": msg})
		return
	}
	s.renderStatus(c, code, "error", map[string]any{"Message": msg, "Code": code})
}

// page data shared by every template.
type page struct {
	L     string
	User  storage.User
	CSRF  string
	Title string
	Loc   *time.Location
	Data  map[string]any
}

func (s *Server) render(c echo.Context, name string, data map[string]any) error {
	return s.renderStatus(c, http.StatusOK, name, data)
}

func (s *Server) renderStatus(c echo.Context, code int, name string, data map[string]any) error {
	t, ok := s.tmpl[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	u, _ := userOf(c)
	csrf, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	p := page{L: pickLang(c.Request()), User: u, CSRF: csrf, Loc: s.deps.Location, Data: data}
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Response().WriteHeader(code)
	return t.Execute(c.Response(), p)
}

func (s *Server) setLang(c echo.Context) error {
	code := c.Param("code")
	if _, ok := messages[code]; !ok {
		return echo.NewHTTPError(http.StatusNotFound, "unknown language")
	}
	c.SetCookie(&http.Cookie{Name: "lang", Value: code, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: !s.opts.PlainHTTP, MaxAge: 365 * 24 * 3600})
	return c.Redirect(http.StatusSeeOther, "/")
}

// setupPending reports whether the first-admin page is still open: it
// closes as soon as any web user exists (made there or by the CLI).
func (s *Server) setupPending() bool {
	s.setup.mu.Lock()
	open := s.setup.token != ""
	s.setup.mu.Unlock()
	if open {
		if n, err := s.deps.DB.CountUsers(); err == nil && n > 0 {
			s.setup.consume()
			return false
		}
	}
	return open
}

func (s *Server) loginPage(c echo.Context) error {
	if s.setupPending() {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return s.render(c, "login", nil)
}

func (s *Server) startSession(c echo.Context, u storage.User) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.sessions.create(u, s.deps.Now()), Path: "/", HttpOnly: true,
		Secure: !s.opts.PlainHTTP, SameSite: http.SameSiteStrictMode})
}

func (s *Server) login(c echo.Context) error {
	u, err := s.deps.DB.CheckLogin(c.FormValue("username"), c.FormValue("password"))
	if err == nil && u.TOTPSecret != "" && !storage.CheckTOTP(u.TOTPSecret, c.FormValue("code"), s.deps.Now()) {
		err = storage.ErrLogin
	}
	if err != nil {
		s.deps.Log.Warn("login failed", "username", c.FormValue("username"), "ip", c.RealIP())
		return s.renderStatus(c, http.StatusUnauthorized, "login", map[string]any{"Failed": true})
	}
	s.startSession(c, u)
	s.audit(u.Username, "login", map[string]any{"ip": c.RealIP()})
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		s.sessions.delete(ck.Value)
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) setupPage(c echo.Context) error {
	if !s.setupPending() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return s.render(c, "setup", map[string]any{"Token": c.QueryParam("token")})
}

func (s *Server) setupSubmit(c echo.Context) error {
	if !s.setupPending() || !s.setup.check(c.FormValue("token")) {
		return echo.NewHTTPError(http.StatusForbidden, "wrong or used setup token (see the appliance log)")
	}
	if err := s.deps.DB.CreateUser(c.FormValue("username"), c.FormValue("password"), storage.RoleAdmin); err != nil {
		return s.renderStatus(c, http.StatusUnprocessableEntity, "setup", map[string]any{"Error": err.Error(), "Token": c.FormValue("token")})
	}
	s.setup.consume()
	u, _ := s.deps.DB.CheckLogin(c.FormValue("username"), c.FormValue("password"))
	s.audit(u.Username, "first_admin_created", map[string]any{"ip": c.RealIP()})
	s.startSession(c, u)
	return c.Redirect(http.StatusSeeOther, "/")
}

// audit records an admin action in the chain; failures are logged, never
// hidden from the log.
func (s *Server) audit(by, action string, detail map[string]any) {
	if _, err := s.deps.Recorder.Audit(by, action, detail); err != nil {
		s.deps.Log.Error("audit entry not recorded", "action", action, "err", err)
	}
}

// Listen opens the listening socket (TLS unless plain HTTP was asked for).
// Plain HTTP is refused on a non-loopback address unless explicitly allowed.
func (s *Server) Listen() (net.Listener, error) {
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen address %q: %w", s.opts.Addr, err)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if s.opts.PlainHTTP && !loopback && !s.opts.AllowPlainLAN {
		return nil, fmt.Errorf("web: plain HTTP on %s would send passwords and faces in clear: use HTTPS (the default), "+
			"listen on 127.0.0.1, or pass --allow-plain-http-lan behind a TLS proxy", s.opts.Addr)
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("web: %w (is another facegate running? choose another --web-listen)", err)
	}
	if !s.opts.PlainHTTP {
		cert, err := LoadOrCreateCert(s.opts.CertFile, s.opts.KeyFile, s.opts.TLSDir)
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.deps.Log.Info("web app", "url", s.URL(ln.Addr()))
	return ln, nil
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// URL is how to reach the server at addr.
func (s *Server) URL(addr net.Addr) string {
	scheme := "https"
	if s.opts.PlainHTTP {
		scheme = "http"
	}
	a := addr.String()
	if strings.HasPrefix(a, "[::]") || strings.HasPrefix(a, "0.0.0.0") {
		_, port, _ := net.SplitHostPort(a)
		a = "localhost:" + port
	}
	return scheme + "://" + a
}

// errNoFaces answers enrol and identify requests on a server built
// without recognition.
var errNoFaces = echo.NewHTTPError(http.StatusServiceUnavailable, "face recognition is not running on this server")

// faces is the recogniser, or one that refuses every request with 503.
func (s *Server) faces() Faces {
	if s.deps.Faces == nil {
		return noFaces{}
	}
	return s.deps.Faces
}

type noFaces struct{}

func (noFaces) CheckPhoto(identity.Photo) (vision.Face, error) { return vision.Face{}, errNoFaces }
func (noFaces) Enrol(string, string, []identity.Photo) (identity.EnrolResult, error) {
	return identity.EnrolResult{}, errNoFaces
}
func (noFaces) Identify(identity.Photo) ([]identity.Identified, error) { return nil, errNoFaces }
func (noFaces) Reload() error                                          { return errNoFaces }
