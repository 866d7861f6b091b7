package central

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/facegate/facegate/gate/site"
)

// maxLiveDecision bounds a live decision (a few hundred bytes of JSON).
const maxLiveDecision = 64 << 10

// The live view (see package gate/site): a door long-polls liveWanted and
// streams its frames and decisions only while a console viewer watches
// it (web.LiveDoors counts them). Like every signed request, a door not
// joined or revoked is refused before any of these run (c.joined).

// liveWanted answers {"watch":true} as soon as a viewer opens the door's
// live view, or {"watch":false} when wait passes.
func (c *Central) liveWanted(q *request) {
	ms, err := strconv.ParseInt(q.r.URL.Query().Get("wait"), 10, 64)
	if err != nil || ms < 0 {
		q.fail(http.StatusBadRequest, "want ?wait=MILLISECONDS")
		return
	}
	ctx, cancel := context.WithTimeout(q.r.Context(), min(time.Duration(ms)*time.Millisecond, maxWait))
	defer cancel()
	watch := c.live.WaitWanted(ctx, q.app.Door)
	if q.r.Context().Err() != nil {
		return
	}
	q.json(map[string]bool{"watch": watch})
}

// liveFrame shows a door's frame (JPEG) to its viewers.
func (c *Central) liveFrame(q *request) {
	if !bytes.HasPrefix(q.body, []byte{0xff, 0xd8}) {
		q.fail(http.StatusBadRequest, "a live frame is a JPEG image (the body does not start with FF D8)")
		return
	}
	q.json(map[string]bool{"watch": c.live.Frame(q.app.Door, q.body)})
}

// liveDecision shows a door's decision to its viewers.
func (c *Central) liveDecision(q *request) {
	if !json.Valid(q.body) {
		q.fail(http.StatusBadRequest, "a live decision is the JSON the door's live page gets")
		return
	}
	q.json(map[string]bool{"watch": c.live.Decision(q.app.Door, q.body)})
}

// liveFrameTooLarge is the answer to a frame over site.MaxLiveFrame.
var liveFrameTooLarge = "a live frame is at most " + strconv.Itoa(site.MaxLiveFrame>>20) +
	" MB of JPEG: lower the camera's resolution or its JPEG quality"
