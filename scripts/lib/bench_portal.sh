# The portal benchmark of scripts/bench (`scripts/bench --portal-only`), sourced after scripts/lib/services.sh.
# A release `sportello serve` over a fresh SQLite database with demo data, loaded by wrk on loopback:
# requests/s and p99 of /health, of a logged-in dashboard and of the invoice list; the dashboard/health
# ratio; the dashboard's p99 while a login storm (real bcrypt logins, right and wrong passwords) runs,
# against its quiet p99; the server's memory. Figures are printed, never asserted.
#
# Settings (scripts/bench sets them from its options):
PORTAL_DURATION=${PORTAL_DURATION:-20}           # seconds per measured wrk run (5 runs)
PORTAL_WARMUP=${PORTAL_WARMUP:-3}                # seconds of unmeasured load before each route's first run
PORTAL_THREADS=${PORTAL_THREADS:-1}              # wrk threads (the server and wrk share this machine's cores)
PORTAL_CONNECTIONS=${PORTAL_CONNECTIONS:-16}     # connections for the requests/s figures
PORTAL_LIGHT_CONNECTIONS=${PORTAL_LIGHT_CONNECTIONS:-4}  # dashboard connections for the quiet/storm p99 pair
PORTAL_STORM_CONNECTIONS=${PORTAL_STORM_CONNECTIONS:-8}  # logins in flight during the storm
PORTAL_TENANT=${PORTAL_TENANT:-unidata}          # tenant id (its development host is <id>.localhost)
PORTAL_ROLE=${PORTAL_ROLE:-referente_amministratore}  # role of the logged-in user (one that sees invoices)
PORTAL_COST=${PORTAL_COST:-}                     # bcrypt cost; empty: serve's own --password-cost default
PORTAL_STORM_ONE_ADDRESS=${PORTAL_STORM_ONE_ADDRESS:-0}  # 1: the storm comes from 127.0.0.1 only (throttled)
PORTAL_PROFILE=${PORTAL_PROFILE:-}                # a file: perf records the server during the dashboard run, its top symbols go there

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Converts a wrk duration (850.00us, 1.23ms, 2.01s, 1.50m) to milliseconds.
wrk_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
    if (f < 0) print "nan"; else printf "%.3f", n * f }'
}

# Busy jiffies of the whole machine (/proc/stat) and of one process (/proc/PID/stat: utime + stime).
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
process_busy() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

# `measure_begin` / `measure_end SECONDS_OF_CLIENT_CPU`: sets OTHER_LOAD to the share of the machine's
# CPU (in %) that neither the server nor the load generators used during the measurement, i.e. what
# other programs on this machine took; benchmarks on a shared machine are only as good as that figure.
measure_begin() {
  MEASURE_T0=$(date +%s.%N); MEASURE_MACHINE0=$(machine_busy); MEASURE_SERVER0=$(process_busy "$PORTAL_PID")
}
measure_end() {
  local client=$1 t1 machine1 server1
  t1=$(date +%s.%N); machine1=$(machine_busy); server1=$(process_busy "$PORTAL_PID")
  OTHER_LOAD=$(awk -v t0="$MEASURE_T0" -v t1="$t1" -v m0="$MEASURE_MACHINE0" -v m1="$machine1" \
    -v s0="$MEASURE_SERVER0" -v s1="$server1" -v c="$client" -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" \
    'BEGIN { other = (m1 - m0) / hz - (s1 - s0) / hz - c; if (other < 0) other = 0; printf "%.0f", 100 * other / ((t1 - t0) * n) }')
  SERVER_CPU=$(awk -v s0="$MEASURE_SERVER0" -v s1="$server1" -v t0="$MEASURE_T0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", 100 * (s1 - s0) / hz / (t1 - t0) }')
}

# Sets CHILDREN_CPU to the seconds of CPU used by this shell's finished children (the `times` builtin: it
# must run in this shell, not in a $(...) subshell).
children_cpu() {
  times >"$PORTAL_WORK/times"
  CHILDREN_CPU=$(awk 'END { for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); total += p[1] * 60 + p[2] } printf "%.2f", total }' "$PORTAL_WORK/times")
}

# Starts wrk in the background, remembered for the clean-up at exit (an interrupted run leaves no wrk).
start_wrk() {
  local out=$1; shift
  "$@" >"$out" 2>&1 &
  WRK_STARTED=$!
  PORTAL_WRK_PIDS="${PORTAL_WRK_PIDS:-} $WRK_STARTED"
}

# `run_wrk NAME [wrk options and URL...]`: runs `wrk --latency`, keeps its output in $PORTAL_WORK/NAME.txt and
# sets WRK_RPS, WRK_P99 (ms), WRK_STATUSES ("200=N ..."), WRK_ERRORS (socket errors) and WRK_CPU (seconds
# of CPU wrk used).
run_wrk() {
  local name=$1; shift
  local out="$PORTAL_WORK/$name.txt" before
  children_cpu; before=$CHILDREN_CPU
  start_wrk "$out" wrk --latency "$@"
  wait "$WRK_STARTED" || { echo "wrk failed:" >&2; cat "$out" >&2; return 1; }
  parse_wrk "$out"
  children_cpu
  WRK_CPU=$(awk -v a="$before" -v b="$CHILDREN_CPU" 'BEGIN { printf "%.2f", b - a }')
}

# Unmeasured load before a route's first measured run.
warm_wrk() {
  start_wrk "$PORTAL_WORK/warmup.txt" wrk "$@"
  wait "$WRK_STARTED" || true
}

parse_wrk() {
  local out=$1
  WRK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  WRK_P99=$(wrk_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  WRK_STATUSES=$(sed -n 's/^statuses: //p' "$out")
  WRK_ERRORS=$(sed -n 's/^ *Socket errors: //p' "$out")
}

# "all 200" when every answer had the expected status, else the statuses and socket errors seen.
describe_answers() {
  if [[ "$WRK_STATUSES" =~ ^$1=[0-9]+$ ]] && [ -z "$WRK_ERRORS" ]; then echo "all $1"
  else echo "answers: ${WRK_STATUSES:-none}${WRK_ERRORS:+; socket errors: $WRK_ERRORS}"; fi
}

fmt_rps() { awk -v v="$1" 'BEGIN { printf "%10.1f req/s", v }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%8.0f ms", v; else if (v >= 10) printf "%8.1f ms", v; else printf "%8.2f ms", v }'; }

# A shared object for LD_PRELOAD that binds each outgoing IPv4 loopback connection to an address of its own
# in 127.77.0.0/16 before connecting, so that a storm from one wrk arrives, as the server sees it, from
# thousands of clients: the tenant's per-IP throttle (which counts by source address) lets it through and
# every attempt costs a real bcrypt verification. Prints the path, or nothing when no C compiler exists.
build_source_address_preload() {
  command -v gcc >/dev/null 2>&1 || return 0
  cat >"$PORTAL_WORK/source_address.c" <<'C'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

static uint32_t next_host;
static int (*real_connect)(int, const struct sockaddr *, socklen_t);

int connect(int fd, const struct sockaddr *address, socklen_t length) {
    if (!real_connect) real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (address && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)
        && (ntohl(((const struct sockaddr_in *)address)->sin_addr.s_addr) >> 24) == 127) {
        uint32_t host = __atomic_add_fetch(&next_host, 1, __ATOMIC_RELAXED);
        if (host == 1) { host = (uint32_t)getpid() * 7919u; __atomic_store_n(&next_host, host, __ATOMIC_RELAXED); }
        struct sockaddr_in source = {0};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl((127u << 24) | (77u << 16) | (host % 65534u + 1u));
        (void)bind(fd, (const struct sockaddr *)&source, sizeof source);
    }
    return real_connect(fd, address, length);
}
C
  gcc -O2 -shared -fPIC -o "$PORTAL_WORK/source_address.so" "$PORTAL_WORK/source_address.c" -ldl \
    && echo "$PORTAL_WORK/source_address.so"
}

# Logs in with curl as a browser would (GET /login for the CSRF cookie and hidden field, POST /login) and
# prints "SESSION CSRF" (the cookies after login), or fails.
portal_login() {
  local host=$1 identifier=$2 password=$3 jar="$PORTAL_WORK/cookies.$RANDOM"
  local base="http://$host:$PORTAL_PORT" resolve="$host:$PORTAL_PORT:127.0.0.1"
  local csrf status
  csrf=$(curl -s --resolve "$resolve" -c "$jar" "$base/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  [ -n "$csrf" ] || { echo "GET $base/login gave no _csrf field" >&2; return 1; }
  status=$(curl -s --resolve "$resolve" -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' \
    --data-urlencode "_csrf=$csrf" --data-urlencode "identifier=$identifier" --data-urlencode "password=$password" \
    --data-urlencode "next=/" "$base/login")
  [ "$status" = 303 ] || { echo "POST $base/login as $identifier answered $status (expected 303)" >&2; return 1; }
  awk '$6 == "sportello_session" { s = $7 } $6 == "sportello_csrf" { c = $7 } END { if (s != "" && c != "") print s, c }' "$jar"
}

# The demo logins of one tenant from `sportello demo`'s output: "ROLE CUSTOMER_TYPE IDENTIFIER" per line.
demo_logins() {
  awk -v host="//$1.localhost:" '
    /^  [^ ]/ { inside = index($0, host) > 0; next }
    inside && /^    [^ ]/ { role = $1; type = $2; gsub(/[()]/, "", type); print role, type, $3 }' "$SPORTELLO_PORTAL_LOGINS"
}

count_words() { echo "$1" | tr ',' '\n' | grep -c . || true; }
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
server_memory() {
  local rss hwm
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PORTAL_PID/status"); hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PORTAL_PID/status")
  echo "VmRSS $(kib_to_mib "$rss"), VmHWM $(kib_to_mib "$hwm")"
}

# `profile_start NAME SECONDS` / `profile_end NAME FILE`: when --profile is given, perf records the server for
# SECONDS; its top symbols (self time, then the server's own functions with their callees) go to FILE, the
# recording to FILE.data.
profile_start() {
  PERF_PID=""
  [ -n "$PORTAL_PROFILE" ] || return 0
  perf record -F 499 --call-graph "${PORTAL_PROFILE_CALL_GRAPH:-fp}" -o "$PORTAL_WORK/$1.perf" -p "$PORTAL_PID" -- sleep "$2" >/dev/null 2>&1 &
  PERF_PID=$!
}
profile_end() {
  [ -n "$PERF_PID" ] || return 0
  wait "$PERF_PID" || true
  { echo "== self time =="
    perf report -i "$PORTAL_WORK/$1.perf" --no-children --percent-limit 0.7 --stdio -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -40
    echo "== with callees, the server's own functions =="
    perf report -i "$PORTAL_WORK/$1.perf" --children --dsos sportello --percent-limit 0.3 --stdio -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | swift demangle | grep -E 'Sportello|Mustache|Hummingbird' | head -80
    } >"$2"
  cp "$PORTAL_WORK/$1.perf" "$2.data"
  echo "   profile of the $1 run (perf): $2"
}

bench_portal() {
  local binary=.build/release/sportello
  need_command wrk
  need_command curl
  PORTAL_WORK=$(mktemp -d /tmp/sportello-bench-portal.XXXXXX)
  CLEANUP+=("rm -rf $PORTAL_WORK")
  CLEANUP+=('for pid in ${PORTAL_WRK_PIDS:-}; do kill $pid 2>/dev/null; done')

  local cost=$PORTAL_COST cost_origin="set with --cost"
  if [ -z "$cost" ]; then
    cost=$("$binary" serve --help 2>&1 | tr '\n' ' ' | sed -n 's/.*--password-cost <[^>]*> *[^(]*(default: \([0-9]*\)).*/\1/p')
    cost_origin="serve's --password-cost default"
    if [ -z "$cost" ]; then cost=12; cost_origin="assumed: 'sportello serve --help' shows no --password-cost default"; fi
  fi

  echo "== Portal: release sportello serve, SQLite demo data, wrk on loopback =="
  echo "   machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
  start_portal "$binary" "$cost"
  PORTAL_PID=$SPORTELLO_PORTAL_PID PORTAL_PORT=$SPORTELLO_PORTAL_PORT
  echo "   server memory after start: $(server_memory)"

  local password
  password=$(sed -n 's/.*(password for all: \(.*\))$/\1/p' "$SPORTELLO_PORTAL_LOGINS" | head -1)
  local logins; logins=$(demo_logins "$PORTAL_TENANT")
  [ -n "$logins" ] || { echo "no demo logins for tenant $PORTAL_TENANT in:" >&2; cat "$SPORTELLO_PORTAL_LOGINS" >&2; return 1; }
  local user user_type
  read -r _ user_type user < <(echo "$logins" | awk -v r="$PORTAL_ROLE" '$1 == r' | head -1) || true
  [ -n "${user:-}" ] || { echo "no demo user with role $PORTAL_ROLE in $PORTAL_TENANT; its logins:" >&2; echo "$logins" >&2; return 1; }
  local others good bad
  others=$(echo "$logins" | awk -v u="$user" '$3 != u { print $3 }')
  good=$(echo "$others" | awk 'NR % 2 == 1' | paste -sd, -)
  bad=$(echo "$others" | awk 'NR % 2 == 0' | paste -sd, -)
  local host="$PORTAL_TENANT.localhost:$PORTAL_PORT" base="http://127.0.0.1:$PORTAL_PORT"
  local session csrf
  read -r session csrf < <(portal_login "$PORTAL_TENANT.localhost" "$user" "$password") || true
  [ -n "${session:-}" ] || { echo "could not log in as $user" >&2; return 1; }
  local cookie="Cookie: sportello_session=$session; sportello_csrf=$csrf"
  local sees_invoices
  sees_invoices=$("$binary" explain --tenant "$PORTAL_TENANT" --role "$PORTAL_ROLE" --customer-type "$user_type" \
    --feature invoices.view 2>&1 | head -1 | sed 's/.*: //' || true)

  local D=$PORTAL_DURATION W=$PORTAL_WARMUP T=$PORTAL_THREADS C=$PORTAL_CONNECTIONS
  echo "   logged in as $user ($PORTAL_ROLE, $user_type customer) on $PORTAL_TENANT.localhost; invoices.view: ${sees_invoices:-?}"
  echo "   bcrypt cost $cost ($cost_origin; the demo users' hashes use it too; unknown identifiers are checked against a decoy hash the server makes at start-up with the same cost)"
  echo "   wrk -t$T -c$C, ${D} s per figure after ${W} s of warm-up; 'other' = CPU share of this machine used by programs other than the server and wrk"
  echo

  local status
  # 1. /health, 2. the dashboard, 3. the invoice list: requests/s and p99 at $C connections.
  local health_rps health_p99 dash_rps dash_p99 inv_rps="" inv_p99="" inv_note=""
  warm_wrk -t"$T" -c"$C" -d"${W}s" -s "$BENCH_LIB_DIR/bench_status.lua" "$base/health"
  measure_begin
  run_wrk health -t"$T" -c"$C" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" "$base/health"
  measure_end "$WRK_CPU"
  health_rps=$WRK_RPS health_p99=$WRK_P99
  printf '   %-34s %s   p99 %s   (%s; server %s%% CPU, other %s%%)\n' "GET /health" "$(fmt_rps "$WRK_RPS")" "$(fmt_ms "$WRK_P99")" \
    "$(describe_answers 200)" "$SERVER_CPU" "$OTHER_LOAD"

  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H "$cookie" "$base/")
  [ "$status" = 200 ] || { echo "GET / as $user answered $status (expected 200)" >&2; return 1; }
  warm_wrk -t"$T" -c"$C" -d"${W}s" -s "$BENCH_LIB_DIR/bench_status.lua" -H "Host: $host" -H "$cookie" "$base/"
  profile_start dashboard "$D"
  measure_begin
  run_wrk dashboard -t"$T" -c"$C" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" -H "Host: $host" -H "$cookie" "$base/"
  measure_end "$WRK_CPU"
  profile_end dashboard "$PORTAL_PROFILE"
  dash_rps=$WRK_RPS dash_p99=$WRK_P99
  printf '   %-34s %s   p99 %s   (%s; server %s%% CPU, other %s%%)\n' "GET / (dashboard, logged in)" "$(fmt_rps "$WRK_RPS")" "$(fmt_ms "$WRK_P99")" \
    "$(describe_answers 200)" "$SERVER_CPU" "$OTHER_LOAD"

  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H "$cookie" "$base/invoices")
  if [ "$status" = 200 ]; then
    warm_wrk -t"$T" -c"$C" -d"${W}s" -s "$BENCH_LIB_DIR/bench_status.lua" -H "Host: $host" -H "$cookie" "$base/invoices"
    measure_begin
    run_wrk invoices -t"$T" -c"$C" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" -H "Host: $host" -H "$cookie" "$base/invoices"
    measure_end "$WRK_CPU"
    inv_rps=$WRK_RPS inv_p99=$WRK_P99
    printf '   %-34s %s   p99 %s   (%s; server %s%% CPU, other %s%%)\n' "GET /invoices (invoice list)" "$(fmt_rps "$WRK_RPS")" "$(fmt_ms "$WRK_P99")" \
      "$(describe_answers 200)" "$SERVER_CPU" "$OTHER_LOAD"
  else
    case "$status" in
      404) inv_note="GET /invoices answers 404: this build has no invoice list route yet" ;;
      403) inv_note="GET /invoices answers 403: $PORTAL_ROLE may not see invoices (choose another --role)" ;;
      30*) inv_note="GET /invoices answers $status: a redirect (to the login page?) instead of the list" ;;
      *) inv_note="GET /invoices answers $status instead of 200" ;;
    esac
    printf '   %-34s %10s         p99 %8s   (%s)\n' "GET /invoices (invoice list)" "n/a" "n/a" "$inv_note"
  fi

  local ratio verdict
  ratio=$(awk -v a="$dash_rps" -v b="$health_rps" 'BEGIN { printf "%.3f", a / b }')
  verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.25) ? "target met" : "target missed" }')
  echo
  echo "   dashboard / health requests/s: $ratio (target: at least 0.25) — $verdict"
  if [ -n "$inv_rps" ]; then
    echo "   invoices / health requests/s: $(awk -v a="$inv_rps" -v b="$health_rps" 'BEGIN { printf "%.3f", a / b }') (for reference)"
  fi

  # 4. The dashboard's p99 at a light load, quiet and then while a login storm runs.
  local L=$PORTAL_LIGHT_CONNECTIONS S=$PORTAL_STORM_CONNECTIONS
  local quiet_rps quiet_p99 storm_rps storm_p99
  echo
  measure_begin
  run_wrk dashboard-quiet -t1 -c"$L" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" -H "Host: $host" -H "$cookie" "$base/"
  measure_end "$WRK_CPU"
  quiet_rps=$WRK_RPS quiet_p99=$WRK_P99
  printf '   %-34s %s   p99 %s   (%s; server %s%% CPU, other %s%%)\n' "dashboard at -c$L, quiet" "$(fmt_rps "$WRK_RPS")" "$(fmt_ms "$WRK_P99")" \
    "$(describe_answers 200)" "$SERVER_CPU" "$OTHER_LOAD"

  local preload="" close=close how
  if [ "$PORTAL_STORM_ONE_ADDRESS" != 1 ]; then preload=$(build_source_address_preload); fi
  if [ -n "$preload" ]; then
    how="each attempt on a new connection from an address of its own\n      (127.77.0.0/16), so the per-IP throttle lets it through"
  else
    close=keep
    how="all from 127.0.0.1 on kept-alive connections:\n      the tenant's per-IP throttle answers 429 after its limit"
    if [ "$PORTAL_STORM_ONE_ADDRESS" != 1 ]; then how="$how (no gcc to build the source-address preload)"; fi
  fi
  local login_csrf
  login_csrf=$(curl -s -c - -H "Host: $host" "$base/login" -o /dev/null | awk '$6 == "sportello_csrf" { print $7 }')
  local storm_seconds=$((D + 2 * W + 1))
  measure_begin
  local storm_measure0=("$MEASURE_T0" "$MEASURE_MACHINE0" "$MEASURE_SERVER0") storm_cpu0
  children_cpu; storm_cpu0=$CHILDREN_CPU
  start_wrk "$PORTAL_WORK/storm.txt" env ${preload:+LD_PRELOAD=$preload} wrk --latency -t1 -c"$S" -d"${storm_seconds}s" \
    --timeout 60s -s "$BENCH_LIB_DIR/bench_login_storm.lua" "$base/login" -- "$host" "$login_csrf" "$password" "$good" "$bad" "$close"
  local storm_pid=$WRK_STARTED
  sleep "$W"
  run_wrk dashboard-storm -t1 -c"$L" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" -H "Host: $host" -H "$cookie" "$base/"
  storm_rps=$WRK_RPS storm_p99=$WRK_P99
  local dash_answers; dash_answers=$(describe_answers 200)
  wait "$storm_pid" || { echo "the storm's wrk failed:" >&2; cat "$PORTAL_WORK/storm.txt" >&2; return 1; }
  MEASURE_T0=${storm_measure0[0]} MEASURE_MACHINE0=${storm_measure0[1]} MEASURE_SERVER0=${storm_measure0[2]}
  children_cpu
  measure_end "$(awk -v a="$storm_cpu0" -v b="$CHILDREN_CPU" 'BEGIN { printf "%.2f", b - a }')"
  printf '   %-34s %s   p99 %s   (%s; server %s%% CPU, other %s%% over the storm)\n' "dashboard at -c$L, login storm" "$(fmt_rps "$storm_rps")" "$(fmt_ms "$storm_p99")" \
    "$dash_answers" "$SERVER_CPU" "$OTHER_LOAD"
  parse_wrk "$PORTAL_WORK/storm.txt"
  local storm_answers=$WRK_STATUSES
  if [ "$close" = close ]; then
    # wrk counts the end of each connection that "Connection: close" asked for as a read error: not one.
    local answered reads
    answered=$(echo "$WRK_STATUSES" | tr ' ' '\n' | awk -F= '{ n += $2 } END { print n + 0 }')
    reads=$(echo "$WRK_ERRORS" | sed -n 's/.*read \([0-9]*\).*/\1/p')
    if [ -n "$reads" ] && [ "$reads" -le "$answered" ] && [[ "$WRK_ERRORS" =~ ^connect\ 0,\ read\ [0-9]+,\ write\ 0,\ timeout\ 0$ ]]; then
      WRK_ERRORS=""
    fi
  fi
  printf '   %-34s %s   p99 %s   (answers: %s%s)\n' "the storm: POST /login at -c$S" "$(fmt_rps "$WRK_RPS")" "$(fmt_ms "$WRK_P99")" \
    "${storm_answers:-none}" "${WRK_ERRORS:+; socket errors: $WRK_ERRORS}"
  echo "      attempts in turn: right password of $(count_words "$good") users, wrong password of $(count_words "$bad") others (soon locked out by the"
  echo "      tenant's lockout, still checked), unknown identifier (decoy hash); bcrypt cost $cost;"
  echo -e "      303 = logged in, 401 = rejected, 429 = throttled; $how"
  local factor
  factor=$(awk -v a="$storm_p99" -v b="$quiet_p99" 'BEGIN { printf "%.2f", a / b }')
  verdict=$(awk -v f="$factor" 'BEGIN { print (f < 2) ? "target met" : "target missed" }')
  echo
  echo "   dashboard p99 during the login storm / quiet: $(awk -v v="$storm_p99" 'BEGIN { printf "%.2f", v }') ms / $(awk -v v="$quiet_p99" 'BEGIN { printf "%.2f", v }') ms = ${factor}× (target: under 2×) — $verdict"
  echo "   server memory after the run: $(server_memory)"
}

# Every list page of the portal for a logged-in user: "TENANT PATH" pairs, each measured at -c$PORTAL_CONNECTIONS for
# $PORTAL_PAGE_DURATION seconds against /health in the same run (target: at least 0.25× its requests/s).
PORTAL_PAGES=${PORTAL_PAGES:-"unidata /invoices
unidata /statement
windtre /requests
windtre /usage
windtre /lines
tim /lines
vela /records/policies
vela /records/claims
vela /requests"}
PORTAL_PAGE_DURATION=${PORTAL_PAGE_DURATION:-10}
PORTAL_MEMORY_TARGET_MIB=${PORTAL_MEMORY_TARGET_MIB:-150}

# `page_session TENANT PATH`: logs in as the first demo user of TENANT whose GET PATH answers 200 and prints
# "IDENTIFIER SESSION CSRF", or nothing when none does. Sessions are kept per user in $PORTAL_WORK/sessions.
page_session() {
  local tenant=$1 path=$2 password role type user session csrf status
  password=$(sed -n 's/.*(password for all: \(.*\))$/\1/p' "$SPORTELLO_PORTAL_LOGINS" | head -1)
  while read -r role type user; do
    [ -n "$user" ] || continue
    read -r session csrf < <(awk -v u="$user" '$1 == u { print $2, $3 }' "$PORTAL_WORK/sessions" 2>/dev/null) || true
    if [ -z "${session:-}" ]; then
      read -r session csrf < <(portal_login "$tenant.localhost" "$user" "$password" 2>/dev/null) || true
      [ -n "${session:-}" ] || continue
      echo "$user $session $csrf" >>"$PORTAL_WORK/sessions"
    fi
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $tenant.localhost:$PORTAL_PORT" \
      -H "Cookie: sportello_session=$session; sportello_csrf=$csrf" "http://127.0.0.1:$PORTAL_PORT$path")
    if [ "$status" = 200 ]; then echo "$user $session $csrf"; return 0; fi
    session=""
  done < <(demo_logins "$tenant")
}

# `bench_list_pages LABEL`: on the portal at $PORTAL_PID/$PORTAL_PORT, /health then every page of $PORTAL_PAGES.
bench_list_pages() {
  local label=$1 D=$PORTAL_PAGE_DURATION W=$PORTAL_WARMUP T=$PORTAL_THREADS C=$PORTAL_CONNECTIONS
  local base="http://127.0.0.1:$PORTAL_PORT" health_rps met=0 missed=0
  echo "   every list page on $label: wrk -t$T -c$C, ${D} s each after ${W} s of warm-up, as a demo user who may open it"
  warm_wrk -t"$T" -c"$C" -d"${W}s" -s "$BENCH_LIB_DIR/bench_status.lua" "$base/health"
  measure_begin
  run_wrk "health-$label" -t"$T" -c"$C" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" "$base/health"
  measure_end "$WRK_CPU"
  health_rps=$WRK_RPS
  printf '   %-34s %s   p99 %s   (%s; server %s%% CPU, other %s%%)\n' "GET /health" "$(fmt_rps "$WRK_RPS")" "$(fmt_ms "$WRK_P99")" \
    "$(describe_answers 200)" "$SERVER_CPU" "$OTHER_LOAD"
  local tenant path user session csrf ratio verdict name
  while read -r tenant path; do
    [ -n "$tenant" ] || continue
    user=""; read -r user session csrf < <(page_session "$tenant" "$path") || true
    if [ -z "$user" ]; then
      printf '   %-34s %10s         p99 %8s   (no demo user of %s opens it)\n' "$tenant $path" "n/a" "n/a" "$tenant"
      missed=$((missed + 1)); continue
    fi
    local headers=(-H "Host: $tenant.localhost:$PORTAL_PORT" -H "Cookie: sportello_session=$session; sportello_csrf=$csrf")
    name="page-$label-$tenant-$(echo "$path" | tr '/' '_')"
    warm_wrk -t"$T" -c"$C" -d"${W}s" -s "$BENCH_LIB_DIR/bench_status.lua" "${headers[@]}" "$base$path"
    profile_start "$name" "$D"
    measure_begin
    run_wrk "$name" -t"$T" -c"$C" -d"${D}s" -s "$BENCH_LIB_DIR/bench_status.lua" "${headers[@]}" "$base$path"
    measure_end "$WRK_CPU"
    profile_end "$name" "$PORTAL_PROFILE.$name"
    ratio=$(awk -v a="$WRK_RPS" -v b="$health_rps" 'BEGIN { printf "%.3f", a / b }')
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.25) ? "target met" : "target missed" }')
    if [ "$verdict" = "target met" ] && [ "$(describe_answers 200)" = "all 200" ]; then met=$((met + 1)); else missed=$((missed + 1)); fi
    printf '   %-34s %s   p99 %s   %.3f× health — %s (%s as %s; server %s%% CPU, other %s%%)\n' "$tenant $path" "$(fmt_rps "$WRK_RPS")" \
      "$(fmt_ms "$WRK_P99")" "$ratio" "$verdict" "$(describe_answers 200)" "$user" "$SERVER_CPU" "$OTHER_LOAD"
  done <<<"$PORTAL_PAGES"
  echo "   list pages on $label at least 0.25× /health: $met met, $missed missed"
  local rss_kib; rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PORTAL_PID/status")
  verdict=$(awk -v k="$rss_kib" -v t="$PORTAL_MEMORY_TARGET_MIB" 'BEGIN { print (k / 1024 < t) ? "target met" : "target missed" }')
  echo "   server memory after the pages on $label: $(server_memory) (target: VmRSS under $PORTAL_MEMORY_TARGET_MIB MiB) — $verdict"
}

# The list pages on a fresh SQLite portal and on a fresh PostgreSQL one (`bench_every_page [BCRYPT_COST]`).
bench_every_page() {
  local binary=.build/release/sportello cost=${1:-4}
  echo
  echo "== Portal: every list page, SQLite and PostgreSQL (release sportello serve, demo data, bcrypt cost $cost) =="
  if [ -z "${PORTAL_WORK:-}" ]; then
    PORTAL_WORK=$(mktemp -d /tmp/sportello-bench-portal.XXXXXX)
    CLEANUP+=("rm -rf $PORTAL_WORK")
    CLEANUP+=('for pid in ${PORTAL_WRK_PIDS:-}; do kill $pid 2>/dev/null; done')
  fi
  : >"$PORTAL_WORK/sessions"
  start_portal "$binary" "$cost"
  PORTAL_PID=$SPORTELLO_PORTAL_PID PORTAL_PORT=$SPORTELLO_PORTAL_PORT
  bench_list_pages SQLite
  kill "$PORTAL_PID" 2>/dev/null; wait "$PORTAL_PID" 2>/dev/null || true
  start_postgres  # a cluster of its own: the storage part's tables stay out of it
  : >"$PORTAL_WORK/sessions"
  SPORTELLO_PORTAL_DATABASE=$SPORTELLO_TEST_POSTGRES_URL start_portal "$binary" "$cost"
  PORTAL_PID=$SPORTELLO_PORTAL_PID PORTAL_PORT=$SPORTELLO_PORTAL_PORT
  bench_list_pages PostgreSQL
  kill "$PORTAL_PID" 2>/dev/null; wait "$PORTAL_PID" 2>/dev/null || true
}
