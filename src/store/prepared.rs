//! Prepared statements kept per connection, by their SQL, so that a statement is parsed
//! and planned once per connection rather than on every call. For PostgreSQL that also
//! halves the round trips: a statement prepared anew is a `Parse` and a wait for its
//! description before the `Bind`/`Execute`, on every check-in written. (SQLite keeps its
//! own in rusqlite's `prepare_cached`, sized by `SQLITE_STATEMENTS_KEPT`.)
//!
//! The SQL texts are the code's own constants, but some reads build theirs from the
//! filters asked for (an `IN` list of the groups, a page's `LIMIT`), so the cache is
//! bounded all the same: when full, it is emptied and filled again. A statement belongs
//! to its connection: the cache lives and dies with it, and a connection that failed is
//! replaced whole (the writer and the reader open a new one), so a statement the server
//! no longer knows (a schema changed under it by a newer instance) costs one failed
//! batch, retried on a fresh connection.

use std::collections::HashMap;

use crate::store::db_error::DbResult;

/// Statements kept per PostgreSQL connection at most (the writer uses about 30).
pub const STATEMENTS_KEPT: usize = 256;

/// Statements kept per SQLite connection at most: every statement of the writer (about 30 in
/// `writes`, `audit_sql`, `group_tags` and `migrations`; `writes`' tests count them) and
/// of the admin API's reads stays prepared. rusqlite's default, 16, is fewer than one batch of the writer uses,
/// so each check-in parsed its SQL again.
pub const SQLITE_STATEMENTS_KEPT: usize = 128;

/// One connection's prepared statements (`S`: the driver's handle on one), by their SQL.
pub struct Prepared<S> {
    by_sql: HashMap<Box<str>, S>,
    kept_at_most: usize,
}

impl<S: Clone> Prepared<S> {
    pub fn new(kept_at_most: usize) -> Prepared<S> {
        Prepared {
            by_sql: HashMap::new(),
            kept_at_most,
        }
    }

    /// The statement prepared for `sql`, prepared now by `prepare` if it was not yet.
    pub fn get_or_prepare(
        &mut self,
        sql: &str,
        prepare: impl FnOnce(&str) -> DbResult<S>,
    ) -> DbResult<S> {
        if let Some(statement) = self.by_sql.get(sql) {
            return Ok(statement.clone());
        }
        let statement = prepare(sql)?;
        if self.by_sql.len() >= self.kept_at_most {
            self.by_sql.clear();
        }
        self.by_sql.insert(sql.into(), statement.clone());
        Ok(statement)
    }

    pub fn len(&self) -> usize {
        self.by_sql.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_sql.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement used again is not prepared again: 1,000 calls of 5 texts prepare 5.
    #[test]
    fn a_statement_is_prepared_once() {
        let mut prepared = Prepared::new(STATEMENTS_KEPT);
        let mut prepares = 0;
        for n in 0..1000 {
            let sql = format!("SELECT {}", n % 5);
            let got = prepared
                .get_or_prepare(&sql, |sql| {
                    prepares += 1;
                    Ok(sql.to_string())
                })
                .unwrap();
            assert_eq!(got, sql);
        }
        assert_eq!(prepares, 5);
        assert_eq!(prepared.len(), 5);
    }

    /// Texts built from what a reader asks for never grow the cache past its bound; a
    /// failed prepare keeps nothing.
    #[test]
    fn the_cache_is_bounded_and_keeps_no_failure() {
        let mut prepared = Prepared::new(STATEMENTS_KEPT);
        for n in 0..(STATEMENTS_KEPT * 3 + 7) {
            prepared
                .get_or_prepare(&format!("SELECT 1 LIMIT {n}"), |sql| Ok(sql.to_string()))
                .unwrap();
            assert!(prepared.len() <= STATEMENTS_KEPT);
        }
        let failed = prepared.get_or_prepare("SELEC", |_| {
            Err(crate::store::row::RowError::Missing { column: "x".into() }.into())
        });
        assert!(failed.is_err());
        let again = prepared
            .get_or_prepare("SELEC", |sql| Ok(format!("{sql} now")))
            .unwrap();
        assert_eq!(again, "SELEC now");
    }
}
