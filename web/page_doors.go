package web

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// doorRow is one door on the doors page.
type doorRow struct {
	storage.SiteDoor
	Online                      bool
	LastContact, Synced, Joined time.Time
	// Key is the door's key, shortened: the full one (in the title) is
	// what its evidence bundles verify with.
	Key string
}

// doorsData is what the doors page shows; Token is set once, on the
// answer to the admin's request for it.
type doorsData struct {
	Doors  []doorRow
	Alarms []storage.SiteAlarmAt
	Stale  time.Duration
	// StaleSeconds is Stale for the page's sentence.
	StaleSeconds int
	Known        []string // the site's policy doors, offered for a join token
	Token        string
	For          string
	Until        time.Time
	Error        string
}

// doorID is what a join token's door may be: a policy door's ID.
var doorID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func (s *Server) doorsData() (doorsData, error) {
	site := s.deps.Site
	d := doorsData{Stale: site.DoorStale()}
	d.StaleSeconds = int(d.Stale.Seconds())
	ds, err := site.SiteAppliances()
	if err != nil {
		return d, err
	}
	now := s.deps.Now()
	for _, a := range ds {
		r := doorRow{SiteDoor: a, Online: a.Online(now, d.Stale), LastContact: a.LastContact(), Joined: time.UnixMicro(a.JoinedMicro),
			Key: a.PublicKey[:min(len(a.PublicKey), 24)] + "…"}
		if a.SyncedMicro != 0 {
			r.Synced = time.UnixMicro(a.SyncedMicro)
		}
		d.Doors = append(d.Doors, r)
	}
	if d.Alarms, err = site.SiteDoorAlarms(""); err != nil {
		return d, err
	}
	recs, err := s.deps.DB.LoadPolicy()
	for _, door := range recs.Doors {
		d.Known = append(d.Known, door.ID)
	}
	return d, err
}

func (s *Server) doorsPage(c echo.Context) error {
	d, err := s.doorsData()
	if err != nil {
		return err
	}
	return s.render(c, "doors", d)
}

// doorJoinToken makes a door's join token and shows it this once; the
// audit log says who made one for which door, never the token.
func (s *Server) doorJoinToken(c echo.Context) error {
	u, _ := userOf(c)
	door := c.FormValue("door")
	d, err := s.doorsData()
	if err != nil {
		return err
	}
	if !doorID.MatchString(door) {
		d.Error = translate(pickLang(c.Request()), "doors.baddoor")
		return s.renderStatus(c, http.StatusUnprocessableEntity, "doors", d)
	}
	d.Token, d.Until, err = s.deps.Site.NewJoinToken(door, u.Username, s.deps.Now())
	if err != nil {
		return err
	}
	d.For = door
	s.audit(u.Username, "join_token_made", map[string]any{"door": door, "until": d.Until.UTC().Format(time.RFC3339)})
	return s.render(c, "doors", d)
}

// doorAlarmAck acknowledges one of a door's alarms (audited); the alarm
// stays listed, as acknowledged, and `central verify` still reports it.
func (s *Server) doorAlarmAck(c echo.Context) error {
	u, _ := userOf(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "alarm number must be a positive whole number")
	}
	err = s.deps.Site.AcknowledgeSiteAlarm(id, u.Username, s.deps.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such open alarm: reload the doors page")
	}
	if err != nil {
		return err
	}
	s.audit(u.Username, "site_alarm_acknowledged", map[string]any{"alarm": id})
	return c.Redirect(http.StatusSeeOther, "/doors")
}
