//! Why the inventory's database did not do what was asked: the error of the `Db`
//! interface (`db`) and of the migrations. The words are those the inventory showed before
//! (on `/status`, in the log, in the admin API's 503): a driver's own message as it is,
//! with what the inventory was doing in front ("cannot open the inventory database …",
//! "migration 6 failed: …").

use std::fmt;
use std::path::PathBuf;

use crate::store::row::RowError;

/// A `Result` of the `Db` interface.
pub type DbResult<T> = Result<T, DbError>;

/// What went wrong talking to the inventory's database.
#[derive(Debug)]
pub enum DbError {
    /// SQLite refused a statement (its message, as it is).
    Sqlite(rusqlite::Error),
    /// PostgreSQL refused a statement, or the connection broke (its message, as it is).
    Postgres(postgres::Error),
    /// A row came back with a column the inventory cannot read.
    Row(RowError),
    /// The SQLite file cannot be opened (`setting_up`: opened, but its settings refused).
    Open {
        path: PathBuf,
        setting_up: bool,
        source: rusqlite::Error,
    },
    /// The table recording the migrations cannot be created.
    MigrationsTable(Box<DbError>),
    /// A migration failed (and was rolled back).
    Migration { version: i64, source: Box<DbError> },
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Sqlite(e) => e.fmt(f),
            DbError::Postgres(e) => e.fmt(f),
            DbError::Row(e) => e.fmt(f),
            DbError::Open {
                path,
                setting_up: false,
                ..
            } => write!(f, "cannot open the inventory database {}", path.display()),
            DbError::Open {
                path,
                setting_up: true,
                ..
            } => write!(f, "cannot set up the inventory database {}", path.display()),
            DbError::MigrationsTable(_) => f.write_str("cannot create schema_migrations"),
            DbError::Migration { version, .. } => write!(f, "migration {version} failed"),
        }
    }
}

impl std::error::Error for DbError {
    /// A driver's error stands for itself (its own causes follow it); the others name
    /// what the inventory was doing, caused by the driver's error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DbError::Sqlite(e) => e.source(),
            DbError::Postgres(e) => e.source(),
            DbError::Row(_) => None,
            DbError::Open { source, .. } => Some(source),
            DbError::MigrationsTable(source) | DbError::Migration { source, .. } => {
                Some(source.as_ref())
            }
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError::Sqlite(e)
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        DbError::Postgres(e)
    }
}

impl From<RowError> for DbError {
    fn from(e: RowError) -> DbError {
        DbError::Row(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain reads as the anyhow contexts it replaces did: what the inventory was
    /// doing, then the driver's message, once.
    #[test]
    fn the_words_are_those_shown_before() {
        let driver = || rusqlite::Error::InvalidQuery;
        let e = anyhow::Error::from(DbError::Migration {
            version: 6,
            source: Box::new(DbError::Sqlite(driver())),
        });
        assert_eq!(
            format!("{e:#}"),
            format!("migration 6 failed: {}", driver())
        );
        let e = anyhow::Error::from(DbError::Open {
            path: PathBuf::from("/x/inventory.sqlite"),
            setting_up: false,
            source: driver(),
        });
        assert_eq!(
            format!("{e:#}"),
            format!(
                "cannot open the inventory database /x/inventory.sqlite: {}",
                driver()
            )
        );
        assert_eq!(
            format!("{:#}", anyhow::Error::from(DbError::Sqlite(driver()))),
            format!("{:#}", anyhow::Error::from(driver()))
        );
    }
}
