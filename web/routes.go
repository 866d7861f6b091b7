package web

import (
	"io/fs"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/facegate/facegate/storage"
)

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

func (s *Server) routes() {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = s.clientIP
	e.HTTPErrorHandler = s.errorHandler
	tlsOn := !s.opts.PlainHTTP
	e.Use(middleware.Recover())
	e.Use(securityHeaders(tlsOn))
	e.Use(s.loadUser)
	e.Use(csrf(tlsOn))
	e.Use(s.joinedDoor)
	small := middleware.BodyLimit(formLimit)
	big := middleware.BodyLimit(uploadLimit)

	s.publicRoutes(e, small)
	viewer, inv, admin := s.requireRole(storage.RoleViewer), s.requireRole(storage.RoleInvestigator), s.requireRole(storage.RoleAdmin)
	e.GET("/", s.homePage, viewer)
	e.POST("/alarms/:seq/ack", s.acknowledgeAlarm, inv, small)
	e.GET("/live", s.livePage, viewer)
	e.GET("/live.mjpg", s.liveMJPEG, viewer)
	e.GET("/events/stream", s.liveSSE, viewer)
	e.GET("/presence", s.presencePage, viewer)
	e.GET("/presence/attendance.csv", s.attendanceCSV, inv)

	e.GET("/entries", s.entriesPage, inv)
	e.GET("/entries.csv", s.entriesCSV, inv)
	e.GET("/entries/:seq", s.entryPage, inv)
	e.POST("/entries/export", s.exportBundle, inv, small)
	e.GET("/snapshots/:file", s.snapshot, inv)

	s.peopleRoutes(e, admin, small, big)
	e.GET("/rules", s.rulesPage, admin)
	e.POST("/rules/:kind", s.rulesAdd, admin, small)
	e.POST("/rules/:kind/delete", s.rulesDelete, admin, small)
	e.GET("/audit", s.auditPage, admin)
	e.GET("/users", s.usersPage, admin)
	e.POST("/users", s.userCreate, admin, small)
	e.POST("/users/tokens/revoke", s.userTokenRevoke, admin, small)
	e.POST("/users/:action", s.userAction, admin, small)
	e.GET("/account", s.accountPage, viewer)
	e.POST("/account/password", s.accountPassword, viewer, small)
	e.POST("/account/tokens", s.accountTokenCreate, viewer, small)
	e.POST("/account/tokens/revoke", s.accountTokenRevoke, viewer, small)
	e.GET("/settings", s.settingsPage, inv)
	e.POST("/settings", s.saveSettings, admin, small)
	e.POST("/settings/check", s.checkSettings, admin, small)
	e.POST("/settings/calibrate", s.calibrate, admin, small)
	e.POST("/settings/threshold", s.applyThreshold, admin, small)
	e.GET("/settings/privacy", s.privacyEditPage, admin)
	e.POST("/settings/privacy", s.privacySave, admin, small)

	s.keypadRoutes(e, admin, small)
	s.siteRoutes(e, inv, admin, small)
	s.doorLiveRoutes(e, viewer)
	e.GET("/webhooks", s.webhooksPage, admin)
	e.POST("/webhooks", s.webhookAdd, admin, small)
	e.GET("/webhooks/:id", s.webhookLogPage, admin)
	e.POST("/webhooks/:id/test", s.webhookTest, admin, small)
	e.POST("/webhooks/:id/:action", s.webhookAction, admin, small)
	e.GET("/alerts", s.alertsPage, admin)
	e.POST("/alerts", s.alertsSave, admin, small)
	e.POST("/alerts/test", s.alertsTest, admin, small)
	s.apiRoutes(e.Group("/api/v1"), viewer, inv, admin, small, big)
	s.e = e
}

// publicRoutes need no login: static files, health, metrics, language,
// the privacy notice (for the people at the door), login and setup (rate
// limited per client address).
func (s *Server) publicRoutes(e *echo.Echo, small echo.MiddlewareFunc) {
	static, _ := fs.Sub(staticFS, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics)
	e.GET("/lang/:code", s.setLang)
	e.GET("/privacy", s.privacyPage)
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
}

// peopleRoutes are the admin's enrolment and people pages.
func (s *Server) peopleRoutes(e *echo.Echo, admin, small, big echo.MiddlewareFunc) {
	e.GET("/people", s.peoplePage, admin)
	e.POST("/people", s.enrolUpload, admin, big)
	e.POST("/people/:id/suspend", s.suspend, admin, small)
	e.POST("/people/:id/resume", s.resume, admin, small)
	e.GET("/people/:id/erase", s.eraseConfirmPage, admin)
	e.POST("/people/:id/erase", s.erase, admin, small)
	e.GET("/people/photos/:file", s.enrolmentPhoto, admin)
	e.POST("/people/:id/photos", s.addPhotos, admin, big)
	e.POST("/people/:id/photos/:tid/remove", s.removePhoto, admin, small)
	e.POST("/people/:id/rename", s.rename, admin, small)
	e.GET("/people/webcam", s.webcamPage, admin)
	e.POST("/people/webcam/shot", s.webcamShot, admin, big)
	e.POST("/people/webcam/finish", s.webcamFinish, admin, small)
	e.POST("/people/:id/pinlink", s.pinLinkMake, admin, small)
	// The person's own PIN link: no login, the link is the credential.
	e.GET("/pin", s.pinLinkPage)
	e.POST("/pin", s.pinLinkSet, small)
}

// keypadRoutes: the admin pairs tablets to the door's web keypad; a
// paired tablet (its own credential, no session) types PINs on it.
func (s *Server) keypadRoutes(e *echo.Echo, admin, small echo.MiddlewareFunc) {
	e.GET("/keypad", s.keypadAdminPage, admin)
	e.POST("/keypad/pair", s.keypadPair, admin, small)
	e.POST("/keypad/tablets/:id/revoke", s.keypadRevoke, admin, small)
	e.GET("/keypad/join", s.keypadJoinPage)
	e.POST("/keypad/join", s.keypadJoin, small)
	e.GET("/keypad/pad", s.keypadPage)
	e.POST("/keypad/pin", s.keypadPIN, small)
	e.GET("/keypad/state", s.keypadState)
}

// csrf checks a token on every state-changing browser request.
func csrf(tlsOn bool) echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
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
	})
}

// apiRoutes are the JSON API's, under /api/v1.
func (s *Server) apiRoutes(api *echo.Group, viewer, inv, admin, small, big echo.MiddlewareFunc) {
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
}
