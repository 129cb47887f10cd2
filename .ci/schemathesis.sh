#!/usr/bin/env bash
# Checks the running binary against openapi.yaml with schemathesis (from PyPI): no 5xx,
# and every status code, content type, header and body matches the spec. Bounded: at most
# 50 generated examples per operation and a fixed seed. 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi

bin=target/debug/kkt-update-server
[ -x "$bin" ] || cargo build --quiet
log=$(mktemp)
RUST_LOG=info "$bin" --config server.yaml --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q '\] listening on ' "$log" && break
  sleep 0.1
done
device=$(sed -n 's/.*\] listening on \([0-9.:]*\).*/\1/p' "$log" | head -n1)
admin=$(sed -n 's/.*admin listening on \([0-9.:]*\).*/\1/p' "$log" | head -n1)
[ -n "$device" ] && [ -n "$admin" ] || { cat "$log"; echo "server did not start"; exit 1; }

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,unsupported_method
common=(--checks "$checks" --max-examples 50 --phases examples,coverage,fuzzing --seed 20250301 --workers 1)
"$venv/bin/st" run openapi.yaml --url "http://$device" --include-tag device "${common[@]}"
"$venv/bin/st" run openapi.yaml --url "http://$admin" --include-tag admin "${common[@]}"
echo "schemathesis: device and admin APIs conform to openapi.yaml"
