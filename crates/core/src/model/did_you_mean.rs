//! "did you mean critical_version?": the known key nearest to a misspelt one, so that a
//! typo in `server.yaml`, `meta.yaml` or `line.yaml` names its fix instead of leaving the
//! operator to compare a list of keys letter by letter.
//!
//! serde's derived readers (`meta.yaml`, `line.yaml`, `rollout:`) list the keys they know
//! only in their message ("unknown field `critcal`, expected one of `description`, …"), so
//! `after_unknown_field` reads them back from there: the one place they are written.

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

/// For serde's "unknown field `X`, expected …" message: "; did you mean `Y`?" when one of
/// the keys it lists is near `X`, else nothing.
pub fn after_unknown_field(message: &str) -> Option<String> {
    let rest = message.split_once("unknown field `")?.1;
    let (word, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected ")?.1;
    // The keys are the backquoted words of the "expected" part: `a`, `b` or `c`.
    let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    nearest(word, keys).map(|key| format!("; did you mean `{key}`?"))
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

    #[test]
    fn serdes_list_of_keys_is_read_back() {
        let message = "unknown field `critcal`, expected one of `description`, `critical`, \
                       `sha256`, `rollout` at line 1 column 1";
        assert_eq!(
            after_unknown_field(message).as_deref(),
            Some("; did you mean `critical`?")
        );
        let two = "unknown field `descripton`, expected `description` or `critical`";
        assert_eq!(
            after_unknown_field(two).as_deref(),
            Some("; did you mean `description`?")
        );
        assert_eq!(
            after_unknown_field("unknown field `zzz`, expected `a` or `b`"),
            None
        );
        assert_eq!(after_unknown_field("invalid type: string"), None);
    }
}
