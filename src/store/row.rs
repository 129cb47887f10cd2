//! A row read back from the inventory's database, decoded by column name: every read names
//! the column it wants (`row.text("address")`, `row.u64("last_seen")`), so that a column
//! added to, or moved in, a `SELECT` cannot shift the others, and a column missing, NULL
//! where a value is needed, or of another type is an error naming that column (never a
//! silent 0 or `""`, never a panic). Both dialects give rows this shape (`db`).

use std::fmt;
use std::sync::Arc;

use crate::store::value::Value;

/// One row of a query's result: its values, with the names of the query's columns (shared
/// by every row of one result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// What a column was expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Text,
    /// A whole number from 0 up (a time, a count).
    Count,
    /// A whole number that fits 32 bits (a version, a build date).
    Version,
    /// A whole number.
    Number,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Text => "text",
            Expected::Count => "a whole number from 0 up",
            Expected::Version => "a whole number from 0 to 4294967295",
            Expected::Number => "a whole number",
        })
    }
}

/// Why a column of a row cannot be read as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowError {
    /// The query selected no column of that name.
    Missing { column: String },
    /// The column is NULL where a value is needed.
    Null { column: String, expected: Expected },
    /// The column holds a value of another kind, or out of range.
    Mistyped {
        column: String,
        expected: Expected,
        found: String,
    },
    /// The database gave the column a type the inventory never stores (the driver's name
    /// for it).
    Unreadable { column: String, stored: String },
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::Missing { column } => {
                write!(f, "the inventory's query gave no column \"{column}\"")
            }
            RowError::Null { column, expected } => write!(
                f,
                "the inventory's column \"{column}\" is empty (NULL); expected {expected}"
            ),
            RowError::Mistyped {
                column,
                expected,
                found,
            } => write!(
                f,
                "the inventory's column \"{column}\" holds {found}; expected {expected}"
            ),
            RowError::Unreadable { column, stored } => write!(
                f,
                "the inventory's column \"{column}\" is of type {stored}, which the inventory does not read"
            ),
        }
    }
}

impl std::error::Error for RowError {}

/// A value in words, for an error (bounded: a long text is cut).
fn described(value: &Value) -> String {
    match value {
        Value::Int(v) => format!("the number {v}"),
        Value::Text(t) => {
            let cut: String = t.chars().take(40).collect();
            let more = if cut.len() < t.len() { "…" } else { "" };
            format!("the text {cut:?}{more}")
        }
        Value::Null => "nothing (NULL)".into(),
        Value::Ints(_) | Value::Texts(_) => "a list".into(),
    }
}

impl Row {
    /// A row of `values` named by `columns` (as many of each).
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        Row { columns, values }
    }

    /// The values in the order selected (for tests and plans, which read every column).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The value of `column`, NULL included.
    pub fn value(&self, column: &str) -> Result<&Value, RowError> {
        self.columns
            .iter()
            .position(|name| name == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| RowError::Missing {
                column: column.into(),
            })
    }

    fn mistyped(&self, column: &str, expected: Expected, value: &Value) -> RowError {
        RowError::Mistyped {
            column: column.into(),
            expected,
            found: described(value),
        }
    }

    /// Text, or none when NULL.
    pub fn opt_text(&self, column: &str) -> Result<Option<String>, RowError> {
        match self.value(column)? {
            Value::Text(t) => Ok(Some(t.clone())),
            Value::Null => Ok(None),
            other => Err(self.mistyped(column, Expected::Text, other)),
        }
    }

    /// Text; NULL is an error.
    pub fn text(&self, column: &str) -> Result<String, RowError> {
        self.opt_text(column)?.ok_or_else(|| RowError::Null {
            column: column.into(),
            expected: Expected::Text,
        })
    }

    /// A whole number, or none when NULL.
    pub fn opt_i64(&self, column: &str) -> Result<Option<i64>, RowError> {
        match self.value(column)? {
            Value::Int(v) => Ok(Some(*v)),
            Value::Null => Ok(None),
            other => Err(self.mistyped(column, Expected::Number, other)),
        }
    }

    /// A whole number from 0 up (a time, a count), or none when NULL.
    pub fn opt_u64(&self, column: &str) -> Result<Option<u64>, RowError> {
        self.opt_in_range(column, Expected::Count, |v| u64::try_from(v).ok())
    }

    /// A whole number from 0 up; NULL is an error.
    pub fn u64(&self, column: &str) -> Result<u64, RowError> {
        self.required(column, Expected::Count, self.opt_u64(column)?)
    }

    /// A version or a build date, or none when NULL.
    pub fn opt_u32(&self, column: &str) -> Result<Option<u32>, RowError> {
        self.opt_in_range(column, Expected::Version, |v| u32::try_from(v).ok())
    }

    /// A version or a build date; NULL is an error.
    pub fn u32(&self, column: &str) -> Result<u32, RowError> {
        self.required(column, Expected::Version, self.opt_u32(column)?)
    }

    /// A flag stored as a number: anything but 0 is true; NULL is an error.
    pub fn bool(&self, column: &str) -> Result<bool, RowError> {
        let number = self.opt_i64(column)?;
        Ok(self.required(column, Expected::Number, number)? != 0)
    }

    fn opt_in_range<T>(
        &self,
        column: &str,
        expected: Expected,
        convert: impl Fn(i64) -> Option<T>,
    ) -> Result<Option<T>, RowError> {
        match self.value(column)? {
            Value::Int(v) => convert(*v)
                .map(Some)
                .ok_or_else(|| self.mistyped(column, expected, &Value::Int(*v))),
            Value::Null => Ok(None),
            other => Err(self.mistyped(column, expected, other)),
        }
    }

    fn required<T>(
        &self,
        column: &str,
        expected: Expected,
        value: Option<T>,
    ) -> Result<T, RowError> {
        value.ok_or_else(|| RowError::Null {
            column: column.into(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let columns: Arc<[String]> = ["address", "seen", "build", "empty", "minus", "big"]
            .map(String::from)
            .into();
        Row::new(
            columns,
            vec![
                Value::from("10.0.0.1"),
                Value::Int(7),
                Value::Int(20250301),
                Value::Null,
                Value::Int(-1),
                Value::Int(i64::from(u32::MAX) + 1),
            ],
        )
    }

    #[test]
    fn columns_are_read_by_name() {
        let row = row();
        assert_eq!(row.text("address"), Ok("10.0.0.1".into()));
        assert_eq!(row.u64("seen"), Ok(7));
        assert_eq!(row.u32("build"), Ok(20250301));
        assert_eq!(row.opt_u32("empty"), Ok(None));
        assert_eq!(row.opt_text("empty"), Ok(None));
        assert_eq!(row.opt_i64("minus"), Ok(Some(-1)));
        assert_eq!(row.bool("seen"), Ok(true));
    }

    #[test]
    fn a_missing_column_is_named() {
        let e = row().u64("last_seen").unwrap_err();
        assert_eq!(
            e,
            RowError::Missing {
                column: "last_seen".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "the inventory's query gave no column \"last_seen\""
        );
    }

    #[test]
    fn null_where_a_value_is_needed_is_an_error_not_a_default() {
        let row = row();
        assert_eq!(
            row.text("empty").unwrap_err().to_string(),
            "the inventory's column \"empty\" is empty (NULL); expected text"
        );
        assert!(matches!(row.u64("empty"), Err(RowError::Null { .. })));
        assert!(matches!(row.bool("empty"), Err(RowError::Null { .. })));
    }

    #[test]
    fn a_value_of_another_kind_or_out_of_range_is_named() {
        let row = row();
        assert_eq!(
            row.text("seen").unwrap_err().to_string(),
            "the inventory's column \"seen\" holds the number 7; expected text"
        );
        assert_eq!(
            row.u64("address").unwrap_err().to_string(),
            "the inventory's column \"address\" holds the text \"10.0.0.1\"; \
             expected a whole number from 0 up"
        );
        assert!(matches!(row.u64("minus"), Err(RowError::Mistyped { .. })));
        assert!(matches!(row.u32("big"), Err(RowError::Mistyped { .. })));
        assert_eq!(row.u64("big"), Ok(u64::from(u32::MAX) + 1));
    }

    #[test]
    fn a_long_text_in_an_error_is_cut() {
        let columns: Arc<[String]> = [String::from("n")].into();
        let row = Row::new(columns, vec![Value::Text("x".repeat(10_000))]);
        let message = row.u64("n").unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
    }
}
