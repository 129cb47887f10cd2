//! What became of an update a device was offered. The protocol gives no feedback, so it is
//! read from what the device does next: downloading the whole file, then reporting a new
//! build date (updated), or not reporting one long after (stuck).

use serde::Serialize;

use crate::words::pages::PageText;

/// The outcome of one offer to one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Offered; no whole download yet.
    Pending,
    /// Downloaded in full; not yet reporting the new build date.
    Downloaded,
    /// Reported a build date at or after the version offered.
    Updated,
    /// Downloaded in full and still reporting an older build date `stuck_after` later.
    Stuck,
}

impl Outcome {
    pub fn parse(text: &str) -> Option<Outcome> {
        match text {
            "pending" => Some(Outcome::Pending),
            "downloaded" => Some(Outcome::Downloaded),
            "updated" => Some(Outcome::Updated),
            "stuck" => Some(Outcome::Stuck),
            _ => None,
        }
    }

    /// The outcome in the pages' words.
    pub fn words(&self, t: &PageText) -> &'static str {
        match self {
            Outcome::Pending => t.outcome_pending,
            Outcome::Downloaded => t.outcome_downloaded,
            Outcome::Updated => t.outcome_updated,
            Outcome::Stuck => t.outcome_stuck,
        }
    }
}

/// The outcome from the times recorded for one offer.
pub fn outcome(
    downloaded_at: Option<u64>,
    updated_at: Option<u64>,
    now: u64,
    stuck_after: u64,
) -> Outcome {
    match (downloaded_at, updated_at) {
        (_, Some(_)) => Outcome::Updated,
        (Some(at), None) if now.saturating_sub(at) >= stuck_after => Outcome::Stuck,
        (Some(_), None) => Outcome::Downloaded,
        (None, None) => Outcome::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_what_the_device_did() {
        let day = 86_400;
        assert_eq!(outcome(None, None, 10 * day, day), Outcome::Pending);
        assert_eq!(
            outcome(Some(9 * day + 1), None, 10 * day, day),
            Outcome::Downloaded
        );
        assert_eq!(outcome(Some(8 * day), None, 10 * day, day), Outcome::Stuck);
        assert_eq!(
            outcome(Some(8 * day), Some(9 * day), 10 * day, day),
            Outcome::Updated
        );
        assert_eq!(
            outcome(None, Some(9 * day), 10 * day, day),
            Outcome::Updated
        );
        assert_eq!(Outcome::parse("stuck"), Some(Outcome::Stuck));
        assert_eq!(Outcome::parse("Stuck"), None);
    }
}
