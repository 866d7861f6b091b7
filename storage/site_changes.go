package storage

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SiteTemplate is a face template as it travels from the central to a
// door: the descriptor in clear (inside the authenticated channel), sealed
// again on arrival with the door's own template key.
type SiteTemplate struct {
	ID           int64     `json:"id"`
	ModelVersion string    `json:"model_version"`
	SourceName   string    `json:"source_name"`
	PhotoSHA256  string    `json:"photo_sha256"`
	FaceWidth    int       `json:"face_width"`
	Sharpness    float64   `json:"sharpness"`
	Descriptor   []float32 `json:"-"` // as descriptor_b64 (siteTemplateJSON)
}

// siteTemplateJSON carries the descriptor as base64 of its stored
// encoding (EncodeDescriptor): 2.7 kB for a 512-D template instead of
// about 5 kB of decimal numbers, and exact.
type siteTemplateJSON struct {
	siteTemplateFields
	DescriptorB64 []byte `json:"descriptor_b64"`
}

type siteTemplateFields SiteTemplate // without SiteTemplate's JSON methods

// MarshalJSON writes the descriptor as base64.
func (t SiteTemplate) MarshalJSON() ([]byte, error) {
	return json.Marshal(siteTemplateJSON{siteTemplateFields(t), EncodeDescriptor(t.Descriptor)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (t *SiteTemplate) UnmarshalJSON(b []byte) error {
	var w siteTemplateJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := DecodeDescriptor(w.DescriptorB64)
	if err != nil {
		return fmt.Errorf("template %d: %w", w.ID, err)
	}
	*t = SiteTemplate(w.siteTemplateFields)
	t.Descriptor = d
	return nil
}

// SitePerson is one person as the central holds them: record, groups,
// templates, and the bcrypt hash of their PIN ("" when they have none).
// The hash travels, not the PIN: the central never holds the digits
// either. A door counts wrong PINs and locks on its own.
type SitePerson struct {
	Person    Person         `json:"person"`
	Groups    []string       `json:"groups"`
	Templates []SiteTemplate `json:"templates"`
	PINHash   string         `json:"pin_hash,omitempty"`
}

// SitePolicy is the site-wide part of the access policy (group
// memberships travel with each person).
type SitePolicy struct {
	Areas    []Area       `json:"areas"`
	Doors    []Door       `json:"doors"`
	Groups   []Group      `json:"groups"`
	Rules    []AccessRule `json:"rules"`
	Holidays []Holiday    `json:"holidays"`
}

// SiteChanges is what changed on the central after a revision: the people
// changed (present) or gone (Deleted), and the policy if it changed. Full
// says it is everything: a person the door has that is not listed is gone.
type SiteChanges struct {
	Rev     int64        `json:"rev"`
	Full    bool         `json:"full"`
	People  []SitePerson `json:"people"`
	Deleted []int64      `json:"deleted"`
	Policy  *SitePolicy  `json:"policy,omitempty"`
	// EraseSnapshots are people erased on the central with their
	// snapshots (erase --with-snapshots): a door deletes the snapshots of
	// their events too. They are in Deleted as well, or were in an
	// earlier answer.
	EraseSnapshots []int64 `json:"erase_snapshots,omitempty"`
	// More says a paged full answer (SiteFullPage) goes on: ask for the
	// page after Next, the last person's ID in this one.
	More bool  `json:"more,omitempty"`
	Next int64 `json:"next,omitempty"`
}

// Empty reports whether there is nothing to apply.
func (c SiteChanges) Empty() bool {
	return !c.Full && len(c.People) == 0 && len(c.Deleted) == 0 && c.Policy == nil && len(c.EraseSnapshots) == 0
}

// siteEraseSnapshots is the SiteChange entity of an erasure with
// snapshots.
const siteEraseSnapshots = "erase_snapshots"

// SiteRevision is the central's current revision (0: nothing yet).
func (db *DB) SiteRevision() (int64, error) {
	var rev int64
	err := db.g.Model(&SiteChange{}).Select("COALESCE(MAX(rev), 0)").Scan(&rev).Error
	return rev, err
}

// SiteChangesSince collects what changed after revision since (all of it
// when since is negative: a door that never pulled), as of one revision,
// read in one transaction.
func (db *DB) SiteChangesSince(since int64) (SiteChanges, error) {
	var ch SiteChanges
	err := db.g.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&SiteChange{}).Select("COALESCE(MAX(rev), 0)").Scan(&ch.Rev).Error; err != nil {
			return err
		}
		var rows []SiteChange
		ch.Full = since < 0
		if !ch.Full {
			if err := tx.Where("rev > ? AND rev <= ?", since, ch.Rev).Find(&rows).Error; err != nil {
				return err
			}
		}
		var ids []int64
		policy := ch.Full
		for _, r := range rows {
			if r.Entity == "policy" {
				policy = true
			} else if r.Entity == siteEraseSnapshots {
				ch.EraseSnapshots = append(ch.EraseSnapshots, r.Key)
			} else if !slices.Contains(ids, r.Key) {
				ids = append(ids, r.Key)
			}
		}
		return db.fillChanges(tx, &ch, ids, policy)
	}, readOnlyTx(db))
	if err != nil {
		return ch, fmt.Errorf("storage: site changes since %d: %w", since, err)
	}
	return ch, nil
}

// SiteFullPage is one page of everything, for a door's first pull: the
// people with IDs after after (up to limit of them, by ID), and on the
// first page (after 0) the policy, as of revision Rev. A door keeps the
// first page's Rev: whatever changed while it read the rest is in the
// changes since then. One answer of 10,000 people is 31 MB built in
// memory at once; pages keep the central's memory flat however many doors
// pull at the same time.
func (db *DB) SiteFullPage(after int64, limit int) (SiteChanges, error) {
	ch := SiteChanges{Full: true}
	err := db.g.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&SiteChange{}).Select("COALESCE(MAX(rev), 0)").Scan(&ch.Rev).Error; err != nil {
			return err
		}
		var ps []Person
		if err := tx.Where("id > ?", after).Order("id").Limit(limit + 1).Find(&ps).Error; err != nil {
			return err
		}
		if ch.More = len(ps) > limit; ch.More {
			ps = ps[:limit]
		}
		var err error
		if ch.People, err = db.sitePeople(tx, ps); err != nil {
			return err
		}
		if len(ps) > 0 {
			ch.Next = ps[len(ps)-1].ID
		}
		if after > 0 {
			return nil
		}
		ch.Policy, err = readSitePolicy(tx)
		return err
	}, readOnlyTx(db))
	if err != nil {
		return ch, fmt.Errorf("storage: a page of everything after person %d: %w", after, err)
	}
	return ch, nil
}

// fillChanges reads the people ids (everyone when ch.Full) and the policy.
func (db *DB) fillChanges(tx *gorm.DB, ch *SiteChanges, ids []int64, policy bool) error {
	var ps []Person
	q := tx.Order("id")
	if !ch.Full {
		q = q.Where("id IN ?", ids)
	}
	if ch.Full || len(ids) > 0 {
		if err := q.Find(&ps).Error; err != nil {
			return err
		}
	}
	found := make(map[int64]bool, len(ps))
	for _, p := range ps {
		found[p.ID] = true
	}
	for _, id := range ids {
		if !found[id] {
			ch.Deleted = append(ch.Deleted, id)
		}
	}
	var err error
	if ch.People, err = db.sitePeople(tx, ps); err != nil {
		return err
	}
	if !policy {
		return nil
	}
	ch.Policy, err = readSitePolicy(tx)
	return err
}

func readSitePolicy(tx *gorm.DB) (*SitePolicy, error) {
	p := &SitePolicy{}
	for _, dst := range []any{&p.Areas, &p.Doors, &p.Groups, &p.Rules, &p.Holidays} {
		if err := tx.Find(dst).Error; err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (db *DB) sitePeople(tx *gorm.DB, ps []Person) ([]SitePerson, error) {
	var out []SitePerson
	for batch := range slices.Chunk(ps, 1000) {
		sps, err := db.sitePeopleBatch(tx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, sps...)
	}
	return out, nil
}

// sitePeopleBatch reads the groups, templates and PINs of up to 1,000
// people in three queries (three a person took 5.0 s for a first pull of
// 10,000 people; see BenchmarkSite).
func (db *DB) sitePeopleBatch(tx *gorm.DB, ps []Person) ([]SitePerson, error) {
	ids := make([]int64, len(ps))
	at := make(map[int64]int, len(ps))
	out := make([]SitePerson, len(ps))
	for i, p := range ps {
		ids[i], at[p.ID], out[i] = p.ID, i, SitePerson{Person: p, Groups: []string{}}
	}
	var gs []PersonGroup
	if err := tx.Where("person_id IN ?", ids).Order("person_id, group_name").Find(&gs).Error; err != nil {
		return nil, err
	}
	for _, g := range gs {
		out[at[g.PersonID]].Groups = append(out[at[g.PersonID]].Groups, g.GroupName)
	}
	var ts []FaceTemplate
	if err := tx.Where("person_id IN ?", ids).Order("id").Find(&ts).Error; err != nil {
		return nil, err
	}
	for _, t := range ts {
		d, err := db.openDescriptor(t.Descriptor, t.ModelVersion)
		if err != nil {
			return nil, fmt.Errorf("template %d: %w", t.ID, err)
		}
		sp := &out[at[t.PersonID]]
		sp.Templates = append(sp.Templates, SiteTemplate{t.ID, t.ModelVersion, t.SourceName, t.PhotoSHA256, t.FaceWidth, t.Sharpness, d})
	}
	var pins []personPIN
	if err := tx.Where("person_id IN ?", ids).Find(&pins).Error; err != nil {
		return nil, err
	}
	for _, pin := range pins {
		out[at[pin.PersonID]].PINHash = pin.Hash
	}
	return out, nil
}

// readOnlyTx is nothing special on SQLite (its transactions are
// immediate); on PostgreSQL a repeatable-read snapshot, so the revision
// and the rows are of one moment.
func readOnlyTx(db *DB) *sql.TxOptions {
	if db.dialect == "postgres" {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead}
	}
	return nil
}

// CentralRevCursor is the delivery cursor in which a door keeps the
// central revision its people and policy are at.
const CentralRevCursor = "central-rev"

// ApplySiteChanges makes the door's people, templates and policy what the
// central sent, in one transaction that also advances the revision cursor:
// a crash leaves the previous revision whole, and the next pull repeats.
func (db *DB) ApplySiteChanges(ch SiteChanges) error {
	err := db.g.Transaction(func(tx *gorm.DB) error {
		if ch.Full {
			keep := []int64{0}
			for _, p := range ch.People {
				keep = append(keep, p.Person.ID)
			}
			if err := db.deletePeople(tx, tx.Model(&Person{}).Where("id NOT IN ?", keep)); err != nil {
				return err
			}
		}
		if len(ch.Deleted) > 0 {
			if err := db.deletePeople(tx, tx.Model(&Person{}).Where("id IN ?", ch.Deleted)); err != nil {
				return err
			}
		}
		for _, p := range ch.People {
			if err := db.putSitePerson(tx, p, ch.Full); err != nil {
				return fmt.Errorf("person %d (%s): %w", p.Person.ID, p.Person.EmployeeID, err)
			}
		}
		if ch.Policy != nil {
			if err := putSitePolicy(tx, *ch.Policy); err != nil {
				return err
			}
		}
		return saveCursorTx(tx, CentralRevCursor, ch.Rev)
	})
	if err != nil {
		return fmt.Errorf("storage: apply the central's revision %d: %w", ch.Rev, err)
	}
	return nil
}

// SiteFullPull is a door's paged first pull under way: the revision of
// its first page and the people seen so far.
type SiteFullPull struct {
	Rev  int64
	seen map[int64]bool
}

// ApplySitePage applies one page of a paged full pull (SiteFullPage), in
// its own transaction. The last page (More false) also removes the people
// no page listed and moves the revision cursor to the first page's
// revision: until then a crash leaves the cursor where it was, and the
// pull starts again from the first page. It reports whether the pull is
// done.
func (db *DB) ApplySitePage(f *SiteFullPull, ch SiteChanges) (bool, error) {
	if !ch.Full {
		return false, errors.New("storage: a page of a full pull must say full")
	}
	if f.seen == nil {
		f.Rev, f.seen = ch.Rev, map[int64]bool{}
	}
	err := db.g.Transaction(func(tx *gorm.DB) error {
		for _, p := range ch.People {
			if err := db.putSitePerson(tx, p, true); err != nil {
				return fmt.Errorf("person %d (%s): %w", p.Person.ID, p.Person.EmployeeID, err)
			}
			f.seen[p.Person.ID] = true
		}
		if ch.Policy != nil {
			if err := putSitePolicy(tx, *ch.Policy); err != nil {
				return err
			}
		}
		if ch.More {
			return nil
		}
		if err := db.deleteUnseen(tx, f.seen); err != nil {
			return err
		}
		return saveCursorTx(tx, CentralRevCursor, f.Rev)
	})
	if err != nil {
		return false, fmt.Errorf("storage: apply a page of the central's revision %d: %w", f.Rev, err)
	}
	return !ch.More, nil
}

// deleteUnseen removes the people a full pull did not list, 500 at a
// time (SQLite binds at most 32,766 values a statement).
func (db *DB) deleteUnseen(tx *gorm.DB, seen map[int64]bool) error {
	var have []int64
	if err := tx.Model(&Person{}).Pluck("id", &have).Error; err != nil {
		return err
	}
	gone := slices.DeleteFunc(have, func(id int64) bool { return seen[id] })
	for batch := range slices.Chunk(gone, 500) {
		if err := db.deletePeople(tx, tx.Model(&Person{}).Where("id IN ?", batch)); err != nil {
			return err
		}
	}
	return nil
}

// deletePeople removes the people q selects with everything hanging on
// them (templates cascade; groups and PINs by hand).
func (db *DB) deletePeople(tx *gorm.DB, q *gorm.DB) error {
	var ids []int64
	if err := q.Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
		return err
	}
	for _, stmt := range []string{"DELETE FROM person_groups WHERE person_id IN ?", "DELETE FROM person_pins WHERE person_id IN ?",
		"DELETE FROM face_templates WHERE person_id IN ?", "DELETE FROM people WHERE id IN ?"} {
		if err := tx.Exec(stmt, ids).Error; err != nil {
			return err
		}
	}
	return nil
}

// putSitePerson upserts one person. Their templates are replaced unless
// the door holds exactly the central's template IDs already; a full pull
// replaces them always (a door's own enrolments may reuse those IDs).
func (db *DB) putSitePerson(tx *gorm.DB, sp SitePerson, full bool) error {
	p := sp.Person
	if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}).Create(&p).Error; err != nil {
		return err
	}
	if err := tx.Exec("DELETE FROM person_groups WHERE person_id = ?", p.ID).Error; err != nil {
		return err
	}
	for _, g := range sp.Groups {
		if err := tx.Create(&PersonGroup{PersonID: p.ID, GroupName: g}).Error; err != nil {
			return err
		}
	}
	if err := putSitePIN(tx, p.ID, sp.PINHash); err != nil {
		return err
	}
	var have []int64
	if err := tx.Model(&FaceTemplate{}).Where("person_id = ?", p.ID).Order("id").Pluck("id", &have).Error; err != nil {
		return err
	}
	if !full && slices.Equal(have, templateIDs(sp.Templates)) {
		return nil // unchanged (a suspension, a rename): the gallery stays as it is
	}
	if err := tx.Exec("DELETE FROM face_templates WHERE person_id = ?", p.ID).Error; err != nil {
		return err
	}
	for _, t := range sp.Templates {
		blob, err := db.sealDescriptor(t.Descriptor, t.ModelVersion)
		if err != nil {
			return err
		}
		row := FaceTemplate{ID: t.ID, PersonID: p.ID, Descriptor: blob, ModelVersion: t.ModelVersion, SourceName: t.SourceName,
			PhotoSHA256: t.PhotoSHA256, FaceWidth: t.FaceWidth, Sharpness: t.Sharpness}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// putSitePIN makes a person's PIN the central's: none, or its hash. The
// same hash keeps the door's count of wrong PINs and its lockout; a new
// one starts afresh, as SetPIN does.
func putSitePIN(tx *gorm.DB, person int64, hash string) error {
	if hash == "" {
		return tx.Where("person_id = ?", person).Delete(&personPIN{}).Error
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return fmt.Errorf("the central's PIN hash is not a bcrypt hash (%v): is the central a facegate of this version?", err)
	}
	var row personPIN
	if err := tx.Where("person_id = ?", person).Limit(1).Find(&row).Error; err != nil || row.Hash == hash {
		return err
	}
	row = personPIN{PersonID: person, Hash: hash, UpdatedAt: tx.NowFunc()}
	return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

func templateIDs(ts []SiteTemplate) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func putSitePolicy(tx *gorm.DB, p SitePolicy) error {
	for _, m := range []any{&AccessRule{}, &Holiday{}, &Group{}, &Door{}, &Area{}} {
		if err := tx.Session(&gorm.Session{AllowGlobalUpdate: true}).Delete(m).Error; err != nil {
			return err
		}
	}
	for _, rows := range []any{p.Areas, p.Doors, p.Groups, p.Rules, p.Holidays} {
		if err := tx.Create(rows).Error; err != nil && !errors.Is(err, gorm.ErrEmptySlice) {
			return err
		}
	}
	return nil
}

func saveCursorTx(tx *gorm.DB, name string, seq int64) error {
	c := DeliveryCursor{Name: name, Seq: seq, UpdatedMicro: txNowMicro(tx)}
	return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"seq", "updated_micro"})}).Create(&c).Error
}

// ErrJoinedDoor is returned by what a door joined to a central must not
// change itself: the central's next change would overwrite it.
var ErrJoinedDoor = errors.New("this door takes its people, PINs and rules from its central: change them there (the central's console, or the CLI with --db pointing at the central's database)")

// CheckNotJoined returns ErrJoinedDoor (with the revision pulled) on a
// door that has applied a central's changes, nil elsewhere.
func (db *DB) CheckNotJoined() error {
	rev, found, err := db.Cursor(CentralRevCursor)
	if err != nil || !found {
		return err
	}
	return fmt.Errorf("%w (revision %d pulled)", ErrJoinedDoor, rev)
}
