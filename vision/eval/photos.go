package eval

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Photo is one labelled photo.
type Photo struct {
	Name string // shown in the report, e.g. the file path
	Data []byte // encoded JPEG or PNG
}

// Set maps a person to their photos, in enrolment order (the first K are
// the enrolment photos). Callers may build it from anywhere: folders
// (LoadDirs), a site's enrolment store, memory.
type Set map[string][]Photo

// SetInfo counts what one source folder contributed.
type SetInfo struct {
	Dir    string `json:"dir"`
	People int    `json:"people"`
	Photos int    `json:"photos"`
}

var photoExt = []string{".jpg", ".jpeg", ".png"}

// LoadDirs reads DIR/<person>/*.jpg|jpeg|png for every DIR. People are
// keyed "<base of DIR>/<person>" so that two folders never merge people;
// photos keep file-name order.
func LoadDirs(dirs ...string) (Set, []SetInfo, error) {
	if len(dirs) == 0 {
		return nil, nil, fmt.Errorf("eval: no photo folder given: pass DIR/<person>/*.jpg folders")
	}
	set := Set{}
	infos := make([]SetInfo, 0, len(dirs))
	for _, dir := range dirs {
		info, err := loadDir(set, dir)
		if err != nil {
			return nil, nil, err
		}
		infos = append(infos, info)
	}
	return set, infos, nil
}

func loadDir(set Set, dir string) (SetInfo, error) {
	info := SetInfo{Dir: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return info, fmt.Errorf("eval: read photo folder: %w (want DIR/<person>/*.jpg)", err)
	}
	base := filepath.Base(filepath.Clean(dir))
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		key := base + "/" + e.Name()
		if _, dup := set[key]; dup {
			return info, fmt.Errorf("eval: two photo folders are named %q: person %q would merge; rename one", base, key)
		}
		photos, err := loadPerson(filepath.Join(dir, e.Name()))
		if err != nil {
			return info, err
		}
		if len(photos) == 0 {
			continue
		}
		set[key] = photos
		info.People++
		info.Photos += len(photos)
	}
	if info.People == 0 {
		return info, fmt.Errorf("eval: %s holds no person folders with photos: want %s/<person>/*.jpg|jpeg|png", dir, dir)
	}
	return info, nil
}

func loadPerson(dir string) ([]Photo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("eval: read person folder: %w", err)
	}
	var out []Photo
	for _, e := range entries { // os.ReadDir returns names sorted
		if e.IsDir() || !slices.Contains(photoExt, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("eval: read photo: %w", err)
		}
		out = append(out, Photo{Name: p, Data: data})
	}
	return out, nil
}

// FromBytes builds a Set from raw photos, e.g. a site's enrolment photos.
func FromBytes(photos map[string][][]byte) Set {
	set := make(Set, len(photos))
	for person, imgs := range photos {
		for i, img := range imgs {
			set[person] = append(set[person], Photo{Name: fmt.Sprintf("%s#%d", person, i+1), Data: img})
		}
	}
	return set
}

// PhotoResult is what the model made of one photo.
type PhotoResult struct {
	Person     string        `json:"person"`
	Photo      string        `json:"photo"`
	Index      int           `json:"index"` // position in the person's photos
	Found      bool          `json:"found"`
	Why        string        `json:"why,omitempty"` // why no face, when none
	Time       time.Duration `json:"describe_ns"`
	Descriptor []float32     `json:"-"`
}

// Describe runs the model on every photo, people in name order.
func Describe(ctx context.Context, m Model, set Set) ([]PhotoResult, error) {
	var out []PhotoResult
	for _, person := range slices.Sorted(maps.Keys(set)) {
		for i, p := range set[person] {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			start := time.Now()
			d, err := m.Describe(p.Name, p.Data)
			r := PhotoResult{Person: person, Photo: p.Name, Index: i, Time: time.Since(start), Found: err == nil && len(d) > 0}
			switch {
			case err != nil:
				r.Why = err.Error()
			case len(d) == 0:
				r.Why = "the model returned an empty descriptor"
			default:
				r.Descriptor = d
			}
			out = append(out, r)
		}
	}
	return out, nil
}
