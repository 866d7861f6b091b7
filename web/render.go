package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/facegate/facegate/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"t": translate,
		"fmtTime": func(loc *time.Location, us int64) string {
			return time.UnixMicro(us).In(loc).Format("2006-01-02 15:04:05")
		},
		// when: a time in the site's zone to the minute, "" for none; no
		// raw time.Time reaches a page.
		"when": func(loc *time.Location, t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2006-01-02 15:04")
		},
		"hm": func(d time.Duration) string {
			d = d.Round(time.Minute)
			return fmt.Sprintf("%d:%02d", int(d.Hours()), int(d.Minutes())%60)
		},
		"has": func(f url.Values, key, value string) bool { return slices.Contains(f[key], value) },
		"windowForm": func(p page, f url.Values, prefix string) windowData {
			return windowData{Form: f, Prefix: prefix, L: p.L, Days: weekdays}
		},
		"term":        term,
		"localize":    localize,
		"reason":      eventReason,
		"auditDetail": auditDetail,
		"f3":          func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"ms":          func(us int64) string { return fmt.Sprintf("%d ms", (us+500)/1000) },
		"can":         storage.RoleAtLeast,
		"submitForm":  func(p page, f url.Values) submitForm { return submitForm{Replace: f.Get("replace"), L: p.L} },
		"deleteForm": func(p page, kind string, key any) deleteForm {
			return deleteForm{Kind: kind, Key: fmt.Sprint(key), CSRF: p.CSRF, L: p.L}
		},
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

// submitForm is the data of the "submit" partial (rules.html): Add, or
// Save and Cancel when the form edits a record in place.
type submitForm struct{ Replace, L string }

// localPath is a path of this app the language switch may send back to:
// letters, digits, "/", "-", "_" and "." only, so never "//host", a
// backslash or a tab that a browser would read as another site.
var localPath = regexp.MustCompile(`^/(?:[A-Za-z0-9_.-]+/?)*$`)

// deleteForm is the data of the "delete" partial (layout.html).
type deleteForm struct{ Kind, Key, CSRF, L string }

// page data shared by every template.
type page struct {
	L     string
	User  storage.User
	CSRF  string
	Title string
	Path  string // the page's own path, for the language switch to come back to
	// Keypad: the appliance has a web keypad (the admin's nav links to it).
	Keypad bool
	// Site: this is a site's central (the nav links to its doors).
	// Central: this door is joined to one at that address (people and
	// rules are read-only here).
	Site    bool
	Central string
	Loc     *time.Location
	Data    any // the page's own data: a struct of the page, or a map where pages share a template
}

func (s *Server) render(c echo.Context, name string, data any) error {
	return s.renderStatus(c, http.StatusOK, name, data)
}

func (s *Server) renderStatus(c echo.Context, code int, name string, data any) error {
	if data == nil {
		data = map[string]any{} // templates may ask for optional keys of a page without data
	}
	t, ok := s.tmpl[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	u, _ := userOf(c)
	csrf, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	p := page{L: pickLang(c.Request()), User: u, CSRF: csrf, Loc: s.deps.Location, Data: data, Path: c.Request().URL.Path,
		Keypad: s.deps.Keypad != nil, Site: s.deps.Site != nil, Central: s.deps.Central}
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
	// Back to the page the switch was on: a path of ours, never another site.
	if next := c.QueryParam("next"); localPath.MatchString(next) {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
