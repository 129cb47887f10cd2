//! Each device's group (`groups.yaml`) kept on its row (`devices.group_name`, migration 9),
//! so that the lists, exports, history and dashboard filter and count by group in SQL, and
//! a viewer limited to groups is shown only its own registers by the same `WHERE` that
//! pages the list.
//!
//! Only the writer thread writes it, never the request path: a new device is tagged by its
//! network when its row is made; a device asking licenses for a serial of a group (and in
//! no group by network) is tagged when the serial is written; and when the groups change,
//! every device is tagged again, `RETAG_CHUNK` rows per beat of the writer (each chunk its
//! own short transaction), so that devices' records keep being written meanwhile. The rule
//! is `Groups::of`: networks first, then the serials asked for, in the file's order.

use std::collections::HashMap;
use std::net::IpAddr;

use anyhow::Result;

use crate::groups::Groups;
use crate::store::db::{Db, Value};

/// Devices tagged again per beat of the writer after the groups changed (100,000 devices:
/// about five seconds).
pub const RETAG_CHUNK: u64 = 1000;

/// Whether any group holds serials: else a device's serials never decide its group, and
/// are not read.
fn by_serials(groups: &Groups) -> bool {
    groups.iter().any(|g| !g.serials.is_empty())
}

/// The group a device at `address` belongs to by its network alone (its row's tag when it
/// is made).
pub fn by_network<'g>(groups: &'g Groups, address: &str) -> Option<&'g str> {
    let ip: IpAddr = address.parse().ok()?;
    groups.for_admission(ip).map(|g| g.name.as_str())
}

/// Tags the devices at `addresses` (whose serials just changed) by `Groups::of`, reading
/// their stored serials; a device already in a group by network keeps it.
pub fn tag_after_serials<'a>(
    db: &mut dyn Db,
    groups: &Groups,
    addresses: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    if !by_serials(groups) {
        return Ok(());
    }
    for address in addresses {
        if by_network(groups, address).is_some() {
            continue;
        }
        let serials: Vec<String> = db
            .query(
                "SELECT serial FROM device_serials WHERE address = $1",
                &[Value::from(address)],
            )?
            .iter()
            .map(|row| row.text("serial"))
            .collect::<Result<_, _>>()?;
        let group = group_of(groups, address, &serials);
        set(db, address, group)?;
    }
    Ok(())
}

/// The group of a device at `address` that asked licenses for `serials` (none for an
/// address that does not parse: only a hand edit stores one).
fn group_of<'g>(groups: &'g Groups, address: &str, serials: &[String]) -> Option<&'g str> {
    let ip: IpAddr = address.parse().ok()?;
    groups
        .of(ip, serials.iter().map(String::as_str))
        .map(|g| g.name.as_str())
}

/// Writes `group` on the device's row, when it differs.
fn set(db: &mut dyn Db, address: &str, group: Option<&str>) -> Result<()> {
    match group {
        Some(name) => db.exec(
            "UPDATE devices SET group_name = $1 WHERE address = $2 \
             AND (group_name IS NULL OR group_name <> $1)",
            &[Value::from(name), Value::from(address)],
        )?,
        None => db.exec(
            "UPDATE devices SET group_name = NULL WHERE address = $1 AND group_name IS NOT NULL",
            &[Value::from(address)],
        )?,
    };
    Ok(())
}

/// Tags again by `groups` the devices whose address sorts after `after` (`""`: from the
/// first), at most `chunk` of them, in address order; the last address done, or none when
/// no device was left (the whole inventory is tagged).
pub fn retag_after(
    db: &mut dyn Db,
    groups: &Groups,
    after: &str,
    chunk: u64,
) -> Result<Option<String>> {
    let rows = db.query(
        "SELECT address, group_name FROM devices WHERE address > $1 ORDER BY address LIMIT $2",
        &[Value::from(after), Value::from(chunk)],
    )?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let last = last.text("address")?;
    let mut serials: HashMap<String, Vec<String>> = HashMap::new();
    if by_serials(groups) {
        for row in db.query(
            "SELECT address, serial FROM device_serials WHERE address IN \
             (SELECT address FROM devices WHERE address > $1 ORDER BY address LIMIT $2)",
            &[Value::from(after), Value::from(chunk)],
        )? {
            serials
                .entry(row.text("address")?)
                .or_default()
                .push(row.text("serial")?);
        }
    }
    for row in &rows {
        let address = row.text("address")?;
        let now = group_of(
            groups,
            &address,
            serials.get(&address).map_or(&[][..], Vec::as_slice),
        );
        if row.opt_text("group_name")?.as_deref() != now {
            set(db, &address, now)?;
        }
    }
    Ok(Some(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::Group;
    use crate::licenses::serial::Serial;
    use crate::model::ip_networks::IpNetworks;
    use crate::store::db::Sqlite;
    use crate::store::migrations::migrate;

    fn groups(a_networks: &[&str]) -> Groups {
        let networks: Vec<String> = a_networks.iter().map(|n| n.to_string()).collect();
        Groups::new(vec![
            Group {
                name: "A".into(),
                networks: IpNetworks::parse("networks", &networks).expect("networks"),
                serials: Vec::new(),
                time_zone: None,
            },
            Group {
                name: "B".into(),
                networks: IpNetworks::default(),
                serials: vec![Serial::parse_file_form("0000000000000042").expect("serial")],
                time_zone: None,
            },
        ])
    }

    fn tags(db: &mut dyn Db) -> Result<Vec<(String, Option<String>)>> {
        db.query(
            "SELECT address, group_name FROM devices ORDER BY address",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.text("address")?, r.opt_text("group_name")?)))
        .collect::<Result<_>>()
    }

    /// Networks first, then serials; a retag in chunks reaches every device, moves those
    /// whose group changed and clears those in none.
    #[test]
    fn devices_are_tagged_by_network_then_serial_in_chunks() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        db.batch(
            "INSERT INTO devices (address, first_seen, last_seen) VALUES \
             ('10.1.0.1', 1, 1), ('10.1.0.2', 1, 1), ('10.2.0.1', 1, 1), ('10.3.0.1', 1, 1);
             INSERT INTO device_serials (address, serial, licensed, last_seen) VALUES \
             ('10.1.0.2', '42', 0, 1), ('10.2.0.1', '0000000000000042', 0, 1);
             UPDATE devices SET group_name = 'gone' WHERE address = '10.3.0.1';",
        )?;
        let first = groups(&["10.1.0.0/16"]);
        let mut after = String::new();
        let mut chunks = 0;
        while let Some(last) = retag_after(&mut db, &first, &after, 3)? {
            after = last;
            chunks += 1;
        }
        assert_eq!(chunks, 2);
        let tag = |s: &str| Some(s.to_string());
        assert_eq!(
            tags(&mut db)?,
            [
                ("10.1.0.1".into(), tag("A")),
                ("10.1.0.2".into(), tag("A")),
                ("10.2.0.1".into(), tag("B")),
                ("10.3.0.1".into(), None),
            ]
        );
        // A has no network any more: 10.1.0.2 moves to B by its serial.
        let second = groups(&[]);
        let mut after = String::new();
        while let Some(last) = retag_after(&mut db, &second, &after, 1000)? {
            after = last;
        }
        assert_eq!(tags(&mut db)?[0].1, None);
        assert_eq!(tags(&mut db)?[1].1, tag("B"));
        Ok(())
    }
}
