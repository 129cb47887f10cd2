#!/usr/bin/env bash
# Builds the packages into target/packages/:
#   kkt-update-server_<version>-1_amd64.deb          (cargo-deb; Debian 12 and later)
#   kkt-update-server-<version>-windows-x86_64.zip   (the .exe, its server.yaml, README.txt,
#                                                      start.bat, an empty firmware/ and
#                                                      licenses, examples in примеры/)
# Installs what it needs itself: cargo-deb, the Windows target, mingw-w64 (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/packages
work=target/packaging
rm -rf "$work/units"
mkdir -p "$out" "$work/units/main" "$work/units/admin"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

# --- the .deb -------------------------------------------------------------------------------
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked
# The systemd units of contrib/, with the package's paths: the binary in /usr/bin, firmware
# and licenses in /var/lib/kkt-update-server (the state directory, group kkt may write).
sed -e 's|/usr/local/bin/kkt-update-server|/usr/bin/kkt-update-server|g' \
    -e 's|^ReadOnlyPaths=.*|ReadOnlyPaths=/etc/kkt-update-server /var/lib/kkt-update-server/licenses|' \
    -e 's|^StateDirectoryMode=.*|StateDirectoryMode=2775|' \
    -e 's|/srv/kkt/|/var/lib/kkt-update-server/|g' \
    contrib/kkt-update-server.service >"$work/units/main/kkt-update-server.service"
# One folder per unit name: cargo-deb would otherwise take kkt-update-server.service for
# the admin socket's unit too.
cp contrib/kkt-update-server.socket "$work/units/main/"
cp contrib/kkt-update-server-admin.socket "$work/units/admin/"
cargo deb --output "$out/"

# --- the Windows zip ------------------------------------------------------------------------
rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 >/dev/null
fi
# packaged: the .exe finds the server.yaml beside it without --config.
cargo build --release --target x86_64-pc-windows-gnu --features packaged
name=kkt-update-server-$version-windows-x86_64
python3 - "$out/$name.zip" "$name" <<'PY'
import sys, zipfile
zip_path, top = sys.argv[1], sys.argv[2]
def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    z.write("target/x86_64-pc-windows-gnu/release/kkt-update-server.exe", f"{top}/kkt-update-server.exe")
    # Notepad-friendly text: CRLF, and a BOM on the Russian README.
    z.writestr(f"{top}/README.txt", "\ufeff" + crlf(open("packaging/windows/README.txt", encoding="utf-8").read()))
    z.writestr(f"{top}/start.bat", crlf(open("packaging/windows/start.bat", encoding="utf-8").read()))
    # What a service centre starts from: its own configuration, no release and no serial.
    # The repository's sample firmware and licenses stay out: installed as a service, the
    # zip would offer them to real registers (the server refuses the sample bytes anyway,
    # outside the source tree). Examples go to примеры\, which the server never reads.
    z.writestr(f"{top}/server.yaml", crlf(open("packaging/windows/server.yaml", encoding="utf-8").read()))
    z.writestr(f"{top}/licenses.yaml", crlf(open("packaging/windows/licenses.yaml", encoding="utf-8").read()))
    z.writestr(f"{top}/примеры/meta.yaml", crlf(open("packaging/examples/meta.yaml", encoding="utf-8").read()))
    for empty in ["firmware", "licenses"]:
        folder = zipfile.ZipInfo(f"{top}/{empty}/")
        folder.external_attr = (0o40755 << 16) | 0x10  # a folder, for unzip and for Windows
        z.writestr(folder, b"")
print(f"{zip_path}: {len(zipfile.ZipFile(zip_path).namelist())} files")
PY
ls -l "$out"
