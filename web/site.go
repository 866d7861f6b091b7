package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// Site is what the console of a site's central reads of its doors (nil
// on a door): their events, presence and audit across doors, each door's
// state and alarms, evidence from the central's copy, join tokens.
type Site interface {
	SiteAppliances() ([]storage.SiteDoor, error)
	SiteDoorNames() ([]string, error)
	SiteEvents(f storage.SiteEventFilter) ([]storage.Event, error)
	SiteEventByID(id int64) (storage.Event, error)
	LastSitePassages(upTo time.Time) ([]storage.Event, error)
	SiteDoorAlarms(door string) ([]storage.SiteAlarmAt, error)
	AcknowledgeSiteAlarm(id int64, by string, now time.Time) error
	// SiteOpenDoorAlarms and RequestDoorAlarmAck: the doors' own alarms
	// not acknowledged in their chain, and an acknowledgement asked of a
	// door from here (delivered with the receipt of its next push).
	SiteOpenDoorAlarms(from time.Time, limit int) ([]storage.DoorAlarm, error)
	RequestDoorAlarmAck(eventID int64, by string, now time.Time) (storage.Event, bool, error)
	ExportSite(f storage.EventFilter, snaps storage.SnapshotStore, w io.Writer) (int, error)
	// DoorStale: a door not heard from for longer is offline.
	DoorStale() time.Duration
	// NewJoinToken makes a one-time token a door joins with, and says
	// until when it may be used.
	NewJoinToken(door, by string, now time.Time) (string, time.Time, error)
}

// siteRoutes are the central's own pages: the doors, their alarms, join
// tokens.
func (s *Server) siteRoutes(e *echo.Echo, inv, admin, small echo.MiddlewareFunc) {
	if s.deps.Site == nil {
		return
	}
	e.GET("/doors", s.doorsPage, inv)
	e.POST("/doors/alarms/:id/ack", s.doorAlarmAck, inv, small)
	e.POST("/doors/events/:id/ack", s.requestDoorAlarmAck, inv, small)
	e.POST("/doors/join", s.doorJoinToken, admin, small)
}

// events is the history the entries pages read: this server's log, or
// on a central every door's (paged by time there: before is "AT.ID").
func (s *Server) events(f storage.EventFilter, before string) ([]storage.Event, error) {
	if s.deps.Site == nil {
		return s.deps.DB.Events(f)
	}
	sf := storage.SiteEventFilter{EventFilter: f}
	if before != "" {
		at, id, ok := strings.Cut(before, ".")
		var err1, err2 error
		sf.BeforeMicro, err1 = strconv.ParseInt(at, 10, 64)
		sf.BeforeID, err2 = strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "before: want TIME.ROW as the next-page link gives it")
		}
	}
	return s.deps.Site.SiteEvents(sf)
}

// nextBefore is the "before" of the page after the one ending with e.
func (s *Server) nextBefore(e storage.Event) string {
	if s.deps.Site == nil {
		return strconv.FormatInt(e.Seq, 10)
	}
	return strconv.FormatInt(e.AtMicro, 10) + "." + strconv.FormatInt(e.ID, 10)
}

// eventByRef finds the event an entry link names: its seq on a door, its
// row on a central.
func (s *Server) eventByRef(ref int64) (storage.Event, error) {
	if s.deps.Site == nil {
		return s.deps.DB.EventBySeq(ref)
	}
	return s.deps.Site.SiteEventByID(ref)
}

// lastPassages: presence's "inside now", over this door or every door.
func (s *Server) lastPassages(upTo time.Time) ([]storage.Event, error) {
	if s.deps.Site == nil {
		return s.deps.DB.LastPassages(upTo)
	}
	return s.deps.Site.LastSitePassages(upTo)
}

// siteDoors are the doors the filters offer on a central (nil on a door,
// where the door filter is typed).
func (s *Server) siteDoors() []string {
	if s.deps.Site == nil {
		return nil
	}
	names, err := s.deps.Site.SiteDoorNames()
	if err != nil {
		s.deps.Log.Error("site doors not read", "err", err)
	}
	return names
}

// siteOwned are the routes that edit what a site's central hands out
// (people, their photos and templates, the access rules): a joined door
// refuses them; PINs included (they travel from the central as hashes).
var siteOwned = []string{"/people", "/people/:id/suspend", "/people/:id/resume", "/people/:id/erase", "/people/:id/photos", "/people/:id/pinlink",
	"/people/:id/photos/:tid/remove", "/people/:id/rename", "/people/webcam/shot", "/people/webcam/finish",
	"/rules/:kind", "/rules/:kind/delete", "/api/v1/people", "/api/v1/people/:employee/suspend", "/api/v1/people/:employee",
	"/api/v1/rules"}

// joinedDoor refuses, on a door joined to a central, the edits of what
// the central owns, with where to make them instead; a request from
// anyone but an admin goes on to be refused by its route's role check.
func (s *Server) joinedDoor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := c.Request().Method
		if s.deps.Central == "" || m == http.MethodGet || m == http.MethodHead || !slices.Contains(siteOwned, c.Path()) {
			return next(c)
		}
		if u, ok := userOf(c); !ok || !storage.RoleAtLeast(u.Role, storage.RoleAdmin) {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf(messages["en"]["http.joined"], s.deps.Central))
	}
}

// errExportDoor: on a central a bundle is one door's chain.
var errExportDoor = errors.New("export: choose a door (a bundle holds one door's chain)")

// export writes an evidence bundle: this door's chain, or on a central
// one door's chain from the central's copy (verifying with that door's
// key). The door is checked before anything is written.
func (s *Server) export(f storage.EventFilter, w *echo.Response) (int, error) {
	if s.deps.Site == nil {
		return s.deps.Recorder.Export(f, w)
	}
	if f.Door == "" {
		return 0, errExportDoor
	}
	return s.deps.Site.ExportSite(f, s.deps.Recorder.Snapshots, w)
}
