# shellcheck shell=bash
# The TLS section of bench/run.sh (sourced by it, never run alone): our server's native TLS
# against nginx with the same certificate, measured with fleet-load (crates/fleet-load),
# which, unlike wrk, opens a new TLS connection per request from its own source address
# and can resume sessions by TLS 1.3 tickets. Three loads, each server in turn:
#   full:      a new TLS connection per poll, every handshake full (as with no tickets);
#   resumed:   a new TLS connection per poll, resumed by the ticket of an earlier one
#              (registers poll every 10 minutes on a fresh connection: the field's case);
#   keepalive: HTTPS polls on kept connections (the handshake paid once).
# Uses run.sh's WORK, BIN, SERVER_CPU, LOAD_CPU, DURATION, ROUNDS, ACCESS_LOG, CLK_TCK and
# its helpers (free_port, cpu_ticks); run.sh sources this file after defining them.
#
# Settings: TLS_CONNECTIONS (64) workers, TLS_REGISTERS (1000) source addresses for the
# polls (keep-alive uses one per connection). See bench/README.md, item 8.

TLS_CONNECTIONS=${TLS_CONNECTIONS:-64}
TLS_REGISTERS=${TLS_REGISTERS:-1000}
TLS_LOADS=(full resumed keepalive)
FLEET_LOAD=${FLEET_LOAD:-$PWD/target/release/fleet-load}
declare -A TLS_SUM=() TLS_R=()

# A CA and a P-256 leaf for localhost, signed by it, in $1.
tls_certificates() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ca.key" \
    -out "$dir/ca.pem" -days 2 -subj "/CN=kkt bench CA" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/leaf.key" \
    -out "$dir/leaf.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/leaf.pem" -days 2 -extfile "$dir/ext.cnf" 2>/dev/null
}

# Starts our server with tls_cert/tls_key, pinned; sets TLS_OURS_PID and TLS_OURS_PORT.
tls_start_ours() {
  local dir=$1 access=off
  [ "$ACCESS_LOG" = off ] || access=$dir/ours-access.log
  cat >"$dir/server.yaml" <<EOF
firmware_dir: $WORK/firmware
licenses: [$WORK/licenses.slf]
settle_ms: 0
admin_listen: null
access_log: "$access"
tls_listen: 127.0.0.1:0
tls_cert: $dir/leaf.pem
tls_key: $dir/leaf.key
EOF
  RUST_LOG=${LOG_LEVEL:-info} taskset -c "$SERVER_CPU" "$BIN" --config "$dir/server.yaml" \
    --listen 127.0.0.1:0 --admin-listen off 2>"$dir/ours.log" &
  TLS_OURS_PID=$!
  PIDS+=("$TLS_OURS_PID")
  for _ in $(seq 1 600); do
    grep -q '\] listening for HTTPS on ' "$dir/ours.log" && break
    sleep 0.01
  done
  TLS_OURS_PORT=$(sed -n 's/.*\] listening for HTTPS on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/ours.log" | head -n1)
  [ -n "$TLS_OURS_PORT" ] || { cat "$dir/ours.log"; exit 1; }
}

# Starts nginx with the same certificate, TLS 1.3, tickets and a shared session cache,
# one ticket per handshake and AES-128-GCM preferred as ours, one worker, pinned; sets TLS_NGINX_PORT.
tls_start_nginx() {
  local dir=$1 access=off
  [ "$ACCESS_LOG" = off ] || access=$dir/nginx-access.log
  TLS_NGINX_PORT=$(free_port)
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
daemon on;
events { worker_connections 4096; }
http {
    access_log $access;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    types { application/json json; }
    ssl_protocols TLSv1.3;
    ssl_session_tickets on;
    ssl_session_cache shared:SSL:10m;
    # As ours (src/config/tls.rs): one ticket per handshake, the server's order of suites
    # with AES-128-GCM-SHA256 first.
    ssl_conf_command NumTickets 1;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
    ssl_prefer_server_ciphers on;
    server {
        listen 127.0.0.1:$TLS_NGINX_PORT ssl;
        ssl_certificate $dir/leaf.pem;
        ssl_certificate_key $dir/leaf.key;
        root $WORK/static;
    }
}
EOF
  taskset -c "$SERVER_CPU" nginx -c "$dir/nginx.conf" -p "$dir"
  sleep 0.3
}

tls_nginx_pids() { local master; master=$(cat "$WORK/tls/nginx.pid"); echo "$master"; pgrep -P "$master" || true; }

# Runs fleet-load pinned to LOAD_CPU with the given arguments against the processes
# $TLS_PIDS; any failed request stops the bench. Sets TLS_R: fleet-load's keys, plus
# cpu_us (the server's CPU per request) and client_busy (the load client's CPU, % of one).
tls_load() {
  local dir=$WORK/tls before after user sys TIMEFORMAT='%U %S'
  # shellcheck disable=SC2086
  before=$(cpu_ticks $TLS_PIDS)
  if ! { time taskset -c "$LOAD_CPU" "$FLEET_LOAD" "$@" >"$dir/load.out" 2>"$dir/load.err"; } 2>"$dir/load.time"; then
    echo "fleet-load $*: $(cat "$dir/load.out" "$dir/load.err")" >&2
    exit 1
  fi
  # shellcheck disable=SC2086
  after=$(cpu_ticks $TLS_PIDS)
  TLS_R=()
  local pair
  for pair in $(cat "$dir/load.out"); do TLS_R[${pair%%=*}]=${pair#*=}; done
  read -r user sys <"$dir/load.time"
  TLS_R[cpu_us]=$(awk -v t=$(( after - before )) -v hz="$CLK_TCK" -v n="${TLS_R[requests]}" \
    'BEGIN { printf "%.1f", (n > 0 ? t * 1000000 / hz / n : 0) }')
  TLS_R[client_busy]=$(awk -v u="$user" -v s="$sys" -v d="${TLS_R[duration_s]}" \
    'BEGIN { printf "%.0f", (d > 0 ? (u + s) / d * 100 : 0) }')
}

# The fleet-load arguments of load $1 against server $2 (ours, nginx).
tls_args() {
  local load=$1 who=$2 args=(--tls --ca "$WORK/tls/ca.pem" --server-name localhost
    --connections "$TLS_CONNECTIONS" --duration "$DURATION")
  if [ "$who" = ours ]; then
    args+=(--target "127.0.0.1:$TLS_OURS_PORT")
  else
    # nginx cannot answer the POST: it GETs the same bytes from a file (as run.sh's HTTP section).
    args+=(--target "127.0.0.1:$TLS_NGINX_PORT" --method GET --path /check_firmware.json --body '')
  fi
  case $load in
    full)      args+=(--new-connection --registers "$TLS_REGISTERS") ;;
    resumed)   args+=(--new-connection --registers "$TLS_REGISTERS" --resume) ;;
    keepalive) args+=(--registers "$TLS_CONNECTIONS") ;;
  esac
  printf '%s\n' "${args[@]}"
}

tls_add() { TLS_SUM[$1]=$(awk -v a="${TLS_SUM[$1]:-0}" -v b="$2" 'BEGIN { print a + b }'); }

tls_section() {
  [ -x "$FLEET_LOAD" ] || { echo "no $FLEET_LOAD: cargo build --release builds it" >&2; exit 1; }
  local dir=$WORK/tls round load who order
  mkdir -p "$dir"
  tls_certificates "$dir"
  tls_start_ours "$dir"
  tls_start_nginx "$dir"
  for round in $(seq 1 "$ROUNDS"); do
    for load in "${TLS_LOADS[@]}"; do
      if (( round % 2 )); then order=(ours nginx); else order=(nginx ours); fi
      for who in "${order[@]}"; do
        if [ "$who" = ours ]; then TLS_PIDS=$TLS_OURS_PID; else TLS_PIDS=$(tls_nginx_pids | tr '\n' ' '); fi
        local args=()
        mapfile -t args < <(tls_args "$load" "$who")
        tls_load "${args[@]}"
        local key=$load/$who
        tls_add "$key.rps" "${TLS_R[rps]}"
        tls_add "$key.cpu" "${TLS_R[cpu_us]}"
        tls_add "$key.p99" "${TLS_R[p99_ms]}"
        tls_add "$key.busy" "${TLS_R[client_busy]}"
        tls_add "$key.resumed" "$(awk -v r="${TLS_R[resumed]}" -v n="${TLS_R[requests]}" 'BEGIN { print (n > 0 ? r / n : 0) }')"
        echo "round $round  tls $load  $who: ${TLS_R[rps]} req/s, p99 ${TLS_R[p99_ms]} ms, ${TLS_R[cpu_us]} us CPU/request, resumed ${TLS_R[resumed]} of ${TLS_R[requests]}, load client ${TLS_R[client_busy]} % busy" >&2
      done
    done
  done
  kill "$TLS_OURS_PID" 2>/dev/null || true
  kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
}

# The section's rows of the final table.
tls_table() {
  local load what
  echo "| HTTPS check_firmware, c=$TLS_CONNECTIONS, $TLS_REGISTERS registers | ours req/s | nginx req/s | ratio | ours CPU us/req | nginx CPU us/req | CPU ratio | ours p99 ms | nginx p99 ms | ours resumed | nginx resumed | load client busy, ours / nginx |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for load in "${TLS_LOADS[@]}"; do
    case $load in
      full) what="new TLS connection per poll, full handshake" ;;
      resumed) what="new TLS connection per poll, resumed (TLS 1.3 ticket)" ;;
      keepalive) what="keep-alive HTTPS" ;;
    esac
    awk -v what="$what" -v r="$ROUNDS" \
      -v o="${TLS_SUM[$load/ours.rps]}" -v n="${TLS_SUM[$load/nginx.rps]}" \
      -v oc="${TLS_SUM[$load/ours.cpu]}" -v nc="${TLS_SUM[$load/nginx.cpu]}" \
      -v o99="${TLS_SUM[$load/ours.p99]}" -v n99="${TLS_SUM[$load/nginx.p99]}" \
      -v ores="${TLS_SUM[$load/ours.resumed]}" -v nres="${TLS_SUM[$load/nginx.resumed]}" \
      -v ob="${TLS_SUM[$load/ours.busy]}" -v nb="${TLS_SUM[$load/nginx.busy]}" 'BEGIN {
        m = (n > 0 ? n : 1); mc = (nc > 0 ? nc : 1e-9)
        printf "| %s | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx | %.2f | %.2f | %.0f %% | %.0f %% | %.0f %% / %.0f %% |\n",
          what, o / r, n / r, o / m, oc / r, nc / r, oc / mc, o99 / r, n99 / r, ores / r * 100, nres / r * 100, ob / r, nb / r
      }'
  done
  awk -v o="${TLS_SUM[resumed/ours.rps]}" -v n="${TLS_SUM[resumed/nginx.rps]}" \
    -v oc="${TLS_SUM[resumed/ours.cpu]}" -v nc="${TLS_SUM[resumed/nginx.cpu]}" 'BEGIN {
      ratio = o / (n > 0 ? n : 1); cpu = nc / (oc > 0 ? oc : 1e-9)
      printf "\nTarget, resumed polls at least 1.5x nginx: req/s %.2fx (%s); polls per CPU second of the server (nginx us/poll over ours) %.2fx (%s).\n",
        ratio, (ratio >= 1.5 ? "met" : "not met"), cpu, (cpu >= 1.5 ? "met" : "not met")
    }'
  echo "Req/s compares the servers only when the server, not the load client or the latency, is the limit: a load client busy near 100 % caps both alike; then polls per CPU second is the comparison."
}
