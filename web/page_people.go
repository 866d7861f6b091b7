package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

func (s *Server) peoplePage(c echo.Context) error {
	return s.peoplePageWith(c, http.StatusOK, nil)
}

func (s *Server) peoplePageWith(c echo.Context, code int, extra map[string]any) error {
	rows, err := s.deps.DB.SearchPeople(c.QueryParam("q"), 500)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	photos, err := s.personPhotos(ids)
	if err != nil {
		return err
	}
	data := map[string]any{"People": rows, "Q": c.QueryParam("q"), "Photos": photos, "ConfirmFor": int64(0)}
	for k, v := range extra {
		data[k] = v
	}
	return s.renderStatus(c, code, "people", data)
}

// readUploads reads multipart files named field, each bounded; the
// content is checked later by decoding, never by its name or type header.
func readUploads(form *multipart.Form, field string) ([]identity.Photo, error) {
	var out []identity.Photo
	for _, fh := range form.File[field] {
		if fh.Size > vision.MaxImageBytes {
			return nil, fmt.Errorf("%s: %d bytes, limit %d", fh.Filename, fh.Size, vision.MaxImageBytes)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, vision.MaxImageBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, identity.Photo{Name: fh.Filename, Data: b})
	}
	return out, nil
}

// enrolError maps refusals to the right status: a bad photo is 422, a
// clash 409.
func enrolError(err error) *echo.HTTPError {
	var ie *vision.ImageError
	var he *echo.HTTPError
	var ce *identity.ConflictError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &ie): // the photo's error kept for the page to show in the reader's language
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error()).SetInternal(err)
	case errors.As(err, &ce), errors.Is(err, storage.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, err.Error()).SetInternal(err)
	}
	return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
}

// enrolForm enrols the person of a multipart form (name, employee_id,
// photos), audited; the people page and the API both use it.
func (s *Server) enrolForm(c echo.Context, via string) (identity.EnrollResult, *echo.HTTPError) {
	u, _ := userOf(c)
	form, err := c.MultipartForm()
	if err != nil {
		return identity.EnrollResult{}, echo.NewHTTPError(http.StatusBadRequest, "expected multipart/form-data with name, employee_id and photos")
	}
	photos, err := readUploads(form, "photos")
	if err != nil {
		return identity.EnrollResult{}, echo.NewHTTPError(http.StatusRequestEntityTooLarge, err.Error())
	}
	if len(photos) == 0 {
		return identity.EnrollResult{}, echo.NewHTTPError(http.StatusUnprocessableEntity, "choose at least one photo")
	}
	res, err := s.faces().EnrollConfirmed(c.FormValue("employee_id"), c.FormValue("name"), photos, confirmation(c, u.Username))
	if err != nil {
		return res, enrolError(err)
	}
	s.audit(u.Username, "person_enrolled", map[string]any{"employee_id": res.Person.EmployeeID, "templates": res.Templates, "via": via,
		"conflicts_confirmed": len(res.Conflicts)})
	return res, nil
}

// confirmation is the admin's "enrol anyway" with its reason (the form's
// confirm_reason), or nil: identity audits it when it lets conflicts
// through.
func confirmation(c echo.Context, by string) *identity.Confirmation {
	r := strings.TrimSpace(c.FormValue("confirm_reason"))
	if r == "" {
		return nil
	}
	return &identity.Confirmation{By: by, Reason: r}
}

func (s *Server) enrolUpload(c echo.Context) error {
	res, he := s.enrolForm(c, "upload")
	if he != nil {
		return s.peoplePageWith(c, he.Code, map[string]any{"Error": enrolMessage(pickLang(c.Request()), he)})
	}
	return s.peoplePageWith(c, http.StatusOK, map[string]any{"Enrolled": res})
}

func (s *Server) personParam(c echo.Context) (storage.Person, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return storage.Person{}, echo.NewHTTPError(http.StatusBadRequest, "bad person id")
	}
	p, err := s.deps.DB.PersonByID(id)
	if errors.Is(err, storage.ErrNotFound) {
		return p, echo.NewHTTPError(http.StatusNotFound, "no such person")
	}
	return p, err
}

// setSuspended suspends (now) or reinstates a person, audited; the gate
// picks it up at once.
func (s *Server) setSuspended(by string, p storage.Person, suspend bool) error {
	var since *time.Time
	action := "person_reinstated"
	if suspend {
		now := s.deps.Now().UTC()
		since, action = &now, "person_suspended"
	}
	if err := s.deps.DB.SetSuspended(p.ID, since); err != nil {
		return err
	}
	s.audit(by, action, map[string]any{"employee_id": p.EmployeeID})
	s.policyChanged()
	return nil
}

// erasePerson erases a person (recorded as an erasure event by whom) and
// drops their templates from the live gallery.
func (s *Server) erasePerson(by string, p storage.Person, withSnapshots bool) error {
	if err := s.deps.Recorder.ErasePerson(p.ID, by, withSnapshots); err != nil {
		return err
	}
	if err := s.faces().Reload(); err != nil {
		return err
	}
	s.policyChanged()
	return nil
}

func (s *Server) suspend(c echo.Context) error { return s.suspendPage(c, true) }

func (s *Server) resume(c echo.Context) error { return s.suspendPage(c, false) }

func (s *Server) suspendPage(c echo.Context, suspend bool) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	if err := s.setSuspended(u.Username, p, suspend); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/people")
}

func (s *Server) rename(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	if err := s.deps.DB.RenamePerson(p.ID, c.FormValue("name")); err != nil {
		return s.peoplePageWith(c, http.StatusUnprocessableEntity, map[string]any{"Error": err.Error()})
	}
	s.audit(u.Username, "person_renamed", map[string]any{"employee_id": p.EmployeeID, "from": p.Name, "to": c.FormValue("name")})
	s.policyChanged()
	return c.Redirect(http.StatusSeeOther, "/people")
}

func (s *Server) erase(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	if typed := strings.TrimSpace(c.FormValue("confirm_employee_id")); typed != p.EmployeeID {
		msg := fmtMsg(pickLang(c.Request()), "erase.mismatch", typed)
		return s.eraseConfirm(c, http.StatusUnprocessableEntity, p, msg)
	}
	if err := s.erasePerson(u.Username, p, c.FormValue("snapshots") == "on"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/people")
}

func (s *Server) policyChanged() {
	if s.deps.PolicyChanged != nil {
		s.deps.PolicyChanged()
	}
}
