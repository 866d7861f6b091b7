package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		last time.Time
		code int
	}{
		{"fresh frame", now.Add(-time.Second), http.StatusOK},
		{"stale camera", now.Add(-StaleAfter), http.StatusServiceUnavailable},
		{"never a frame", time.Time{}, http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := New(func() Health { return Health{Frames: 7, Templates: 2, LastFrame: c.last} }, func() time.Time { return now })
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != c.code {
				t.Fatalf("status %d, want %d", rec.Code, c.code)
			}
			var body struct {
				OK     bool
				Frames int64
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Frames != 7 || body.OK != (c.code == 200) {
				t.Fatalf("body %s (%v)", rec.Body, err)
			}
		})
	}
}
