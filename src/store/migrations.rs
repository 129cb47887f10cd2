//! The schema: `migrations/<dialect>/NNNN_*.sql`, compiled in, applied in order at
//! start-up and recorded in `schema_migrations`, safely when several processes start at
//! once on one database.

use crate::store::db::{Db, Dialect, Value};
use crate::store::db_error::{DbError, DbResult};

/// The migrations, in order: (version, SQLite text, PostgreSQL text).
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_inventory.sql"),
        include_str!("../../migrations/postgres/0001_inventory.sql"),
    ),
    (
        2,
        include_str!("../../migrations/sqlite/0002_devices_by_last_seen.sql"),
        include_str!("../../migrations/postgres/0002_devices_by_last_seen.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_lines_and_rollouts.sql"),
        include_str!("../../migrations/postgres/0003_lines_and_rollouts.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_admissions_by_instance.sql"),
        include_str!("../../migrations/postgres/0004_admissions_by_instance.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_release_downloads_index.sql"),
        include_str!("../../migrations/postgres/0005_release_downloads_index.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_bounded_per_device.sql"),
        include_str!("../../migrations/postgres/0006_bounded_per_device.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_rollout_stages.sql"),
        include_str!("../../migrations/postgres/0007_rollout_stages.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_audit.sql"),
        include_str!("../../migrations/postgres/0008_audit.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_device_groups.sql"),
        include_str!("../../migrations/postgres/0009_device_groups.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_devices_seen_out_of_indexes.sql"),
        include_str!("../../migrations/postgres/0010_devices_seen_out_of_indexes.sql"),
    ),
    (
        11,
        include_str!("../../migrations/sqlite/0011_sqlite_devices_seen_out_of_indexes.sql"),
        include_str!("../../migrations/postgres/0011_sqlite_devices_seen_out_of_indexes.sql"),
    ),
];

/// Applies the migrations this database has not seen yet; returns how many. Several
/// processes may start at once on one database (instances sharing PostgreSQL): each
/// migration runs in a transaction that first takes the database's write lock (SQLite) or
/// an advisory lock (PostgreSQL), then checks again whether it is still needed.
pub fn migrate(db: &mut dyn Db) -> DbResult<usize> {
    let postgres = db.dialect() == Dialect::Postgres;
    if postgres {
        db.batch("SELECT pg_advisory_lock(7340001)")?;
    }
    let result = migrate_locked(db);
    if postgres {
        let _ = db.batch("SELECT pg_advisory_unlock(7340001)");
    }
    result
}

fn migrate_locked(db: &mut dyn Db) -> DbResult<usize> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .map_err(|e| DbError::MigrationsTable(Box::new(e)))?;
    let mut count = 0;
    for (version, sqlite, postgres) in MIGRATIONS {
        let sql = match db.dialect() {
            Dialect::Postgres => postgres,
            Dialect::Sqlite => sqlite,
        };
        db.begin()?;
        let applied = db
            .query(
                "SELECT version FROM schema_migrations WHERE version = $1",
                &[Value::Int(*version)],
            )
            .map(|rows| !rows.is_empty());
        match applied {
            Ok(true) => {
                db.rollback()?;
                continue;
            }
            Ok(false) => {}
            Err(e) => {
                let _ = db.rollback();
                return Err(e);
            }
        }
        let result = db.batch(sql).and_then(|()| {
            db.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[
                    Value::Int(*version),
                    Value::from(crate::model::unix_time::unix(std::time::SystemTime::now())),
                ],
            )
        });
        match result {
            Ok(_) => db.commit()?,
            Err(e) => {
                let _ = db.rollback();
                return Err(DbError::Migration {
                    version: *version,
                    source: Box::new(e),
                });
            }
        }
        count += 1;
    }
    Ok(count)
}

/// Gives a new store the first `count` migrations only, recorded as applied: a store as an
/// older server left it, for the tests of a later migration.
#[cfg(test)]
pub(super) fn migrate_first(db: &mut dyn Db, count: usize) -> DbResult<()> {
    db.batch(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    for (version, sqlite, postgres) in MIGRATIONS.iter().take(count) {
        db.batch(match db.dialect() {
            Dialect::Postgres => postgres,
            Dialect::Sqlite => sqlite,
        })?;
        db.exec(
            "INSERT INTO schema_migrations VALUES ($1, 0)",
            &[Value::Int(*version)],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;

    fn texts(db: &mut dyn Db, sql: &str, column: &str) -> anyhow::Result<Vec<String>> {
        let rows = db.query(sql, &[])?;
        Ok(rows
            .iter()
            .map(|row| row.text(column))
            .collect::<Result<_, _>>()?)
    }

    /// The columns every index of `devices` holds, index by index.
    fn indexed_columns(db: &mut dyn Db) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        let mut indexes = Vec::new();
        for name in texts(db, "SELECT name FROM pragma_index_list('devices')", "name")? {
            let sql = format!("SELECT name FROM pragma_index_info('{name}')");
            indexes.push((name, texts(db, &sql, "name")?));
        }
        Ok(indexes)
    }

    /// Migration 11: no index of SQLite's `devices` holds `last_seen`, which every
    /// check-in moves (a steady check-in updates its row and nothing else), and a group's
    /// devices and their addresses are found by one index.
    #[test]
    fn no_index_of_the_devices_holds_last_seen_in_sqlite() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let indexes = indexed_columns(&mut db)?;
        assert!(
            indexes
                .iter()
                .all(|(_, columns)| !columns.iter().any(|c| c == "last_seen")),
            "{indexes:?}"
        );
        assert!(
            indexes
                .iter()
                .any(|(name, columns)| name == "devices_by_group_address"
                    && columns == &["group_name", "address"]),
            "{indexes:?}"
        );
        Ok(())
    }

    /// Migration 11 over a store whose indexes an operator already changed by hand (either
    /// of the two it drops already gone): it applies, and leaves the same indexes.
    #[test]
    fn migration_11_applies_over_indexes_changed_by_hand() -> anyhow::Result<()> {
        for dropped in ["devices_seen_address", "devices_by_group"] {
            let dir = tempfile::tempdir()?;
            let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
            migrate_first(&mut db, 10)?;
            db.batch(&format!("DROP INDEX {dropped}"))?;
            assert_eq!(migrate(&mut db)?, 1, "{dropped} dropped by hand");
            let mut names: Vec<String> = indexed_columns(&mut db)?
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| !name.starts_with("sqlite_autoindex"))
                .collect();
            names.sort();
            assert_eq!(names, ["devices_build_date", "devices_by_group_address"]);
        }
        Ok(())
    }
}
