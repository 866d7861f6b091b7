package storage

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Webhook subscriptions: the evidence log is the outbox. A subscription
// keeps a cursor (the last seq it has acknowledged or skipped); package
// gate/notify posts the events after it and moves it only after the
// receiver answered 2xx, so a receiver that is down misses nothing and a
// restart resumes where delivery stopped.

// Webhook is one subscription. Secret is in clear here; the row holds it
// sealed with the key directory's key, bound to the subscription's ID.
type Webhook struct {
	ID        int64
	URL       string
	Secret    string
	Kinds     []string // event kinds sent; empty = every kind
	Doors     []string // doors whose events are sent; empty = every door
	Enabled   bool
	AllowHTTP bool  // plain http:// to a loopback address (a receiver on the box)
	Cursor    int64 // last seq delivered or skipped
	// CACert (PEM) is the only CA trusted for this receiver's certificate
	// (a private CA on the site's network); empty = the system's roots.
	CACert    string
	CreatedAt time.Time
}

// Matches reports whether the subscription wants event e.
func (w Webhook) Matches(e Event) bool {
	return (len(w.Kinds) == 0 || slices.Contains(w.Kinds, e.Kind)) && (len(w.Doors) == 0 || slices.Contains(w.Doors, e.Door))
}

// webhookSubscription is the stored row (migration 9).
type webhookSubscription struct {
	ID        int64  `gorm:"primaryKey"`
	URL       string `gorm:"size:2000;not null"`
	Secret    string `gorm:"size:300;not null"` // sealedWebhookPrefix + base64
	Kinds     string `gorm:"size:1000;not null"`
	Doors     string `gorm:"size:1000;not null"`
	Enabled   bool   `gorm:"not null"`
	AllowHTTP bool   `gorm:"not null"`
	CursorSeq int64  `gorm:"not null"`
	CACert    string `gorm:"size:20000;not null;default:''"`
	// LeaseOwner delivers until LeaseUntilMicro (LeaseWebhook).
	LeaseOwner      string `gorm:"size:100;not null;default:''"`
	LeaseUntilMicro int64  `gorm:"not null;default:0"`
	CreatedAt       time.Time
}

func (webhookSubscription) TableName() string { return "webhook_subscriptions" }

// WebhookDelivery is one attempt to deliver one event (Seq 0: a test
// payload). Status is the HTTP status, 0 when no answer came (Error says why).
type WebhookDelivery struct {
	ID             int64  `gorm:"primaryKey"`
	SubscriptionID int64  `gorm:"not null;index"`
	Seq            int64  `gorm:"not null"`
	AtMicro        int64  `gorm:"not null;index"`
	Attempt        int    `gorm:"not null"`
	Status         int    `gorm:"not null"`
	Error          string `gorm:"size:500"`
	DurationMicro  int64  `gorm:"not null"`
}

func (WebhookDelivery) TableName() string { return "webhook_deliveries" }

// At is when the attempt started, in UTC.
func (d WebhookDelivery) At() time.Time { return time.UnixMicro(d.AtMicro).UTC() }

// OK reports whether the receiver acknowledged (2xx).
func (d WebhookDelivery) OK() bool { return d.Status >= 200 && d.Status < 300 }

// WebhookKinds are the event kinds a subscription may ask for.
var WebhookKinds = []string{KindGranted, KindDenied, KindRemoteUnlock, KindPassageStart, KindPassageEnd, KindDoorForced,
	KindDoorHeldOpen, KindTailgating, KindExitWithoutEntry, KindRelayError, KindIdentify, KindAlarm, KindRetention,
	KindErasure, KindModelSwitch, KindAdmin, KindPIN, KindAlert}

// ErrWebhookURL is wrapped by every refused webhook URL.
var ErrWebhookURL = errors.New("webhook URL")

// MinWebhookSecretLen: a shorter HMAC key could be guessed offline from one
// signed payload.
const MinWebhookSecretLen = 16

// CheckWebhookURL accepts https:// URLs, and http:// ones only with
// allowHTTP and a loopback host (the body is signed, not encrypted).
func CheckWebhookURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w %q: want https://host[:port]/path", ErrWebhookURL, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if !allowHTTP {
			return fmt.Errorf("%w %q: plain http sends personal data in clear; use https (http only with --allow-http, to a loopback address)", ErrWebhookURL, raw)
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%w %q: http is allowed only to localhost or a loopback address; use https", ErrWebhookURL, raw)
		}
		return nil
	}
	return fmt.Errorf("%w %q: scheme %q: want https", ErrWebhookURL, raw, u.Scheme)
}

// AddWebhook stores a new subscription; its cursor starts at the chain's
// head, so it receives the events recorded from now on, not the history.
func (db *DB) AddWebhook(w Webhook) (Webhook, error) {
	if err := CheckWebhookURL(w.URL, w.AllowHTTP); err != nil {
		return w, err
	}
	for _, k := range w.Kinds {
		if !slices.Contains(WebhookKinds, k) {
			return w, fmt.Errorf("webhook kind %q: use one of %s", k, strings.Join(WebhookKinds, ", "))
		}
	}
	if w.CACert != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(w.CACert)) {
		return w, errors.New("webhook CA: no PEM certificate in it (want the receiver's CA certificate, -----BEGIN CERTIFICATE-----)")
	}
	if len(w.Secret) < MinWebhookSecretLen {
		return w, fmt.Errorf("webhook secret: at least %d characters (leave it out to have one generated)", MinWebhookSecretLen)
	}
	err := db.g.Transaction(func(tx *gorm.DB) error {
		row := webhookSubscription{URL: w.URL, Kinds: strings.Join(w.Kinds, ","), Doors: strings.Join(w.Doors, ","),
			Enabled: w.Enabled, AllowHTTP: w.AllowHTTP, CACert: w.CACert, CreatedAt: db.now().UTC()}
		if err := tx.Model(&Event{}).Select("COALESCE(MAX(seq), 0)").Scan(&row.CursorSeq).Error; err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		sealed, err := db.Keys.sealTemplate([]byte(w.Secret), webhookAAD(row.ID))
		if err != nil {
			return err
		}
		w.ID, w.Cursor, w.CreatedAt = row.ID, row.CursorSeq, row.CreatedAt
		return tx.Model(&row).Update("secret", sealedWebhookPrefix+base64.RawStdEncoding.EncodeToString(sealed)).Error
	})
	if err != nil {
		return w, fmt.Errorf("storage: add webhook: %w", err)
	}
	return w, nil
}

const sealedWebhookPrefix = "sealed1:"

func webhookAAD(id int64) string {
	return fmt.Sprintf("facegate webhook secret of subscription %d", id)
}

// Webhooks lists the subscriptions by ID, secrets opened.
func (db *DB) Webhooks() ([]Webhook, error) {
	var rows []webhookSubscription
	if err := db.g.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: webhooks: %w", err)
	}
	out := make([]Webhook, 0, len(rows))
	for _, r := range rows {
		w, err := db.openWebhook(r)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// WebhookByID returns one subscription.
func (db *DB) WebhookByID(id int64) (Webhook, error) {
	var r webhookSubscription
	if err := db.g.Where("id = ?", id).Limit(1).Find(&r).Error; err != nil {
		return Webhook{}, fmt.Errorf("storage: webhook %d: %w", id, err)
	}
	if r.ID == 0 {
		return Webhook{}, fmt.Errorf("no webhook %d (see 'facegate webhook list'): %w", id, ErrNotFound)
	}
	return db.openWebhook(r)
}

func (db *DB) openWebhook(r webhookSubscription) (Webhook, error) {
	w := Webhook{ID: r.ID, URL: r.URL, Kinds: splitList(r.Kinds), Doors: splitList(r.Doors), Enabled: r.Enabled,
		AllowHTTP: r.AllowHTTP, Cursor: r.CursorSeq, CACert: r.CACert, CreatedAt: r.CreatedAt}
	b64, ok := strings.CutPrefix(r.Secret, sealedWebhookPrefix)
	b, err := base64.RawStdEncoding.DecodeString(b64)
	if !ok || err != nil {
		return w, fmt.Errorf("%w: secret of webhook %d is not sealed", ErrKey, r.ID)
	}
	p, err := db.Keys.openTemplate(b, webhookAAD(r.ID))
	if err != nil {
		return w, err
	}
	w.Secret = string(p)
	return w, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// RemoveWebhook deletes a subscription and its delivery log.
func (db *DB) RemoveWebhook(id int64) error {
	return db.g.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&webhookSubscription{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("no webhook %d (see 'facegate webhook list'): %w", id, ErrNotFound)
		}
		return tx.Where("subscription_id = ?", id).Delete(&WebhookDelivery{}).Error
	})
}

// SetWebhookEnabled pauses or resumes a subscription; a paused one keeps
// its cursor, so on resuming it receives what it missed.
func (db *DB) SetWebhookEnabled(id int64, enabled bool) error {
	res := db.g.Model(&webhookSubscription{}).Where("id = ?", id).Update("enabled", enabled)
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("no webhook %d: %w", id, ErrNotFound)
	}
	return res.Error
}

// AdvanceWebhookCursor moves a subscription's cursor forward to seq (never
// back: two deliverers racing cannot rewind it).
func (db *DB) AdvanceWebhookCursor(id, seq int64) error {
	return db.g.Model(&webhookSubscription{}).Where("id = ? AND cursor_seq < ?", id, seq).Update("cursor_seq", seq).Error
}

// LogWebhookDelivery records one attempt.
func (db *DB) LogWebhookDelivery(d WebhookDelivery) error {
	d.ID = 0
	if len(d.Error) > 500 {
		d.Error = d.Error[:497] + "..."
	}
	return db.g.Create(&d).Error
}

// WebhookDeliveries lists the latest attempts, newest first, of one
// subscription (id 0: of all).
func (db *DB) WebhookDeliveries(id int64, limit int) ([]WebhookDelivery, error) {
	q := db.g.Order("id DESC").Limit(limit)
	if id != 0 {
		q = q.Where("subscription_id = ?", id)
	}
	var out []WebhookDelivery
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: webhook deliveries: %w", err)
	}
	return out, nil
}

// PruneWebhookDeliveries deletes attempts older than before.
func (db *DB) PruneWebhookDeliveries(before time.Time) (int64, error) {
	res := db.g.Where("at_micro < ?", before.UnixMicro()).Delete(&WebhookDelivery{})
	return res.RowsAffected, res.Error
}

// LatestCheckpoint is the newest signed checkpoint (ok false when none
// exists yet). It covers every event up to its Seq.
func (db *DB) LatestCheckpoint() (c Checkpoint, ok bool, err error) {
	err = db.g.Order("seq DESC").Limit(1).Find(&c).Error
	return c, c.ID != 0, err
}

// EventsAfter lists up to limit events after seq in chain order (Events
// orders by time, and a decision's time may precede an event appended
// before it: an outbox must follow seq or its cursor could skip one).
func (db *DB) EventsAfter(seq int64, limit int) ([]Event, error) {
	var out []Event
	if err := db.g.Where("seq > ?", seq).Order("seq").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: events after %d: %w", seq, err)
	}
	return out, nil
}

// LeaseWebhook makes owner the one deliverer of subscription id until
// now+ttl, if it holds the lease already or the lease has run out: gates
// sharing a PostgreSQL log would otherwise each send every event.
func (db *DB) LeaseWebhook(id int64, owner string, now time.Time, ttl time.Duration) (bool, error) {
	res := db.g.Model(&webhookSubscription{}).Where("id = ? AND (lease_owner = ? OR lease_until_micro < ?)", id, owner, now.UnixMicro()).
		Updates(map[string]any{"lease_owner": owner, "lease_until_micro": now.Add(ttl).UnixMicro()})
	if res.Error != nil {
		return false, fmt.Errorf("storage: lease webhook %d: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseWebhookLeases ends owner's leases (a deliverer stopping), so
// another gate takes over at once rather than when they run out.
func (db *DB) ReleaseWebhookLeases(owner string) error {
	return db.g.Model(&webhookSubscription{}).Where("lease_owner = ?", owner).Update("lease_until_micro", 0).Error
}
