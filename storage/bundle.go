package storage

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/facegate/facegate/storage/atomicfile"
)

// Bundle layout (a zip an investigator hands on):
//
//	manifest.json      what was exported, from which chain range
//	events.jsonl       the selected events, in full
//	chain.jsonl        every event of the range as (seq, prev, content hash, hash)
//	checkpoints.json   signed checkpoints of the range, ending at the range's last event
//	snapshots/H.jpg    the selected events' snapshots
//
// VerifyBundle needs only the zip and the appliance's public key.
const bundleFormat = 1

// bundleLimits keep a hostile bundle from exhausting memory.
const (
	maxBundleEntry  = 64 << 20
	maxBundleEvents = 10_000_000
)

type bundleManifest struct {
	Format    int         `json:"format"`
	CreatedAt time.Time   `json:"created_at"`
	Filter    EventFilter `json:"filter"`
	FirstSeq  int64       `json:"first_seq"`
	LastSeq   int64       `json:"last_seq"`
	PublicKey string      `json:"public_key"`
	Selected  int         `json:"selected"`
}

type chainStub struct {
	Seq         int64  `json:"seq"`
	PrevHash    string `json:"prev"`
	ContentHash string `json:"content"`
	Hash        string `json:"hash"`
	Redacted    bool   `json:"redacted,omitempty"`
}

// Export writes the events f selects, with the chain segment from the first
// selected event to a checkpoint signed now at the chain head, to w.
func (r *Recorder) Export(f EventFilter, w io.Writer) (int, error) {
	f.Limit = 0
	sel, err := r.DB.Events(f)
	if err != nil {
		return 0, err
	}
	if len(sel) == 0 {
		return 0, errors.New("export: no events match")
	}
	head, err := r.DB.SignCheckpoint(r.Keys)
	if err != nil {
		return 0, err
	}
	if head.ID == 0 { // head was already signed: fetch that checkpoint
		if err := r.DB.g.Order("seq DESC").Limit(1).Find(&head).Error; err != nil {
			return 0, err
		}
	}
	first := firstSeq(sel)
	var cps []Checkpoint
	if err := r.DB.g.Where("seq >= ? AND seq <= ?", first, head.Seq).Order("seq").Find(&cps).Error; err != nil {
		return 0, err
	}
	return writeBundle(w, bundleSource{f: f, sel: sel, head: head.Seq, pub: PublicKeyString(r.Keys.Public), cps: cps,
		snaps: r.Snapshots, chain: r.DB.g.Model(&Event{})})
}

func firstSeq(sel []Event) int64 {
	first := sel[0].Seq
	for _, e := range sel {
		first = min(first, e.Seq)
	}
	return first
}

// bundleSource is what a bundle is written from: the selected events of
// one chain, its last position covered (a signed head), its key, its
// checkpoints in the range, its snapshots, and where its links are read.
type bundleSource struct {
	f     EventFilter
	sel   []Event
	head  int64
	pub   string
	cps   []Checkpoint
	snaps SnapshotStore
	chain *gorm.DB // the chain's rows (one appliance's, on a central)
}

func writeBundle(w io.Writer, src bundleSource) (int, error) {
	first := firstSeq(src.sel)
	zw := zip.NewWriter(w)
	m := bundleManifest{Format: bundleFormat, CreatedAt: src.chain.NowFunc(), Filter: src.f, FirstSeq: first, LastSeq: src.head,
		PublicKey: src.pub, Selected: len(src.sel)}
	if err := writeJSON(zw, "manifest.json", m); err != nil {
		return 0, err
	}
	ew, _ := zw.Create("events.jsonl")
	enc := json.NewEncoder(ew)
	for _, e := range src.sel {
		if err := enc.Encode(e); err != nil {
			return 0, err
		}
	}
	if err := writeChain(zw, src.chain, first, src.head); err != nil {
		return 0, err
	}
	if err := writeJSON(zw, "checkpoints.json", src.cps); err != nil {
		return 0, err
	}
	done := map[string]bool{}
	for _, e := range src.sel {
		for _, h := range []string{e.SnapshotHash, e.FaceHash} {
			if h == "" || done[h] {
				continue
			}
			done[h] = true
			b, err := src.snaps.Get(h)
			if err != nil {
				continue // purged or missing: the verifier reports it
			}
			sw, _ := zw.Create("snapshots/" + h + ".jpg")
			sw.Write(b)
		}
	}
	return len(src.sel), zw.Close()
}

// writeChain writes every link of the range [first, head] of chain.
func writeChain(zw *zip.Writer, chain *gorm.DB, first, head int64) error {
	cw, _ := zw.Create("chain.jsonl")
	cenc := json.NewEncoder(cw)
	after := first - 1
	for {
		var evs []Event
		if err := chain.Session(&gorm.Session{}).Select("seq", "prev_hash", "content_hash", "hash", "redacted").
			Where("seq > ? AND seq <= ?", after, head).Order("seq").Limit(verifyBatch).Find(&evs).Error; err != nil {
			return err
		}
		for _, e := range evs {
			cenc.Encode(chainStub{e.Seq, e.PrevHash, e.ContentHash, e.Hash, e.Redacted})
		}
		if len(evs) < verifyBatch {
			return nil
		}
		after = evs[len(evs)-1].Seq
	}
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

// ErrBundle is wrapped by every malformed-bundle error.
var ErrBundle = errors.New("evidence bundle")

// VerifyBundle checks an exported bundle with only the appliance's public
// key: the chain segment links and ends at a checkpoint signed by that key,
// every selected event's content matches its place in the chain, and every
// snapshot matches its hash.
func VerifyBundle(zipPath string, pub ed25519.PublicKey) (VerifyReport, error) {
	var rep VerifyReport
	br, err := openBundle(zipPath)
	if err != nil {
		return rep, err
	}
	defer br.Close()
	var m bundleManifest
	mb, err := br.read("manifest.json")
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(mb, &m); err != nil || m.Format != bundleFormat {
		return rep, fmt.Errorf("%w: manifest.json unreadable or of another format", ErrBundle)
	}
	var cps []Checkpoint
	cb, err := br.read("checkpoints.json")
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(cb, &cps); err != nil {
		return rep, fmt.Errorf("%w: checkpoints.json: %v", ErrBundle, err)
	}
	stubs, err := br.verifyChain(&rep, m, cps, pub)
	if err != nil {
		return rep, err
	}
	if err := br.verifyEvents(&rep, m, stubs); err != nil {
		return rep, err
	}
	sortProblems(&rep)
	return rep, nil
}

// bundleReader reads a bundle's entries, each bounded in size.
type bundleReader struct {
	*zip.ReadCloser
	files map[string]*zip.File
}

func openBundle(zipPath string) (*bundleReader, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a zip file: %v", ErrBundle, zipPath, err)
	}
	br := &bundleReader{ReadCloser: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if strings.Contains(f.Name, "..") || path.IsAbs(f.Name) {
			zr.Close()
			return nil, fmt.Errorf("%w: entry %q escapes the bundle", ErrBundle, f.Name)
		}
		br.files[f.Name] = f
	}
	return br, nil
}

func (br *bundleReader) read(name string) ([]byte, error) {
	f, ok := br.files[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s missing", ErrBundle, name)
	}
	if f.UncompressedSize64 > maxBundleEntry {
		return nil, fmt.Errorf("%w: %s larger than %d bytes", ErrBundle, name, maxBundleEntry)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBundle, name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBundleEntry+1))
	if err != nil || len(b) > maxBundleEntry {
		return nil, fmt.Errorf("%w: %s unreadable or too large", ErrBundle, name)
	}
	return b, nil
}

// lines scans an entry line by line (lines up to 1 MiB).
func (br *bundleReader) lines(name string) (*bufio.Scanner, error) {
	b, err := br.read(name)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return sc, nil
}

// verifyChain checks the chain segment against the manifest and the
// signed checkpoints, and returns its entries by position.
func (br *bundleReader) verifyChain(rep *VerifyReport, m bundleManifest, cps []Checkpoint, pub ed25519.PublicKey) (map[int64]chainStub, error) {
	c := newChainChecker(rep, cps, m.FirstSeq == 1)
	stubs := map[int64]chainStub{}
	sc, err := br.lines("chain.jsonl")
	if err != nil {
		return nil, err
	}
	last := int64(0)
	for sc.Scan() {
		var s chainStub
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%w: chain.jsonl: %v", ErrBundle, err)
		}
		if len(stubs) >= maxBundleEvents {
			return nil, fmt.Errorf("%w: more than %d chain entries", ErrBundle, maxBundleEvents)
		}
		if c.next == 0 && s.Seq != m.FirstSeq {
			rep.add(m.FirstSeq, "chain segment starts at %d, the manifest says %d", s.Seq, m.FirstSeq)
		}
		stubs[s.Seq] = s
		c.event(Event{Seq: s.Seq, PrevHash: s.PrevHash, ContentHash: s.ContentHash, Hash: s.Hash, Redacted: s.Redacted}, false)
		last = s.Seq
	}
	if last != m.LastSeq {
		rep.add(last+1, "chain segment ends at %d, the manifest says %d (entries removed)", last, m.LastSeq)
	}
	c.checkpoints(cps, pub, last)
	if rep.LastCheckpoint != m.LastSeq {
		rep.add(m.LastSeq, "the segment's last event %d is not covered by a valid signed checkpoint", m.LastSeq)
	}
	return stubs, nil
}

// verifyEvents checks every exported event against its chain entry and
// every snapshot against its hash.
func (br *bundleReader) verifyEvents(rep *VerifyReport, m bundleManifest, stubs map[int64]chainStub) error {
	sc, err := br.lines("events.jsonl")
	if err != nil {
		return err
	}
	n := 0
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("%w: events.jsonl: %v", ErrBundle, err)
		}
		n++
		s, ok := stubs[e.Seq]
		switch {
		case !ok:
			rep.add(e.Seq, "event %d is not in the bundle's chain segment", e.Seq)
			continue
		case !e.Redacted && ComputeContentHash(e) != s.ContentHash:
			rep.add(e.Seq, "event %d content was edited", e.Seq)
		}
		br.verifySnapshots(rep, e)
	}
	if n != m.Selected {
		rep.add(m.FirstSeq, "%d events in the bundle, the manifest says %d", n, m.Selected)
	}
	return nil
}

func (br *bundleReader) verifySnapshots(rep *VerifyReport, e Event) {
	for _, h := range []string{e.SnapshotHash, e.FaceHash} {
		if h == "" {
			continue
		}
		b, err := br.read("snapshots/" + h + ".jpg")
		if err != nil {
			rep.add(e.Seq, "event %d: snapshot %s… not in the bundle", e.Seq, short12(h))
			continue
		}
		rep.Snapshots++
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != h {
			rep.add(e.Seq, "event %d: snapshot %s… was swapped (content does not match its hash)", e.Seq, short12(h))
		}
	}
}

func sortProblems(r *VerifyReport) {
	ps := r.Problems
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Seq < ps[j-1].Seq; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// ExportFile is Export to a file, written atomically, readable by its
// owner only (it holds faces).
func (r *Recorder) ExportFile(f EventFilter, out string) (int, error) {
	var n int
	err := atomicfile.Stream(out, 0o600, func(w io.Writer) (err error) {
		n, err = r.Export(f, w)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
