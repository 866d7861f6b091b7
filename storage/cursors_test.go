package storage

import "testing"

// A feed's cursor starts unset, moves forward and back as saved, is kept
// per name, and survives a reopen.
func TestDeliveryCursor(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		if seq, found, err := db.Cursor("mqtt:front"); err != nil || found || seq != 0 {
			t.Fatalf("new cursor: %d %v %v, want unset", seq, found, err)
		}
		for _, seq := range []int64{0, 7, 42} {
			if err := db.SaveCursor("mqtt:front", seq); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SaveCursor("mqtt:back", 3); err != nil {
			t.Fatal(err)
		}
		db = db.reopen(t)
		for name, want := range map[string]int64{"mqtt:front": 42, "mqtt:back": 3} {
			if seq, found, err := db.Cursor(name); err != nil || !found || seq != want {
				t.Errorf("%s after reopen: %d %v %v, want %d", name, seq, found, err, want)
			}
		}
	})
}
