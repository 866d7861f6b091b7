// Package alerttest is a real SMTP server for tests of alert mail: go-smtp
// on a loopback port with STARTTLS under a self-signed certificate and
// PLAIN authentication, which can be told to refuse mail for a while.
package alerttest
