package web

import (
	"encoding/json"
	"strings"
)

// liveLabels are the words live.js needs to show a decision from the
// server-sent events in the reader's language: result codes, liveness,
// camera states (polled from /healthz) and "unknown" for a face nobody
// matched. JSON, for a data attribute.
func liveLabels(lang string) string {
	m := map[string]string{"unknown": translate(lang, "entries.unknown")}
	for k, v := range messages[lang] {
		if strings.HasPrefix(k, "code.") || strings.HasPrefix(k, "liveness.") || strings.HasPrefix(k, "source.") {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
