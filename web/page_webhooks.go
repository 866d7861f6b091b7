package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate/notify"
	"github.com/facegate/facegate/storage"
)

// webhookRow is one subscription on the webhooks page, with its last attempt.
type webhookRow struct {
	storage.Webhook
	Last *storage.WebhookDelivery
}

// webhooksPage lists the subscriptions and the form to add one; extra
// carries a refusal (and the form sent), a new secret (shown once) or a
// test's result.
func (s *Server) webhooksPage(c echo.Context) error { return s.webhooksWith(c, http.StatusOK, nil) }

func (s *Server) webhooksWith(c echo.Context, code int, extra map[string]any) error {
	subs, err := s.deps.DB.Webhooks()
	if err != nil {
		return err
	}
	rows := make([]webhookRow, len(subs))
	for i, w := range subs {
		rows[i].Webhook = w
		if log, err := s.deps.DB.WebhookDeliveries(w.ID, 1); err == nil && len(log) == 1 {
			rows[i].Last = &log[0]
		}
	}
	recs, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	data := map[string]any{"Webhooks": rows, "Kinds": storage.WebhookKinds, "Doors": recs.Doors, "Form": c.Request().PostForm}
	for k, v := range extra {
		data[k] = v
	}
	return s.renderStatus(c, code, "webhooks", data)
}

// webhookAdd adds a subscription from the form, audited; a secret left
// blank is generated and shown once.
func (s *Server) webhookAdd(c echo.Context) error {
	u, _ := userOf(c)
	lang := pickLang(c.Request())
	form, _ := c.FormParams()
	w := storage.Webhook{URL: strings.TrimSpace(c.FormValue("url")), Kinds: form["kinds"], Doors: form["doors"], Enabled: true,
		AllowHTTP: c.FormValue("allow_http") == "on", CACert: strings.TrimSpace(c.FormValue("ca_cert")),
		Secret: strings.TrimSpace(c.FormValue("secret"))}
	generated := w.Secret == ""
	if generated {
		w.Secret = "whsec_" + storage.RandomToken()
	}
	w, err := s.deps.DB.AddWebhook(w)
	if err != nil {
		return s.webhooksWith(c, http.StatusUnprocessableEntity, map[string]any{"Error": localize(lang, err.Error())})
	}
	s.audit(u.Username, "webhook_added", map[string]any{"id": w.ID, "url": w.URL, "kinds": w.Kinds, "doors": w.Doors,
		"allow_http": w.AllowHTTP, "own_ca": w.CACert != ""})
	extra := map[string]any{"Added": w.ID, "Form": url.Values{}}
	if generated {
		extra["Secret"] = w.Secret
	}
	return s.webhooksWith(c, http.StatusOK, extra)
}

func (s *Server) webhookParam(c echo.Context) (storage.Webhook, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return storage.Webhook{}, echo.NewHTTPError(http.StatusBadRequest, "bad webhook id")
	}
	w, err := s.deps.DB.WebhookByID(id)
	if errors.Is(err, storage.ErrNotFound) {
		return w, echo.NewHTTPError(http.StatusNotFound, "no such webhook")
	}
	return w, err
}

// webhookAction removes, enables or disables a subscription, audited as
// the CLI's are (webhook_removed, webhook_enabled, webhook_disabled).
func (s *Server) webhookAction(c echo.Context) error {
	u, _ := userOf(c)
	w, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	action := c.Param("action")
	switch action {
	case "remove":
		err = s.deps.DB.RemoveWebhook(w.ID)
	case "enable", "disable":
		err = s.deps.DB.SetWebhookEnabled(w.ID, action == "enable")
	default:
		return echo.NewHTTPError(http.StatusNotFound, "no such webhook action")
	}
	if err != nil {
		return err
	}
	s.audit(u.Username, "webhook_"+action+"d", map[string]any{"id": w.ID, "url": w.URL})
	return c.Redirect(http.StatusSeeOther, "/webhooks")
}

// webhookTestTimeout bounds "send test": the page waits for the answer.
const webhookTestTimeout = 15 * time.Second

// webhookTest posts a signed test payload through gate/notify now (logged
// in the delivery log as seq 0), audits it and shows the answer.
func (s *Server) webhookTest(c echo.Context) error {
	u, _ := userOf(c)
	w, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), webhookTestTimeout)
	defer cancel()
	d := notify.New(s.deps.DB, notify.Options{Location: s.deps.Location, Timeout: webhookTestTimeout}).SendTest(ctx, w)
	s.audit(u.Username, "webhook_tested", map[string]any{"id": w.ID, "url": w.URL, "status": d.Status})
	return s.webhookLogWith(c, w, &d)
}

// webhookLogPage is a subscription's delivery log, newest first.
func (s *Server) webhookLogPage(c echo.Context) error {
	w, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	return s.webhookLogWith(c, w, nil)
}

func (s *Server) webhookLogWith(c echo.Context, w storage.Webhook, test *storage.WebhookDelivery) error {
	log, err := s.deps.DB.WebhookDeliveries(w.ID, 200)
	if err != nil {
		return err
	}
	head, err := s.deps.DB.EventCount()
	if err != nil {
		return err
	}
	return s.render(c, "webhook_log", map[string]any{"W": w, "Log": log, "Test": test, "Head": head})
}
