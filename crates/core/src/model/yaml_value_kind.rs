//! What a YAML value is, in the words a refusal names it ("expected a list, found a
//! string"): one name per kind, which `ScanText::value_kind` translates. Every YAML reader
//! (licenses, groups) says it the same way.

use serde_yaml::Value;

/// The kind of `value`, as the words tables name it.
pub fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
