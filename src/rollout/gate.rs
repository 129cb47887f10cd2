//! The one call the `check_firmware` handler makes for rollouts: what a device of a line is
//! offered, where each newer release under rollout asks the admissions memory whether the
//! device is admitted (admitting it now when the rules allow), and each admission made just
//! now is queued for the inventory, so that a restart and the other instances sharing the
//! store remember it. Nothing here waits for the store.

use std::net::IpAddr;

use crate::catalog::firmware_offer::{offer, Ask, FirmwareOffer};
use crate::catalog::snapshot::LineView;
use crate::groups::{group::local_minute, Group, Groups};
use crate::model::version::Version;
use crate::rollout::admissions::Admissions;
use crate::store::{Event, Inventory};

/// The request path's view of the rollouts: the admissions memory, and the inventory that
/// remembers new admissions (see `AppState::rollout`).
pub struct RolloutGate<'a> {
    admissions: &'a Admissions,
    inventory: &'a Inventory,
}

impl<'a> RolloutGate<'a> {
    pub fn new(admissions: &'a Admissions, inventory: &'a Inventory) -> RolloutGate<'a> {
        RolloutGate {
            admissions,
            inventory,
        }
    }

    /// The offer for a device at `client`, built on `build`, from `line`, at `now` (Unix
    /// seconds); URLs start with `base`. A device whose address is unknown is admitted to
    /// no release under rollout. `groups` are the snapshot's: the device's admission group
    /// (by networks) is looked up at most once, and only when a rollout's window or
    /// `pilot_groups` needs it.
    pub fn offer(
        &self,
        line: &LineView,
        build: Version,
        base: &str,
        client: Option<IpAddr>,
        groups: &Groups,
        now: u64,
    ) -> FirmwareOffer {
        let mut admitted = Vec::new();
        let mut group: Option<Option<&Group>> = None;
        let answer = offer(line, build, base, &mut |release, ask| {
            let (Some(client), Some(rollout)) = (client, &release.rollout) else {
                return release.rollout.is_none();
            };
            // Past the device's upgrade floor: only an admission remembered counts.
            if ask == Ask::AdmittedBefore {
                return self
                    .admissions
                    .is_admitted(line.name, release.version, client);
            }
            let group = if rollout.window.is_some() || !rollout.pilot_groups.is_empty() {
                *group.get_or_insert_with(|| groups.for_admission(client))
            } else {
                None
            };
            // The local clock (the group's time zone, else the server's) is read only when
            // a window needs it.
            let minute = if rollout.window.is_some() {
                local_minute(group, now)
            } else {
                0
            };
            let (yes, new) = self.admissions.admit(
                line.name,
                release.version,
                rollout,
                (client, group.map(|g| g.name.as_str())),
                now,
                minute,
            );
            if let Some(new) = new {
                admitted.push((release.version.as_u32(), new.pilot));
            }
            yes
        });
        if let Some(client) = client {
            for (version, pilot) in admitted {
                self.inventory.record(Event::Admitted {
                    at: now,
                    address: client,
                    line: line.name.into(),
                    version,
                    pilot,
                });
            }
        }
        answer
    }
}
