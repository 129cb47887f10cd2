//! The values a statement binds and a row holds: whole numbers, text or NULL, the only
//! kinds the inventory stores (both dialects keep every number as a 64-bit integer); and,
//! bound only, lists of them for PostgreSQL (`unnest`, `= ANY`).

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Text(String),
    Null,
    /// Bound only, and only in PostgreSQL (a `bigint[]` or `text[]`: `unnest` turns one
    /// into rows so that one statement writes a whole batch, `= ANY` matches a list);
    /// SQLite refuses them, and no row holds one.
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(stored_int(v))
    }
}

/// A whole number as the store keeps it (a 64-bit signed integer): one past its range is
/// kept as its largest (a time or count no store will reach).
pub fn stored_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
