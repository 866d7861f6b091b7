package web

import (
	"github.com/labstack/echo/v4"
)

func (s *Server) auditPage(c echo.Context) error {
	log, err := s.deps.DB.AuditLog(500)
	if err != nil {
		return err
	}
	return s.render(c, "audit", map[string]any{"Log": log})
}
