// Package gate decides whether a known person may pass a door now and
// drives the door. The policy (areas, doors, groups, rules with weekly
// schedules, holidays, validity dates, anti-passback, security levels)
// decides; the Controller applies a decision to one door: it pulses the
// relay, watches the door contact (forced, held open, passage mode) and
// counts faces during a grant (tailgating). Relay drivers: GPIO, USB
// serial relay boards, Shelly-style HTTP relays, and a file for the
// simulator. Keypad is a PIN pad at a door; EvdevKeypad reads a USB
// keypad from Linux input events, and PINPad hands the PIN typed around a
// face match to a face+pin decision. FromRecords turns storage's policy records into a Policy;
// presence_report derives stays and attendance from granted events.
// Subpackage identity enrols and identifies faces against storage;
// subpackage notify delivers the evidence log to webhooks; subpackage mqtt
// publishes a door's events and state to an MQTT broker (Home Assistant
// discovery, remote unlock by command when enabled); subpackage alert
// raises alerts from the evidence log and mails them and a daily digest.
//
// It must never hold C memory (that stays in vision) nor write SQL (that
// is storage), and a relay it drives must always end locked: on start,
// on error, on a lost camera and on exit.
package gate
