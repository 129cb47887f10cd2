#!/usr/bin/env bash
# Benchmarks kkt-update-server against nginx on loopback, same data, same wrk load,
# alternating, several rounds; prints one table with ratios ours/nginx, then start-up,
# memory, a 1,000,000-serial license file, and publish-to-offered times.
# Everything targets 127.0.0.1 and every run is bounded. See bench/README.md.
#
# The server alone is measured: each server is pinned to CPU 0 (ours then runs one worker,
# nginx runs worker_processes 1), wrk to CPU 1 with one thread, and the CPU time the server
# process(es) used (utime + stime from /proc) is divided by the requests answered. On two
# shared cores wrk's own cost would cap both servers and hide the difference.
#
#   bash bench/run.sh                      # defaults: 5 s per run, 3 rounds (median), access logs on
#   DURATION=10s ROUNDS=5 bash bench/run.sh
#   ACCESS_LOG=off bash bench/run.sh       # both servers without an access log
#   ONLY=tls DURATION=2s ROUNDS=1 bash bench/run.sh   # only the TLS section (bench/tls.sh)
#   ONLY=fleet bash bench/run.sh           # only the fleet end to end (bench/fleet.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
# The script reads the server's log lines ("listening on"): English, whatever the system says.
export KKT_LANGUAGE=en

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1}
ACCESS_LOG=${ACCESS_LOG:-on}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
CLK_TCK=$(getconf CLK_TCK)
SERIALS=${SERIALS:-1000000}
OUT=${OUT:-bench/results-latest.md}
# ONLY=<section> runs that section alone and prints its rows only (fleet: bench/fleet.sh);
# unset, every section runs. `want main` is every section that has no name of its own.
want() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }
case ${ONLY:-} in
  ''|tls|fleet) ;;
  *) echo "ONLY=$ONLY: no such section (tls or fleet; unset for every section)" >&2; exit 2 ;;
esac

# --- what it needs -------------------------------------------------------------------
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  echo "installing wrk and nginx (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
cargo build --release --quiet
BIN=$PWD/target/release/kkt-update-server

WORK=$(mktemp -d)
chmod 755 "$WORK"   # nginx workers run as an unprivileged user and must read the files
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if declare -F fleet_autogroup_restore >/dev/null; then fleet_autogroup_restore; fi
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# Starts our server with $1 = config; sets PORT and START_MS (spawn to listening).
start_ours() {
  local config=$1 log=$2 t0
  t0=$(now_ms)
  RUST_LOG=${LOG_LEVEL:-info} taskset -c "$SERVER_CPU" "$BIN" --config "$config" --listen 127.0.0.1:0 --admin-listen off 2>"$log" &
  OURS=$!
  PIDS+=("$OURS")
  for _ in $(seq 1 600); do
    grep -q '\] listening on ' "$log" && break
    sleep 0.01
  done
  START_MS=$(( $(now_ms) - t0 ))
  PORT=$(sed -n 's/.*\] listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
  [ -n "$PORT" ] || { cat "$log"; exit 1; }
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
nginx_pids() { local master; master=$(cat "$WORK/nginx.pid"); echo "$master"; pgrep -P "$master" || true; }
nginx_hwm_kb() { local t=0; for p in $(nginx_pids); do t=$(( t + $(hwm_kb "$p") )); done; echo "$t"; }
# CPU time (utime + stime, in clock ticks) of the given processes.
cpu_ticks() { local t=0 p; for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done; echo "$t"; }

# The TLS section (ours against nginx, full and resumed handshakes): tls_section, tls_table.
# shellcheck source=bench/tls.sh
source bench/tls.sh

# The fleet end to end: fleet_section, run before the table.
source bench/fleet.sh

# The sections against nginx and the rest, up to the fleet end to end (skipped by ONLY=...);
# the TLS section needs the data and the saved answers made first.
if want main || want tls; then
# --- the data: one 480 KB release, licenses, the exact answers as static files ----------
mkdir -p "$WORK/firmware/20250301" "$WORK/static/firmware/20250301"
head -c 491520 /dev/urandom >"$WORK/firmware/20250301/upd_app.bin"
head -c 491520 /dev/urandom >"$WORK/firmware/20250301/upd_app_for_old_frs.bin"
printf 'description: "Плановое обновление 20250301"\ncritical: false\n' >"$WORK/firmware/20250301/meta.yaml"
cp "$WORK/firmware/20250301/"*.bin "$WORK/static/firmware/20250301/"
python3 - "$WORK/licenses.slf" 1000 <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w", newline="") as f:
    for i in range(n):
        f.write("%016d\t%s\t%s\r\n" % (i + 1, ("%02x" % (i % 256)) * 64, "AB" * 64))
EOF
if [ "$ACCESS_LOG" = off ]; then OUR_ACCESS=off; NGINX_ACCESS=off; else OUR_ACCESS=$WORK/ours-access.log; NGINX_ACCESS=$WORK/nginx-access.log; fi
cat >"$WORK/server.yaml" <<EOF
firmware_dir: $WORK/firmware
licenses: [$WORK/licenses.slf]
settle_ms: 0
admin_listen: null
access_log: $OUR_ACCESS
EOF

start_ours "$WORK/server.yaml" "$WORK/ours.log"
OURS_PORT=$PORT
OURS_PID=$OURS
STARTUP_MS=$START_MS
sleep 0.5
IDLE_RSS_KB=$(rss_kb "$OURS")

BODY_CHECK='{"build_date": "28.12.2017"}'
BODY_LICENSE='{"serial": "0000000000000777"}'
curl -s -X POST -H "Host: 127.0.0.1:$OURS_PORT" -d "$BODY_CHECK" "http://127.0.0.1:$OURS_PORT/check_firmware" >"$WORK/static/check_firmware.json"
curl -s -X POST -d "$BODY_LICENSE" "http://127.0.0.1:$OURS_PORT/feature_licenses" >"$WORK/static/feature_licenses.json"
grep -q '"update_available": true' "$WORK/static/check_firmware.json" || { echo "unexpected answer"; cat "$WORK/static/check_firmware.json"; exit 1; }

# ONLY=tls: the TLS section alone and its rows, for working on it.
if [ "${ONLY:-}" = tls ]; then
  tls_section
  tls_table | tee "$OUT"
  exit 0
fi

NGINX_PORT=$(free_port)
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
daemon on;
events { worker_connections 4096; }
http {
    access_log $NGINX_ACCESS;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    types { application/json json; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/static;
    }
}
EOF
taskset -c "$SERVER_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK"
sleep 0.3

cat >"$WORK/post_check.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY_CHECK'
wrk.headers["Content-Type"] = "application/json"
EOF
cat >"$WORK/post_license.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY_LICENSE'
wrk.headers["Content-Type"] = "application/json"
EOF
cat >"$WORK/range.lua" <<'EOF'
wrk.headers["Range"] = "bytes=1000-50999"
EOF
cat >"$WORK/random_serial.lua" <<EOF
math.randomseed(42)
request = function()
  local body = string.format('{"serial": %d}', math.random(1, $SERIALS))
  return wrk.format("POST", "/feature_licenses", {["Content-Type"] = "application/json"}, body)
end
EOF

# Runs wrk pinned to LOAD_CPU against the server whose processes are $PIDS_UNDER_TEST;
# prints "req/s p50_ms p99_ms cpu_us_per_request".
run_wrk() {
  local conns=$1 url=$2 script=${3:-}
  local args=(-t"$THREADS" -c"$conns" -d"$DURATION" --latency --timeout 10s)
  [ -n "$script" ] && args+=(-s "$script")
  local before after
  # shellcheck disable=SC2086
  before=$(cpu_ticks $PIDS_UNDER_TEST)
  taskset -c "$LOAD_CPU" wrk "${args[@]}" "$url" >"$WORK/wrk.out"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $PIDS_UNDER_TEST)
  awk -v url="$url" -v ticks=$(( after - before )) -v hz="$CLK_TCK" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /^Requests\/sec/ {rps=$2}
    / requests in / {n=$1}
    /Non-2xx or 3xx responses/ {bad=$NF}
    /Socket errors/ {errors=$0}
    END {
      if (bad > 0) { print "wrk: " bad " non-2xx answers from " url > "/dev/stderr"; exit 1 }
      if (errors != "") print "wrk: " errors " (" url ")" > "/dev/stderr"
      printf "%.0f %.3f %.3f %.2f\n", rps, p50, p99, (n > 0 ? ticks * 1000000 / hz / n : 0)
    }' "$WORK/wrk.out"
}

declare -A ROUND_VALUES
workloads=(check license download range)
conn_levels=(64 256)
for round in $(seq 1 "$ROUNDS"); do
  for w in "${workloads[@]}"; do
    for c in "${conn_levels[@]}"; do
      case $w in
        check)    ours=("http://127.0.0.1:$OURS_PORT/check_firmware" "$WORK/post_check.lua")
                  theirs=("http://127.0.0.1:$NGINX_PORT/check_firmware.json" "") ;;
        license)  ours=("http://127.0.0.1:$OURS_PORT/feature_licenses" "$WORK/post_license.lua")
                  theirs=("http://127.0.0.1:$NGINX_PORT/feature_licenses.json" "") ;;
        download) ours=("http://127.0.0.1:$OURS_PORT/firmware/20250301/upd_app.bin" "")
                  theirs=("http://127.0.0.1:$NGINX_PORT/firmware/20250301/upd_app.bin" "") ;;
        range)    ours=("http://127.0.0.1:$OURS_PORT/firmware/20250301/upd_app.bin" "$WORK/range.lua")
                  theirs=("http://127.0.0.1:$NGINX_PORT/firmware/20250301/upd_app.bin" "$WORK/range.lua") ;;
      esac
      # Alternate which server goes first, round by round.
      if (( round % 2 )); then order=(ours nginx); else order=(nginx ours); fi
      for who in "${order[@]}"; do
        if [ "$who" = ours ]; then
          PIDS_UNDER_TEST=$OURS_PID
          read -r rps p50 p99 cpu < <(run_wrk "$c" "${ours[0]}" "${ours[1]}")
        else
          PIDS_UNDER_TEST=$(nginx_pids | tr '\n' ' ')
          read -r rps p50 p99 cpu < <(run_wrk "$c" "${theirs[0]}" "${theirs[1]}")
        fi
        key="$w/$c/$who"
        ROUND_VALUES[$key.rps]+=" $rps" ROUND_VALUES[$key.p50]+=" $p50"
        ROUND_VALUES[$key.p99]+=" $p99" ROUND_VALUES[$key.cpu]+=" $cpu"
        echo "round $round  $w  c=$c  $who: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu us CPU/request" >&2
      done
    done
  done
done
OURS_PEAK_KB=$(hwm_kb "$OURS")
NGINX_PEAK_KB=$(nginx_hwm_kb)

# --- 1,000,000 serials -------------------------------------------------------------------
python3 - "$WORK/big.slf" "$SERIALS" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
lic, sig = "ff" * 64, "0123456789ABCDEF" * 8
with open(path, "w", newline="") as f:
    f.writelines("%016d\t%s\t%s\r\n" % (i, lic, sig) for i in range(1, n + 1))
EOF
cat >"$WORK/big.yaml" <<EOF
firmware_dir: $WORK/firmware
licenses: [$WORK/big.slf]
settle_ms: 0
admin_listen: null
EOF
LOG_LEVEL=info,kkt_update_server::reload::reloader=debug start_ours "$WORK/big.yaml" "$WORK/big.log"
BIG_PID=$OURS
BIG_PORT=$PORT
BIG_LOAD_MS=$START_MS
BIG_RSS_KB=$(rss_kb "$BIG_PID")
PIDS_UNDER_TEST=$BIG_PID
read -r BIG_RPS BIG_P50 BIG_P99 _ < <(run_wrk 64 "http://127.0.0.1:$BIG_PORT/feature_licenses" "$WORK/random_serial.lua")
# The same load while the file is reloaded every 2 s (touch: new mtime, so it is read again).
( end=$(( $(now_ms) + ${DURATION%s} * 1000 )); while (( $(now_ms) < end )); do sleep 1; touch "$WORK/big.slf"; sleep 1; done ) &
TOUCHER=$!
read -r BIG_RPS_R BIG_P50_R BIG_P99_R _ < <(run_wrk 64 "http://127.0.0.1:$BIG_PORT/feature_licenses" "$WORK/random_serial.lua")
wait "$TOUCHER" || true
RELOADS=$(grep -c 'rescanned after\|reloaded after' "$WORK/big.log" || true)
BIG_PEAK_KB=$(hwm_kb "$BIG_PID")
kill "$BIG_PID"

# --- publish to offered ---------------------------------------------------------------------
publish_ms() {
  local settle=$1 pinned=$2 version=$3
  cat >"$WORK/pub.yaml" <<EOF
firmware_dir: $WORK/firmware
settle_ms: $settle
admin_listen: null
EOF
  start_ours "$WORK/pub.yaml" "$WORK/pub-$version.log"
  local pid=$OURS port=$PORT staged="$WORK/firmware/.staging-$version"
  mkdir -p "$staged"
  cp "$WORK/firmware/20250301/"*.bin "$staged/"
  if [ "$pinned" = yes ]; then
    (cd "$staged" && printf 'sha256:\n' >meta.yaml && sha256sum upd_app.bin upd_app_for_old_frs.bin | awk '{print "  " $2 ": " $1}' >>meta.yaml)
  fi
  sleep $(( settle / 1000 + 1 ))   # let the staged copy settle, as an operator's copy would
  local t0; t0=$(now_ms)
  mv "$staged" "$WORK/firmware/$version"
  until curl -s -X POST -d "$BODY_CHECK" "http://127.0.0.1:$port/check_firmware" | grep -q "\"version\": $version"; do sleep 0.005; done
  echo $(( $(now_ms) - t0 ))
  kill "$pid"
}
MV_DEFAULT_MS=$(publish_ms 1000 no 20250401)
MV_PINNED_MS=$(publish_ms 1000 yes 20250501)

# --- fleet memory: inventory on (the default, above) against off ----------------------------
sed 's/^access_log:.*/&\ninventory: off/' "$WORK/server.yaml" >"$WORK/noinv.yaml"
start_ours "$WORK/noinv.yaml" "$WORK/noinv.log"
NOINV_PID=$OURS
PIDS_UNDER_TEST=$NOINV_PID
read -r NOINV_RPS _ _ NOINV_CPU < <(run_wrk 64 "http://127.0.0.1:$PORT/check_firmware" "$WORK/post_check.lua")
kill "$NOINV_PID"
# The server with inventory on, measured again right after (pinned, same load).
PIDS_UNDER_TEST=$OURS_PID
read -r INV_RPS _ _ INV_CPU < <(run_wrk 64 "http://127.0.0.1:$OURS_PORT/check_firmware" "$WORK/post_check.lua")

# A store holding a million registers: start-up, memory, and the below-critical query.
DEVICES=${DEVICES:-1000000}
python3 - "$WORK/big-inventory.sqlite" "$DEVICES" migrations/sqlite/0001_inventory.sql <<'PY'
import sqlite3, sys, random
path, n, schema = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read()
db = sqlite3.connect(path)
db.executescript(schema)
db.execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
db.execute("INSERT INTO schema_migrations VALUES (1, 0)")
random.seed(7)
builds = [20230119, 20221228, 20240301, 20250115, 20250301]
now = 1764000000
rows = ((f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", now - 86400 * 30, now - random.randrange(86400 * 60),
         "JavaPOS", random.choice(builds), 20250301) for i in range(n))
db.executemany("INSERT INTO devices (address, first_seen, last_seen, user_agent, build_date, offered) VALUES (?, ?, ?, ?, ?, ?)", rows)
db.commit()
db.execute("PRAGMA journal_mode = WAL")
db.close()
PY
cat >"$WORK/biginv.yaml" <<YAML
firmware_dir: $WORK/firmware
settle_ms: 0
critical_version: 20250101
inventory: sqlite:$WORK/big-inventory.sqlite
inventory_retention_days: 36500
access_log: "off"
YAML
# start_ours turns the admin listener off; this one needs it.
t0=$(now_ms)
RUST_LOG=info taskset -c "$SERVER_CPU" "$BIN" --config "$WORK/biginv.yaml" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 2>"$WORK/biginv.log" &
BIGINV_PID=$!
PIDS+=("$BIGINV_PID")
for _ in $(seq 1 3000); do grep -q '\] listening on ' "$WORK/biginv.log" && break; sleep 0.01; done
BIGINV_START_MS=$(( $(now_ms) - t0 ))
BIGINV_RSS_KB=$(rss_kb "$BIGINV_PID")
ADMIN_PORT=$(sed -n 's/.*admin listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/biginv.log" | head -n1)
BELOW=$(python3 - "$ADMIN_PORT" <<'PY'
import sys, time, urllib.request, json
url = f"http://127.0.0.1:{sys.argv[1]}/devices?below_critical=1&limit=100"
best = None
for _ in range(5):
    t = time.perf_counter(); body = urllib.request.urlopen(url).read(); ms = (time.perf_counter() - t) * 1000
    best = ms if best is None else min(best, ms)
print("%.0f %d" % (best, json.loads(body)["total"]))
PY
)
kill "$BIGINV_PID"

# --- lines and a rollout: check_firmware with two lines and a rollout active ----------------
# The same load from 10,000 register addresses (X-Forwarded-For from a trusted 127.0.0.1),
# against the plain layout and against two lines whose newest C.3 release is under a
# self-driving rollout (stage 1 of 2 at 50 %, an hourly cap, a pilot network, a deadline)
# with a floor below it (C.3/20221228): each request finds its line, the floor above its
# build, and asks the admissions memory for the current stage. Both with the inventory on
# and no access log.
mkdir -p "$WORK/plain/20250301" "$WORK/lines/C.1/20230119" "$WORK/lines/C.3/20221228" "$WORK/lines/C.3/20250301"
for d in plain/20250301 lines/C.1/20230119 lines/C.3/20221228 lines/C.3/20250301; do
  cp "$WORK/firmware/20250301/"*.bin "$WORK/$d/"
done
printf 'known_builds: [20220601]\n' >"$WORK/lines/C.1/line.yaml"
printf 'known_builds: [20171228, 20220915]\n' >"$WORK/lines/C.3/line.yaml"
printf 'rollout:\n  stages:\n    - {percent: 50, soak: 7d}\n    - {percent: 100}\n  max_new_per_hour: 1000000\n  deadline: 2030-12-31\n  pilot: [192.0.2.0/24]\n' >"$WORK/lines/C.3/20250301/meta.yaml"
printf 'floor: true\n' >"$WORK/lines/C.3/20221228/meta.yaml"
for variant in plain lines; do
  dir=$WORK/$variant
  cat >"$WORK/$variant.yaml" <<YAML
firmware_dir: $dir
settle_ms: 0
admin_listen: null
access_log: "off"
trusted_proxies: [127.0.0.1]
inventory: sqlite:$WORK/$variant-inventory.sqlite
YAML
done
cat >"$WORK/fleet_check.lua" <<'LUA'
math.randomseed(7)
request = function()
  local i = math.random(0, 9999)
  local headers = {["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", 50 + math.floor(i / 65536), math.floor(i / 256) % 256, i % 256)}
  return wrk.format("POST", "/check_firmware", headers, '{"build_date": "28.12.2017"}')
end
LUA
# Both servers run side by side (each pinned to the server CPU, only one under load at a
# time) and the measured runs alternate plain / lines / lines / plain ... over FLEET_ROUNDS
# rounds: on a shared VM a single run of each drifts by 15 % from minute to minute, more than
# the difference being measured. The totals are summed over the rounds; user and system CPU
# are shown apart (the system part is mostly the kernel's loopback TCP, the same for both).
FLEET_ROUNDS=${FLEET_ROUNDS:-6}
declare -A FLEET_PID FLEET_PORT FLEET_N FLEET_UTICKS FLEET_STICKS FLEET_RPS FLEET_P99 FLEET_RATIOS
for variant in plain lines; do
  start_ours "$WORK/$variant.yaml" "$WORK/$variant.log"
  FLEET_PID[$variant]=$OURS FLEET_PORT[$variant]=$PORT
  answer=$(curl -s -X POST -H 'X-Forwarded-For: 192.0.2.1' -d "$BODY_CHECK" "http://127.0.0.1:$PORT/check_firmware")
  # The pilot on 20171228 is offered the floor of C.3 in the lines layout.
  grep -Eq '"version": (20250301|20221228)' <<<"$answer" || { echo "unexpected $variant answer: $answer"; exit 1; }
  # A warm-up run admits the addresses the rollout lets in; the measured runs are the steady state.
  PIDS_UNDER_TEST=$OURS run_wrk 64 "http://127.0.0.1:$PORT/check_firmware" "$WORK/fleet_check.lua" >/dev/null
  FLEET_N[$variant]=0 FLEET_UTICKS[$variant]=0 FLEET_STICKS[$variant]=0 FLEET_RPS[$variant]=0 FLEET_P99[$variant]=0
done
# utime and stime (clock ticks) of one process.
cpu_split() { awk '{print $14, $15}' "/proc/$1/stat"; }
fleet_order=(plain lines)
for round in $(seq 1 "$FLEET_ROUNDS"); do
  declare -A round_cpu=()
  for variant in "${fleet_order[@]}"; do
    pid=${FLEET_PID[$variant]}
    read -r u0 s0 < <(cpu_split "$pid")
    read -r rps _ p99 _ < <(PIDS_UNDER_TEST=$pid run_wrk 64 "http://127.0.0.1:${FLEET_PORT[$variant]}/check_firmware" "$WORK/fleet_check.lua")
    read -r u1 s1 < <(cpu_split "$pid")
    n=$(awk '/ requests in / {print $1}' "$WORK/wrk.out")
    FLEET_N[$variant]=$(( FLEET_N[$variant] + n ))
    FLEET_UTICKS[$variant]=$(( FLEET_UTICKS[$variant] + u1 - u0 ))
    FLEET_STICKS[$variant]=$(( FLEET_STICKS[$variant] + s1 - s0 ))
    FLEET_RPS[$variant]=$(python3 -c "print(${FLEET_RPS[$variant]} + $rps / $FLEET_ROUNDS)")
    FLEET_P99[$variant]=$(python3 -c "print(${FLEET_P99[$variant]} + $p99 / $FLEET_ROUNDS)")
    round_cpu[$variant]=$(python3 -c "print(($u1 - $u0 + $s1 - $s0) * 1e6 / $CLK_TCK / max($n, 1))")
  done
  FLEET_RATIOS[$round]=$(python3 -c "print('%.2f' % (${round_cpu[lines]} / max(${round_cpu[plain]}, 1e-9)))")
  fleet_order=("${fleet_order[1]}" "${fleet_order[0]}")
done
kill "${FLEET_PID[plain]}" "${FLEET_PID[lines]}"
# The callgrind runs below reuse their inventories (every address seen and admitted: the
# steady state), so they wait for both to be closed.
wait "${FLEET_PID[plain]}" "${FLEET_PID[lines]}" 2>/dev/null || true
fleet_us() { python3 -c "print('%.2f' % ($1 * 1e6 / $CLK_TCK / max(${FLEET_N[$2]}, 1)))"; }

# --- instructions per request (callgrind): lines, stages and a floor against plain --------
# Steadier than CPU time on a shared VM: each layout runs under callgrind twice, answering
# CG_FEW and then CG_MANY check_firmware requests (the same fleet of addresses, one
# keep-alive connection), and the difference of the two totals over the difference of the
# counts is the cost of one request with its start-up and shutdown taken out (the inventory
# writer's batches included, as in production). The inventories are the fleet runs' own, so
# every address is known and admitted: the steady state, as above.
CG_FEW=${CG_FEW:-300}
CG_MANY=${CG_MANY:-1300}
cg_requests() {
  python3 - "$1" "$2" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for k in range(n):
    i = (k * 7919) % 10000
    xff = "10.%d.%d.%d" % (50 + i // 65536, (i // 256) % 256, i % 256)
    conn.request("POST", "/check_firmware", body='{"build_date": "28.12.2017"}',
                 headers={"Content-Type": "application/json", "X-Forwarded-For": xff})
    r = conn.getresponse(); r.read()
    assert r.status == 200, r.status
PY
}
# Prints the instructions callgrind counted for a run of $2 requests against layout $1.
cg_total() {
  local variant=$1 n=$2 log=$WORK/cg-$1-$2.log out=$WORK/cg-$1-$2.out port pid
  RUST_LOG=info taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" --config "$WORK/$variant.yaml" \
    --listen 127.0.0.1:0 --admin-listen off 2>"$log" &
  pid=$!
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*\] listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; exit 1; }
  cg_requests "$port" "$n"
  kill -TERM "$pid"; wait "$pid" || true
  awk '/^totals:/ {print $2}' "$out"
}
CG_OK=0
if command -v valgrind >/dev/null; then
  CG_OK=1
  for variant in plain lines; do
    few=$(cg_total "$variant" "$CG_FEW"); many=$(cg_total "$variant" "$CG_MANY")
    eval "CG_${variant}=$(python3 -c "print(round(($many - $few) / ($CG_MANY - $CG_FEW)))")"
  done
else
  echo "valgrind not installed: no instruction counts (apt-get install valgrind)" >&2
fi
for variant in plain lines; do
  eval "FLEET_${variant}_USER=$(fleet_us "${FLEET_UTICKS[$variant]}" "$variant")"
  eval "FLEET_${variant}_SYS=$(fleet_us "${FLEET_STICKS[$variant]}" "$variant")"
  eval "FLEET_${variant}_CPU=$(fleet_us "$(( FLEET_UTICKS[$variant] + FLEET_STICKS[$variant] ))" "$variant")"
  eval "FLEET_${variant}_RPS=${FLEET_RPS[$variant]}"
done
FLEET_ROUND_RATIOS=$(for r in $(seq 1 "$FLEET_ROUNDS"); do printf '%sx\n' "${FLEET_RATIOS[$r]}"; done | paste -sd' ')
fi  # want main

# --- the fleet end to end (bench/fleet.sh) ---------------------------------------------------
if want fleet; then fleet_section; fi

# --- TLS: ours against nginx, full and resumed handshakes (bench/tls.sh) --------------------
if want main; then tls_section; fi

# --- the table ------------------------------------------------------------------------------
# The median of the rounds (their mean with two): a round disturbed by the machine (seen:
# one 480 KB download round at 197 us of CPU per request among rounds of 110-117) does not
# move the figure; every round is in the log.
median() { python3 -c "import statistics, sys; print(statistics.median(float(v) for v in sys.argv[1:]) if len(sys.argv) > 1 else 0)" ${ROUND_VALUES[$1]:-}; }
{
  echo "## Run of $(date -u +%Y-%m-%d) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo
  if want main; then
  echo "Pinned: each server on CPU $SERVER_CPU (ours: one worker; nginx: worker_processes 1), wrk -t$THREADS on CPU $LOAD_CPU;"
  echo "-d$DURATION per run, $ROUNDS rounds alternating which server goes first; median of rounds. Access logs: $ACCESS_LOG (both, to files)."
  echo "CPU us/req: utime + stime of the server's processes during the run, over the requests answered."
  echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') serves the same bytes from files (GET); ours answers the POSTs."
  echo
  echo "| workload | conns | ours req/s | nginx req/s | ratio | ours CPU us/req | nginx CPU us/req | CPU ratio | ours p99 ms | nginx p99 ms | p99 ratio |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for w in "${workloads[@]}"; do
    for c in "${conn_levels[@]}"; do
      o=$(median "$w/$c/ours.rps"); n=$(median "$w/$c/nginx.rps")
      oc=$(median "$w/$c/ours.cpu"); nc=$(median "$w/$c/nginx.cpu")
      o99=$(median "$w/$c/ours.p99"); n99=$(median "$w/$c/nginx.p99")
      python3 -c "print('| $w | $c | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx | %.2f | %.2f | %.2fx |' % ($o, $n, $o/max($n,1), $oc, $nc, $oc/max($nc,1e-9), $o99, $n99, $o99/max($n99,1e-9)))"
    done
  done
  echo
  echo "Each round's req/s, ours / nginx:"
  for w in "${workloads[@]}"; do
    for c in "${conn_levels[@]}"; do
      echo "$w c=$c: $(paste -d/ <(tr ' ' '\n' <<<"${ROUND_VALUES[$w/$c/ours.rps]# }") <(tr ' ' '\n' <<<"${ROUND_VALUES[$w/$c/nginx.rps]# }") | paste -sd' ')."
    done
  done
  # TLS (bench/tls.sh): ours against nginx with the same certificate.
  echo
  tls_table
  echo
  echo "| measure | ours | nginx |"
  echo "| --- | ---: | ---: |"
  echo "| peak RSS over the whole load | $(( OURS_PEAK_KB / 1024 )) MB | $(( NGINX_PEAK_KB / 1024 )) MB (all processes) |"
  echo "| idle RSS after start-up | $(( IDLE_RSS_KB / 1024 )) MB | |"
  echo "| start-up to listening | $STARTUP_MS ms | |"
  echo
  echo "| $SERIALS-serial .slf ($(du -m "$WORK/big.slf" | cut -f1) MB) | value |"
  echo "| --- | ---: |"
  echo "| load (start-up to listening) | $BIG_LOAD_MS ms |"
  echo "| RSS after load | $(( BIG_RSS_KB / 1024 )) MB (peak $(( BIG_PEAK_KB / 1024 )) MB) |"
  echo "| random-serial lookups, c=64 | $BIG_RPS req/s, p50 $BIG_P50 ms, p99 $BIG_P99 ms |"
  echo "| the same during reloads every 2 s ($RELOADS reloads) | $BIG_RPS_R req/s, p50 $BIG_P50_R ms, p99 $BIG_P99_R ms |"
  python3 -c "print('| p99 during reload / before | %.2fx |' % ($BIG_P99_R / max($BIG_P99, 1e-9)))"
  echo
  echo "| fleet memory | value |"
  echo "| --- | ---: |"
  python3 -c "print('| check_firmware c=64, inventory on (SQLite) | %.0f req/s, %.1f us CPU/req |' % ($INV_RPS, $INV_CPU))"
  python3 -c "print('| check_firmware c=64, inventory off | %.0f req/s, %.1f us CPU/req |' % ($NOINV_RPS, $NOINV_CPU))"
  python3 -c "print('| CPU per request, on / off | %.2fx |' % ($INV_CPU / max($NOINV_CPU, 1e-9)))"
  echo "| $DEVICES registers in the store: start-up to listening (fleet view loaded) | $BIGINV_START_MS ms |"
  echo "| RSS after that start-up | $(( BIGINV_RSS_KB / 1024 )) MB |"
  echo "| /devices?below_critical=1&limit=100, best of 5 (total ${BELOW#* }) | ${BELOW% *} ms |"
  echo
  echo "| check_firmware from 10,000 addresses, c=64 | value |"
  echo "| --- | ---: |"
  for variant in plain lines; do
    case $variant in plain) what="plain layout" ;; lines) what="two lines, C.3 under a staged rollout (stage 1 at 50 %, hourly cap, pilot, deadline) above a floor" ;; esac
    eval "rps=\$FLEET_${variant}_RPS cpu=\$FLEET_${variant}_CPU user=\$FLEET_${variant}_USER sys=\$FLEET_${variant}_SYS"
    python3 -c "print('| %s | %.0f req/s, p99 %.2f ms, %.2f us CPU/req (user %.2f + system %.2f) |' % ('$what', $rps, ${FLEET_P99[$variant]}, $cpu, $user, $sys))"
  done
  python3 -c "print('| CPU per request, lines and rollout / plain, $FLEET_ROUNDS alternating rounds | %.2fx (user %.2fx; rounds: $FLEET_ROUND_RATIOS) |' % ($FLEET_lines_CPU / max($FLEET_plain_CPU, 1e-9), $FLEET_lines_USER / max($FLEET_plain_USER, 1e-9)))"
  if [ "$CG_OK" = 1 ]; then
    python3 -c "print('| instructions per request (callgrind, $CG_MANY minus $CG_FEW requests), plain / lines | %d / %d: %.3fx |' % ($CG_plain, $CG_lines, $CG_lines / max($CG_plain, 1)))"
  fi
  echo
  echo "| publish (mv of a staged folder) to offered | ms |"
  echo "| --- | ---: |"
  echo "| settle_ms 1000, not pinned | $MV_DEFAULT_MS |"
  echo "| sha256-pinned | $MV_PINNED_MS |"
  fi  # want main
  if want fleet; then
    if want main; then echo; fi
    cat "$WORK/fleet.md"
  fi
} | tee "$OUT"
echo "written to $OUT"
