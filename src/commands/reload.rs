//! `kkt-update-server reload`: asks the running server to rescan now, through its admin
//! listener (`POST /reload`, with the admin token when one is set). The same on every
//! system: on Windows, where there is no SIGHUP, it is the way to say "reload".

use std::time::Duration;

use anyhow::{bail, Result};

use crate::commands::server_client;
use crate::config::Config;

/// Sends the request; the server's answer on success.
pub fn run(config: &Config) -> Result<String> {
    if config.admin_listen.is_none() {
        bail!(
            "admin_listen is off, so there is nobody to ask; set admin_listen (the reload \
             goes through it) or, on Unix, send SIGHUP"
        );
    }
    match server_client::admin(config, "POST", "/reload", Duration::from_secs(30))? {
        (200, body) => Ok(body),
        (status, body) => bail!("the server answered {status}: {body}"),
    }
}
