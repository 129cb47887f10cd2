//! Records the compiler's and actix-web's versions for `GET /version`.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rust_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KKT_RUST_VERSION={rust_version}");

    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let actix_web = lock
        .split("[[package]]")
        .find(|block| block.contains("name = \"actix-web\"\n"))
        .and_then(|block| {
            block
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
        })
        .map(|v| v.trim_end_matches('"').to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KKT_ACTIX_WEB_VERSION={actix_web}");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
