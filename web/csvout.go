package web

import (
	"encoding/csv"
	"strings"

	"github.com/labstack/echo/v4"
)

// csvExport is the one way the web app writes CSV: every cell of every
// row goes through csvCell, so no column can be forgotten.
type csvExport struct{ w *csv.Writer }

// startCSV sends the download headers and a UTF-8 BOM (Excel in Japanese
// locales reads UTF-8 only with it).
func startCSV(c echo.Context, filename string) *csvExport {
	w := c.Response()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Write([]byte("\xef\xbb\xbf"))
	return &csvExport{w: csv.NewWriter(w)}
}

// row writes one record, each cell neutralised.
func (x *csvExport) row(cells ...string) {
	for i, s := range cells {
		cells[i] = csvCell(s)
	}
	x.w.Write(cells)
}

// done flushes and reports the first write error.
func (x *csvExport) done() error {
	x.w.Flush()
	return x.w.Error()
}

// csvCell stops spreadsheet formula injection (OWASP "CSV Injection"): a
// cell starting with = + - @ tab or carriage return is a formula to Excel
// and LibreOffice, so it gets a leading apostrophe and is read as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
