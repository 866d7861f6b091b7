package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// A person sets their own PIN through a one-time link an admin makes on
// the People page: valid pinLinkTTL, shown once, used once (the PIN is
// stored and the link dies), no login. A new link replaces an unused one.
const (
	pinLinkTTL     = 24 * time.Hour
	purposePINLink = "pin"
)

// pinLinkMake makes a person's PIN link, audited, and shows it once.
func (s *Server) pinLinkMake(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	subject, now := strconv.FormatInt(p.ID, 10), s.deps.Now()
	if err := s.deps.DB.RevokeOneTimeLinks(purposePINLink, subject, now); err != nil {
		return err
	}
	tok, err := s.deps.DB.NewOneTimeLink(purposePINLink, subject, now.Add(pinLinkTTL), u.Username)
	if err != nil {
		return err
	}
	s.audit(u.Username, "pin_link_made", map[string]any{"employee_id": p.EmployeeID, "hours": int(pinLinkTTL.Hours())})
	return s.peoplePageWith(c, http.StatusOK, map[string]any{"PINLink": baseURL(c) + "/pin?code=" + tok, "PINLinkFor": p,
		"PINLinkUntil": now.Add(pinLinkTTL)})
}

// pinLinkPerson is the person a valid link is for. On a door joined to a
// central no link is valid: a PIN set here would be overwritten by the
// central's (a link made before the door joined says so).
func (s *Server) pinLinkPerson(code string, use bool) (storage.Person, error) {
	if s.deps.Central != "" {
		return storage.Person{}, storage.ErrJoinedDoor
	}
	get := s.deps.DB.PeekOneTimeLink
	if use {
		get = s.deps.DB.UseOneTimeLink
	}
	subject, err := get(purposePINLink, strings.TrimSpace(code), s.deps.Now())
	if err != nil {
		return storage.Person{}, err
	}
	id, err := strconv.ParseInt(subject, 10, 64)
	if err != nil {
		return storage.Person{}, storage.ErrLinkInvalid
	}
	return s.deps.DB.PersonByID(id)
}

// pinLinkPage is what the link opens: the person's name and two PIN fields.
func (s *Server) pinLinkPage(c echo.Context) error {
	p, err := s.pinLinkPerson(c.QueryParam("code"), false)
	if err != nil {
		return s.pinLinkRefused(c, err)
	}
	return s.render(c, "pin_link", map[string]any{"Code": c.QueryParam("code"), "Name": p.Name})
}

func (s *Server) pinLinkRefused(c echo.Context, err error) error {
	if errors.Is(err, storage.ErrLinkInvalid) || errors.Is(err, storage.ErrNotFound) {
		return s.renderStatus(c, http.StatusGone, "pin_link", map[string]any{"Error": translate(pickLang(c.Request()), "link.invalid")})
	}
	if errors.Is(err, storage.ErrJoinedDoor) {
		return s.renderStatus(c, http.StatusGone, "pin_link", map[string]any{"Error": translate(pickLang(c.Request()), "pinlink.joined")})
	}
	return err
}

// pinLinkSet checks the PIN typed twice, then uses the link (of two
// concurrent submissions one wins) and stores the PIN, audited.
func (s *Server) pinLinkSet(c echo.Context) error {
	lang, code := pickLang(c.Request()), c.FormValue("code")
	p, err := s.pinLinkPerson(code, false)
	if err != nil {
		return s.pinLinkRefused(c, err)
	}
	pin := c.FormValue("pin")
	again := func(msg string) error {
		return s.renderStatus(c, http.StatusUnprocessableEntity, "pin_link", map[string]any{"Code": code, "Name": p.Name, "Error": msg})
	}
	if pin != c.FormValue("pin2") {
		return again(translate(lang, "pinlink.differ"))
	}
	if err := storage.CheckPINFormat(pin); err != nil {
		return again(localize(lang, err.Error()))
	}
	if p, err = s.pinLinkPerson(code, true); err != nil {
		return s.pinLinkRefused(c, err)
	}
	if err := s.deps.DB.SetPIN(p.ID, pin); err != nil {
		return err
	}
	s.audit("pin link", "pin_set_by_link", map[string]any{"employee_id": p.EmployeeID, "ip": c.RealIP()})
	return s.render(c, "pin_link", map[string]any{"Done": true, "Name": p.Name})
}
