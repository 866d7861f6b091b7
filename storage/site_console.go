package storage

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"gorm.io/gorm"
)

// What the central's console reads: every door's state, the site's
// events across doors, alarms and their acknowledgement.

// SiteDoor is a joined appliance as the console shows it.
type SiteDoor struct {
	SiteAppliance
	// Backlog is how many events the door reported that are not here yet.
	Backlog int64 `json:"backlog"`
	// OpenAlarms counts the alarms nobody acknowledged yet.
	OpenAlarms int64 `json:"open_alarms"`
}

// LastContact is when the central last heard from the door.
func (d SiteDoor) LastContact() time.Time { return time.UnixMicro(d.LastSeenMicro).UTC() }

// Online: the door was heard from within stale (and is in service).
func (d SiteDoor) Online(now time.Time, stale time.Duration) bool {
	return d.RevokedMicro == 0 && now.Sub(d.LastContact()) <= stale
}

// SiteAppliances lists every joined appliance with its backlog and open
// alarm count (one grouped query for the alarms, not one per door).
func (db *DB) SiteAppliances() ([]SiteDoor, error) {
	apps, err := db.Appliances()
	if err != nil {
		return nil, fmt.Errorf("storage: site appliances: %w", err)
	}
	var counts []struct {
		ApplianceID int64
		N           int64
	}
	if err := db.g.Model(&SiteAlarm{}).Select("appliance_id, COUNT(*) AS n").Where("acked_micro = 0").
		Group("appliance_id").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("storage: site alarms count: %w", err)
	}
	open := map[int64]int64{}
	for _, c := range counts {
		open[c.ApplianceID] = c.N
	}
	out := make([]SiteDoor, len(apps))
	for i, a := range apps {
		out[i] = SiteDoor{SiteAppliance: a, Backlog: max(0, a.ReportedSeq-a.HeadSeq), OpenAlarms: open[a.ID]}
	}
	return out, nil
}

// SiteDoorNames are the doors that joined, sorted, once each (a door
// whose appliance was replaced joined twice).
func (db *DB) SiteDoorNames() ([]string, error) {
	var out []string
	err := db.g.Model(&SiteAppliance{}).Distinct("door").Order("door").Pluck("door", &out).Error
	return out, err
}

// SiteEventFilter selects the site's events for the console: the
// EventFilter's fields, except that Door is the door an event came from
// (an admin action at a door carries no door of its own) and paging is by
// time, since positions are per door: newest first, Before the (time,
// row) of the last event shown.
type SiteEventFilter struct {
	EventFilter
	BeforeMicro, BeforeID int64
}

// SiteEvents runs the console's history query over every door's stored
// chain, newest first when f.Newest (else oldest first). Each event's ID
// is its row here (SiteEventByID finds it again), Seq its position in its
// door's chain, and Door the door it came from when it names none.
func (db *DB) SiteEvents(f SiteEventFilter) ([]Event, error) {
	door := f.Door
	ef := f.EventFilter
	ef.Door, ef.AfterSeq, ef.BeforeSeq = "", 0, 0
	q := ef.apply(db.g.Model(&siteEventRow{}))
	if door != "" {
		q = q.Where("appliance_id IN (?)", db.g.Model(&SiteAppliance{}).Select("id").Where("door = ?", door))
	}
	order := "at_micro, id"
	if f.Newest {
		order = "at_micro DESC, id DESC"
		if f.BeforeMicro > 0 {
			q = q.Where("at_micro < ? OR (at_micro = ? AND id < ?)", f.BeforeMicro, f.BeforeMicro, f.BeforeID)
		}
	}
	q = q.Order(order)
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []siteEventRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: site events: %w", err)
	}
	return db.siteEvents(rows)
}

// siteEvents turns stored rows into events naming their door.
func (db *DB) siteEvents(rows []siteEventRow) ([]Event, error) {
	doors := map[int64]string{}
	out := make([]Event, len(rows))
	for i, r := range rows {
		e := r.event()
		e.ID = r.ID
		if e.Door == "" {
			if _, ok := doors[r.ApplianceID]; !ok {
				a, err := db.applianceByID(r.ApplianceID)
				if err != nil {
					return nil, err
				}
				doors[r.ApplianceID] = a.Door
			}
			e.Door = doors[r.ApplianceID]
		}
		out[i] = e
	}
	return out, nil
}

// SiteEventByID returns one of the site's events by its row (the ID
// SiteEvents gave it).
func (db *DB) SiteEventByID(id int64) (Event, error) {
	var rows []siteEventRow
	if err := db.g.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return Event{}, err
	}
	if len(rows) == 0 {
		return Event{}, fmt.Errorf("site event %d: %w", id, ErrNotFound)
	}
	evs, err := db.siteEvents(rows)
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// LastSitePassages is LastPassages over every door's events: for every
// person and area, the newest granted passage through an "in" or "out"
// door before upTo, whichever door it was at, oldest first.
func (db *DB) LastSitePassages(upTo time.Time) ([]Event, error) {
	passage := func(q *gorm.DB) *gorm.DB {
		return q.Where("granted = ? AND person_id <> 0 AND direction IN ? AND at_micro < ?", true, []string{"in", "out"}, upTo.UnixMicro())
	}
	newest := passage(db.g.Model(&siteEventRow{})).Select("person_id, area, MAX(at_micro)").Group("person_id, area")
	var rows []siteEventRow
	if err := passage(db.g).Where("(person_id, area, at_micro) IN (?)", newest).Order("at_micro, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: site last passages: %w", err)
	}
	// Two doors at the same microsecond: keep the one stored last.
	type key struct {
		p int64
		a string
	}
	last := map[key]int{}
	for i, r := range rows {
		last[key{r.PersonID, r.Area}] = i
	}
	rows = slices.DeleteFunc(rows, func(r siteEventRow) bool { return rows[last[key{r.PersonID, r.Area}]].ID != r.ID })
	return db.siteEvents(rows)
}

// SiteAlarmAt is an alarm with the door it is about.
type SiteAlarmAt struct {
	SiteAlarm
	Door string `json:"door"`
}

// At is when the alarm was raised.
func (a SiteAlarmAt) At() time.Time { return time.UnixMicro(a.AtMicro).UTC() }

// SiteDoorAlarms lists the alarms about a door's appliances ("" = every
// door), open ones first, newest first within each.
func (db *DB) SiteDoorAlarms(door string) ([]SiteAlarmAt, error) {
	apps, err := db.Appliances()
	if err != nil {
		return nil, err
	}
	var out []SiteAlarmAt
	for _, a := range apps {
		if door != "" && a.Door != door {
			continue
		}
		as, err := db.SiteAlarms(a.ID)
		if err != nil {
			return nil, err
		}
		for _, al := range as {
			out = append(out, SiteAlarmAt{al, a.Door})
		}
	}
	slices.SortFunc(out, func(a, b SiteAlarmAt) int {
		return cmp.Or(cmp.Compare(min(a.AckedMicro, 1), min(b.AckedMicro, 1)), cmp.Compare(b.AtMicro, a.AtMicro), cmp.Compare(b.ID, a.ID))
	})
	return out, nil
}

// AcknowledgeSiteAlarm marks an open alarm seen by someone; the alarm
// itself stays (central verify still lists it).
func (db *DB) AcknowledgeSiteAlarm(id int64, by string, now time.Time) error {
	res := db.g.Model(&SiteAlarm{}).Where("id = ? AND acked_micro = 0", id).
		Updates(map[string]any{"acked_micro": now.UnixMicro(), "acked_by": clip(by, 200)})
	if res.Error != nil {
		return fmt.Errorf("storage: acknowledge alarm: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("alarm %d (open): %w", id, ErrNotFound)
	}
	return nil
}

// ExportSite writes an evidence bundle of one door's events as the
// central holds them: the events f selects (f.Door names the door; it is
// required, since a bundle is one chain under one key), the chain from
// the first of them to the newest head that door signed, its signed
// heads, and the snapshots from snaps (the central's copy). It verifies
// with VerifyBundle and the door's key, as one exported at the door.
// Events after the door's newest signed head (at most a minute of them)
// are left out: nothing signed covers them yet.
func (db *DB) ExportSite(f EventFilter, snaps SnapshotStore, w io.Writer) (int, error) {
	if f.Door == "" {
		return 0, errors.New("export: choose a door (a bundle holds one door's chain)")
	}
	var apps []SiteAppliance
	if err := db.g.Where("door = ?", f.Door).Order("id DESC").Find(&apps).Error; err != nil {
		return 0, err
	}
	for _, a := range apps {
		var last SiteHead
		// A head the door signed past what it has pushed yet covers nothing here.
		if err := db.g.Where("appliance_id = ? AND seq <= ?", a.ID, a.HeadSeq).Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
			return 0, err
		}
		ef := f
		ef.Door, ef.Limit, ef.Newest, ef.BeforeSeq = "", 0, false, 0
		var rows []siteEventRow
		if err := ef.apply(db.g.Where("appliance_id = ? AND seq <= ?", a.ID, last.Seq)).Order("seq").Find(&rows).Error; err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			continue // an appliance replaced at this door: the older one may hold them
		}
		sel := make([]Event, len(rows))
		for i, r := range rows {
			sel[i] = r.event()
		}
		cps, err := db.SiteHeads(a.ID)
		if err != nil {
			return 0, err
		}
		first := firstSeq(sel)
		cps = slices.DeleteFunc(cps, func(c Checkpoint) bool { return c.Seq < first || c.Seq > last.Seq })
		return writeBundle(w, bundleSource{f: f, sel: sel, head: last.Seq, pub: a.PublicKey, cps: cps, snaps: snaps,
			chain: db.g.Model(&siteEventRow{}).Where("appliance_id = ?", a.ID)})
	}
	return 0, fmt.Errorf("export: no events of door %q match, or none is covered by a head it signed yet", f.Door)
}
