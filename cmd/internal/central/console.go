package central

import (
	"time"

	"github.com/facegate/facegate/storage"
)

// DefaultDoorStale: a door not heard from for longer shows as offline in
// the console. Doors report their head every second, so a minute is 60
// missed reports, not a slow network.
const DefaultDoorStale = time.Minute

// joinTokenTTL is how long a join token made in the console may be used
// (as `facegate central join-token`'s default).
const joinTokenTTL = 24 * time.Hour

// siteView is what the console reads of the site (web.Site): the
// database's site queries, the staleness that makes a door offline, and
// join tokens.
type siteView struct {
	*storage.DB
	stale time.Duration
}

// DoorStale is how long without contact makes a door offline.
func (v siteView) DoorStale() time.Duration { return v.stale }

// NewJoinToken makes a one-time token a door joins with.
func (v siteView) NewJoinToken(door, by string, now time.Time) (string, time.Time, error) {
	until := now.Add(joinTokenTTL)
	tok, err := v.NewOneTimeLink(storage.JoinPurpose, door, until, by)
	return tok, until, err
}
