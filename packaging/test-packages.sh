#!/usr/bin/env bash
# Checks what packaging/build.sh built (CI runs it after the build, as root, on its own
# throwaway machine): the .deb installs, creates the kkt user and the folders operators
# publish into, ships no release and no serial, its configuration passes `check` as the
# service user with the next step spelled out, the packaged server, run as that user,
# answers "no update" until an operator of the kkt group copies a release in, then offers
# it, and never offers the repository's sample firmware copied in. The Windows zip holds
# what its README names and no firmware or serial; under Wine its .exe passes `check` with
# the next step, answers "no update", runs README.txt's publish example exactly as written
# and refuses the sample. Everything listens on 127.0.0.1 and free ports; the package is
# purged at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=$(ls target/packages/kkt-update-server_*.deb | head -n1)
zip=$(ls target/packages/kkt-update-server-*-windows-x86_64.zip | head -n1)
fail() { echo "packages: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
server=
wserver=
wine=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$wserver" ] && kill "$wserver" 2>/dev/null || true
  [ -n "$wine" ] && WINEPREFIX="$work/wineprefix" "$(dirname "$wine")/wineserver" -k 2>/dev/null || true
  dpkg --purge kkt-update-server >/dev/null 2>&1 || true
  userdel kkt-operator >/dev/null 2>&1 || true
  rm -rf "$work" /var/lib/kkt-update-server/firmware/20250301 /var/lib/kkt-update-server/firmware/20991231
}
# What a device is told when nothing is published (the reference's "no update" answer).
no_update='{"update_available": false, "critical": false, "version": 0, "description": "", "url": "", "url_old_frs": ""}'
# What check says on an installation without a release, before its paths.
next_step="Next step: put the vendor's upd_app.bin and upd_app_for_old_frs.bin in a folder named for the release date (yyyymmdd, like 20250301) and copy it into"
# The first answer of a server just started on 127.0.0.1:$1 (it may take a while to listen).
first_answer() {
  local answer=
  for _ in $(seq 1 150); do
    answer=$(curl -s -X POST -d '{"build_date": "1.1.2018"}' "http://127.0.0.1:$1/check_firmware" || true)
    [ -n "$answer" ] && break
    sleep 0.2
  done
  printf '%s' "$answer"
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

echo "== no release and no serial in the package"
[ -f /usr/share/doc/kkt-update-server/examples/meta.yaml ] || fail "no example meta.yaml in /usr/share/doc/kkt-update-server/examples"
if dpkg -L kkt-update-server | grep '^/var/lib/kkt-update-server/.'; then fail "the package ships files into /var/lib/kkt-update-server"; fi
for d in firmware licenses; do
  left=$(ls -A "/var/lib/kkt-update-server/$d")
  [ -z "$left" ] || fail "/var/lib/kkt-update-server/$d is not empty after install: $left"
done

echo "== check as the service user, right after install"
runuser -u kkt -- kkt-update-server check --config /etc/kkt-update-server/server.yaml | tee "$work/check.txt"
grep -q 'check passed' "$work/check.txt" || fail "check did not pass"
grep -qx '0 serials with feature licenses from 0 file(s)' "$work/check.txt" || fail "the installed licenses are not empty"
grep -qF "$next_step /var/lib/kkt-update-server/firmware, or run kkt-update-server publish <that folder> --config /etc/kkt-update-server/server.yaml" "$work/check.txt" \
  || fail "check does not say the next step on an empty installation"

echo "== the packaged server answers \"no update\" on a fresh install"
port=$(free_port)
# Started by hand, the server lacks the unit's CAP_LEASE, so it cannot ask the kernel
# whether the operator's files are still being written: files nobody saw closed wait
# unconfirmed_settle_ms, shortened here.
runuser -u kkt -- kkt-update-server --config /etc/kkt-update-server/server.yaml \
  --listen "127.0.0.1:$port" --admin-listen off --settle-ms 200 --unconfirmed-settle-ms 1000 \
  2>"$work/server.log" &
server=$!
answer=$(first_answer "$port")
[ "$answer" = "$no_update" ] || { cat "$work/server.log"; fail "a fresh install answers $answer"; }
echo "ok: $answer"

echo "== an operator in the kkt group publishes; the packaged server offers it"
id kkt-operator >/dev/null 2>&1 || useradd --no-create-home --groups kkt kkt-operator
mkdir -p "$work/20250301"
head -c 40000 /dev/urandom >"$work/20250301/upd_app.bin"
head -c 40000 /dev/urandom >"$work/20250301/upd_app_for_old_frs.bin"
# The repository's sample, as a newer release: the server must never offer it.
mkdir -p "$work/sample"
cp -r firmware/20250115 "$work/sample/20991231"
chmod -R a+rX "$work"
runuser -u kkt-operator -- cp -r "$work/20250301" /var/lib/kkt-update-server/firmware/
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

echo "== the repository's sample copied in is never offered"
runuser -u kkt-operator -- cp -r "$work/sample/20991231" /var/lib/kkt-update-server/firmware/
for _ in $(seq 1 100); do
  grep -q "20991231: upd_app.bin is the repository's generated sample" "$work/server.log" && break
  sleep 0.2
done
grep -q "20991231: upd_app.bin is the repository's generated sample" "$work/server.log" || { cat "$work/server.log"; fail "the server did not reject the sample"; }
answer=$(curl -s -X POST -d '{"build_date": "1.1.2018"}' "http://127.0.0.1:$port/check_firmware")
grep -q '"version": 20250301' <<<"$answer" || fail "the sample changed what is offered: $answer"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/firmware/20991231/upd_app.bin")" = 404 ] || fail "the sample is downloadable"
# check as the service user cannot ask the kernel about the operator's files either: no
# quiet wait, so it judges the folders as they are now.
if runuser -u kkt -- kkt-update-server check --config /etc/kkt-update-server/server.yaml \
  --settle-ms 0 --unconfirmed-settle-ms 0 >"$work/check.txt"; then
  cat "$work/check.txt"; fail "check passed with the sample in firmware_dir"
fi
grep -q "problem: /var/lib/kkt-update-server/firmware/20991231: upd_app.bin is the repository's generated sample" "$work/check.txt" || { cat "$work/check.txt"; fail "check does not name the sample"; }
rm -rf /var/lib/kkt-update-server/firmware/20991231
kill "$server"; wait "$server" 2>/dev/null || true; server=
echo "ok: the sample is rejected, 20250301 stays offered"

echo "== the Windows zip"
python3 - "$zip" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
top = names[0].split("/")[0]
for need in ["kkt-update-server.exe", "server.yaml", "licenses.yaml", "README.txt", "start.bat",
             "firmware/", "licenses/", "примеры/meta.yaml"]:
    assert f"{top}/{need}" in names, f"{need} missing from the zip"
# The Cyrillic folder name is flagged UTF-8, or Windows would read it in the OEM code page.
assert z.getinfo(f"{top}/примеры/meta.yaml").flag_bits & 0x800, "примеры/ is not flagged UTF-8"
shipped = [n for n in names if n.startswith((f"{top}/firmware/", f"{top}/licenses/"))]
assert shipped == [f"{top}/firmware/", f"{top}/licenses/"], f"firmware/ or licenses/ is not empty: {shipped}"
for name in names:
    assert not z.read(name).startswith(b"KKT-SAMPLE-FIRMWARE"), f"sample firmware in the zip: {name}"
licenses = z.read(f"{top}/licenses.yaml").decode("utf-8")
serials = [l for l in licenses.splitlines() if re.match(r'\s*"?\d+"?\s*:', l)]
assert not serials, f"serials in the zipped licenses.yaml: {serials}"
readme = z.read(f"{top}/README.txt").decode("utf-8-sig")
for words in ["service install", "publish", "http://127.0.0.1:8889/", "примеры", "Next step"]:
    assert words in readme, f"README.txt does not say {words}"
print("zip ok:", len(names), "entries")
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
  grep -q '^0 serials with feature licenses' "$work/wcheck.txt" || fail "the zipped licenses are not empty"
  grep -qF "$next_step " "$work/wcheck.txt" || fail "check does not say the next step on the fresh unzip"
  grep -qF '\firmware, or run kkt-update-server.exe publish <that folder> --config ' "$work/wcheck.txt" \
    || fail "the next step does not name the unzipped firmware folder and the .exe"

  echo "== the zipped server answers \"no update\", then README.txt's publish example, as written"
  # README.txt's example names D:\incoming\20250301: D: is a folder of this test.
  mkdir -p "$work/d/incoming/20250301"
  ln -sfn "$work/d" "$WINEPREFIX/dosdevices/d:"
  head -c 40000 /dev/urandom >"$work/d/incoming/20250301/upd_app.bin"
  head -c 40000 /dev/urandom >"$work/d/incoming/20250301/upd_app_for_old_frs.bin"
  # The zip's server.yaml as it is, on free ports (the variables beat the file, for the
  # server and for publish alike, so README.txt's command line stays untouched).
  wport=$(free_port)
  # Windows cannot say who has a file open for writing: files nobody saw closed wait
  # unconfirmed_settle_ms, shortened here.
  export KKT_LISTEN="127.0.0.1:$wport" KKT_ADMIN_LISTEN="127.0.0.1:$(free_port)" \
    KKT_SETTLE_MS=200 KKT_UNCONFIRMED_SETTLE_MS=1000
  (cd "$dir" && exec "$wine" kkt-update-server.exe --config server.yaml) 2>"$work/wserver.log" &
  wserver=$!
  answer=$(first_answer "$wport")
  [ "$answer" = "$no_update" ] || { cat "$work/wserver.log"; fail "the fresh unzip answers $answer"; }
  echo "ok: $answer"
  mapfile -d '' example < <(python3 - "$dir/README.txt" <<'PY'
import shlex, sys
lines = [l.strip() for l in open(sys.argv[1], encoding="utf-8-sig") if "publish D:" in l]
assert len(lines) == 1, f"README.txt has {len(lines)} publish examples: {lines}"
lex = shlex.shlex(lines[0], posix=True)
lex.whitespace_split, lex.escape = True, ""
sys.stdout.write("\0".join(lex))
PY
)
  [ "${example[0]}" = kkt-update-server.exe ] || fail "README.txt's example does not start with kkt-update-server.exe: ${example[*]}"
  echo "README.txt: ${example[*]}"
  (cd "$dir" && "$wine" "${example[@]}") | tee "$work/wpublish.txt" || { cat "$work/wserver.log"; fail "README.txt's publish example failed"; }
  grep -q 'the running server serves it' "$work/wpublish.txt" || fail "publish did not see the running server serve the release"
  answer=$(curl -s -X POST -d '{"build_date": "1.1.2018"}' "http://127.0.0.1:$wport/check_firmware")
  grep -q '"version": 20250301' <<<"$answer" || fail "the published example is not offered: $answer"
  curl -sf -o "$work/wgot.bin" "http://127.0.0.1:$wport/firmware/20250301/upd_app.bin"
  cmp -s "$work/wgot.bin" "$work/d/incoming/20250301/upd_app.bin" || fail "the download differs from the published file"

  echo "== the repository's sample unzipped over it is never offered (an older zip shipped it)"
  cp -r firmware/20250115 "$dir/firmware/20991231"
  for _ in $(seq 1 150); do
    grep -q "upd_app.bin is the repository's generated sample" "$work/wserver.log" && break
    sleep 0.2
  done
  grep -q "upd_app.bin is the repository's generated sample" "$work/wserver.log" || { cat "$work/wserver.log"; fail "the zipped server did not reject the sample"; }
  answer=$(curl -s -X POST -d '{"build_date": "1.1.2018"}' "http://127.0.0.1:$wport/check_firmware")
  grep -q '"version": 20250301' <<<"$answer" || fail "the sample changed what the zipped server offers: $answer"
  if (cd "$dir" && "$wine" kkt-update-server.exe check --config server.yaml --settle-ms 0 \
    --unconfirmed-settle-ms 0) >"$work/wcheck.txt"; then
    cat "$work/wcheck.txt"; fail "the zipped check passed with the sample in firmware"
  fi
  grep -q "20991231: upd_app.bin is the repository's generated sample" "$work/wcheck.txt" || { cat "$work/wcheck.txt"; fail "the zipped check does not name the sample"; }
  kill "$wserver"; wserver=
  "$(dirname "$wine")/wineserver" -k || true
  echo "ok: README.txt's example published and served; the sample rejected"
else
  [ -z "${CI:-}" ] || fail "CI must install wine64"
fi
echo "packages: ok"
