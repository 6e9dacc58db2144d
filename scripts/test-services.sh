#!/usr/bin/env bash
# Make sure the real services the integration tests talk to are installed and running:
# PostgreSQL (with a test role that may create databases), NATS with JetStream, Mosquitto and
# Debian's chromium for the browser tests. Idempotent: does nothing when all is already there.
# Installing packages and starting PostgreSQL need root; a non-root user runs this once with
# sudo, and afterwards as themselves (NATS and Mosquitto then run under their account).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source scripts/ports.sh

# Run a command as the postgres account: runuser as root, sudo (without a password prompt) otherwise.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  elif sudo -n true 2>/dev/null; then sudo -n -u postgres -- "$@"
  else
    echo "PostgreSQL needs the postgres account for this step: run once 'sudo $0'" >&2; exit 1
  fi
}
state_dir() {  # where services started by this script keep their data
  if [ "$(id -u)" = 0 ]; then echo "/var/lib/$1"; else echo "${XDG_STATE_HOME:-$HOME/.local/state}/rtcc/$1"; fi
}

# --- PostgreSQL ---
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "installing PostgreSQL"; apt_install postgresql
fi
if ! port_open 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ "$(id -u)" = 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
  else
    as_postgres pg_ctlcluster "$version" main start
  fi
  wait_port 5432
fi
# The test role: password auth works whether pg_hba says trust or scram. Skipped when it exists
# and signs in already (so a non-root user needs no sudo on later runs).
if ! PGPASSWORD=rtcc psql -qtA -h 127.0.0.1 -U rtcc -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
  as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rtcc') THEN
    CREATE ROLE rtcc LOGIN CREATEDB PASSWORD 'rtcc';
  END IF;
END $$;
SQL
fi

# --- NATS with JetStream ---
# Debian's nats-server package starts a service on 4222 *without* JetStream; a server there
# that does not announce JetStream is stopped and replaced by one that does.
if ! command -v nats-server >/dev/null; then echo "installing nats-server"; apt_install nats-server; fi
if port_open 4222 && ! nats_has_jetstream 4222; then
  echo "the NATS server on 4222 has no JetStream: stopping it to start one that has"
  if command -v systemctl >/dev/null && systemctl is-active --quiet nats-server 2>/dev/null; then
    systemctl stop nats-server && systemctl disable --quiet nats-server 2>/dev/null || true
  fi
  port_open 4222 && { pkill -x nats-server || true; }
  wait_port_closed 4222 || { echo "could not stop the NATS server on 4222" >&2; exit 1; }
fi
if ! port_open 4222; then
  nats_dir=$(state_dir nats-server)
  mkdir -p "$nats_dir"
  setsid nohup "$(command -v nats-server)" -a 127.0.0.1 -p 4222 -js -sd "$nats_dir" -l "$nats_dir/nats-server.log" \
    >/dev/null 2>&1 &
  wait_port 4222
  nats_has_jetstream 4222 || { echo "nats-server on 4222 started without JetStream" >&2; exit 1; }
fi

# --- Mosquitto (MQTT) for device ingestion ---
if ! command -v mosquitto >/dev/null; then echo "installing mosquitto"; apt_install mosquitto; fi
if ! port_open 1883; then
  if [ "$(id -u)" = 0 ]; then
    mosquitto -d -c /etc/mosquitto/mosquitto.conf 2>/dev/null || mosquitto -d -p 1883
  else
    mosquitto -d -p 1883
  fi
  wait_port 1883
fi

# --- Chromium for the browser tests (Playwright drives Debian's build) ---
if [ ! -x /usr/bin/chromium ]; then echo "installing chromium"; apt_install chromium; fi
echo "test services ready: postgresql :5432, nats :4222 (JetStream), mosquitto :1883, chromium"
