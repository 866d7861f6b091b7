package web

import (
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
)

// A face+pin denial, as the gate words it with the appliance's PIN
// reasons, reads in Japanese with no English left.
func TestPINReasonsInJapanese(t *testing.T) {
	p := gate.SingleDoorPolicy("front", time.UTC, time.Second, gate.LevelFacePIN)
	who := &gate.Person{ID: 1, Name: "Ada", Groups: []string{gate.EveryoneGroup}}
	for why, want := range map[string]string{
		"wrong PIN (4 of 5 tries left before a lockout)":                      "ロックまで残り 4 回",
		"no PIN entered within 8s":                                            "8s 以内に PIN が入力されませんでした",
		"a PIN was typed but no face was matched within 10s of it":            "10s 以内に顔が照合されませんでした",
		"PIN locked until 2026-11-24 09:05 after 5 wrong PINs":                "5 回間違えたため 2026-11-24 09:05 まで",
		"no PIN is set for this person (an admin sets one: facegate pin set)": "PIN は未設定",
		"": "正しい PIN が入力されませんでした",
	} {
		d := p.Decide(gate.Request{Person: who, Door: "front", Time: time.Now(), PINWhy: why}, nil)
		ja := localize("ja", d.Reason)
		if d.Grant || !strings.Contains(ja, want) || strings.Contains(ja, "requires") || strings.Contains(ja, "PIN (") {
			t.Errorf("%q → %q, want it to say %q", d.Reason, ja, want)
		}
	}
	if ja := localize("ja", "PIN: wrong PIN (2 of 5 tries left before a lockout)"); !strings.Contains(ja, "残り 2 回") {
		t.Errorf("PIN attempt event: %q", ja)
	}
}
