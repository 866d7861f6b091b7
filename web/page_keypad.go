package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// Pairing a tablet as the door's keypad: an admin makes a pairing link
// (a one-time link of purpose "keypad" for the door, valid pairingTTL);
// the tablet opens it, and using it gives the tablet a credential of its
// own (a long-lived one-time link of purpose "keypad-tablet", kept as an
// HttpOnly cookie) bound to that door. The tablet has no admin session:
// the credential opens the keypad page and nothing else, and the admin
// revokes it on the keypad page.
const (
	pairingTTL      = 15 * time.Minute
	tabletTTL       = 10 * 365 * 24 * time.Hour
	purposePairing  = "keypad"
	purposeTablet   = "keypad-tablet"
	tabletCookie    = "fg_keypad"
	tabletsDocument = "keypad.tablets"
)

// pairedTablet is one tablet paired to a door, as the admin sees it.
type pairedTablet struct {
	ID       string    `json:"id"`
	Door     string    `json:"door"`
	Name     string    `json:"name"`
	PairedAt time.Time `json:"paired_at"`
	LinkBy   string    `json:"link_by"` // the admin who made the pairing link
}

func (t pairedTablet) subject() string { return t.Door + "#" + t.ID }

func (s *Server) tablets() ([]pairedTablet, error) {
	body, found, err := s.deps.DB.Document(tabletsDocument)
	if err != nil || !found {
		return nil, err
	}
	var ts []pairedTablet
	return ts, json.Unmarshal([]byte(body), &ts)
}

func (s *Server) saveTablets(ts []pairedTablet, by string) error {
	b, err := json.Marshal(ts)
	if err != nil {
		return err
	}
	return s.deps.Recorder.SaveDocument(tabletsDocument, string(b), by)
}

// errNoKeypad answers the keypad routes of an appliance without one.
var errNoKeypad = echo.NewHTTPError(http.StatusNotFound, "this appliance has no web keypad")

// keypadAdminPage lists the tablets paired to the door; with link, the
// pairing link just made (shown once).
func (s *Server) keypadAdminPage(c echo.Context) error { return s.keypadAdmin(c, "") }

func (s *Server) keypadAdmin(c echo.Context, link string) error {
	if s.deps.Keypad == nil {
		return errNoKeypad
	}
	ts, err := s.tablets()
	if err != nil {
		return err
	}
	return s.render(c, "keypad_admin", map[string]any{"Door": s.deps.Keypad.Door(), "Tablets": ts, "Link": link,
		"Expires": s.deps.Now().Add(pairingTTL)})
}

// keypadPair makes a pairing link for the door, audited; a new link
// replaces any unused one.
func (s *Server) keypadPair(c echo.Context) error {
	if s.deps.Keypad == nil {
		return errNoKeypad
	}
	u, _ := userOf(c)
	door, now := s.deps.Keypad.Door(), s.deps.Now()
	if err := s.deps.DB.RevokeOneTimeLinks(purposePairing, door, now); err != nil {
		return err
	}
	tok, err := s.deps.DB.NewOneTimeLink(purposePairing, door, now.Add(pairingTTL), u.Username)
	if err != nil {
		return err
	}
	s.audit(u.Username, "keypad_pairing_link", map[string]any{"door": door, "minutes": int(pairingTTL.Minutes())})
	return s.keypadAdmin(c, baseURL(c)+"/keypad/join?code="+tok)
}

// baseURL is the scheme and host the admin reached the app on.
func baseURL(c echo.Context) string { return c.Scheme() + "://" + c.Request().Host }

// keypadRevoke withdraws a tablet's credential, audited.
func (s *Server) keypadRevoke(c echo.Context) error {
	u, _ := userOf(c)
	ts, err := s.tablets()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ts, func(t pairedTablet) bool { return t.ID == c.Param("id") })
	if i < 0 {
		return echo.NewHTTPError(http.StatusNotFound, "no such tablet")
	}
	if err := s.deps.DB.RevokeOneTimeLinks(purposeTablet, ts[i].subject(), s.deps.Now()); err != nil {
		return err
	}
	t := ts[i]
	if err := s.saveTablets(slices.Delete(ts, i, i+1), u.Username); err != nil {
		return err
	}
	s.audit(u.Username, "keypad_tablet_revoked", map[string]any{"door": t.Door, "name": t.Name})
	return c.Redirect(http.StatusSeeOther, "/keypad")
}

// keypadJoinPage is what the pairing link opens on the tablet.
func (s *Server) keypadJoinPage(c echo.Context) error {
	return s.render(c, "keypad_join", map[string]any{"Code": c.QueryParam("code")})
}

// keypadJoin uses the pairing link and gives the tablet its credential.
func (s *Server) keypadJoin(c echo.Context) error {
	if s.deps.Keypad == nil {
		return errNoKeypad
	}
	lang, now := pickLang(c.Request()), s.deps.Now()
	name := strings.TrimSpace(c.FormValue("name"))
	if name == "" || len(name) > 60 {
		return s.renderStatus(c, http.StatusUnprocessableEntity, "keypad_join", map[string]any{"Code": c.FormValue("code"),
			"Error": translate(lang, "keypad.err.name")})
	}
	door, err := s.deps.DB.UseOneTimeLink(purposePairing, strings.TrimSpace(c.FormValue("code")), now)
	if errors.Is(err, storage.ErrLinkInvalid) || (err == nil && door != s.deps.Keypad.Door()) {
		return s.renderStatus(c, http.StatusGone, "keypad_join", map[string]any{"Error": translate(lang, "link.invalid")})
	} else if err != nil {
		return err
	}
	t := pairedTablet{ID: storage.RandomToken()[:12], Door: door, Name: name, PairedAt: now.UTC()}
	cred, err := s.deps.DB.NewOneTimeLink(purposeTablet, t.subject(), now.Add(tabletTTL), "tablet "+name)
	if err != nil {
		return err
	}
	ts, err := s.tablets()
	if err != nil {
		return err
	}
	if err := s.saveTablets(append(ts, t), "tablet "+name); err != nil {
		return err
	}
	s.audit("tablet "+name, "keypad_tablet_paired", map[string]any{"door": door, "name": name, "ip": c.RealIP()})
	c.SetCookie(&http.Cookie{Name: tabletCookie, Value: cred, Path: "/keypad", HttpOnly: true, Secure: !s.opts.PlainHTTP,
		SameSite: http.SameSiteStrictMode, MaxAge: int(tabletTTL.Seconds())})
	return c.Redirect(http.StatusSeeOther, "/keypad/pad")
}

// tablet is the door of the paired tablet making the request, or an
// error page saying it is not paired.
func (s *Server) tablet(c echo.Context) error {
	if s.deps.Keypad == nil {
		return errNoKeypad
	}
	ck, err := c.Cookie(tabletCookie)
	if err == nil {
		subject, err := s.deps.DB.PeekOneTimeLink(purposeTablet, ck.Value, s.deps.Now())
		if err == nil && strings.HasPrefix(subject, s.deps.Keypad.Door()+"#") {
			return nil
		}
	}
	return echo.NewHTTPError(http.StatusUnauthorized, "this tablet is not paired to the door (or its pairing was revoked): ask an admin for a pairing link")
}

// keypadPage is the keypad itself: big keys, no session.
func (s *Server) keypadPage(c echo.Context) error {
	if err := s.tablet(c); err != nil {
		return err
	}
	return s.render(c, "keypad", map[string]any{"Door": s.deps.Keypad.Door()})
}

// keypadPIN takes one PIN typed on the tablet.
func (s *Server) keypadPIN(c echo.Context) error {
	if err := s.tablet(c); err != nil {
		return err
	}
	digits := c.FormValue("pin")
	if digits == "" || len(digits) > 16 || strings.Trim(digits, "0123456789") != "" {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "a PIN is digits only")
	}
	// The attempt's event comes after every event there is now.
	last, err := s.deps.DB.Events(storage.EventFilter{Newest: true, Limit: 1})
	if err != nil {
		return err
	}
	after := int64(0)
	if len(last) > 0 {
		after = last[0].Seq
	}
	now := s.deps.Now()
	if !s.deps.Keypad.enter(digits, now) {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the door is not taking PINs now: try again")
	}
	return c.JSON(http.StatusOK, map[string]int64{"at": now.UnixMicro(), "after": after})
}

// triesLeft reads "n of m tries left" from a wrong PIN's reason.
var triesLeft = regexp.MustCompile(`\((\d+) of \d+ tries left`)

// keypadState says what the tablet shows: the outcome of the PIN typed
// at "at" (µs; 0: none) when the log's last event was "after" (seq), or
// whether the door waits for one.
func (s *Server) keypadState(c echo.Context) error {
	if err := s.tablet(c); err != nil {
		return err
	}
	lang, now := pickLang(c.Request()), s.deps.Now()
	at, _ := strconv.ParseInt(c.QueryParam("at"), 10, 64)
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	state, n, err := s.tabletState(at, after, now)
	if err != nil {
		return err
	}
	text := translate(lang, "keypad.state."+state)
	if state == "wrong" {
		text = fmtMsg(lang, "keypad.state.wrong", n)
	}
	return c.JSON(http.StatusOK, map[string]string{"state": state, "text": text})
}

// tabletState: with no PIN sent (at 0), "enter" while a matched face
// waits for one, else "idle"; with one sent, its outcome, or while there
// is none yet "checking" (a face waits: the door is deciding) or "face"
// (the PIN is held for a face), back to "idle" once it has expired.
func (s *Server) tabletState(at, after int64, now time.Time) (string, int, error) {
	awaiting := s.deps.Keypad.awaiting(now)
	if at <= 0 {
		if awaiting {
			return "enter", 0, nil
		}
		return "idle", 0, nil
	}
	state, n, err := s.pinOutcome(after)
	switch {
	case err != nil || state != "":
		return state, n, err
	case now.Sub(time.UnixMicro(at)) > gate.PINBefore+gate.PINAfter:
		return "idle", 0, nil
	case awaiting:
		return "checking", 0, nil
	}
	return "face", 0, nil
}

// pinOutcome is the state of the first PIN attempt at the door after
// the event seq after: "" while there is none yet.
func (s *Server) pinOutcome(after int64) (string, int, error) {
	evs, err := s.deps.DB.Events(storage.EventFilter{Door: s.deps.Keypad.Door(), AfterSeq: after, Limit: 50})
	if err != nil {
		return "", 0, err
	}
	i := slices.IndexFunc(evs, func(e storage.Event) bool { return e.Kind == storage.KindPIN })
	if i < 0 {
		return "", 0, nil
	}
	switch evs[i].Code {
	case "pin_ok": // the door's decision follows the attempt (its time is the face's, earlier)
		for _, e := range evs {
			if e.Seq < evs[i].Seq {
				continue
			}
			switch e.Kind {
			case storage.KindGranted:
				return "granted", 0, nil
			case storage.KindDenied:
				return "denied", 0, nil
			}
		}
		return "checking", 0, nil
	case "pin_wrong":
		n := 0
		if m := triesLeft.FindStringSubmatch(evs[i].Reason); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return "wrong", n, nil
	case "pin_locked":
		return "locked", 0, nil
	case "pin_not_set":
		return "nopin", 0, nil
	}
	return "idle", 0, nil // pin_missing, pin_error: start again
}
