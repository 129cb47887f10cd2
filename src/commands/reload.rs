//! `kkt-update-server reload`: asks the running server to rescan now, through its admin
//! listener (`POST /reload`, with `--token`, `KKT_TOKEN` or `admin_token`: an `admin`'s). The same on every
//! system: on Windows, where there is no SIGHUP, it is the way to say "reload".

use std::time::Duration;

use anyhow::{bail, Result};

use crate::commands::server_client;
use crate::config::cli::ReloadArgs;
use crate::config::Config;
use crate::model::lang::{fill, Lang};
use crate::words::{Said, Words};

/// What the server answered to a reload.
#[derive(Debug)]
pub struct Answer {
    /// The JSON as the server sent it (what scripts read, the same in every language).
    pub body: String,
    /// It reloaded (else it kept its running state, `outcome` says why).
    pub reloaded: bool,
    /// What the reload found, as the server said it.
    pub outcome: String,
    pub ms: u64,
}

impl Answer {
    /// One sentence in `lang` saying what the server did.
    pub fn said(&self, lang: Lang) -> String {
        let t = Words::of(lang).operator;
        fill(
            if self.reloaded {
                t.reload_done
            } else {
                t.reload_kept
            },
            &[("ms", &self.ms), ("outcome", &self.outcome)],
        )
    }
}

/// Sends the request with the token `args` give (`--token`, `KKT_TOKEN`, else
/// `admin_token`); the server's answer on success.
pub fn run(config: &Config, args: &ReloadArgs) -> Result<Answer> {
    if config.admin_listen.is_none() {
        bail!(Said::new(|w| w.operator.reload_no_admin.to_string()));
    }
    let token = args.server.or_admin_token(config.admin_token.as_deref());
    match server_client::admin(config, token, "POST", "/reload", Duration::from_secs(30))? {
        (200, body) => {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            Ok(Answer {
                reloaded: json["status"] == "reloaded",
                outcome: json["outcome"].as_str().unwrap_or_default().to_string(),
                ms: json["duration_ms"].as_u64().unwrap_or_default(),
                body,
            })
        }
        (status, body) => bail!(Said::new(|w| fill(
            w.operator.reload_answered,
            &[("status", &status), ("body", &body)]
        ))),
    }
}
