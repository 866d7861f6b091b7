package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// liveView is what the live page shows: where its frames, decisions and
// state come from, and on a central which door it is.
type liveView struct {
	Health                Health
	Labels                string
	Frames, Events, State string
	// Door, on a central, is the door watched; Online whether it is heard
	// from (else the page says the door is offline); Waiting until its
	// first frame arrives.
	Door            string
	Online, Waiting bool
}

func (s *Server) livePage(c echo.Context) error {
	if s.deps.Site != nil { // a central has no camera: its doors' live views are on Home
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, "live", liveView{Health: s.health(), Labels: liveLabels(pickLang(c.Request())),
		Frames: "/live.mjpg", Events: "/events/stream", State: "/healthz"})
}

// doorLiveRoutes are a door's live view through the central (role viewer,
// as /live): the page, its frames, its decisions and its state.
func (s *Server) doorLiveRoutes(e *echo.Echo, viewer echo.MiddlewareFunc) {
	if s.deps.Site == nil || s.deps.Live == nil {
		return
	}
	e.GET("/doors/:door/live", s.doorLivePage, viewer)
	e.GET("/doors/:door/live.mjpg", s.doorLiveMJPEG, viewer)
	e.GET("/doors/:door/events/stream", s.doorLiveSSE, viewer)
	e.GET("/doors/:door/live/state", s.doorLiveState, viewer)
}

// liveDoor is the joined door a live view's path names (the one in
// service when the door joined more than once); 404 when none.
func (s *Server) liveDoor(c echo.Context) (storage.SiteDoor, error) {
	name := c.Param("door")
	ds, err := s.deps.Site.SiteAppliances()
	if err != nil {
		return storage.SiteDoor{}, err
	}
	var found *storage.SiteDoor
	for i := range ds {
		if ds[i].Door == name && (found == nil || found.RevokedMicro != 0) {
			found = &ds[i]
		}
	}
	if found == nil {
		return storage.SiteDoor{}, echo.NewHTTPError(http.StatusNotFound,
			fmt.Sprintf("no door %q has joined this site: open a live view from the doors page", name))
	}
	return *found, nil
}

func (s *Server) doorLivePage(c echo.Context) error {
	d, err := s.liveDoor(c)
	if err != nil {
		return err
	}
	base := "/doors/" + url.PathEscape(d.Door)
	v := liveView{Labels: liveLabels(pickLang(c.Request())), Frames: base + "/live.mjpg", Events: base + "/events/stream",
		State: base + "/live/state", Door: d.Door, Online: d.Online(s.deps.Now(), s.deps.Site.DoorStale()),
		Health: Health{Source: d.Door, SourceState: d.Camera}}
	v.Waiting = !s.deps.Live.Wanted(d.Door) || !s.deps.Live.Hub(d.Door).HasFrame()
	return s.render(c, "live", v)
}

// doorLiveMJPEG streams a door's frames while the viewer watches: the
// viewer counts, so the door sends them.
func (s *Server) doorLiveMJPEG(c echo.Context) error {
	d, err := s.liveDoor(c)
	if err != nil {
		return err
	}
	h, done := s.deps.Live.Watch(d.Door)
	defer done()
	return s.streamMJPEG(c, h)
}

// doorLiveSSE streams a door's decisions while the viewer watches.
func (s *Server) doorLiveSSE(c echo.Context) error {
	d, err := s.liveDoor(c)
	if err != nil {
		return err
	}
	h, done := s.deps.Live.Watch(d.Door)
	defer done()
	return s.streamSSE(c, h)
}

// doorLiveState is what live.js polls: the door's camera as it last
// reported it, and whether the door is heard from.
func (s *Server) doorLiveState(c echo.Context) error {
	d, err := s.liveDoor(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"source_state": d.Camera, "online": d.Online(s.deps.Now(), s.deps.Site.DoorStale()),
		"frames": s.deps.Live.Hub(d.Door).HasFrame()})
}
