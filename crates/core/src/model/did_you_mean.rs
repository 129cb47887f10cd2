//! "did you mean critical_version?": the known key nearest to a misspelt one, so that a
//! typo in `server.yaml`, `meta.yaml` or `line.yaml` names its fix instead of leaving the
//! operator to compare a list of keys letter by letter.
//!
//! The keys of `meta.yaml`, `line.yaml` and `rollout:` are those of their derived structs:
//! `fields_of` asks the derive for them, and `hint_for_mapping` finds the unknown key in the
//! document itself. Nothing here reads serde's English.

/// The candidate nearest to `word`, when it is near enough to be a typo of it: at most a
/// third of its letters wrong (and at least one may be), or a Jaro-Winkler similarity of
/// 0.9 (a long key with its ending cut off).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let allowed = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| {
            let edits = strsim::damerau_levenshtein(&word, candidate);
            let similar = strsim::jaro_winkler(&word, candidate);
            (candidate, edits, similar)
        })
        .filter(|(_, edits, similar)| *edits <= allowed || *similar >= 0.9)
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(candidate, _, _)| candidate)
}

/// The keys a derived `Deserialize` struct knows, as the derive wrote them: asked of the
/// derive itself (it hands its field list to `deserialize_struct`), so the list is the
/// struct's and is never read back from an error message.
pub fn fields_of<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    let mut found = None;
    let _ = T::deserialize(FieldLister(&mut found));
    found.unwrap_or(&[])
}

/// A deserializer that only records the field list a struct's derive asks for, then stops.
struct FieldLister<'a>(&'a mut Option<&'static [&'static str]>);

/// Stops the derive once its field list is known.
#[derive(Debug)]
struct Listed;

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field list taken")
    }
}

impl std::error::Error for Listed {}

impl serde::de::Error for Listed {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Listed
    }
}

impl<'de> serde::Deserializer<'de> for FieldLister<'_> {
    type Error = Listed;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Listed> {
        Err(Listed)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Listed> {
        *self.0 = Some(fields);
        Err(Listed)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// For a YAML document refused by a struct that denies unknown keys: "; did you mean `Y`?"
/// for the first key of `mapping` (a document or one of its sections, `known` the keys its
/// struct accepts) that is not known and is near a known one, else nothing. The unknown key
/// is found in the document itself, not in the parser's message.
pub fn hint_for_mapping(mapping: &serde_yaml::Mapping, known: &[&'static str]) -> Option<String> {
    mapping
        .keys()
        .filter_map(serde_yaml::Value::as_str)
        .filter(|key| !known.contains(key))
        .find_map(|key| nearest(key, known.iter().copied()))
        .map(|key| format!("; did you mean `{key}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 5] = [
        "listen",
        "critical_version",
        "licenses",
        "settle_ms",
        "unconfirmed_settle_ms",
    ];

    #[test]
    fn a_typo_finds_its_key_and_a_stranger_finds_none() {
        assert_eq!(nearest("critcal_version", KEYS), Some("critical_version"));
        assert_eq!(nearest("lisen", KEYS), Some("listen"));
        assert_eq!(nearest("Licenses", KEYS), Some("licenses"));
        assert_eq!(nearest("setle_ms", KEYS), Some("settle_ms"));
        assert_eq!(nearest("critical_versio", KEYS), Some("critical_version"));
        assert_eq!(nearest("colour", KEYS), None);
        assert_eq!(nearest("x", KEYS), None);
        assert_eq!(nearest("", KEYS), None);
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Meta {
        description: Option<String>,
        critical: Option<bool>,
    }

    #[test]
    fn the_derives_own_list_of_keys_is_asked_for() {
        assert_eq!(fields_of::<Meta>(), ["description", "critical"]);
        // Not a struct: no list, and no hint.
        assert!(fields_of::<String>().is_empty());
        let doc: serde_yaml::Mapping =
            serde_yaml::from_str("descripton: x\ncritical: true\n").unwrap();
        assert_eq!(
            hint_for_mapping(&doc, fields_of::<Meta>()).as_deref(),
            Some("; did you mean `description`?")
        );
        let far: serde_yaml::Mapping = serde_yaml::from_str("zzz: 1\n").unwrap();
        assert_eq!(hint_for_mapping(&far, fields_of::<Meta>()), None);
    }
}
