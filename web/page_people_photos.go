package web

import (
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// keptPhotos maps each person to the hashes of their enrolment photos
// that the snapshot store holds (a photo not kept has no thumbnail).
func (s *Server) keptPhotos(ids []int64) (map[int64][]string, error) {
	all, err := s.deps.DB.PhotoHashes(ids)
	if err != nil {
		return nil, err
	}
	kept := map[int64][]string{}
	for id, hs := range all {
		for _, h := range hs {
			if p, err := s.deps.Recorder.Snapshots.Path(h); err == nil {
				if _, err := os.Stat(p); err == nil {
					kept[id] = append(kept[id], h)
				}
			}
		}
	}
	return kept, nil
}

// enrolmentPhoto serves an enrolment photo by hash, to admins; a hash
// that is not a template's photo (an entry's snapshot) is not found here.
func (s *Server) enrolmentPhoto(c echo.Context) error {
	h, ok := strings.CutSuffix(c.Param("file"), ".jpg")
	notFound := echo.NewHTTPError(http.StatusNotFound, "no such enrolment photo")
	if !ok {
		return notFound
	}
	if is, err := s.deps.DB.IsEnrolmentPhoto(h); err != nil || !is {
		return notFound
	}
	b, err := s.deps.Recorder.Snapshots.Get(h)
	if err != nil {
		return notFound
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, "image/jpeg", b)
}

// eraseConfirmPage shows what erasing a person deletes and asks for
// their employee ID before anything is erased.
func (s *Server) eraseConfirmPage(c echo.Context) error {
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	return s.eraseConfirm(c, http.StatusOK, p, "")
}

func (s *Server) eraseConfirm(c echo.Context, code int, p storage.Person, msg string) error {
	all, err := s.deps.DB.PhotoHashes([]int64{p.ID})
	if err != nil {
		return err
	}
	kept, err := s.keptPhotos([]int64{p.ID})
	if err != nil {
		return err
	}
	return s.renderStatus(c, code, "erase", map[string]any{"P": p, "Templates": len(all[p.ID]), "Photos": kept[p.ID],
		"Error": msg, "Snapshots": c.FormValue("snapshots") == "on"})
}
