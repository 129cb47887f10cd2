//! One device in full, for its page on the dashboard (`GET /devices/<address>`): its row,
//! every release it was offered with what became of it, its recent downloads, the serials
//! asked for from it and its rollout admissions. Every list is bounded (the store keeps
//! at most 256 serials and 64 build changes per device; the reads cap what they return).

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{Db, Value};
use crate::store::device_reads::{self, DeviceFilter, DeviceRow};
use crate::store::outcome::{outcome, Outcome};

/// At most this many rows of each list on a device's page.
pub const MAX_ROWS: u64 = 50;

/// A device with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: DeviceRow,
    /// When it last asked `check_firmware` (its polls), Unix seconds.
    pub last_check_in: Option<u64>,
    pub offers: Vec<OfferRow>,
    pub downloads: Vec<DownloadRow>,
    pub serial_list: Vec<SerialSeen>,
    pub admissions: Vec<AdmissionRow>,
}

/// One release a device was offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferRow {
    pub line: String,
    pub version: u32,
    pub critical: bool,
    pub offered_at: u64,
    pub downloaded_at: Option<u64>,
    pub updated_at: Option<u64>,
    pub outcome: Outcome,
}

/// Downloads of one file of one release by the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownloadRow {
    pub at: u64,
    pub version: u32,
    pub file: String,
    pub bytes: u64,
    pub complete: bool,
    pub times: u64,
}

/// A serial asked for from the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialSeen {
    pub serial: String,
    pub licensed: bool,
    pub last_seen: u64,
}

/// An admission to a release under rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmissionRow {
    pub line: String,
    pub version: u32,
    pub at: u64,
    pub pilot: bool,
}

/// The device at `address` (as stored), when the inventory knows it.
pub fn device_detail(
    db: &mut dyn Db,
    address: &str,
    now: u64,
    stuck_after: u64,
) -> Result<Option<DeviceDetail>> {
    let filter = DeviceFilter {
        address: Some(address.to_string()),
        limit: 1,
        ..DeviceFilter::default()
    };
    let Some(device) = device_reads::devices(db, &filter, now, stuck_after)?
        .1
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let key = [Value::from(address), Value::from(MAX_ROWS)];
    Ok(Some(DeviceDetail {
        device,
        last_check_in: last_check_in(db, &key)?,
        offers: offers(db, &key, now, stuck_after)?,
        downloads: downloads(db, &key)?,
        serial_list: serials(db, &key)?,
        admissions: admissions(db, &key)?,
    }))
}

/// When the device last asked for an update (`key`: its address, then the row bound).
fn last_check_in(db: &mut dyn Db, key: &[Value; 2]) -> Result<Option<u64>> {
    let rows = db.query(
        "SELECT last_check_in FROM devices WHERE address = $1",
        &key[..1],
    )?;
    Ok(match rows.first() {
        Some(row) => row.opt_u64("last_check_in")?,
        None => None,
    })
}

/// The releases offered to the device, newest first, with what became of each.
fn offers(db: &mut dyn Db, key: &[Value; 2], now: u64, stuck_after: u64) -> Result<Vec<OfferRow>> {
    let mut offers = Vec::new();
    for row in db.query(
        "SELECT line, version, critical, offered_at, downloaded_at, updated_at \
         FROM device_releases WHERE address = $1 ORDER BY offered_at DESC, version DESC LIMIT $2",
        key,
    )? {
        let (downloaded_at, updated_at) =
            (row.opt_u64("downloaded_at")?, row.opt_u64("updated_at")?);
        offers.push(OfferRow {
            line: row.text("line")?,
            version: row.u32("version")?,
            critical: row.bool("critical")?,
            offered_at: row.u64("offered_at")?,
            downloaded_at,
            updated_at,
            outcome: outcome(downloaded_at, updated_at, now, stuck_after),
        });
    }
    Ok(offers)
}

/// The device's downloads, newest first.
fn downloads(db: &mut dyn Db, key: &[Value; 2]) -> Result<Vec<DownloadRow>> {
    let mut downloads = Vec::new();
    for row in db.query(
        "SELECT at, version, file, bytes, complete, times FROM downloads \
         WHERE address = $1 ORDER BY at DESC, id DESC LIMIT $2",
        key,
    )? {
        downloads.push(DownloadRow {
            at: row.u64("at")?,
            version: row.u32("version")?,
            file: row.text("file")?,
            bytes: row.u64("bytes")?,
            complete: row.bool("complete")?,
            times: row.u64("times")?,
        });
    }
    Ok(downloads)
}

/// The serials the device asked licenses for, last seen first.
fn serials(db: &mut dyn Db, key: &[Value; 2]) -> Result<Vec<SerialSeen>> {
    let mut serials = Vec::new();
    for row in db.query(
        "SELECT serial, licensed, last_seen FROM device_serials \
         WHERE address = $1 ORDER BY last_seen DESC, serial LIMIT $2",
        key,
    )? {
        serials.push(SerialSeen {
            serial: row.text("serial")?,
            licensed: row.bool("licensed")?,
            last_seen: row.u64("last_seen")?,
        });
    }
    Ok(serials)
}

/// The rollouts that admitted the device, newest first.
fn admissions(db: &mut dyn Db, key: &[Value; 2]) -> Result<Vec<AdmissionRow>> {
    let mut admissions = Vec::new();
    for row in db.query(
        "SELECT line, version, at, pilot FROM admissions \
         WHERE address = $1 ORDER BY at DESC, version DESC LIMIT $2",
        key,
    )? {
        admissions.push(AdmissionRow {
            line: row.text("line")?,
            version: row.u32("version")?,
            at: row.u64("at")?,
            pilot: row.bool("pilot")?,
        });
    }
    Ok(admissions)
}
