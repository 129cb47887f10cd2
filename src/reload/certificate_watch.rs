//! The TLS certificate watch: every two seconds it looks at the certificate and key files
//! (size, time, and where certbot's `live/` links point) and, when they changed, takes the
//! new pair for new handshakes, or keeps the last good one and says why. Polling, not
//! inotify: certbot swaps links in another folder tree, and a look costs two `stat`s.

use std::sync::Arc;
use std::time::Duration;

use log::{info, warn};

use crate::config::tls::{CertificateStore, Renewal};
use crate::model::lang::{fill, InLanguage, Lang};
use crate::words::Words;

/// The words in the operator's language.
fn words() -> &'static Words {
    Words::of(Lang::operator())
}

/// How often the files are looked at.
const EVERY: Duration = Duration::from_secs(2);

/// Runs until the process ends.
pub async fn run(store: Arc<CertificateStore>) {
    loop {
        actix_web::rt::time::sleep(EVERY).await;
        match store.renew_if_changed() {
            Renewal::Same => {}
            Renewal::Taken => info!(
                "{}",
                fill(
                    words().log.certificate_taken,
                    &[("file", &store.files().cert.display())]
                )
            ),
            Renewal::Refused(reason) => warn!(
                "{}",
                fill(
                    words().log.certificate_refused,
                    &[("why", &reason.in_language(Lang::operator()))]
                )
            ),
        }
    }
}
