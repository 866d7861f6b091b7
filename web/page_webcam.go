package web

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate/identity"
)

// pendingTTL: an abandoned webcam enrolment is forgotten after this.
const pendingTTL = 15 * time.Minute

type pendingEnrolments struct {
	mu sync.Mutex
	m  map[string]*pending
}

type pending struct {
	shots   []identity.Photo
	updated time.Time
}

func newPendingEnrolments() *pendingEnrolments { return &pendingEnrolments{m: map[string]*pending{}} }

func (p *pendingEnrolments) add(key string, ph identity.Photo, now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.m {
		if now.Sub(v.updated) > pendingTTL {
			delete(p.m, k)
		}
	}
	e := p.m[key]
	if e == nil {
		e = &pending{}
		p.m[key] = e
	}
	e.shots = append(e.shots, ph)
	e.updated = now
	return len(e.shots)
}

func (p *pendingEnrolments) take(key string) []identity.Photo {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.m[key]
	delete(p.m, key)
	if e == nil {
		return nil
	}
	return e.shots
}

// Webcam enrolment bounds.
const (
	minShots = 3
	maxShots = 5
)

func (s *Server) pendingKey(c echo.Context) string {
	ck, _ := c.Cookie(sessionCookie)
	v := ""
	if ck != nil {
		v = ck.Value
	}
	return v + "|" + strings.TrimSpace(c.FormValue("employee_id"))
}

func (s *Server) webcamPage(c echo.Context) error {
	return s.render(c, "webcam", map[string]any{"Min": minShots, "Max": maxShots})
}

func (s *Server) webcamShot(c echo.Context) error {
	if strings.TrimSpace(c.FormValue("employee_id")) == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "employee_id is required")
	}
	fh, err := c.FormFile("shot")
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "expected a shot")
	}
	form := &multipart.Form{File: map[string][]*multipart.FileHeader{"shot": {fh}}}
	photos, err := readUploads(form, "shot")
	if err != nil {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, err.Error())
	}
	ph := photos[0]
	ph.Name = fmt.Sprintf("webcam shot %s", s.deps.Now().Format("15:04:05.000"))
	f, err := s.faces().CheckPhoto(ph)
	if err != nil {
		return c.JSON(http.StatusOK, map[string]any{"accepted": false, "reason": photoError(pickLang(c.Request()), err, false)})
	}
	n := s.enrol.add(s.pendingKey(c), ph, s.deps.Now())
	return c.JSON(http.StatusOK, map[string]any{"accepted": true, "shots": n, "face_width": f.Width(), "sharpness": int(f.Sharpness)})
}

func (s *Server) webcamFinish(c echo.Context) error {
	u, _ := userOf(c)
	shots := s.enrol.take(s.pendingKey(c))
	if len(shots) < minShots {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": fmtMsg(pickLang(c.Request()), "enrol.few", len(shots), minShots)})
	}
	if len(shots) > maxShots {
		shots = shots[len(shots)-maxShots:]
	}
	res, err := s.faces().EnrollConfirmed(c.FormValue("employee_id"), c.FormValue("name"), shots, confirmation(c, u.Username))
	var ce *identity.ConflictError
	if errors.As(err, &ce) { // keep the shots: the admin may confirm
		for _, sh := range shots {
			s.enrol.add(s.pendingKey(c), sh, s.deps.Now())
		}
	}
	if err != nil {
		he := enrolError(err)
		return c.JSON(he.Code, map[string]any{"error": enrolMessage(pickLang(c.Request()), he)})
	}
	s.audit(u.Username, "person_enrolled", map[string]any{"employee_id": res.Person.EmployeeID, "templates": res.Templates, "via": "webcam",
		"conflicts_confirmed": len(res.Conflicts)})
	var warns []string
	for _, w := range res.Warnings {
		warns = append(warns, localize(pickLang(c.Request()), w.Message))
	}
	return c.JSON(http.StatusOK, map[string]any{"enrolled": res.Person.Name, "templates": res.Templates, "warnings": warns})
}
