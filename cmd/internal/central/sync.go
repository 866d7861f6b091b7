package central

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/storage"
)

// maxBody bounds a request: a push of 500 events is well under 2 MB, a
// snapshot under 1 MB.
const maxBody = 32 << 20

// maxWait bounds a long poll (a door asks for 20 s).
const maxWait = 60 * time.Second

func (c *Central) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/join", c.signed(c.join))
	mux.HandleFunc("GET /v1/hello", c.signed(c.joined(c.hello)))
	mux.HandleFunc("GET /v1/changes", c.signed(c.joined(c.changes)))
	mux.HandleFunc("PUT /v1/snapshots/{hash}", c.signed(c.joined(c.snapshot)))
	mux.HandleFunc("POST /v1/events", c.signed(c.joined(c.events)))
	mux.HandleFunc("GET /v1/presence", c.signed(c.joined(c.presence)))
	mux.HandleFunc("GET /v1/live/wanted", c.signed(c.joined(c.liveWanted)))
	mux.HandleFunc("POST /v1/live/frame", c.signedMax(site.MaxLiveFrame, liveFrameTooLarge, c.joined(c.liveFrame)))
	mux.HandleFunc("POST /v1/live/decision", c.signedMax(maxLiveDecision, "a live decision is at most 64 KB of JSON", c.joined(c.liveDecision)))
	return mux
}

// request is a verified request: its body and signing key, and the
// appliance once known.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	body []byte
	key  string
	app  storage.SiteAppliance
}

func (q *request) fail(status int, msg string) { http.Error(q.w, msg, status) }

func (q *request) json(v any) {
	q.w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(q.w).Encode(v)
}

// signed reads the body and checks its signature.
func (c *Central) signed(h func(*request)) http.HandlerFunc {
	return c.signedMax(maxBody, "", h)
}

// signedMax is signed with a body of at most limit bytes; tooLarge says
// what to do about a larger one.
func (c *Central) signedMax(limit int64, tooLarge string, h func(*request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) && tooLarge != "" {
			http.Error(w, tooLarge, http.StatusRequestEntityTooLarge)
			return
		} else if err != nil {
			http.Error(w, "body too large or unreadable: "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		key, err := c.verify.Verify(r, body, c.cfg.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		h(&request{w: w, r: r, body: body, key: key})
	}
}

// joined finds the appliance that signed.
func (c *Central) joined(h func(*request)) func(*request) {
	return func(q *request) {
		a, err := c.db.ApplianceByKey(q.key)
		if errors.Is(err, storage.ErrUnknownAppliance) {
			q.fail(http.StatusUnauthorized, "not joined: "+err.Error())
			return
		} else if errors.Is(err, storage.ErrRevoked) {
			q.fail(http.StatusForbidden, err.Error())
			return
		} else if err != nil {
			q.fail(http.StatusServiceUnavailable, err.Error())
			return
		}
		q.app = a
		h(q)
	}
}

func (c *Central) join(q *request) {
	var in struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(q.body, &in) != nil || in.Token == "" {
		q.fail(http.StatusBadRequest, `want {"token":"…"} with the token from facegate central join-token`)
		return
	}
	a, err := c.db.JoinAppliance(in.Token, q.key, c.cfg.Now())
	if errors.Is(err, storage.ErrLinkInvalid) || errors.Is(err, storage.ErrRevoked) {
		q.fail(http.StatusForbidden, err.Error())
		return
	} else if err != nil {
		q.fail(http.StatusServiceUnavailable, err.Error())
		return
	}
	c.cfg.Log.Info("door joined", "appliance", a.ID, "door", a.Door, "key", a.PublicKey)
	q.json(a)
}

func (c *Central) hello(q *request) {
	c.db.TouchAppliance(q.app.ID, -1, c.cfg.Now())
	q.json(q.app)
}

// changes answers at once if anything changed after since, else waits for
// the revision to move (or wait to pass).
func (c *Central) changes(q *request) {
	since, err := strconv.ParseInt(q.r.URL.Query().Get("since"), 10, 64)
	ms, err2 := strconv.ParseInt(q.r.URL.Query().Get("wait"), 10, 64)
	if err != nil || err2 != nil || since < -1 || ms < 0 {
		q.fail(http.StatusBadRequest, "want ?since=REVISION&wait=MILLISECONDS (since=-1: everything)")
		return
	}
	c.db.TouchAppliance(q.app.ID, since, c.cfg.Now())
	if rev, err := c.db.SiteRevision(); err == nil && since > rev {
		since = -1 // a door ahead of this database (restored from a backup): everything again
	}
	if page, _ := strconv.Atoi(q.r.URL.Query().Get("page")); since < 0 && page > 0 {
		c.fullPage(q, min(page, maxPage))
		return
	}
	deadline := time.After(min(time.Duration(ms)*time.Millisecond, maxWait))
	for {
		rev, moved := c.revs.after()
		if rev != since || since < 0 {
			body, news, err := c.answers.get(c.db, since, rev)
			if err != nil {
				q.fail(http.StatusServiceUnavailable, err.Error())
				return
			}
			if news {
				q.w.Header().Set("Content-Type", "application/json")
				q.w.Write(body)
				return
			}
		}
		select {
		case <-moved:
		case <-deadline:
			q.json(storage.SiteChanges{Rev: since})
			return
		case <-q.r.Context().Done():
			return
		}
	}
}

// maxPage bounds a page of a full pull (about 3 MB a 1,000 people).
const maxPage = 5000

// fullPage answers one page of everything (a door asks page by page).
func (c *Central) fullPage(q *request, page int) {
	after, err := strconv.ParseInt(q.r.URL.Query().Get("after"), 10, 64)
	if q.r.URL.Query().Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		q.fail(http.StatusBadRequest, "after: want the next person ID the previous page gave")
		return
	}
	ch, err := c.db.SiteFullPage(after, page)
	if err != nil {
		q.fail(http.StatusServiceUnavailable, err.Error())
		return
	}
	q.json(ch)
}

func (c *Central) snapshot(q *request) {
	sum := sha256.Sum256(q.body)
	if hex.EncodeToString(sum[:]) != q.r.PathValue("hash") {
		q.fail(http.StatusBadRequest, "the body does not hash to the snapshot's name")
		return
	}
	if _, err := c.snaps.Put(q.body); err != nil {
		q.fail(http.StatusServiceUnavailable, err.Error())
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

func (c *Central) events(q *request) {
	var p storage.SitePush
	if err := json.Unmarshal(q.body, &p); err != nil {
		q.fail(http.StatusBadRequest, "want a storage.SitePush as JSON: "+err.Error())
		return
	}
	rec, err := c.db.ReceivePush(q.app.ID, p)
	if err != nil {
		q.fail(http.StatusServiceUnavailable, err.Error())
		return
	}
	for _, a := range rec.Alarms {
		c.cfg.Log.Error("site alarm", "appliance", q.app.ID, "door", q.app.Door, "alarm", a)
	}
	for _, h := range rec.Purge { // after the commit: the door's retention, applied here too
		c.snaps.Delete(h)
	}
	q.json(rec)
}

// presence answers anti-passback: a person's last passage through an area
// at any door of the site.
func (c *Central) presence(q *request) {
	person, err := strconv.ParseInt(q.r.URL.Query().Get("person"), 10, 64)
	area := q.r.URL.Query().Get("area")
	if err != nil || area == "" {
		q.fail(http.StatusBadRequest, "want ?person=ID&area=NAME")
		return
	}
	p, err := c.db.LastSitePassage(person, area)
	if err != nil {
		q.fail(http.StatusServiceUnavailable, err.Error())
		return
	}
	q.json(p)
}

// changeCache answers the doors waiting at one revision with one query:
// when a change wakes every long poll, the doors that were at the same
// revision get the same bytes (50 doors: one query instead of 50). Full
// pulls are not kept (megabytes each, and rare).
type changeCache struct {
	mu     sync.Mutex
	epoch  int64            // the watcher's revision the answers are for
	bodies map[int64][]byte // since → answer
	news   map[int64]bool
}

func (cc *changeCache) get(db *storage.DB, since, epoch int64) ([]byte, bool, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.epoch != epoch || cc.bodies == nil {
		cc.epoch, cc.bodies, cc.news = epoch, map[int64][]byte{}, map[int64]bool{}
	}
	if b, ok := cc.bodies[since]; ok {
		return b, cc.news[since], nil
	}
	ch, err := db.SiteChangesSince(since)
	if err != nil {
		return nil, false, err
	}
	b, err := json.Marshal(ch)
	if err != nil {
		return nil, false, err
	}
	news := !ch.Empty() || ch.Rev != since
	if since >= 0 {
		cc.bodies[since], cc.news[since] = b, news
	}
	return b, news, nil
}
