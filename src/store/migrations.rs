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
