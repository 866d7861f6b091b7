package appliance

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// accessPolicy owns the access policy in force and the people it knows:
// the stored one once doors are defined in the database, until then the
// one-door default. Reload swaps both at once.
type accessPolicy struct {
	db     *storage.DB
	door   string
	loc    *time.Location
	single *gate.Policy
	log    *slog.Logger

	policy atomic.Pointer[gate.Policy]
	people atomic.Pointer[map[int64]*gate.Person]
}

func newAccessPolicy(db *storage.DB, cfg *Config) *accessPolicy {
	a := &accessPolicy{db: db, door: cfg.Door, loc: cfg.loc, single: cfg.singleDoor(), log: cfg.Log}
	a.policy.Store(a.single)
	a.people.Store(&map[int64]*gate.Person{})
	return a
}

// Policy is the policy in force (the door controller's source).
func (a *accessPolicy) Policy() *gate.Policy { return a.policy.Load() }

// Reload reads the stored policy; a stored policy that does not validate,
// or lacks this door, is refused and the previous one kept.
func (a *accessPolicy) Reload() {
	recs, err := a.db.LoadPolicy()
	if err != nil {
		a.log.Error("policy not reloaded", "err", err)
		return
	}
	if len(recs.Doors) == 0 {
		m := map[int64]*gate.Person{}
		for _, pe := range recs.People {
			m[pe.ID] = &gate.Person{ID: pe.ID, Name: pe.Name, Groups: []string{gate.EveryoneGroup},
				SuspendedSince: pe.SuspendedSince, ExpiresAt: pe.ExpiresAt}
		}
		a.policy.Store(a.single)
		a.people.Store(&m)
		return
	}
	p, m, err := gate.FromRecords(recs, a.loc)
	if err == nil {
		if _, ok := p.Doors[a.door]; !ok {
			err = fmt.Errorf("door %q is not among the stored doors", a.door)
		}
	}
	if err != nil {
		a.log.Error("stored policy refused; keeping the previous one", "err", err)
		return
	}
	a.policy.Store(p)
	a.people.Store(&m)
}

// Person is the matched person as the policy knows them, or nil. One
// enrolled since the last reload is known, with no rules yet (everyone's
// group under the one-door default).
func (a *accessPolicy) Person(id int64) *gate.Person {
	if who, ok := (*a.people.Load())[id]; ok {
		return who
	}
	found, err := a.db.People([]int64{id})
	if err != nil || found[id].ID == 0 {
		return nil
	}
	who := &gate.Person{ID: found[id].ID, Name: found[id].Name}
	if a.policy.Load() == a.single {
		who.Groups = []string{gate.EveryoneGroup}
	}
	return who
}
