package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/vision"
)

// The evidence log stores each decision's code and its English sentence
// (hashed into the chain: rows are never rewritten). The pages render the
// sentence in the reader's language by matching it against the formats
// that produced it (gate, vision, gate/identity): the parameters are taken
// from the sentence, the words from the catalogue. A sentence no pattern
// knows (an older wording, a relay's own error) is shown as stored.
type sentence struct {
	key string
	re  *regexp.Regexp
}

func phrase(key, re string) sentence { return sentence{key, regexp.MustCompile("^" + re + "$")} }

var sentences = []sentence{
	// gate/policy.go
	phrase("reason.granted", `granted by rule "(.*)"`),
	phrase("reason.unknown_face", `face not recognised`),
	phrase("reason.unknown_door", `unknown door "(.*)"`),
	phrase("reason.suspended", `suspended since (\S+)`),
	phrase("reason.expired", `account expired on (\S+)`),
	phrase("reason.no_rule", `no rule gives (.*) access to (.*)`),
	phrase("reason.not_valid_yet", `rule "(.*)" valid from (\S+)`),
	phrase("reason.no_longer_valid", `rule "(.*)" expired after (\S+)`),
	phrase("reason.holiday", `holiday \((.*)\): schedule (.*) does not apply`),
	phrase("reason.outside_schedule", `outside schedule (.*)`),
	phrase("reason.liveness", `(.*) requires a live face; liveness check not passed`),
	phrase("reason.pin", `(.*) requires face and PIN: face matched, (.*)`),
	// cmd/internal/appliance/pin.go: what went wrong with the PIN
	phrase("reason.pinattempt", `PIN: (.*)`),
	phrase("pin.none", `no correct PIN entered`),
	phrase("pin.missing", `no PIN entered within (\S+)`),
	phrase("pin.noface", `a PIN was typed but no face was matched within (\S+) of it`),
	phrase("pin.wrong", `wrong PIN \((\d+) of (\d+) tries left before a lockout\)`),
	phrase("pin.locked", `PIN locked until (.*) after (\d+) wrong PINs`),
	phrase("pin.notset", `no PIN is set for this person \(an admin sets one: facegate pin set\)`),
	phrase("pin.ok", `PIN correct`),
	phrase("pin.error", `the PIN could not be checked \((.*)\)`),
	phrase("reason.anti_passback", `anti-passback: already inside (.*) since (.*) \(no exit recorded\)`),
	// gate/door.go
	phrase("reason.relay_failed", `relay failed: (.*)`),
	phrase("reason.exit_without_entry", `exit recorded with no entry into (.*)`),
	phrase("reason.tailgating", `(\d+) faces passed on one grant`),
	phrase("reason.passage_start", `scheduled passage (.*)`),
	phrase("reason.passage_end", `scheduled passage ended`),
	phrase("reason.held_open", `door open for (\S+) \(limit (\S+)\)`),
	phrase("reason.forced", `door opened with no grant`),
	// storage
	phrase("reason.erased", `person erased`),
	phrase("reason.retention", `retention: grant snapshots (\d+) d, denial snapshots (\d+) d, events (\d+) d`),
	phrase("reason.snapshot_failed", `evidence for event (\d+) not stored: (.*) \(check free space on the data disk\)`),
	phrase("reason.model_switch", `descriptor model (\S+) → (\S+): (\d+) templates of (\d+) people re-derived`),
	// vision/pipeline.go (why a track was not recognised) and vision/rule.go
	phrase("why.left", `left after (\d+) described frames without being recognised`),
	phrase("why.matched", `(\d+) of (\d+) frames matched`),
	phrase("why.stranger", `(\d+) frames, all (\S+) or more from everyone enrolled`),
	phrase("why.unrecognised", `not recognised in (\d+) frames \((\d+) described\)`),
	phrase("why.nobody", `nobody enrolled`),
	phrase("why.threshold", `nearest distance (\S+) above threshold (\S+)`),
	phrase("why.margin", `margin (\S+) to the runner-up below (\S+)`),
	phrase("why.match", `distance (\S+) ≤ (\S+), margin (\S+) ≥ (\S+)`),
	// gate/identity: why a photo or webcam shot was refused, and the hint
	phrase("photo.noface", `no face found`),
	phrase("photo.many", `more than one face: (\d+) faces at .*`),
	phrase("photo.small", `face too small: (\d+) px wide, need (\d+)`),
	phrase("photo.blurred", `face too blurred: sharpness (\d+), need (\d+)`),
	phrase("photo.hint.noface", `use a well-lit, frontal photo where the face is at least (\d+) px wide`),
	phrase("photo.hint.many", `use a photo of this person alone, or crop it`),
	phrase("photo.hint.small", `move closer or use a larger photo`),
	phrase("photo.hint.blurred", `hold still and focus on the face`),
	// storage: passwords and accounts (password.go, accounts.go, users.go)
	phrase("pw.short", `weak password: it must be at least (\d+) characters`),
	phrase("pw.long", `weak password: it must be at most (\d+) bytes`),
	phrase("pw.repeats", `weak password: it repeats one character or pattern`),
	phrase("pw.username", `weak password: it is the username`),
	phrase("pw.common", `weak password: it is one of the most common passwords \(digits or symbols added do not help\)`),
	phrase("pw.words", `choose a few unrelated words instead`),
	phrase("pw.else", `choose something else`),
	phrase("account.wrongcurrent", `the current password is wrong: wrong username or password`),
	phrase("account.lastadmin", `this is the last enabled admin: make another admin first`),
	phrase("account.username", `username must be 1–100 characters`),
	phrase("account.role", `role must be admin, investigator or viewer`),
	phrase("account.nouser", `no user "(.*)": not found`),
	phrase("account.tokenname", `token name: at most 100 characters`),
	phrase("conflict.stored", `enrolled photo (.*) \(template (\d+)\)`),
	phrase("enrol.largest", `(\d+) faces: enrolled the largest \((\d+) px wide, at (.*)\), the others are at most half as wide`),
	// web: the error page's messages that a browser user meets
	phrase("http.csrf", `invalid or missing CSRF token: reload the page and try again`),
	phrase("http.role", `your role \((.*)\) does not allow this`),
	phrase("http.ratelimit", `too many login attempts: wait 10 seconds`),
	phrase("http.notfound", `Not Found`),
	phrase("http.noentry", `no such entry`),
	phrase("http.noperson", `no such person`),
	phrase("http.setuptoken", `wrong or used setup token \(see the appliance log\)`),
	phrase("http.nofaces", `face recognition is not running on this server`),
	phrase("http.choosephoto", `choose at least one photo`),
	phrase("http.tabletunpaired", `this tablet is not paired to the door \(or its pairing was revoked\): ask an admin for a pairing link`),
	phrase("pin.format", `unusable PIN: a PIN is (\d+) to (\d+) digits`),
	phrase("pin.guessable", `unusable PIN: (\S+) is guessed first \(one digit repeated, or a run\)`),
	phrase("pin.another", `choose another`),
	// gate/policy.go, gate/records.go, gate/schedule.go: a policy the gate refuses
	phrase("policy.door.area", `door (".*?"|\S+): unknown area (".*?"|\S+)`),
	phrase("policy.door.direction", `door (".*?"|\S+): direction (".*?"|\S+) \(want in, out or both\)`),
	phrase("policy.door.level", `door (".*?"|\S+): security level (".*?"|\S+) \(want face, face\+liveness or face\+pin\)`),
	phrase("policy.door.open", `door (".*?"|\S+): open time (\S+) out of range \(0, (\S+)\]`),
	phrase("policy.door.passage", `door (".*?"|\S+) passage: (.*)`),
	phrase("policy.group", `group (".*?"|\S+): (.*)`),
	phrase("policy.rule.door", `rule (".*?"|\S+): unknown door (".*?"|\S+)`),
	phrase("policy.rule.reversed", `rule (".*?"|\S+): valid until (\S+) is before valid from (\S+)`),
	phrase("policy.rule.owner", `rule (".*?"|\S+) belongs to neither a group nor a person`),
	phrase("policy.rule", `rule (".*?"|\S+): (.*)`),
	phrase("policy.rule.name", `rule needs a name`),
	phrase("policy.holiday", `holiday: (.*)`),
	phrase("policy.window.days", `window (".*?"|\S+): want DAYS HH:MM-HH:MM`),
	phrase("policy.window.times", `window (".*?"|\S+): want HH:MM-HH:MM`),
	phrase("policy.window.empty", `window (".*?"|\S+): empty \(start equals end\)`),
	phrase("policy.window.allday", `use 00:00-24:00 for all day`),
	phrase("policy.window", `window (".*?"|\S+): (.*)`),
	phrase("policy.time.form", `time of day (".*?"|\S+): want HH:MM`),
	phrase("policy.time.range", `time of day (".*?"|\S+): want 00:00–24:00`),
	phrase("policy.day", `unknown day (".*?"|\S+) \(Mon.+Sun, 月.+日 or Daily\)`),
	phrase("policy.day2", `unknown day (".*?"|\S+) \(Mon.+Sun or 月.+日\)`),
	phrase("policy.date", `date (".*?"|\S+): want YYYY-MM-DD`),
	phrase("policy.schedule.name", `schedule needs a name`),
	phrase("policy.schedule.empty", `schedule '(.*)': schedule has no windows`),
	// storage/days.go and the entries page: a filter day that is not a date
	phrase("entries.badday", `(\S+): want YYYY-MM-DD, not "(.*)"`),
	phrase("entries.noemployee", `no person with employee ID (.*)`),
	// storage/people.go and the people page
	phrase("people.err.name", `storage: a name must be 1–200 characters`),
	phrase("photo.toolarge", `(.+): (\d+) bytes, limit (\d+)`),
	// storage/settings.go and the settings page: refused settings
	phrase("settings.err.th", `settings: threshold: (\S+) out of range \(0, 1\.2\]`),
	phrase("settings.err.mg", `settings: margin: (\S+) out of range \[0, threshold\)`),
	phrase("settings.err.days", `settings: retention: days cannot be negative \(0 keeps forever\)`),
	phrase("settings.err.numbers", `a number is expected in each field, not (.*)`),
	phrase("settings.err.thnumber", `threshold (.*): a number expected, e.g. 0\.35`),
	phrase("settings.err.far", `target false-accept rate (.*): a number in \[0, 1\) expected, e.g. 0 or 0\.001`),
	// storage/webhooks.go and gate/notify: webhook refusals and answers
	phrase("webhook.url.form", `webhook URL (\S+): want https://host\[:port\]/path`),
	phrase("webhook.url.plain", `webhook URL (\S+): plain http sends personal data in clear`),
	phrase("webhook.url.usehttps", `use https \(http only with --allow-http, to a loopback address\)`),
	phrase("webhook.url.loopback", `webhook URL (\S+): http is allowed only to localhost or a loopback address`),
	phrase("webhook.url.usehttps2", `use https`),
	phrase("webhook.url.scheme", `webhook URL (\S+): scheme (\S+): want https`),
	phrase("webhook.secret.short", `webhook secret: at least (\d+) characters \(leave it out to have one generated\)`),
	phrase("webhook.ca.bad", `webhook CA: no PEM certificate in it \(want the receiver's CA certificate, -----BEGIN CERTIFICATE-----\)`),
	phrase("webhook.answered", `receiver answered (.*)`),
	phrase("http.nowebhook", `no such webhook`),
	phrase("http.nokeypad", `this appliance has no web keypad`),
	phrase("http.pindigits", `a PIN is digits only`),
	// vision/image.go
	phrase("photo.empty", `the file is empty`),
	phrase("photo.format", `not a JPEG or PNG image`),
	phrase("photo.corrupt", `image data is corrupt or truncated`),
}

// localize renders an English sentence of ours in lang. Sentences joined
// by "; " (a denial that several rules gave) are rendered one by one;
// parameters that are sentences themselves (why a face was unknown) too.
// Matching every pattern in turn costs 1–7 µs a sentence on this 2-core
// box (BenchmarkLocalizeReason): under 1 ms for an entries page of 100.
func localize(lang, en string) string {
	if lang == "en" || en == "" {
		return en
	}
	if s, ok := withWhy(lang, en); ok {
		return s
	}
	parts := strings.Split(en, "; ")
	for i, p := range parts {
		s, ok := localizeOne(lang, p)
		if !ok {
			return en
		}
		parts[i] = s
	}
	return strings.Join(parts, messages[lang]["sep"])
}

// withWhy renders "reason (why)": the appliance appends how the frames
// settled an unknown face, in brackets, to the gate's reason.
func withWhy(lang, en string) (string, bool) {
	if !strings.HasSuffix(en, ")") {
		return "", false
	}
	for i := strings.Index(en, " ("); i >= 0; {
		if why, ok := localizeOne(lang, en[i+2:len(en)-1]); ok {
			if main := localize(lang, en[:i]); main != en[:i] {
				return fmt.Sprintf(messages[lang]["reason.why"], main, why), true
			}
		}
		next := strings.Index(en[i+2:], " (")
		if next < 0 {
			break
		}
		i += 2 + next
	}
	return "", false
}

func localizeOne(lang, en string) (string, bool) {
	for _, s := range sentences {
		m := s.re.FindStringSubmatch(en)
		if m == nil {
			continue
		}
		format, ok := messages[lang][s.key]
		if !ok {
			return en, false
		}
		args := make([]any, len(m)-1)
		for i, v := range m[1:] {
			if l, ok := localizeOne(lang, v); ok {
				v = l
			}
			args[i] = scheduleDays(lang, v)
		}
		return fmt.Sprintf(format, args...), true
	}
	return en, false
}

// scheduleRE is how gate prints a schedule: 'name' (Mon–Fri 08:00–20:00; Sat 10:00–14:00).
var (
	scheduleRE = regexp.MustCompile(`^'(.*)' \((.*)\)$`)
	dayRE      = regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Daily)\b`)
)

// scheduleDays renders the weekday names of a printed schedule in lang,
// leaving its name (the admin's own words) as it is.
func scheduleDays(lang, s string) string {
	m := scheduleRE.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	days := dayRE.ReplaceAllStringFunc(m[2], func(d string) string { return term(lang, "day", d) })
	return "'" + m[1] + "' (" + days + ")"
}

// term translates one code of a kind ("kind", "code", "action", "dir",
// "liveness"...) and shows the code itself when the catalogue lacks it:
// a code added later is still readable.
func term(lang, kind, code string) string {
	if code == "" {
		return ""
	}
	if s, ok := messages[lang][kind+"."+code]; ok {
		return s
	}
	return code
}

// auditDetail renders an audit entry's JSON detail as "label: value"
// pairs in key order, labels in lang. Values are data and stay as given.
func auditDetail(lang, detail string) string {
	var m map[string]any
	if json.Unmarshal([]byte(detail), &m) != nil {
		return detail
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		var val string
		switch x := v.(type) {
		case string:
			val = x
		case float64, bool, nil:
			val = fmt.Sprint(x)
		default:
			b, _ := json.Marshal(x)
			val = string(b)
		}
		if k == "role" || k == "kind" {
			val = term(lang, k, val)
		}
		parts = append(parts, term(lang, "detail", k)+": "+val)
	}
	return strings.Join(parts, messages[lang]["sep"])
}

// photoError renders why a photo or shot was refused in lang: what was
// wrong and what to do, after the photo's name when withName.
func photoError(lang string, err error, withName bool) string {
	var ie *vision.ImageError
	if !errors.As(err, &ie) {
		return localize(lang, err.Error())
	}
	s := localize(lang, ie.Err.Error())
	if withName {
		s = ie.Name + ": " + s
	}
	if ie.Hint != "" {
		s = fmt.Sprintf(messages[lang]["photo.withhint"], s, localize(lang, ie.Hint))
	}
	return s
}

// fmtMsg is the catalogue format key in lang with args.
func fmtMsg(lang, key string, args ...any) string { return fmt.Sprintf(translate(lang, key), args...) }

// conflictError says in lang why an enrolment was refused until
// confirmed: each conflict from its fields, then what to do. English
// keeps identity's own sentence.
func conflictError(lang string, ce *identity.ConflictError) string {
	if lang == "en" {
		return ce.Error()
	}
	parts := make([]string, len(ce.Conflicts))
	for i, c := range ce.Conflicts {
		if c.Kind == identity.ConflictDuplicate {
			parts[i] = fmtMsg(lang, "conflict.duplicate", c.Photo, c.Distance, c.Other, c.Limit)
		} else {
			parts[i] = fmtMsg(lang, "conflict.mixed", c.Photo, localize(lang, c.Other), c.Distance, c.Limit)
		}
	}
	return fmtMsg(lang, "conflict.refused", ce.EmployeeID, strings.Join(parts, messages[lang]["sep"]))
}

// enrolMessage is an enrolment refusal for a page in lang: a photo's
// problem or the conflicts when known, else the English message.
func enrolMessage(lang string, he *echo.HTTPError) string {
	var ie *vision.ImageError
	var ce *identity.ConflictError
	switch {
	case errors.As(he.Internal, &ce):
		return conflictError(lang, ce)
	case errors.As(he.Internal, &ie):
		return photoError(lang, he.Internal, true)
	}
	return fmt.Sprint(he.Message)
}
