#!/usr/bin/env bash
# Checks what packaging/build.sh built (CI runs it after the build, as root, on its own
# throwaway machine): the .deb installs, creates the kkt user and the folders operators
# publish into, its configuration passes `check` as the service user, and the packaged
# server, run as that user, offers a release an operator of the kkt group copied in. The
# Windows zip holds what its README names, and its .exe passes `check` under Wine.
# Everything listens on 127.0.0.1 and a free port; the package is purged at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=$(ls target/packages/kkt-update-server_*.deb | head -n1)
zip=$(ls target/packages/kkt-update-server-*-windows-x86_64.zip | head -n1)
fail() { echo "packages: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  dpkg --purge kkt-update-server >/dev/null 2>&1 || true
  userdel kkt-operator >/dev/null 2>&1 || true
  rm -rf "$work" /var/lib/kkt-update-server/firmware/20250301
}
trap cleanup EXIT

echo "== dpkg -i $deb"
dpkg -i "$deb" >/dev/null
getent passwd kkt >/dev/null || fail "no kkt user"
for d in /var/lib/kkt-update-server/firmware /var/lib/kkt-update-server/licenses; do
  [ "$(stat -c '%G %a' "$d")" = "kkt 2775" ] || fail "$d is $(stat -c '%U:%G %a' "$d"), expected group kkt, 2775"
done
dpkg-query -W -f='${Conffiles}\n' kkt-update-server | grep -q /etc/kkt-update-server/server.yaml || fail "server.yaml is not a conffile"
grep -qx 'listen: 0.0.0.0:8888' /etc/kkt-update-server/server.yaml || fail "the packaged config does not listen on all addresses"
if grep -Eq '^[[:space:]]*#?[[:space:]]*public_url:' /etc/kkt-update-server/server.yaml; then fail "example public_url in the packaged config"; fi
for unit in kkt-update-server.service kkt-update-server.socket kkt-update-server-admin.socket; do
  [ -f "/lib/systemd/system/$unit" ] || [ -f "/usr/lib/systemd/system/$unit" ] || fail "$unit not installed"
done
grep -q '^ExecStart=/usr/bin/kkt-update-server ' /usr/lib/systemd/system/kkt-update-server.service || fail "the unit does not start /usr/bin/kkt-update-server"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify /usr/lib/systemd/system/kkt-update-server.service /usr/lib/systemd/system/kkt-update-server*.socket
fi

echo "== check as the service user, right after install"
runuser -u kkt -- kkt-update-server check --config /etc/kkt-update-server/server.yaml | tee "$work/check.txt"
grep -q 'check passed' "$work/check.txt" || fail "check did not pass"

echo "== an operator in the kkt group publishes; the packaged server offers it"
id kkt-operator >/dev/null 2>&1 || useradd --no-create-home --groups kkt kkt-operator
mkdir -p "$work/20250301"
head -c 40000 /dev/urandom >"$work/20250301/upd_app.bin"
head -c 40000 /dev/urandom >"$work/20250301/upd_app_for_old_frs.bin"
chmod -R a+rX "$work"
runuser -u kkt-operator -- cp -r "$work/20250301" /var/lib/kkt-update-server/firmware/
port=$(free_port)
# Started by hand, the server lacks the unit's CAP_LEASE, so it cannot ask the kernel
# whether the operator's files are still being written: files nobody saw closed wait
# unconfirmed_settle_ms, shortened here.
runuser -u kkt -- kkt-update-server --config /etc/kkt-update-server/server.yaml \
  --listen "127.0.0.1:$port" --admin-listen off --settle-ms 200 --unconfirmed-settle-ms 1000 \
  2>"$work/server.log" &
server=$!
answer=
for _ in $(seq 1 100); do
  answer=$(curl -s -X POST -d '{"build_date": "1.1.2018"}' "http://127.0.0.1:$port/check_firmware" || true)
  grep -q '"version": 20250301' <<<"$answer" && break
  sleep 0.2
done
grep -q '"version": 20250301' <<<"$answer" || { grep -v '"POST /check_firmware' "$work/server.log"; fail "the copied release is not offered: $answer"; }
curl -sf -o "$work/got.bin" "http://127.0.0.1:$port/firmware/20250301/upd_app.bin"
cmp -s "$work/got.bin" "$work/20250301/upd_app.bin" || fail "the download differs from the file"
echo "ok: offered 20250301, download matches"

echo "== the Windows zip"
python3 - "$zip" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
top = names[0].split("/")[0]
for need in ["kkt-update-server.exe", "server.yaml", "licenses.yaml", "README.txt", "start.bat"]:
    assert f"{top}/{need}" in names, f"{need} missing from the zip"
assert any(n.startswith(f"{top}/firmware/") and n.endswith("upd_app.bin") for n in names), "no sample firmware"
readme = zipfile.ZipFile(sys.argv[1]).read(f"{top}/README.txt").decode("utf-8-sig")
for words in ["service install", "publish", "http://127.0.0.1:8889/"]:
    assert words in readme, f"README.txt does not say {words}"
print("zip ok:", len(names), "files")
PY
wine=$(ls /usr/lib/wine/wine64 /usr/bin/wine64 2>/dev/null | head -n1 || true)
if [ -n "$wine" ]; then
  mkdir -p "$work/win"
  python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$zip" "$work/win"
  dir=$(ls -d "$work"/win/kkt-update-server-*)
  # Wine 8 only: the stand-in for bcryptprimitives.dll (real Windows has the DLL).
  x86_64-w64-mingw32-gcc -shared -O2 -o "$dir/bcryptprimitives.dll" packaging/wine/bcryptprimitives.c -ladvapi32
  export WINEPREFIX="$work/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  (cd "$dir" && "$wine" kkt-update-server.exe check --config server.yaml) | tee "$work/wcheck.txt"
  "$(dirname "$wine")/wineserver" -k || true
  grep -q 'check passed' "$work/wcheck.txt" || fail "the zipped .exe does not pass check"
  grep -q 'current release 20250301' "$work/wcheck.txt" || fail "the zipped sample release is not current"
else
  [ -z "${CI:-}" ] || fail "CI must install wine64"
fi
echo "packages: ok"
