package web

import (
	"github.com/labstack/echo/v4"
)

func (s *Server) livePage(c echo.Context) error {
	return s.render(c, "live", map[string]any{"Health": s.health()})
}
