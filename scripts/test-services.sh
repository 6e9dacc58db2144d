#!/usr/bin/env bash
# Make sure the real services the integration tests talk to are installed and running:
# PostgreSQL (with a test role that may create databases), NATS with JetStream, and Debian's
# chromium for the browser tests. Idempotent: does nothing when all is already there.
set -euo pipefail

need_root() { if [ "$(id -u)" != 0 ]; then echo "run as root (or install: $*)" >&2; exit 1; fi; }
apt_updated=""
apt_install() {
  need_root "$@"
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  echo "nothing listening on 127.0.0.1:$1 after 30 s" >&2; return 1
}

# --- PostgreSQL ---
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "installing PostgreSQL"; apt_install postgresql
fi
if ! port_open 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
  wait_port 5432
fi
# The test role: password auth works whether pg_hba says trust or scram.
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rtcc') THEN
    CREATE ROLE rtcc LOGIN CREATEDB PASSWORD 'rtcc';
  END IF;
END $$;
SQL

# --- NATS with JetStream ---
if ! command -v nats-server >/dev/null; then echo "installing nats-server"; apt_install nats-server; fi
if ! port_open 4222; then
  mkdir -p /var/lib/nats-server /var/log
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port 4222
fi

# --- Mosquitto (MQTT) for device ingestion ---
if ! command -v mosquitto >/dev/null; then echo "installing mosquitto"; apt_install mosquitto; fi
if ! port_open 1883; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf 2>/dev/null || mosquitto -d -p 1883
  wait_port 1883
fi

# --- Chromium for the browser tests (Playwright drives Debian's build) ---
if [ ! -x /usr/bin/chromium ]; then echo "installing chromium"; apt_install chromium; fi
echo "test services ready: postgresql :5432, nats :4222, mosquitto :1883, chromium"
