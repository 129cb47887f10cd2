//! The set-up the rollout areas share: the default line with release 20250101, which
//! everyone has, and 20250301 ("March") under a `rollout:` of the test's choosing; and
//! where the server's `/status` says how that rollout stands.

use super::{admin, Fixture, Server};

/// Releases published at once, and addresses taken from `X-Forwarded-For` sent by
/// 127.0.0.1, so that one test plays many registers.
pub const PROXIED_CONFIG: &str = "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\n";

/// The March release's `meta.yaml`, with `rollout` (YAML lines) under `rollout:`.
pub fn march_meta(rollout: &str) -> String {
    let indented: String = rollout.lines().map(|l| format!("  {l}\n")).collect();
    format!("description: \"March\"\nrollout:\n{indented}")
}

/// The default line with 20250101 (everyone) and 20250301 under `rollout`, behind the
/// proxy at 127.0.0.1 (`PROXIED_CONFIG`).
pub fn march_under_rollout(rollout: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(PROXIED_CONFIG);
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&march_meta(rollout)));
    fixture
}

/// The March rollout as `/status` shows it; null when it shows none.
pub fn march_rollout_status(server: &Server) -> serde_json::Value {
    admin(server, "/status").json()["rollouts"]
        .as_array()
        .expect("rollouts")
        .iter()
        .find(|r| r["version"] == 20250301)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}
