package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

// FuzzUploadShot: any bytes uploaded as a webcam shot get a JSON answer
// (accepted or the reason) or a 4xx, never a 5xx or a crash; nothing is
// enrolled from them.
func FuzzUploadShot(f *testing.F) {
	f.Add(modeltest.ReadFace(f, "obama_small.jpg"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("\xff\xd8\xff"))
	h := newFaceHarness(f)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	f.Fuzz(func(t *testing.T, b []byte) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("employee_id", "E-F")
		fw, _ := w.CreateFormFile("shot", "shot.jpg")
		fw.Write(b)
		w.Close()
		req := httptest.NewRequest(http.MethodPost, h.ts.URL+"/people/webcam/shot", &body)
		req.RequestURI = ""
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %d bytes", resp.StatusCode, len(b))
		}
		if _, err := h.db.PersonByEmployeeID("E-F"); err == nil {
			t.Fatal("a shot alone enrolled someone")
		}
	})
}
