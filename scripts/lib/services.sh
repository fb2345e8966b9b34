# Throw-away services for the test suite, sourced by scripts/test and scripts/bench.
# Each start_* exports what the tests read and registers its own clean-up in CLEANUP.

CLEANUP=()
cleanup_services() {
  local index
  for ((index=${#CLEANUP[@]}-1; index>=0; index--)); do eval "${CLEANUP[$index]}" || true; done
}
trap cleanup_services EXIT

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  echo "   installing $* (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A PostgreSQL cluster of its own in a temporary folder, on a private port, removed at exit.
# Exports SPORTELLO_TEST_POSTGRES_URL (an ordinary role: row-level security applies to it) and
# SPORTELLO_TEST_POSTGRES_ADMIN_URL (the superuser, for creating databases), and a fresh data key in
# SPORTELLO_DATA_KEY (Sportello refuses PostgreSQL without an explicit key; tests and CLI share this one).
# `start_postgres durable` keeps fsync on (benchmarks); the test suite runs without it.
start_postgres() {
  local speed="-c fsync=off -c synchronous_commit=off"
  if [ "${1:-}" = durable ]; then speed=""; fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_install postgresql; fi
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local dir; dir=$(mktemp -d /tmp/sportello-pg.XXXXXX)
  local port; port=$(free_port)
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; run=(runuser -u postgres --); fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $speed -c max_connections=500 -c shared_buffers=256MB" start >/dev/null
  CLEANUP+=("${run[*]} $bin/pg_ctl -D $dir/data -m immediate stop >/dev/null 2>&1; rm -rf $dir")
  # How to stop and start this cluster again, for scripts that take the database down (scripts/fleet-check).
  POSTGRES_STOP=("${run[@]}" "$bin/pg_ctl" -D "$dir/data" -w -m fast stop)
  POSTGRES_START=("${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w
                  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $speed -c max_connections=500 -c shared_buffers=256MB" start)
  psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE sportello LOGIN PASSWORD 'sportello' NOSUPERUSER NOBYPASSRLS CREATEDB" \
    -c "CREATE DATABASE sportello_test OWNER sportello" >/dev/null
  export SPORTELLO_TEST_POSTGRES_URL="postgres://sportello:sportello@127.0.0.1:$port/sportello_test"
  export SPORTELLO_TEST_POSTGRES_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres"
  SPORTELLO_DATA_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
  export SPORTELLO_DATA_KEY
  echo "   PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

# A real SMTP server (scripts/smtp_sink.py on aiosmtpd) on a private port that writes every message it
# receives into a spool folder; stopped and removed at exit. aiosmtpd lives in a venv of its own
# ($SPORTELLO_TEST_VENV, default .build-venv/ at the repository root), created on first use.
# Exports SPORTELLO_TEST_SMTP_PORT and SPORTELLO_TEST_SMTP_SPOOL, and, so tests can start sinks of their
# own (a relay that is down, then up), SPORTELLO_TEST_SMTP_PYTHON and SPORTELLO_TEST_SMTP_SINK.
start_smtp_sink() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local venv="${SPORTELLO_TEST_VENV:-$root/.build-venv}"
  if ! "$venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then apt_install python3-venv; fi
    echo "   installing aiosmtpd (pip, into $venv)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q aiosmtpd
  fi
  local dir; dir=$(mktemp -d /tmp/sportello-smtp.XXXXXX)
  local port; port=$(free_port)
  "$venv/bin/python" "$root/scripts/smtp_sink.py" --port "$port" --spool "$dir/spool" >"$dir/sink.log" 2>&1 &
  local pid=$!
  CLEANUP+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf $dir")
  local tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -ge 100 ]; then
      echo "the SMTP sink did not start:" >&2; cat "$dir/sink.log" >&2; return 1
    fi
    sleep 0.1
  done
  export SPORTELLO_TEST_SMTP_PORT="$port"
  export SPORTELLO_TEST_SMTP_SPOOL="$dir/spool"
  export SPORTELLO_TEST_SMTP_PYTHON="$venv/bin/python"
  export SPORTELLO_TEST_SMTP_SINK="$root/scripts/smtp_sink.py"
  echo "   SMTP sink (aiosmtpd $("$venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)')) on 127.0.0.1:$port ($dir/spool)"
}

# One of the repository's sandbox servers (a Python-standard-library script in scripts/) on a private port, stopped
# and its folder removed at exit; waits until its /health answers. Usage: start_python_server NAME LABEL SCRIPT [ARG…]
# (NAME names its log, LABEL the error message). Sets SERVER_PORT and SERVER_DIR for the caller.
start_python_server() {
  local name=$1 label=$2 script=$3; shift 3
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  SERVER_DIR=$(mktemp -d "/tmp/sportello-$name.XXXXXX")
  SERVER_PORT=$(free_port)
  python3 "$root/scripts/$script" --port "$SERVER_PORT" "$@" >"$SERVER_DIR/$name.log" 2>&1 &
  local pid=$!
  CLEANUP+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf $SERVER_DIR")
  local tries=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVER_PORT/health")" = 200 ]; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -ge 100 ]; then
      echo "the $label did not start:" >&2; cat "$SERVER_DIR/$name.log" >&2; return 1
    fi
    sleep 0.1
  done
}

# A fresh random secret for a sandbox server and the portal that talks to it.
fresh_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

# The sandbox payment service provider (scripts/sandbox_psp.py, Python standard library only) on a private port, with a
# fresh shared secret; stopped at exit. Its pages say "SANDBOX — no real charge". Exports what the portal's manifest
# plugins/sandbox_psp.yaml reads, SPORTELLO_PSP_URL and SPORTELLO_PSP_SECRET (so `sportello serve` started after this
# connects to it), and, so tests can start a PSP of their own, SPORTELLO_TEST_PSP_PYTHON and SPORTELLO_TEST_PSP_SCRIPT.
# Notifications the portal does not accept are retried quickly here (0.5 s, then doubling): a test that takes the
# portal down and up again waits seconds, not the production schedule.
start_sandbox_psp() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  SPORTELLO_PSP_SECRET=$(fresh_secret); export SPORTELLO_PSP_SECRET
  start_python_server psp "sandbox PSP" sandbox_psp.py --retry-delays "0.5,1,2,4,8,16,30,60" || return 1
  export SPORTELLO_PSP_URL="http://127.0.0.1:$SERVER_PORT"
  export SPORTELLO_TEST_PSP_PYTHON; SPORTELLO_TEST_PSP_PYTHON=$(command -v python3)
  export SPORTELLO_TEST_PSP_SCRIPT="$root/scripts/sandbox_psp.py"
  export SPORTELLO_PSP_LOG="$SERVER_DIR/psp.log"
  echo "   sandbox PSP (SANDBOX, no real charge) on $SPORTELLO_PSP_URL ($SPORTELLO_PSP_LOG)"
}

# Headless Chromium for the browser end-to-end tests: Debian's chromium and chromium-driver (installed
# if missing) and Selenium with selenium-axe-python in a venv of its own ($SPORTELLO_E2E_VENV, default
# .build-venv-e2e/ at the repository root), created on first use. selenium-axe-python is the maintained
# fork of axe-selenium-python: it carries axe-core 4.9, which knows the wcag21a/wcag21aa tags (the
# original's last release carries axe-core 3.1.1, which refuses them). Makes a work folder whose
# pgids file lists the process groups the runner starts (the portal server, chromedriver and its
# Chromium): they are killed and the folder removed at exit, even when the runner itself was killed.
# Exports SPORTELLO_E2E_PYTHON, SPORTELLO_E2E_CHROMIUM, SPORTELLO_E2E_CHROMEDRIVER and SPORTELLO_E2E_WORKDIR.
start_browser_tools() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local venv="${SPORTELLO_E2E_VENV:-$root/.build-venv-e2e}"
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    # apt unpacks into $TMPDIR; a folder of its own keeps it clear of anything that tidies /tmp meanwhile.
    local aptdir; aptdir=$(mktemp -d /var/tmp/sportello-apt.XXXXXX)
    TMPDIR="$aptdir" apt_install chromium chromium-driver || {
      echo "   retrying the chromium install after 'apt-get --fix-broken install'" >&2
      as_root env DEBIAN_FRONTEND=noninteractive TMPDIR="$aptdir" apt-get --fix-broken install -y -qq >/dev/null
      TMPDIR="$aptdir" apt_install chromium chromium-driver
    }
    rm -rf "$aptdir"
  fi
  if ! "$venv/bin/python" -c 'import selenium, selenium_axe_python' >/dev/null 2>&1; then
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then apt_install python3-venv; fi
    echo "   installing selenium and selenium-axe-python (pip, into $venv)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q "selenium>=4.11,<5" "selenium-axe-python==2.2.0"
  fi
  local dir; dir=$(mktemp -d /tmp/sportello-e2e.XXXXXX)
  : >"$dir/pgids"
  CLEANUP+=("for g in \$(cat $dir/pgids 2>/dev/null); do kill -TERM -- -\$g 2>/dev/null; done; rm -rf $dir")
  export SPORTELLO_E2E_PYTHON="$venv/bin/python"
  export SPORTELLO_E2E_CHROMIUM; SPORTELLO_E2E_CHROMIUM=$(command -v chromium)
  export SPORTELLO_E2E_CHROMEDRIVER; SPORTELLO_E2E_CHROMEDRIVER=$(command -v chromedriver)
  export SPORTELLO_E2E_WORKDIR="$dir"
  echo "   $("$SPORTELLO_E2E_CHROMIUM" --version 2>/dev/null | head -1), $("$SPORTELLO_E2E_CHROMEDRIVER" --version | awk '{print $1, $2}')," \
       "selenium $("$venv/bin/python" -c 'import selenium; print(selenium.__version__)')"
}

# Makes sure COMMAND exists, installing Debian's PACKAGE (default: COMMAND) with apt_install when it is
# missing; while another apt-get or dpkg holds the lock it retries every 15 s, for up to 5 minutes.
need_command() {
  local command=$1 package=${2:-$1} tries=0
  if command -v "$command" >/dev/null 2>&1; then return 0; fi
  until apt_install "$package"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 20 ]; then echo "could not install $package" >&2; return 1; fi
    echo "   apt is busy (another install holds its lock): retrying in 15 s" >&2
    sleep 15
  done
  command -v "$command" >/dev/null 2>&1
}

# A portal server of its own: `start_portal BINARY COST [serve options...]` fills a new SQLite database in a
# temporary folder (or SPORTELLO_PORTAL_DATABASE) with demo data (`sportello demo`, passwords hashed with bcrypt cost COST), then runs
# `BINARY serve` on it on a private loopback port with `--password-cost COST`, without an SMTP relay (mail
# stays in the outbox); server and folder are removed at exit. Exports SPORTELLO_PORTAL_PID,
# SPORTELLO_PORTAL_PORT, SPORTELLO_PORTAL_DIR and SPORTELLO_PORTAL_LOGINS (the demo command's output:
# the logins per tenant and role).
start_portal() {
  local binary=$1 cost=$2; shift 2
  local dir; dir=$(mktemp -d /tmp/sportello-portal.XXXXXX)
  CLEANUP+=("rm -rf $dir")
  local port; port=$(free_port)
  # SPORTELLO_PORTAL_DATABASE: serve that database (a PostgreSQL URL; its demo data is replaced) instead of a new SQLite file.
  local database=${SPORTELLO_PORTAL_DATABASE:-$dir/portal.sqlite} replace=()
  if [ -n "${SPORTELLO_PORTAL_DATABASE:-}" ]; then replace=(--replace); fi
  if ! env -u DATABASE_URL -u SPORTELLO_SMTP_URL "$binary" demo --database "$database" --cost "$cost" "${replace[@]}" \
      >"$dir/demo.log" 2>&1; then
    echo "sportello demo failed:" >&2; cat "$dir/demo.log" >&2; return 1
  fi
  env -u DATABASE_URL -u SPORTELLO_SMTP_URL "$binary" serve --database "$database" --port "$port" \
    --hostname 127.0.0.1 --password-cost "$cost" "$@" >"$dir/server.log" 2>&1 &
  local pid=$!
  CLEANUP+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
  local tries=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -ge 600 ]; then
      echo "the portal server did not start:" >&2; cat "$dir/server.log" >&2; return 1
    fi
    sleep 0.1
  done
  export SPORTELLO_PORTAL_PID=$pid SPORTELLO_PORTAL_PORT=$port SPORTELLO_PORTAL_DIR=$dir
  export SPORTELLO_PORTAL_LOGINS="$dir/demo.log"
  echo "   portal server (pid $pid) on 127.0.0.1:$port ($dir)"
}

# The sandbox lookup service (scripts/lookup_service.py, Python standard library only) on a private port, with a fresh
# shared secret; stopped at exit. It answers the four lookup operations (domain availability, line diagnosis, option
# compatibility, customer verification) with deterministic SANDBOX data. Exports what the manifests
# plugins/sandbox_{domains,line_diagnosis,option_compatibility,crm}.yaml read, SPORTELLO_LOOKUP_URL and
# SPORTELLO_LOOKUP_SECRET (so `sportello serve` started after this connects to it), and SPORTELLO_LOOKUP_LOG.
start_lookup_service() {
  SPORTELLO_LOOKUP_SECRET=$(fresh_secret); export SPORTELLO_LOOKUP_SECRET
  start_python_server lookup "sandbox lookup service" lookup_service.py || return 1
  export SPORTELLO_LOOKUP_URL="http://127.0.0.1:$SERVER_PORT"
  export SPORTELLO_LOOKUP_LOG="$SERVER_DIR/lookup.log"
  echo "   sandbox lookup service (SANDBOX data) on $SPORTELLO_LOOKUP_URL ($SPORTELLO_LOOKUP_LOG)"
}

# The sandbox webhook receiver (scripts/webhook_receiver.py, Python standard library only) on a private port, with a
# fresh shared secret; stopped at exit. It verifies each delivery's signature and replay window (401 otherwise), stores
# the events (GET /events) and can be told to fail, refuse or be slow (POST /control). Exports what
# plugins/webhook_receiver.yaml reads, SPORTELLO_WEBHOOK_URL (the /hooks URL) and SPORTELLO_WEBHOOK_SECRET, and
# SPORTELLO_WEBHOOK_RECEIVER (its base URL, for tests) and SPORTELLO_WEBHOOK_LOG.
start_webhook_receiver() {
  SPORTELLO_WEBHOOK_SECRET=$(fresh_secret); export SPORTELLO_WEBHOOK_SECRET
  start_python_server webhook "sandbox webhook receiver" webhook_receiver.py || return 1
  export SPORTELLO_WEBHOOK_RECEIVER="http://127.0.0.1:$SERVER_PORT"
  export SPORTELLO_WEBHOOK_URL="$SPORTELLO_WEBHOOK_RECEIVER/hooks"
  export SPORTELLO_WEBHOOK_LOG="$SERVER_DIR/webhook.log"
  echo "   sandbox webhook receiver on $SPORTELLO_WEBHOOK_URL ($SPORTELLO_WEBHOOK_LOG)"
}

# The sandbox SMS sink (scripts/sms_sink.py, Python standard library only) on a private port, with a fresh API key;
# stopped at exit. It takes the portal's SMS (bearer key and signature checked), lists them at GET /messages and can be
# taken down and brought back (POST /control {"down": true|false}) for outage tests. Exports what plugins/sms_sink.yaml
# reads, SPORTELLO_SMS_URL and SPORTELLO_SMS_API_KEY, and SPORTELLO_SMS_LOG.
start_sms_sink() {
  SPORTELLO_SMS_API_KEY=$(fresh_secret); export SPORTELLO_SMS_API_KEY
  start_python_server sms "sandbox SMS sink" sms_sink.py || return 1
  export SPORTELLO_SMS_URL="http://127.0.0.1:$SERVER_PORT"
  export SPORTELLO_SMS_LOG="$SERVER_DIR/sms.log"
  echo "   sandbox SMS sink (SANDBOX, no SMS reaches a phone) on $SPORTELLO_SMS_URL ($SPORTELLO_SMS_LOG)"
}
