//! The store's own work against PostgreSQL (a throwaway server, as in
//! `inventory_postgres`): what check-ins cost the writer in statements, steady check-ins
//! as heap-only updates, and migrations over stores of older schemas or changed by hand.

use std::path::{Path, PathBuf};

use crate::common::{self, eventually, DEADLINE};
use crate::inventory_postgres::{check_in, deployment, start, start_postgres, wait_total};
use kkt_update_server::store::db::{Db, Dialect, Value};
use kkt_update_server::store::db_error::DbResult;
use kkt_update_server::store::row::Row;

/// A store of schema 5 holding a device's 30 downloads of one file, 1,000 serials and 100
/// build changes: migration 6 folds the downloads into one counted row and prunes the rest
/// to the bounds (256 serials, 64 build changes), in PostgreSQL's dialect.
#[test]
fn migration_6_folds_and_prunes_a_postgres_store() {
    let Some(pg) = start_postgres() else { return };
    let mut client = postgres::Client::connect(&pg.url(), postgres::NoTls).expect("connect");
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .expect("schema_migrations");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("migrations")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for (n, file) in files.iter().take(5).enumerate() {
        client
            .batch_execute(&std::fs::read_to_string(file).expect("migration"))
            .expect("migration");
        client
            .execute(
                "INSERT INTO schema_migrations VALUES ($1, 0)",
                &[&(n as i64 + 1)],
            )
            .expect("version");
    }
    // Times of the last hour: the retention prune at start-up leaves them.
    let base = common::unix_now() as i64 - 3600;
    client
        .batch_execute(&format!(
            "INSERT INTO downloads (at, address, version, file, bytes, complete) \
             SELECT {base} + n, '10.8.0.1', 20180125, 'upd_app.bin', 1000, 1 FROM generate_series(0, 29) AS n;
             INSERT INTO device_serials (address, serial, licensed, last_seen) \
             SELECT '10.8.0.1', lpad(n::text, 16, '0'), 0, {base} + n FROM generate_series(0, 999) AS n;
             INSERT INTO history (at, kind, address, detail) \
             SELECT {base} + n, 'build_changed', '10.8.0.1', '' FROM generate_series(0, 99) AS n;"
        ))
        .expect("a schema 5 store with data");
    let fixture = deployment(&pg.url());
    let _server = start(fixture.dir.path());
    let ints = |client: &mut postgres::Client, sql: &str| -> Vec<i64> {
        let rows = client.query(sql, &[]).expect(sql);
        rows.iter().map(|row| row.get::<_, i64>(0)).collect()
    };
    eventually("migration 6", DEADLINE, || {
        (ints(
            &mut client,
            "SELECT COUNT(*) FROM schema_migrations WHERE version = 6",
        ) == [1])
        .then_some(())
    });
    assert_eq!(
        ints(&mut client, "SELECT times FROM downloads"),
        [30],
        "one row, counted"
    );
    assert_eq!(ints(&mut client, "SELECT first_at FROM downloads"), [base]);
    assert_eq!(ints(&mut client, "SELECT at FROM downloads"), [base + 29]);
    assert_eq!(
        ints(&mut client, "SELECT MIN(last_seen) FROM device_serials"),
        [base + 1000 - 256]
    );
    assert_eq!(
        ints(&mut client, "SELECT COUNT(*) FROM device_serials"),
        [256]
    );
    assert_eq!(
        ints(
            &mut client,
            "SELECT COUNT(*) FROM history WHERE kind = 'build_changed'"
        ),
        [64]
    );
}

/// A `Db` counting the statements run through it (transactions aside).
struct Counting<D> {
    db: D,
    statements: usize,
}

impl<D: Db> Db for Counting<D> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        self.statements += 1;
        self.db.exec(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        self.statements += 1;
        self.db.query(sql, params)
    }
    fn batch(&mut self, sql: &str) -> DbResult<()> {
        self.statements += 1;
        self.db.batch(sql)
    }
    fn begin(&mut self) -> DbResult<()> {
        self.db.begin()
    }
    fn commit(&mut self) -> DbResult<()> {
        self.db.commit()
    }
    fn rollback(&mut self) -> DbResult<()> {
        self.db.rollback()
    }
    fn dialect(&self) -> Dialect {
        self.db.dialect()
    }
}

/// What check-ins cost the writer against PostgreSQL, in statements (one round trip each,
/// prepared once). Registers polling as they did before, their offers on record, cost one
/// statement a batch whatever its size (they cost one a register, two with an offer; three
/// and four before that, each prepared anew). A new or changed register costs its row
/// written and read together (and its offer), after the batch's statement found it
/// changed. A build change and the offer it installs still come out right.
#[test]
fn steady_check_ins_cost_one_statement_a_batch_in_postgres() {
    use kkt_update_server::config::postgres_url::PostgresSetting;
    use kkt_update_server::store::{db::Postgres, migrations, writes, Event};
    let Some(pg) = start_postgres() else { return };
    let url = format!("{}?sslmode=disable", pg.url());
    let setting = PostgresSetting::parse(&url, Path::new(".")).expect("the URL");
    let db = Postgres::connect(&setting).expect("connect");
    let mut db = Counting { db, statements: 0 };
    migrations::migrate(&mut db).expect("migrate");
    let check_in = |i: u32, at: u64, build_date: u32, update_available: bool| Event::CheckIn {
        at,
        address: std::net::IpAddr::from([10, 20, (i >> 8) as u8, i as u8]),
        user_agent: "test".into(),
        build_date,
        line: "".into(),
        offered: 20250301,
        update_available,
        critical: false,
    };
    // 1,000 registers in beats of 150, as the writer takes them under load.
    let mut statements_of = |events: Vec<Event>| -> usize {
        let before = db.statements;
        for beat in events.chunks(150) {
            writes::write(&mut db, beat, "a").expect("written");
        }
        db.statements - before
    };
    let fleet = |at, offer| {
        (0..1000)
            .map(|i| check_in(i, at, 20250101, offer))
            .collect()
    };
    // A first check-in also marks offers (another instance may be writing one).
    // Seven batches of 150 (the last of 100).
    assert_eq!(statements_of(fleet(10, false)), 7 + 2000, "new devices");
    assert_eq!(statements_of(fleet(20, false)), 7, "polling");
    assert_eq!(statements_of(fleet(30, true)), 7 + 2000, "offered");
    assert_eq!(statements_of(fleet(40, true)), 7, "offered again");
    // The batch's statement, the row, the build change, its bound, the offer marked
    // installed.
    assert_eq!(statements_of(vec![check_in(7, 50, 20250301, false)]), 5);

    let mut client = postgres::Client::connect(&pg.url(), postgres::NoTls).expect("connect");
    let ints = |client: &mut postgres::Client, sql: &str| -> Vec<i64> {
        let rows = client.query(sql, &[]).expect(sql);
        rows.iter().map(|row| row.get::<_, i64>(0)).collect()
    };
    // The batches moved every row's times.
    assert_eq!(
        ints(
            &mut client,
            "SELECT COUNT(*) FROM devices WHERE last_seen = 40 AND last_check_in = 40"
        ),
        [999]
    );
    // Another instance sharing the store wrote a register's row in between: the row is
    // compared in the statement, so this writer sees the change and records it.
    client
        .execute(
            "UPDATE devices SET build_date = 20240101 WHERE address = '10.20.0.8'",
            &[],
        )
        .expect("another instance's write");
    assert_eq!(statements_of(vec![check_in(8, 45, 20250101, false)]), 5);
    assert_eq!(ints(&mut client, "SELECT COUNT(*) FROM devices"), [1000]);
    assert_eq!(
        ints(
            &mut client,
            "SELECT first_seen FROM devices WHERE address = '10.20.0.7'"
        ),
        [10]
    );
    let changes = client
        .query(
            "SELECT address, detail FROM history WHERE kind = 'build_changed' ORDER BY id",
            &[],
        )
        .expect("history");
    let changes: Vec<(String, String)> = changes.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        changes,
        [
            (
                "10.20.0.7".to_string(),
                "from 20250101 to 20250301".to_string()
            ),
            (
                "10.20.0.8".to_string(),
                "from 20240101 to 20250101".to_string()
            )
        ]
    );
    assert_eq!(
        ints(
            &mut client,
            "SELECT updated_at FROM device_releases WHERE updated_at IS NOT NULL"
        ),
        [50]
    );
    assert_eq!(
        ints(&mut client, "SELECT COUNT(*) FROM device_releases"),
        [1000]
    );
}

/// A steady register's check-in only moves its times, and no index of `devices` holds
/// them (migration 10): PostgreSQL updates the row in its page (a heap-only update)
/// instead of writing a new entry into every index and leaving dead ones for autovacuum.
/// Before migration 10, none of these updates was heap-only.
#[test]
fn steady_check_ins_are_heap_only_updates_in_postgres() {
    use kkt_update_server::config::postgres_url::PostgresSetting;
    use kkt_update_server::store::{db::Postgres, migrations, writes, Event};
    let Some(pg) = start_postgres() else { return };
    let url = format!("{}?sslmode=disable", pg.url());
    let setting = PostgresSetting::parse(&url, Path::new(".")).expect("the URL");
    let connect = || Postgres::connect(&setting).expect("connect");
    let fleet = |at: u64| -> Vec<Event> {
        (0..1000u32)
            .map(|i| Event::CheckIn {
                at,
                address: std::net::IpAddr::from([10, 21, (i >> 8) as u8, i as u8]),
                user_agent: "test".into(),
                build_date: 20250101,
                line: "".into(),
                offered: 20250301,
                update_available: true,
                critical: false,
            })
            .collect()
    };
    // Each phase writes through its own connection and closes it: a backend reports its
    // statistics when it ends.
    let write = |rounds: std::ops::Range<u64>| {
        let mut db = connect();
        for at in rounds {
            for beat in fleet(at).chunks(150) {
                writes::write(&mut db, beat, "a").expect("written");
            }
        }
    };
    let mut db = connect();
    migrations::migrate(&mut db).expect("migrate");
    drop(db);
    let mut client = postgres::Client::connect(&pg.url(), postgres::NoTls).expect("connect");
    let mut updates = || -> (i64, i64, i64) {
        let row = client
            .query_one(
                "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables \
                 WHERE relname = 'devices'",
                &[],
            )
            .expect("the table's statistics");
        (row.get(0), row.get(1), row.get(2))
    };
    write(1..2);
    let (_, upd_before, hot_before) = eventually("the new devices counted", DEADLINE, || {
        let counts = updates();
        (counts.0 == 1000).then_some(counts)
    });
    write(2..6);
    let (_, upd, hot) = eventually("the check-ins counted", DEADLINE, || {
        let counts = updates();
        (counts.1 >= upd_before + 4000).then_some(counts)
    });
    let (upd, hot) = (upd - upd_before, hot - hot_before);
    assert_eq!(upd, 4000, "one update per steady check-in");
    assert!(
        hot * 10 >= upd * 8,
        "{hot} of {upd} steady check-ins were heap-only updates"
    );
}

/// Migration 10 on a store whose indexes an operator already changed by hand (one of the
/// two indexes it drops already gone, the group's index already there): it still
/// applies, and the server starts.
#[test]
fn migration_10_applies_over_indexes_changed_by_hand() {
    use kkt_update_server::config::postgres_url::PostgresSetting;
    use kkt_update_server::store::{db::Postgres, migrations};
    let Some(pg) = start_postgres() else { return };
    let url = format!("{}?sslmode=disable", pg.url());
    let setting = PostgresSetting::parse(&url, Path::new(".")).expect("the URL");
    let mut db = Postgres::connect(&setting).expect("connect");
    migrations::migrate(&mut db).expect("migrate");
    // As before migration 10, then changed by hand.
    db.batch(
        "DELETE FROM schema_migrations WHERE version = 10; \
         CREATE INDEX devices_by_group ON devices (group_name, last_seen, address);",
    )
    .expect("the store as an operator left it");
    assert_eq!(migrations::migrate(&mut db).expect("migration 10"), 1);
    drop(db);
    let mut client = postgres::Client::connect(&pg.url(), postgres::NoTls).expect("connect");
    let indexes: Vec<String> = client
        .query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'devices' ORDER BY indexname",
            &[],
        )
        .expect("the indexes")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        indexes,
        [
            "devices_build_date",
            "devices_by_group_name",
            "devices_pkey"
        ]
    );
    let fixture = deployment(&pg.url());
    let server = start(fixture.dir.path());
    check_in(&server, "10.0.0.1", "28.12.2017");
    wait_total(&server, "", 1);
}
