package web

import (
	"errors"
	"net/http"
	"os"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// enrolPhoto is one of a person's templates as the people page shows it:
// a thumbnail when the photo is kept, and a button to remove it.
type enrolPhoto struct {
	TemplateID int64
	Hash       string
	Source     string
	Kept       bool
}

// personPhotos lists each person's templates with their photos.
func (s *Server) personPhotos(ids []int64) (map[int64][]enrolPhoto, error) {
	out := map[int64][]enrolPhoto{}
	for _, id := range ids {
		ts, err := s.deps.DB.PersonTemplates(id)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			p := enrolPhoto{TemplateID: t.ID, Hash: t.PhotoSHA256, Source: t.SourceName}
			if path, err := s.deps.Recorder.Snapshots.Path(t.PhotoSHA256); err == nil {
				_, err := os.Stat(path)
				p.Kept = err == nil
			}
			out[id] = append(out[id], p)
		}
	}
	return out, nil
}

// addPhotos adds enrolment photos to an enrolled person, with the checks
// of an enrolment (one usable face each; not someone else's face; not
// unlike the person's photos already enrolled) and the same "enrol
// anyway" confirmation; audited.
func (s *Server) addPhotos(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	lang := pickLang(c.Request())
	form, err := c.MultipartForm()
	if err != nil {
		return s.peoplePageWith(c, http.StatusBadRequest, map[string]any{"Error": localize(lang, "choose at least one photo")})
	}
	photos, err := readUploads(form, "photos")
	if err != nil {
		return s.peoplePageWith(c, http.StatusRequestEntityTooLarge, map[string]any{"Error": err.Error()})
	}
	if len(photos) == 0 {
		return s.peoplePageWith(c, http.StatusUnprocessableEntity, map[string]any{"Error": localize(lang, "choose at least one photo")})
	}
	res, err := s.faces().EnrollConfirmed(p.EmployeeID, p.Name, photos, confirmation(c, u.Username))
	if err != nil {
		he := enrolError(err)
		return s.peoplePageWith(c, he.Code, map[string]any{"Error": enrolMessage(lang, he), "ConfirmFor": p.ID})
	}
	s.audit(u.Username, "photo_added", map[string]any{"employee_id": p.EmployeeID, "templates": res.Templates,
		"conflicts_confirmed": len(res.Conflicts)})
	s.policyChanged()
	return s.peoplePageWith(c, http.StatusOK, map[string]any{"Enrolled": res, "PhotoAdded": true})
}

// removePhoto removes one template of a person (audited by storage as
// template_removed); its photo is deleted from the snapshot store when
// no template keeps it. The last template is refused: erase instead.
func (s *Server) removePhoto(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	tid, err := strconv.ParseInt(c.Param("tid"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad template id")
	}
	lang := pickLang(c.Request())
	t, err := s.deps.Recorder.RemoveTemplate(p.ID, tid, u.Username)
	switch {
	case errors.Is(err, storage.ErrLastTemplate):
		return s.peoplePageWith(c, http.StatusConflict, map[string]any{"Error": fmtMsg(lang, "people.lastphoto", p.Name)})
	case err != nil && t.ID == 0:
		return s.peoplePageWith(c, http.StatusNotFound, map[string]any{"Error": fmtMsg(lang, "people.nophoto", p.Name)})
	case err != nil:
		return err
	}
	if used, err := s.deps.DB.IsEnrolmentPhoto(t.PhotoSHA256); err == nil && !used && t.PhotoSHA256 != "" {
		if err := s.deps.Recorder.Snapshots.Delete(t.PhotoSHA256); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.deps.Log.Error("enrolment photo not deleted", "hash", t.PhotoSHA256, "err", err)
		}
	}
	if err := s.faces().Reload(); err != nil && !errors.Is(err, errNoFaces) {
		return err
	}
	s.policyChanged()
	return c.Redirect(http.StatusSeeOther, "/people")
}
