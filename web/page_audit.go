package web

import (
	"cmp"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// auditShown: the audit page lists the newest 500 admin actions.
const auditShown = 500

func (s *Server) auditPage(c echo.Context) error {
	log, err := s.deps.DB.AuditLog(auditShown)
	if err != nil {
		return err
	}
	d := auditData{Log: log}
	if s.deps.Site != nil { // the central's own actions and every door's, or one door's
		d.Site, d.Doors, d.Door = true, s.siteDoors(), c.QueryParam("door")
		if d.Door != "" {
			d.Log = nil
		}
		doors, err := s.deps.Site.SiteEvents(storage.SiteEventFilter{EventFilter: storage.EventFilter{Kind: storage.KindAdmin,
			Door: d.Door, Newest: true, Limit: auditShown}})
		if err != nil {
			return err
		}
		d.Log = append(d.Log, doors...)
		slices.SortStableFunc(d.Log, func(a, b storage.Event) int { return cmp.Compare(b.AtMicro, a.AtMicro) })
		d.Log = d.Log[:min(len(d.Log), auditShown)]
	}
	return s.render(c, "audit", d)
}

// auditData is what the audit page shows: the newest admin actions; on a
// central, each with where it was done (a door, or "" for the central).
type auditData struct {
	Log   []storage.Event
	Site  bool
	Doors []string
	Door  string
}
