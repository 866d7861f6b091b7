// Package mqtt publishes a door to an MQTT broker (eclipse/paho.mqtt.golang,
// MQTT 3.1.1): every event of its door and every door-less event (admin
// actions, retention …) of the evidence chain to facegate/<door>/event
// (QoS 1, in chain order, each with a signed checkpoint covering it), the
// door's state retained under facegate/<door>/state/ (lock, door, camera,
// last_person), availability with a last will ("offline"), and Home
// Assistant discovery configs (retained) that show the door as a lock
// (or, with remote unlock off, a read-only lock sensor), a door contact,
// the last person and the camera state.
//
// The evidence chain is the outbox: a cursor in storage moves only past
// events the broker acknowledged, so a broker that was down or an
// appliance that restarted sends the backlog in order and loses nothing
// (at least once: a receiver may see a seq twice).
//
// "UNLOCK" on facegate/<door>/set pulses the door only when remote unlock
// is on (serve --mqtt-unlock, which needs a broker user); it takes the web
// API's path: an audit entry and the door's remote_unlock event, both by
// "mqtt:<user>". Retained commands are refused; refused commands are
// logged. TLS (mqtts://) verifies the broker against a CA file or the
// system's roots.
package mqtt
