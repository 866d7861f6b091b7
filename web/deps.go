package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// SettingsOwner loads, validates, saves and applies the appliance's
// settings; the web app only shows and edits them.
type SettingsOwner interface {
	Settings() storage.Settings
	SaveSettings(s storage.Settings, by string) error
}

// Faces is what the web app needs of gate/identity.Service: check, enrol
// and identify photos, and reload the gallery. Nil in a server that does
// not recognise (its enrol and identify routes answer 503).
type Faces interface {
	CheckPhoto(p identity.Photo) (vision.Face, error)
	// EnrollConfirmed enrols; c (may be nil) confirms conflicts.
	EnrollConfirmed(employeeID, name string, photos []identity.Photo, c *identity.Confirmation) (identity.EnrollResult, error)
	Identify(p identity.Photo) ([]identity.Identified, error)
	Reload() error
}

// Door is this appliance's door controller (gate.Controller).
type Door interface {
	RemoteUnlock(by, reason string) error
}

// Deps are what the web app works with.
type Deps struct {
	DB       *storage.DB
	Recorder *storage.Recorder
	Faces    Faces
	// ModelVersion is the recogniser's, recorded with identify events.
	ModelVersion string
	// Door, when set, lets admins unlock it remotely (audited).
	Door     Door
	Health   func() Health
	Settings SettingsOwner // nil: the settings page shows nothing to edit
	Model    ModelOwner    // nil: the settings page shows no model and cannot calibrate
	Hub      *Hub
	Location *time.Location
	// Keypad, when set, is the door's web keypad: admins pair tablets to
	// it (/keypad) and a paired tablet types PINs on it (/keypad/pad).
	Keypad *WebKeypad
	// PolicyChanged is called after the access rules were edited.
	PolicyChanged func()
	// Site, on a site's central, is its view of the doors: the console then
	// shows every door's events, presence and audit, and a page of the
	// doors. Nil on a door.
	Site Site
	// Live, on a site's central, holds its doors' live views: a viewer
	// opens one in the console, the door streams to the central while
	// watched. Nil on a door.
	Live *LiveDoors
	// Central, on a door joined to a site, is the central's address: people
	// and rules come from it, so the door shows them read-only and refuses
	// their edits.
	Central string
	Log     *slog.Logger
	Now     func() time.Time
}

// Options say how to listen.
type Options struct {
	Addr      string // e.g. ":8443"
	PlainHTTP bool   // serve HTTP, not HTTPS: only on loopback unless AllowPlainLAN
	// AllowPlainLAN permits plain HTTP on a non-loopback address (behind a
	// TLS-terminating proxy). Browsers then refuse the webcam.
	AllowPlainLAN     bool
	CertFile, KeyFile string
	TLSDir            string // where the self-signed certificate is kept
	// TrustedProxies are the addresses (CIDRs or single IPs) of reverse
	// proxies whose X-Forwarded-For is believed. Default none: the client
	// address is the TCP peer's, so a forged header cannot dodge the login
	// rate limit or put a false address in the audit log.
	TrustedProxies []string
}

// errNoFaces answers enrol and identify requests on a server built
// without recognition.
var errNoFaces = echo.NewHTTPError(http.StatusServiceUnavailable, "face recognition is not running on this server")

// faces is the recogniser, or one that refuses every request with 503.
func (s *Server) faces() Faces {
	if s.deps.Faces == nil {
		return noFaces{}
	}
	return s.deps.Faces
}

type noFaces struct{}

func (noFaces) CheckPhoto(identity.Photo) (vision.Face, error) { return vision.Face{}, errNoFaces }

func (noFaces) EnrollConfirmed(string, string, []identity.Photo, *identity.Confirmation) (identity.EnrollResult, error) {
	return identity.EnrollResult{}, errNoFaces
}

func (noFaces) Identify(identity.Photo) ([]identity.Identified, error) { return nil, errNoFaces }

func (noFaces) Reload() error { return errNoFaces }
