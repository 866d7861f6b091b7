#!/usr/bin/env bash
# Runs a throwaway local MQTT broker (Debian's mosquitto) for the tests, as
# scripts/postgres.sh does for PostgreSQL.
#
#   scripts/mosquitto.sh start DIR   install mosquitto when missing, make DIR's
#                                    CA, server certificate and password file
#                                    (once), start the broker on a free loopback
#                                    port (the same port again on a restart);
#                                    prints the broker address for the tests
#   scripts/mosquitto.sh stop DIR    stop it (state is saved in DIR)
#
# The broker listens only on 127.0.0.1, only with TLS, and only for the user
# "facegate" with the password in DIR/password (anonymous clients are
# refused). The printed address carries what a test needs to connect:
#   mqtts://127.0.0.1:PORT?dir=DIR   (DIR/ca.pem, DIR/password)
set -euo pipefail
cmd=${1:-}
DIR=${2:-}
if [[ -z "$cmd" || -z "$DIR" ]]; then
  echo "usage: scripts/mosquitto.sh start|stop DIR" >&2
  exit 2
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
PID="$DIR/mosquitto.pid"

stop() {
  local pid
  pid=$(cat "$PID" 2>/dev/null || true)
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$PID"
}

install() {
  if command -v mosquitto >/dev/null 2>&1 || [[ -x /usr/sbin/mosquitto ]]; then return; fi
  echo "mosquitto: installing mosquitto" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
}

# certs makes a CA and a server certificate for 127.0.0.1 and localhost,
# valid for 30 days: enough for any test run, useless elsewhere.
certs() {
  [[ -f "$DIR/server.pem" ]] && return
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=facegate test CA" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n") \
    -out "$DIR/server.pem" 2>/dev/null
  openssl rand -hex 16 >"$DIR/password"
  mosquitto_passwd -c -b "$DIR/passwd" facegate "$(cat "$DIR/password")"
  chmod 600 "$DIR"/*.key "$DIR/password" "$DIR/passwd"
}

# freePort finds a loopback port nobody listens on.
freePort() {
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "mosquitto: no free port found" >&2
  exit 1
}

config() {
  [[ -f "$DIR/port" ]] || freePort >"$DIR/port"
  cat >"$DIR/mosquitto.conf" <<EOF
# written by scripts/mosquitto.sh
pid_file $PID
user $(id -un)
persistence true
persistence_location $DIR/
log_dest file $DIR/mosquitto.log
log_type error
log_type warning
log_type notice
per_listener_settings false
allow_anonymous false
password_file $DIR/passwd
listener $(cat "$DIR/port") 127.0.0.1
cafile $DIR/ca.pem
certfile $DIR/server.pem
keyfile $DIR/server.key
EOF
}

start() {
  install
  PATH=$PATH:/usr/sbin
  certs
  config
  stop
  mosquitto -c "$DIR/mosquitto.conf" -d 2>>"$DIR/mosquitto.log"
  port=$(cat "$DIR/port")
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "mqtts://127.0.0.1:$port?dir=$DIR"
      return
    fi
    sleep 0.1
  done
  echo "mosquitto: not listening on $port; see $DIR/mosquitto.log" >&2
  tail -5 "$DIR/mosquitto.log" >&2 || true
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/mosquitto.sh start|stop DIR" >&2; exit 2 ;;
esac
