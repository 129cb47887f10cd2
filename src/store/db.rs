//! The few things the inventory asks of a database, so that its SQL is written once for
//! SQLite and PostgreSQL: statements with `$1, $2, …` placeholders (numbered in order of
//! first use, which SQLite also accepts), values that are whole numbers, text or NULL, and
//! transactions. Every number is stored as a 64-bit integer in both. Rows come back with
//! their column names (`row::Row`), and are read by name.

use std::sync::Arc;

use anyhow::Result;

use crate::store::db_error::{DbError, DbResult};
use crate::store::prepared::{Prepared, SQLITE_STATEMENTS_KEPT, STATEMENTS_KEPT};
use crate::store::row::{Row, RowError};
pub use crate::store::value::Value;

use crate::config::postgres_url::{self, PostgresSetting, SslMode};
use crate::store::postgres_tls;

/// Which SQL a database speaks: which migrations apply, which locks it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection to the inventory's database.
pub trait Db: Send {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Value]) -> DbResult<u64>;
    /// Runs a query; its rows, each read by column name.
    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>>;
    /// Runs several statements separated by `;` (migrations).
    fn batch(&mut self, sql: &str) -> DbResult<()>;
    fn begin(&mut self) -> DbResult<()>;
    fn commit(&mut self) -> DbResult<()>;
    fn rollback(&mut self) -> DbResult<()>;
    fn dialect(&self) -> Dialect;
}

/// SQLite through rusqlite (bundled: the same SQLite on every system, Windows included).
pub struct Sqlite(rusqlite::Connection);

impl Sqlite {
    /// Opens (creating) the file, in WAL mode: readers never wait for the writer, and a
    /// crash loses at most the transaction being written.
    pub fn open(path: &std::path::Path) -> DbResult<Sqlite> {
        let failed = |setting_up, source| DbError::Open {
            path: path.to_path_buf(),
            setting_up,
            source,
        };
        let connection = rusqlite::Connection::open(path).map_err(|e| failed(false, e))?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(|e| failed(true, e))?;
        unicode_lower(&connection).map_err(|e| failed(true, e))?;
        connection.set_prepared_statement_cache_capacity(SQLITE_STATEMENTS_KEPT);
        Ok(Sqlite(connection))
    }

    /// Opens an existing file for reading only (`audit verify`): nothing is created,
    /// migrated or written, and a missing file is an error naming it.
    pub fn open_read_only(path: &std::path::Path) -> DbResult<Sqlite> {
        use rusqlite::OpenFlags;
        let failed = |setting_up, source| DbError::Open {
            path: path.to_path_buf(),
            setting_up,
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection =
            rusqlite::Connection::open_with_flags(path, flags).map_err(|e| failed(false, e))?;
        connection
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(|e| failed(true, e))?;
        Ok(Sqlite(connection))
    }
}

/// SQLite's `LOWER()` lowers ASCII letters only, so `LOWER(user_agent) LIKE '%касса%'`
/// missed "Касса". Redefined on this connection (an application function overrides the
/// built-in of the same name) as Rust's Unicode lowering, which PostgreSQL's `lower()` does
/// under a UTF-8 locale; NULL stays NULL.
fn unicode_lower(connection: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    connection.create_scalar_function(
        "lower",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            Ok(context
                .get::<Option<String>>(0)?
                .map(|text| text.to_lowercase()))
        },
    )
}

/// Binds `$1`, `$2`, ... by name. SQLite reads `$1` as a parameter *named* "$1" and numbers
/// parameters in order of first appearance, so binding by position would give `$3` the first
/// value in `SET a = $3 WHERE b = $1`; PostgreSQL numbers them as written. The writer binds
/// some ten parameters per check-in, so the names are written once here and texts are bound
/// borrowed (SQLite copies them), not formatted and cloned for every one.
fn bind(statement: &mut rusqlite::CachedStatement<'_>, params: &[Value]) -> DbResult<()> {
    for (i, value) in params.iter().enumerate() {
        let numbered;
        let name = match PARAMETER_NAMES.get(i) {
            Some(name) => *name,
            None => {
                numbered = format!("${}", i + 1);
                numbered.as_str()
            }
        };
        let Some(index) = statement.parameter_index(name)? else {
            continue;
        };
        match value {
            Value::Int(i) => statement.raw_bind_parameter(index, *i)?,
            Value::Text(t) => statement.raw_bind_parameter(index, t.as_str())?,
            Value::Null => statement.raw_bind_parameter(index, rusqlite::types::Null)?,
            Value::Ints(_) | Value::Texts(_) => {
                return Err(DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
                    "a list of values is bound only in PostgreSQL".into(),
                )))
            }
        }
    }
    Ok(())
}

/// The names of the first parameters, as SQLite knows them.
const PARAMETER_NAMES: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16",
];

impl Db for Sqlite {
    fn exec(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        let mut statement = self.0.prepare_cached(sql)?;
        statement.clear_bindings();
        bind(&mut statement, params)?;
        let changed = statement.raw_execute()?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        let mut statement = self.0.prepare_cached(sql)?;
        let columns: Arc<[String]> = statement
            .column_names()
            .into_iter()
            .map(String::from)
            .collect();
        statement.clear_bindings();
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns.len());
            for (i, name) in columns.iter().enumerate() {
                values.push(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                    rusqlite::types::ValueRef::Text(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Real(f) => Value::Int(f as i64),
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Blob(_) => {
                        return Err(RowError::Unreadable {
                            column: name.clone(),
                            stored: "BLOB".into(),
                        }
                        .into())
                    }
                });
            }
            out.push(Row::new(columns.clone(), values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        Ok(self.0.execute_batch(sql)?)
    }

    /// IMMEDIATE: the write lock is taken at once, so two writers never both read and
    /// then both try to write (one would fail instead of waiting its turn).
    fn begin(&mut self) -> DbResult<()> {
        Ok(self.0.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn commit(&mut self) -> DbResult<()> {
        Ok(self.0.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) -> DbResult<()> {
        Ok(self.0.execute_batch("ROLLBACK")?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// PostgreSQL through the `postgres` crate, for several instances sharing one view.
pub struct Postgres {
    client: postgres::Client,
    /// This connection's prepared statements (`prepared`): dropped with it.
    statements: Prepared<postgres::Statement>,
}

impl Postgres {
    /// Connects as `sslmode` says (see `postgres_tls`). `prefer` tries TLS first and, if
    /// that connection fails for any reason, plain, as libpq does; when both fail, both
    /// reasons are told.
    pub fn connect(setting: &PostgresSetting) -> Result<Postgres> {
        use postgres::config::SslMode as Wire;
        let mut config: postgres::Config = setting.url.parse().map_err(|e: postgres::Error| {
            anyhow::anyhow!(
                "inventory: the PostgreSQL URL is not understood: {}",
                postgres_url::with_causes(&e)
            )
        })?;
        let tls = postgres_tls::connector(setting)?;
        let failed = |e: &postgres::Error| {
            anyhow::anyhow!(
                "cannot connect to the inventory database {setting}: {}",
                postgres_tls::explain(e, setting)
            )
        };
        let wire = match setting.ssl_mode {
            SslMode::Disable => Wire::Disable,
            SslMode::Prefer => Wire::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Wire::Require,
        };
        match config.ssl_mode(wire).connect(tls) {
            Ok(client) => Ok(Postgres::over(client)),
            Err(with_tls) if setting.ssl_mode == SslMode::Prefer => {
                match config.ssl_mode(Wire::Disable).connect(postgres::NoTls) {
                    Ok(client) => Ok(Postgres::over(client)),
                    Err(plain) => Err(anyhow::anyhow!(
                        "cannot connect to the inventory database {setting}: with TLS: {}; \
                         without TLS (sslmode=prefer tries both): {}",
                        postgres_tls::explain(&with_tls, setting),
                        postgres_tls::explain(&plain, setting)
                    )),
                }
            }
            Err(e) => Err(failed(&e)),
        }
    }

    fn over(client: postgres::Client) -> Postgres {
        Postgres {
            client,
            statements: Prepared::new(STATEMENTS_KEPT),
        }
    }

    /// `sql` prepared on this connection: once, then kept (`prepared`).
    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        let client = &mut self.client;
        self.statements
            .get_or_prepare(sql, |sql| Ok(client.prepare(sql)?))
    }
}

/// The parameters as the PostgreSQL client takes them, borrowed (no text is copied).
fn pg_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    /// PostgreSQL binds a NULL with a type: the inventory's are numbers.
    const NULL: Option<i64> = None;
    params
        .iter()
        .map(|v| -> &(dyn postgres::types::ToSql + Sync) {
            match v {
                Value::Int(i) => i,
                Value::Text(t) => t,
                Value::Null => &NULL,
                Value::Ints(list) => list,
                Value::Texts(list) => list,
            }
        })
        .collect()
}

/// Column `i` of a PostgreSQL row as a `Value`: the inventory stores whole numbers
/// (`BIGINT`, and `INTEGER` from some expressions) and text; any other type is an error
/// naming the column, never a panic.
fn pg_value(
    row: &postgres::Row,
    i: usize,
    column: &postgres::Column,
) -> std::result::Result<Value, RowError> {
    use postgres::types::Type;
    let unreadable = || RowError::Unreadable {
        column: column.name().to_string(),
        stored: column.type_().name().to_string(),
    };
    let value = match *column.type_() {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)
            .map(|v| v.map_or(Value::Null, Value::Int)),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map(|v| v.map_or(Value::Null, |v| Value::Int(i64::from(v)))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map(|v| v.map_or(Value::Null, |v| Value::Int(i64::from(v)))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
            .try_get::<_, Option<String>>(i)
            .map(|v| v.map_or(Value::Null, Value::Text)),
        _ => return Err(unreadable()),
    };
    value.map_err(|_| unreadable())
}

impl Db for Postgres {
    fn exec(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        let refs = pg_params(params);
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        let refs = pg_params(params);
        let statement = self.statement(sql)?;
        let columns: Arc<[String]> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let rows = self.client.query(&statement, &refs)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in row.columns().iter().enumerate() {
                values.push(pg_value(&row, i, column)?);
            }
            out.push(Row::new(columns.clone(), values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn begin(&mut self) -> DbResult<()> {
        Ok(self.client.batch_execute("BEGIN")?)
    }

    fn commit(&mut self) -> DbResult<()> {
        Ok(self.client.batch_execute("COMMIT")?)
    }

    fn rollback(&mut self) -> DbResult<()> {
        Ok(self.client.batch_execute("ROLLBACK")?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

/// Runs `work` in one transaction: committed when it succeeds, rolled back when it fails.
pub fn in_transaction<T>(
    db: &mut dyn Db,
    work: impl FnOnce(&mut dyn Db) -> Result<T>,
) -> Result<T> {
    db.begin()?;
    match work(db) {
        Ok(value) => {
            db.commit()?;
            Ok(value)
        }
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
}

/// SQLite's plan for `sql`, its steps joined by "; " (tests that a statement reads the
/// index it was written for).
#[cfg(test)]
pub(crate) fn query_plan(db: &mut dyn Db, sql: &str, params: &[Value]) -> anyhow::Result<String> {
    let rows = db.query(&format!("EXPLAIN QUERY PLAN {sql}"), params)?;
    Ok(rows
        .iter()
        .map(|row| row.text("detail"))
        .collect::<Result<Vec<_>, _>>()?
        .join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the names written out (16), the name is made; texts, numbers and NULL alike.
    #[test]
    fn sqlite_binds_twenty_parameters_of_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Sqlite::open(&dir.path().join("t.sqlite")).unwrap();
        let columns: Vec<String> = (1..=20).map(|i| format!("c{i}")).collect();
        db.batch(&format!("CREATE TABLE t ({})", columns.join(", ")))
            .unwrap();
        let params: Vec<Value> = (1..=20)
            .map(|i| match i % 3 {
                0 => Value::Null,
                1 => Value::Int(i),
                _ => Value::from(format!("text {i}").as_str()),
            })
            .collect();
        // Named in reverse order, so that an off-by-one or a by-position bind shows.
        let names: Vec<String> = (1..=20).rev().map(|i| format!("${i}")).collect();
        let reversed: Vec<String> = columns.iter().rev().cloned().collect();
        db.exec(
            &format!(
                "INSERT INTO t ({}) VALUES ({})",
                reversed.join(", "),
                names.join(", ")
            ),
            &params,
        )
        .unwrap();
        let rows = db.query("SELECT * FROM t", &[]).unwrap();
        for (i, column) in columns.iter().enumerate() {
            let n = i as i64 + 1;
            match n % 3 {
                0 => assert_eq!(rows[0].opt_i64(column).unwrap(), None, "{column}"),
                1 => assert_eq!(rows[0].opt_i64(column).unwrap(), Some(n), "{column}"),
                _ => assert_eq!(
                    rows[0].opt_text(column).unwrap().as_deref(),
                    Some(format!("text {n}").as_str()),
                    "{column}"
                ),
            }
        }
    }

    #[test]
    fn sqlite_binds_numbered_parameters_by_number_not_by_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Sqlite::open(&dir.path().join("t.sqlite")).unwrap();
        db.batch("CREATE TABLE t (a INTEGER, b TEXT)").unwrap();
        db.exec(
            "INSERT INTO t (b, a) VALUES ($2, $1)",
            &[Value::Int(7), Value::from("x")],
        )
        .unwrap();
        let changed = db
            .exec(
                "UPDATE t SET a = $3 WHERE b = $1 AND a = $2",
                &[Value::from("x"), Value::Int(7), Value::Int(9)],
            )
            .unwrap();
        assert_eq!(changed, 1);
        let rows = db
            .query("SELECT a FROM t WHERE b = $1", &[Value::from("x")])
            .unwrap();
        let a: Vec<u64> = rows
            .iter()
            .map(|r| r.u64("a"))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(a, [9]);
    }

    /// A search lowers both sides: SQLite's own `LOWER()` left "Касса" as it was, so a
    /// search for "касса" missed it.
    #[test]
    fn sqlite_lowers_all_of_unicode() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Sqlite::open(&dir.path().join("t.sqlite")).unwrap();
        let rows = db
            .query(
                "SELECT LOWER($1) AS l, LOWER(NULL) AS n, LOWER($1) LIKE $2 AS found",
                &[
                    Value::from("Касса ШТРИХ-М Java"),
                    Value::from("%касса штрих%"),
                ],
            )
            .unwrap();
        assert_eq!(rows[0].text("l").unwrap(), "касса штрих-м java");
        assert_eq!(rows[0].opt_u64("n").unwrap(), None);
        assert_eq!(rows[0].u64("found").unwrap(), 1);
    }

    /// SQLite's rows carry their column names (aliases included), and each column is read
    /// by name: a missing name, a NULL where a value is needed and a value of another kind
    /// are errors naming the column.
    #[test]
    fn sqlite_rows_are_read_by_column_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Sqlite::open(&dir.path().join("t.sqlite")).unwrap();
        let rows = db
            .query(
                "SELECT 'x' AS name, 7 AS n, NULL AS empty, 'seven' AS word",
                &[],
            )
            .unwrap();
        let row = &rows[0];
        assert_eq!(row.text("name").unwrap(), "x");
        assert_eq!(row.u64("n").unwrap(), 7);
        assert_eq!(row.opt_u64("empty").unwrap(), None);
        assert_eq!(
            row.u64("empty").unwrap_err().to_string(),
            "the inventory's column \"empty\" is empty (NULL); expected a whole number from 0 up"
        );
        assert_eq!(
            row.u64("word").unwrap_err().to_string(),
            "the inventory's column \"word\" holds the text \"seven\"; expected a whole number from 0 up"
        );
        assert_eq!(
            row.u64("missing").unwrap_err().to_string(),
            "the inventory's query gave no column \"missing\""
        );
    }

    /// A column the inventory never stores (bytes) is an error naming it, not a NULL.
    #[test]
    fn a_sqlite_blob_is_an_error_naming_its_column() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Sqlite::open(&dir.path().join("t.sqlite")).unwrap();
        let e = db.query("SELECT X'00ff' AS raw", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the inventory's column \"raw\" is of type BLOB, which the inventory does not read"
        );
    }
}
