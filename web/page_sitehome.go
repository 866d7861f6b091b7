package web

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// siteHomeShown is how many of the newest decisions across the doors the
// central's Home lists.
const siteHomeShown = 10

// siteHomeData is the central's Home: each door's state in short, today's
// counts across every door, the newest decisions, the open alarms about
// the doors' logs and the doors' own alarms of the last 24 hours.
type siteHomeData struct {
	Doors                    []doorRow
	Granted, Denied, Unknown int
	Day                      string
	Recent                   []storage.Event
	SiteAlarms               []storage.SiteAlarmAt
	DoorAlarms               []storage.DoorAlarm
	Live                     bool // the doors' live views can be opened
}

// siteHomePage is "/" on a central: it has no camera, relay or alarms of
// its own, so Home is the site's overview.
func (s *Server) siteHomePage(c echo.Context) error {
	now := s.deps.Now().In(s.deps.Location)
	d := siteHomeData{Day: now.Format(storage.DayLayout), Live: s.deps.Live != nil}
	doors, err := s.doorsData()
	if err != nil {
		return err
	}
	d.Doors = doors.Doors
	d.SiteAlarms = slices.DeleteFunc(doors.Alarms, func(a storage.SiteAlarmAt) bool { return a.AckedMicro != 0 })
	if d.Granted, d.Denied, d.Unknown, err = s.siteTodayCounts(now); err != nil {
		return err
	}
	if d.Recent, err = s.siteRecent(); err != nil {
		return err
	}
	if d.DoorAlarms, err = s.siteDoorAlarms(now); err != nil {
		return err
	}
	return s.render(c, "sitehome", d)
}

// siteTodayCounts counts today's decisions at every door (midnight to
// midnight in the site's zone), as todayCounts does for one door.
func (s *Server) siteTodayCounts(now time.Time) (granted, denied, unknown int, err error) {
	return dayCounts(now, func(f storage.EventFilter) ([]storage.Event, error) {
		return s.deps.Site.SiteEvents(storage.SiteEventFilter{EventFilter: f})
	})
}

// siteRecent are the newest decisions (granted or denied) at any door.
func (s *Server) siteRecent() ([]storage.Event, error) {
	var out []storage.Event
	for _, kind := range []string{storage.KindGranted, storage.KindDenied} {
		evs, err := s.deps.Site.SiteEvents(storage.SiteEventFilter{EventFilter: storage.EventFilter{Kind: kind, Newest: true, Limit: siteHomeShown}})
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	slices.SortFunc(out, newestFirst)
	return out[:min(len(out), siteHomeShown)], nil
}

// siteDoorAlarms are the doors' own alarms (forced, held open, …) of the
// last 24 hours that their door's chain does not acknowledge, newest
// first, each with the acknowledgement asked for here and not yet back.
func (s *Server) siteDoorAlarms(now time.Time) ([]storage.DoorAlarm, error) {
	return s.deps.Site.SiteOpenDoorAlarms(now.Add(-alarmWindow), alarmsShown*len(storage.AlarmKinds))
}

// requestDoorAlarmAck asks a door, from the central, to acknowledge one of its
// alarms (id: the central's row of the alarm): the door records it in its
// own chain, as acknowledged by USER@central, when it next pushes, so its
// Home and this one agree. Asked twice, one request; audited here too.
func (s *Server) requestDoorAlarmAck(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "alarm number must be a positive whole number")
	}
	u, _ := userOf(c)
	e, fresh, err := s.deps.Site.RequestDoorAlarmAck(id, u.Username+"@central", s.deps.Now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "no such alarm of a door: reload the home page")
	case errors.Is(err, storage.ErrRevoked):
		return echo.NewHTTPError(http.StatusConflict, "this door's appliance was revoked and will not push again: acknowledge the alarm at the door")
	case errors.Is(err, storage.ErrAlarmAcknowledged):
		return c.Redirect(http.StatusSeeOther, "/") // acknowledged meanwhile: the list no longer shows it
	case err != nil:
		return err
	}
	if fresh {
		s.audit(u.Username, "door_alarm_ack_sent", map[string]any{"door": e.Door, "seq": e.Seq, "kind": e.Kind})
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// newestFirst orders events from every door by time, then by row.
func newestFirst(a, b storage.Event) int {
	return cmp.Or(cmp.Compare(b.AtMicro, a.AtMicro), cmp.Compare(b.ID, a.ID))
}
