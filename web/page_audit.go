package web

import (
	"github.com/facegate/facegate/storage"
	"github.com/labstack/echo/v4"
)

func (s *Server) auditPage(c echo.Context) error {
	log, err := s.deps.DB.AuditLog(500)
	if err != nil {
		return err
	}
	return s.render(c, "audit", auditData{Log: log})
}

// auditData is what the audit page shows: the newest admin actions.
type auditData struct{ Log []storage.Event }
