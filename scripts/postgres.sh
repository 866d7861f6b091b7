#!/usr/bin/env bash
# Makes sure a local PostgreSQL server runs for the storage suite: installs
# Debian's postgresql when missing, starts its cluster, and creates the test
# role and database if they do not exist. Prints the DSN to use.
set -euo pipefail
ROLE=facegate
PASS=facegate
DB=facegate_test
PORT=${PGPORT:-5432}

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  echo "postgres: installing postgresql" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
read -r VER CLUSTER CPORT STATUS _ < <(pg_lsclusters -h | head -n 1)
if [[ "$STATUS" != online* ]]; then
  echo "postgres: starting cluster $VER/$CLUSTER" >&2
  pg_ctlcluster "$VER" "$CLUSTER" start >&2
fi
PORT=$CPORT
for i in $(seq 1 30); do
  if su postgres -c "psql -p $PORT -tAc 'SELECT 1'" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 ||
  su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -c \"CREATE ROLE $ROLE LOGIN PASSWORD '$PASS'\"" >/dev/null
su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -tAc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 ||
  su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -c \"CREATE DATABASE $DB OWNER $ROLE\"" >/dev/null
echo "postgres://$ROLE:$PASS@127.0.0.1:$PORT/$DB?sslmode=disable"
