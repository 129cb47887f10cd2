# shellcheck shell=bash
# The fleet end to end (issue 27, item 3), sourced by bench/run.sh: FLEET_REGISTERS
# registers (100,000), each its own 127.0.0.0/8 source address, polling check_firmware on
# a new connection each time, against the same server with everything off (OFF) and with
# everything on (ON): the inventory in SQLite, then in a PostgreSQL this section starts,
# an access log, two lines whose newest C.3 release is under a staged self-driving rollout
# above a floor, and a groups file whose networks cover every register. The load is
# fleet-load (crates/fleet-load: wrk cannot bind source addresses). See bench/README.md.
#
# Uses run.sh's BIN, WORK, PIDS, SERVER_CPU, LOAD_CPU, CLK_TCK, now_ms, hwm_kb. Writes its
# rows to $WORK/fleet.md for run.sh's final table.
#
#   ONLY=fleet bash bench/run.sh                                   # this section alone
#   ONLY=fleet FLEET_REGISTERS=5000 FLEET_DURATION=5s bash bench/run.sh   # a quick look

FLEET_REGISTERS=${FLEET_REGISTERS:-100000}
FLEET_DURATION=${FLEET_DURATION:-20s}
# Read when run.sh sources this file, before its lines-and-rollout section gives
# FLEET_ROUNDS its own default (6); both sections honour a FLEET_ROUNDS set by the caller.
FLEET_E2E_ROUNDS=${FLEET_ROUNDS:-3}
FLEET_CONNECTIONS=${FLEET_CONNECTIONS:-64}
FLEET_SOURCE_BASE=${FLEET_SOURCE_BASE:-127.1.0.1}
# Groups of one /24 each, from the source base's /24 on: 400 cover 101,600 registers.
FLEET_GROUPS=${FLEET_GROUPS:-400}
# The load client: built from crates/fleet-load unless FLEET_LOAD names one.
FLEET_LOAD_BUILD=${FLEET_LOAD:+no}
FLEET_LOAD=${FLEET_LOAD:-$PWD/target/release/fleet-load}
# Where PostgreSQL runs (taskset -c): with the server, by default (see fleet_start_postgres).
FLEET_PG_CPU=${FLEET_PG_CPU:-$SERVER_CPU}
# Extra settings for PostgreSQL, e.g. "-c log_min_duration_statement=5" to see its slow
# statements in $WORK/pg.log (with KEEP_WORK=1).
FLEET_PG_OPTIONS=${FLEET_PG_OPTIONS:-}
# After each measured run of an ON server, its writer is given this long (seconds) to write
# what waits; its CPU is counted until then (the writes are part of the cost).
FLEET_DRAIN=${FLEET_DRAIN:-60}
# The warm-up's registers per slice (each slice written to the store before the next).
FLEET_WARMUP_SLICE=${FLEET_WARMUP_SLICE:-10000}

# Linux's autogroup scheduling (kernel.sched_autogroup_enabled, on by default in Debian)
# shares a core fairly between sessions rather than between processes, and every
# PostgreSQL backend runs in a session of its own (it calls setsid). Measured on this
# machine beside a server saturating its core with new connections: a CPU loop in a
# session of its own got 0.17 s of CPU in 6.5 s (0.19 s in 0.47 s in the server's
# session), and the writer's statement for 5,000 registers took 3 to 9 s instead of 90 ms,
# so the writer fell behind for want of the database's CPU, not of its own. Off for this
# section when we may (root), restored at its end or by run.sh's cleanup; FLEET_AUTOGROUP=keep
# leaves the machine's setting. The OFF and SQLite servers run one process, unaffected.
FLEET_AUTOGROUP=${FLEET_AUTOGROUP:-off}
FLEET_AUTOGROUP_FILE=/proc/sys/kernel/sched_autogroup_enabled
FLEET_AUTOGROUP_RESTORE=
fleet_autogroup_off() {
  [ "$FLEET_AUTOGROUP" = off ] && [ "$(cat "$FLEET_AUTOGROUP_FILE" 2>/dev/null)" = 1 ] || return 0
  if { echo 0 >"$FLEET_AUTOGROUP_FILE"; } 2>/dev/null; then
    FLEET_AUTOGROUP_RESTORE=1
    echo "fleet: kernel.sched_autogroup_enabled set to 0 for this section (restored at its end)" >&2
  else
    echo "fleet: kernel.sched_autogroup_enabled is 1 and cannot be changed here: PostgreSQL's backends may be starved beside the server" >&2
  fi
}
fleet_autogroup_restore() {
  [ -n "$FLEET_AUTOGROUP_RESTORE" ] || return 0
  echo 1 >"$FLEET_AUTOGROUP_FILE" || true
  FLEET_AUTOGROUP_RESTORE=
}

# Waits (at most 90 s) until the kernel holds fewer than 2,000 sockets in TIME_WAIT, so that
# every measured run starts as the first does. A run holds up to 131,072 of them for 60 s
# (`tcp_max_tw_buckets`; the server closes first), and a server measured right after itself
# (the order reverses every round) answered up to 40 % fewer polls at up to 60 % more CPU
# each (seen: OFF at 18,038, 15,478 and 10,811 req/s in three rounds).
fleet_quiet_sockets() {
  local end=$(( $(now_ms) + 90000 ))
  while (( $(now_ms) < end )); do
    (( $(ss -Htan state time-wait | wc -l) < 2000 )) && return 0
    sleep 1
  done
  echo "fleet: still $(ss -Htan state time-wait | wc -l) sockets in TIME_WAIT after 90 s; measuring anyway" >&2
}

# utime + stime (clock ticks) of one process; 0 if it is gone.
fleet_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# CPU ticks of a PostgreSQL: the postmaster, its live children, and the children it has
# reaped (cutime + cstime), so that backends and autovacuum workers that came and went
# during a run are counted too.
fleet_pg_ticks() {
  local master=$1 t p
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$master/stat")
  for p in $(pgrep -P "$master" || true); do t=$(( t + $(fleet_ticks "$p") )); done
  echo "$t"
}

# The address of register $2 counted from $1 as fleet-load counts them (skipping .0, .255).
fleet_nth_address() {
  python3 - "$1" "$2" <<'PY'
import ipaddress, sys
a, n = int(ipaddress.IPv4Address(sys.argv[1])), int(sys.argv[2])
while a & 255 in (0, 255):
    a += 1
while n > 0:
    a += 1
    if a & 255 not in (0, 255):
        n -= 1
print(ipaddress.IPv4Address(a))
PY
}

# One value (key=value) of fleet-load's output line.
fleet_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# Starts a server pinned to SERVER_CPU with config $1, log $2, admin listener $3 (on|off);
# sets FS_PID, FS_PORT and FS_ADMIN.
fleet_start() {
  local config=$1 log=$2 admin=off
  [ "$3" = on ] && admin=127.0.0.1:0
  RUST_LOG=info taskset -c "$SERVER_CPU" "$BIN" --config "$config" --listen 127.0.0.1:0 --admin-listen "$admin" 2>"$log" &
  FS_PID=$!
  PIDS+=("$FS_PID")
  for _ in $(seq 1 3000); do
    grep -q '\] listening on ' "$log" && { [ "$3" = off ] || grep -q 'admin listening on ' "$log"; } && break
    sleep 0.01
  done
  FS_PORT=$(sed -n 's/.*\] listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
  FS_ADMIN=$(sed -n 's/.*admin listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
  [ -n "$FS_PORT" ] || { echo "fleet: the server did not start ($config)" >&2; cat "$log" >&2; exit 1; }
}

# The inventory's figures on /status: "written waiting dropped limited".
fleet_inventory() {
  curl -sf "http://127.0.0.1:$1/status" | python3 -c '
import json, sys
i = json.load(sys.stdin)["inventory"]
print(i["written"], i["waiting"], i["dropped"], i["limited"])'
}

# Waits (at most $2 seconds) until the writer of the server whose admin port is $1 has
# nothing waiting; prints "waiting_left milliseconds_waited".
fleet_drain() {
  local t0 end w=1
  t0=$(now_ms); end=$(( t0 + $2 * 1000 ))
  while (( $(now_ms) < end )); do
    read -r _ w _ _ < <(fleet_inventory "$1") && [ "$w" = 0 ] && break
    sleep 0.1
  done
  echo "$w $(( $(now_ms) - t0 ))"
}

# The store's size in bytes: the SQLite file and its -wal, or pg_database_size.
fleet_store_bytes() {
  if [ "$1" = sqlite ]; then
    echo $(( $(stat -c %s "$WORK/fleet-inventory.sqlite") + $(stat -c %s "$WORK/fleet-inventory.sqlite-wal" 2>/dev/null || echo 0) ))
  else
    "$PG_BIN/psql" -h "$WORK/pg" -p "$PG_PORT" -U kkt -d postgres -Atc "select pg_database_size('postgres')"
  fi
}

# Runs fleet-load pinned to LOAD_CPU against port $1 with the given extra arguments; prints
# its line. Any register refused (non-200) or unanswered fails the whole section, loudly.
# FLEET_BASE and FLEET_COUNT (the whole fleet unless set) pick the registers.
fleet_load() {
  local port=$1 out; shift
  if ! out=$(taskset -c "$LOAD_CPU" "$FLEET_LOAD" --target "127.0.0.1:$port" \
      --registers "${FLEET_COUNT:-$FLEET_REGISTERS}" --source-base "${FLEET_BASE:-$FLEET_SOURCE_BASE}" \
      --connections "$FLEET_CONNECTIONS" --new-connection \
      --method POST --path /check_firmware --body '{"build_date": "28.12.2022"}' \
      --header 'Content-Type: application/json' --expect-status 200 "$@"); then
    echo "fleet: registers were refused or not answered on port $port: $out" >&2
    exit 1
  fi
  [ "$(fleet_field "$out" errors)" = 0 ] || { echo "fleet: failed requests: $out" >&2; exit 1; }
  echo "$out"
}

# Starts a PostgreSQL of our own (initdb in WORK, a free port, its socket in WORK, run as
# nobody when we are root: it refuses root), pinned to SERVER_CPU like the server it
# serves; sets PG_PID and PG_PORT.
fleet_start_postgres() {
  local bin dir=$WORK/pg run=()
  bin=$(find /usr/lib/postgresql -maxdepth 3 -name initdb -path '*/bin/*' 2>/dev/null | sort -V | tail -n1)
  if [ -z "$bin" ]; then
    echo "installing postgresql (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(find /usr/lib/postgresql -maxdepth 3 -name initdb -path '*/bin/*' | sort -V | tail -n1)
  fi
  PG_BIN=$(dirname "$bin")
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$dir"
    run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
  "${run[@]}" "$PG_BIN/initdb" -U kkt --auth=trust -E UTF8 -D "$dir/data" >"$WORK/pg-initdb.log" 2>&1 \
    || { cat "$WORK/pg-initdb.log" >&2; exit 1; }
  PG_PORT=$(free_port)
  # Defaults otherwise (fsync and synchronous_commit on), as a production server would run.
  taskset -c "$FLEET_PG_CPU" "${run[@]}" "$PG_BIN/postgres" -D "$dir/data" -p "$PG_PORT" -k "$dir" \
    -c listen_addresses=127.0.0.1 $FLEET_PG_OPTIONS >"$WORK/pg.log" 2>&1 &
  PG_PID=$!
  PIDS+=("$PG_PID")
  for _ in $(seq 1 300); do
    "$PG_BIN/psql" -h "$dir" -p "$PG_PORT" -U kkt -d postgres -Atqc 'select 1' >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "fleet: PostgreSQL did not start" >&2; cat "$WORK/pg.log" >&2; exit 1
}

fleet_stop_postgres() {
  # SIGINT: PostgreSQL's fast shutdown.
  kill -INT "$PG_PID" 2>/dev/null || true
  wait "$PG_PID" 2>/dev/null || true
}

# Samples the inventory on /status once a second into $2 ("unix_time written waiting
# dropped limited") until killed; pinned to LOAD_CPU.
fleet_sampler() {
  taskset -c "$LOAD_CPU" python3 - "$1" "$2" <<'PY' &
import json, sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
with open(out, "w") as f:
    while True:
        t = time.time()
        try:
            i = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5))["inventory"]
            f.write("%.3f %d %d %d %d\n" % (t, i["written"], i["waiting"], i["dropped"], i["limited"]))
            f.flush()
        except (OSError, ValueError, KeyError) as e:
            print("fleet: /status not read: %s" % e, file=sys.stderr)
        time.sleep(max(0.0, 1.0 - (time.time() - t)))
PY
  SAMPLER=$!
  PIDS+=("$SAMPLER")
}

fleet_section() {
  local variants=(off sqlite postgres) v round out n ticks pg_ticks
  local -A pid port admin reqs sticks pticks rps p99 status_us samples empty drain_ms left written wsecs
  echo "fleet: $FLEET_REGISTERS registers, $FLEET_E2E_ROUNDS rounds of $FLEET_DURATION" >&2
  local autogroup; autogroup=$(cat "$FLEET_AUTOGROUP_FILE" 2>/dev/null || echo none)
  fleet_autogroup_off
  [ "$FLEET_LOAD_BUILD" = no ] || cargo build --release --quiet -p fleet-load
  # --- the layouts: plain (one release) and two lines with C.3 under a staged rollout ----
  local plain=$WORK/fleet-plain lines=$WORK/fleet-lines
  mkdir -p "$plain/20250301" "$lines/C.1/20230119" "$lines/C.3/20221228" "$lines/C.3/20250301"
  for d in "$plain/20250301" "$lines/C.1/20230119" "$lines/C.3/20221228" "$lines/C.3/20250301"; do
    head -c 491520 /dev/urandom >"$d/upd_app.bin"
    head -c 491520 /dev/urandom >"$d/upd_app_for_old_frs.bin"
  done
  printf 'known_builds: [20220601]\n' >"$lines/C.1/line.yaml"
  printf 'known_builds: [20171228, 20220915]\n' >"$lines/C.3/line.yaml"
  printf 'floor: true\n' >"$lines/C.3/20221228/meta.yaml"
  # Stage 1 of 2 at 50 % soaking for a week (so it stays there), an hourly cap the warm-up
  # stays under, a pilot network and a pilot group, a deadline: every clause is read.
  cat >"$lines/C.3/20250301/meta.yaml" <<'YAML'
rollout:
  stages:
    - {percent: 50, soak: 7d}
    - {percent: 100}
  max_new_per_hour: 1000000
  deadline: 2030-12-31
  pilot: [192.0.2.0/24]
  pilot_groups: ["client-007"]
YAML
  # Groups by network, one /24 each from the source base's /16 on, in order: a register's
  # group is found by its address on every request (pilot_groups, the writer's tags).
  python3 - "$WORK/fleet-groups.yaml" "$FLEET_GROUPS" "$FLEET_SOURCE_BASE" <<'PY'
import sys
path, n, base = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(".")]
with open(path, "w") as f:
    for k in range(n):
        third = base[2] + k
        f.write('- name: "client-%03d"\n  networks: [%d.%d.%d.0/24]\n' % (k, base[0], base[1] + third // 256, third % 256))
PY
  cat >"$WORK/fleet-off.yaml" <<YAML
firmware_dir: $plain
settle_ms: 0
inventory: "off"
access_log: "off"
YAML
  fleet_start_postgres
  for v in sqlite postgres; do
    local store="sqlite:$WORK/fleet-inventory.sqlite"
    [ "$v" = postgres ] && store="postgres://kkt@127.0.0.1:$PG_PORT/postgres"
    cat >"$WORK/fleet-$v.yaml" <<YAML
firmware_dir: $lines
settle_ms: 0
inventory: "$store"
access_log: $WORK/fleet-access-$v.log
groups: $WORK/fleet-groups.yaml
YAML
  done
  local base3 FLEET_PILOT; base3=${FLEET_SOURCE_BASE%.*}
  FLEET_PILOT=${base3%.*}.$(( ${base3##*.} + 7 )).1
  # --- start, check, warm up: every register known and decided (admitted or not) --------
  for v in "${variants[@]}"; do
    local adm=on; [ "$v" = off ] && adm=off
    fleet_start "$WORK/fleet-$v.yaml" "$WORK/fleet-$v.log" "$adm"
    pid[$v]=$FS_PID port[$v]=$FS_PORT admin[$v]=$FS_ADMIN
    # The pilot group's first register (client-007) is offered the release under rollout
    # in every layout; OFF offers it to everyone.
    out=$(curl -sf -X POST --interface "$FLEET_PILOT" -d '{"build_date": "28.12.2022"}' "http://127.0.0.1:$FS_PORT/check_firmware") || true
    grep -q '"version": 20250301' <<<"$out" || { echo "fleet: unexpected $v answer to $FLEET_PILOT: $out" >&2; exit 1; }
    [ "$v" != off ] && empty[$v]=$(fleet_store_bytes "$v")
    # In slices of FLEET_WARMUP_SLICE registers, each written before the next: a writer
    # slower than the load never has more than a slice waiting, so nothing is dropped and
    # every register is in the store when the measured runs begin.
    local first=0 count
    while (( first < FLEET_REGISTERS )); do
      count=$(( FLEET_REGISTERS - first < FLEET_WARMUP_SLICE ? FLEET_REGISTERS - first : FLEET_WARMUP_SLICE ))
      out=$(FLEET_BASE=$(fleet_nth_address "$FLEET_SOURCE_BASE" "$first") FLEET_COUNT=$count fleet_load "$FS_PORT" --requests "$count")
      echo "fleet: warm-up $v, registers $first to $(( first + count - 1 )): $out" >&2
      if [ "$v" != off ]; then
        read -r w _ < <(fleet_drain "${admin[$v]}" 600)
        [ "$w" = 0 ] || { echo "fleet: the $v writer still has $w records waiting 600 s after a warm-up slice" >&2; exit 1; }
      fi
      first=$(( first + count ))
    done
    if [ "$v" != off ]; then
      out=$(curl -sf "http://127.0.0.1:${admin[$v]}/status" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join("%s/%s admitted %s" % (r["line"], r["version"], r["admitted"]) for r in s["rollouts"]), "inventory:", s["inventory"])')
      echo "fleet: $v after the warm-up: $out" >&2
      # What one /status costs the server (the sampler reads it once a second during the
      # measured runs): 50 reads, at rest, subtracted from the runs' CPU below.
      ticks=$(fleet_ticks "${pid[$v]}")
      for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:${admin[$v]}/status"; done
      status_us[$v]=$(python3 -c "print(($(fleet_ticks "${pid[$v]}") - $ticks) * 1e6 / $CLK_TCK / 50)")
    fi
    drain_ms[$v]=0 left[$v]=0 written[$v]=0 wsecs[$v]=0 reqs[$v]=0 sticks[$v]=0 pticks[$v]=0 rps[$v]=0 p99[$v]=0 samples[$v]=0
  done
  # --- measured runs, alternating: off sqlite postgres, then postgres sqlite off, ... -----
  local order=("${variants[@]}") ratios=()
  local -A round_cpu
  : >"$WORK/fleet-samples-sqlite.txt"; : >"$WORK/fleet-samples-postgres.txt"
  for round in $(seq 1 "$FLEET_E2E_ROUNDS"); do
    for v in "${order[@]}"; do
      local t0 p0 t1 p1 w ms w0 w1
      fleet_quiet_sockets
      if [ "$v" != off ]; then
        read -r w0 _ < <(fleet_inventory "${admin[$v]}")
        fleet_sampler "${admin[$v]}" "$WORK/fleet-samples-$v-$round.txt"
      fi
      t0=$(fleet_ticks "${pid[$v]}"); p0=$(fleet_pg_ticks "$PG_PID")
      out=$(fleet_load "${port[$v]}" --duration "$FLEET_DURATION")
      if [ "$v" != off ]; then
        # The load is over; the writer's CPU (and PostgreSQL's) is counted until what
        # waited is written, or FLEET_DRAIN seconds have passed.
        read -r w ms < <(fleet_drain "${admin[$v]}" "$FLEET_DRAIN")
        (( ms > drain_ms[$v] )) && drain_ms[$v]=$ms
        (( w > left[$v] )) && left[$v]=$w
        read -r w1 _ < <(fleet_inventory "${admin[$v]}")
        written[$v]=$(( written[$v] + w1 - w0 ))
        wsecs[$v]=$(python3 -c "print(${wsecs[$v]} + $(fleet_field "$out" duration_s) + $ms / 1000)")
      fi
      t1=$(fleet_ticks "${pid[$v]}"); p1=$(fleet_pg_ticks "$PG_PID")
      if [ "$v" != off ]; then
        kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
        cat "$WORK/fleet-samples-$v-$round.txt" >>"$WORK/fleet-samples-$v.txt"
        samples[$v]=$(( samples[$v] + $(wc -l <"$WORK/fleet-samples-$v-$round.txt") ))
      fi
      n=$(fleet_field "$out" requests)
      reqs[$v]=$(( reqs[$v] + n ))
      sticks[$v]=$(( sticks[$v] + t1 - t0 ))
      [ "$v" = postgres ] && pticks[$v]=$(( pticks[$v] + p1 - p0 ))
      rps[$v]=$(python3 -c "print(${rps[$v]} + $(fleet_field "$out" rps) / $FLEET_E2E_ROUNDS)")
      p99[$v]=$(python3 -c "print(${p99[$v]} + $(fleet_field "$out" p99_ms) / $FLEET_E2E_ROUNDS)")
      ticks=$(( t1 - t0 )); [ "$v" = postgres ] && ticks=$(( ticks + p1 - p0 ))
      round_cpu[$v]=$(python3 -c "print($ticks * 1e6 / $CLK_TCK / max($n, 1))")
      echo "fleet: round $round $v: $out, server $(( t1 - t0 )) ticks, postgres $(( p1 - p0 )) ticks" >&2
    done
    ratios+=("$(python3 -c "print('%.2f/%.2f' % (${round_cpu[sqlite]} / max(${round_cpu[off]}, 1e-9), ${round_cpu[postgres]} / max(${round_cpu[off]}, 1e-9)))")")
    order=("${order[2]}" "${order[1]}" "${order[0]}")
  done
  # --- after the runs: memory, the stores' size --------------------------------------------
  local -A rss devices
  for v in "${variants[@]}"; do rss[$v]=$(hwm_kb "${pid[$v]}"); done
  for v in sqlite postgres; do
    devices[$v]=$(curl -sf "http://127.0.0.1:${admin[$v]}/devices?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')
  done
  local sqlite_bytes pg_bytes
  sqlite_bytes=$(fleet_store_bytes sqlite); pg_bytes=$(fleet_store_bytes postgres)
  kill "${pid[off]}" "${pid[sqlite]}" "${pid[postgres]}"
  wait "${pid[off]}" "${pid[sqlite]}" "${pid[postgres]}" 2>/dev/null || true
  fleet_stop_postgres
  fleet_autogroup_restore
  [ "$autogroup" = 1 ] && [ "$FLEET_AUTOGROUP" = off ] && autogroup="1, set to 0 for this section"
  # --- the rows ---------------------------------------------------------------------------
  local ratio_list; ratio_list=$(printf '%sx ' "${ratios[@]}")
  python3 - "$WORK/fleet.md" <<PY
import sys
hz, regs = $CLK_TCK, $FLEET_REGISTERS
v = ("off", "sqlite", "postgres")
reqs = dict(off=${reqs[off]}, sqlite=${reqs[sqlite]}, postgres=${reqs[postgres]})
server_ticks = dict(off=${sticks[off]}, sqlite=${sticks[sqlite]}, postgres=${sticks[postgres]})
pg_ticks = ${pticks[postgres]}
samples = dict(off=0, sqlite=${samples[sqlite]}, postgres=${samples[postgres]})
status_us = dict(off=0, sqlite=${status_us[sqlite]:-0}, postgres=${status_us[postgres]:-0})
rps = dict(off=${rps[off]}, sqlite=${rps[sqlite]}, postgres=${rps[postgres]})
p99 = dict(off=${p99[off]}, sqlite=${p99[sqlite]}, postgres=${p99[postgres]})
rss = dict(off=${rss[off]}, sqlite=${rss[sqlite]}, postgres=${rss[postgres]})
devices = dict(sqlite=${devices[sqlite]}, postgres=${devices[postgres]})
size = dict(sqlite=$sqlite_bytes, postgres=$pg_bytes)
empty = dict(sqlite=${empty[sqlite]}, postgres=${empty[postgres]})
drain_ms = dict(sqlite=${drain_ms[sqlite]}, postgres=${drain_ms[postgres]})
left = dict(sqlite=${left[sqlite]}, postgres=${left[postgres]})
written = dict(sqlite=${written[sqlite]}, postgres=${written[postgres]})
wsecs = dict(sqlite=${wsecs[sqlite]}, postgres=${wsecs[postgres]})
def per_req(ticks, k):
    return ticks * 1e6 / hz / max(reqs[k], 1)
# The sampler's own /status reads, measured at rest, taken out of the ON servers' CPU.
server = {k: max(0.0, per_req(server_ticks[k], k) - samples[k] * status_us[k] / max(reqs[k], 1)) for k in v}
pg = per_req(pg_ticks, "postgres")
total = dict(off=server["off"], sqlite=server["sqlite"], postgres=server["postgres"] + pg)
def writer(k):
    rows = [list(map(float, l.split())) for l in open("$WORK/fleet-samples-%s.txt" % k) if l.strip()]
    waiting = max((r[2] for r in rows), default=0)
    dropped = max((r[3] for r in rows), default=0); limited = max((r[4] for r in rows), default=0)
    return int(waiting), int(dropped), int(limited), len(rows)
w = {k: writer(k) for k in ("sqlite", "postgres")}
on = ("sqlite", "postgres")
out = open(sys.argv[1], "w")
def row(*cells): print("| " + " | ".join(cells) + " |", file=out)
row("fleet: %s registers, each its own 127.x address, a new connection per poll, c=$FLEET_CONNECTIONS" % format(regs, ","), "OFF", "ON, SQLite", "ON, PostgreSQL")
row("---", "---:", "---:", "---:")
row("req/s", *("%.0f" % rps[k] for k in v))
row("p99 ms", *("%.2f" % p99[k] for k in v))
row("CPU us/req, server", *("%.1f" % server[k] for k in v))
row("CPU us/req, PostgreSQL's processes", "", "", "%.1f" % pg)
row("CPU us/req, in all; ratio to OFF (target: ON <= 1.20x)", "%.1f" % total["off"],
    *("%.1f; **%.2fx**" % (total[k], total[k] / max(total["off"], 1e-9)) for k in on))
row("inventory rows written/s (load and drain); per request answered", "",
    *("%.0f; %.2f" % (written[k] / max(wsecs[k], 1e-9), written[k] / max(reqs[k], 1)) for k in on))
row("writer's backlog, sampled every second (%s samples): max waiting (target: well under 100,000)" % "/".join(str(w[k][3]) for k in on),
    "", *("%d" % w[k][0] for k in on))
row("written what waited after each run: longest wait; left after $FLEET_DRAIN s (target: 0)", "",
    *("%.1f s; %d" % (drain_ms[k] / 1000, left[k]) for k in on))
row("records dropped; limited (target: 0; 0)", "", *("%d; %d" % w[k][1:3] for k in on))
row("RSS, peak (VmHWM; target: ON < 200 MB)", *("%.0f MB" % (rss[k] / 1024) for k in v))
row("store size per 100,000 registers, over the empty schema (SQLite: file + -wal; PostgreSQL: pg_database_size)", "",
    *("%.1f MB (%s registers, %.1f MB in all)" % ((size[k] - empty[k]) * 100000 / max(devices[k], 1) / 1e6, format(devices[k], ","), size[k] / 1e6) for k in on))
print(file=out)
print("Measured runs: $FLEET_E2E_ROUNDS rounds of -d$FLEET_DURATION each, alternating OFF / SQLite / PostgreSQL (reversed every round), after a warm-up pass over every register; "
      "CPU ratio ON/OFF per round (SQLite/PostgreSQL): $ratio_list. kernel.sched_autogroup_enabled: $autogroup (see bench/fleet.sh). The /status reads of the sampler cost "
      "%.0f / %.0f us each at rest, taken out of the ON servers' CPU (%.2f / %.2f us/req)."
      % (status_us["sqlite"], status_us["postgres"],
         samples["sqlite"] * status_us["sqlite"] / max(reqs["sqlite"], 1),
         samples["postgres"] * status_us["postgres"] / max(reqs["postgres"], 1)), file=out)
PY
}
