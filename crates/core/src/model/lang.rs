//! The language an operator reads: Russian or English. The dashboard picks it per request
//! (`Accept-Language`); the command line and the log lines an operator acts on use the one
//! chosen at start (the `language` setting, `auto` asking the system once). What devices
//! receive never depends on it.

use std::sync::OnceLock;

/// A language the operator's words exist in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// The people who run these fleets.
    Ru,
    /// Everyone else, and a system that says nothing (`C`, `POSIX`).
    #[default]
    En,
}

impl Lang {
    /// The system's language: Russian where the locale (Unix) or the UI language
    /// (Windows) is Russian, else English.
    pub fn of_system() -> Lang {
        if kkt_platform::system_language::prefers_russian() {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    /// The code written in HTML's `lang` and in the `language` setting.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The operator's language for this process: the one `choose_for_process` set, or the
    /// system's if nothing chose yet (a library test, an error before the configuration).
    pub fn operator() -> Lang {
        *OPERATOR.get_or_init(Lang::of_system)
    }

    /// Sets the operator's language once for the whole process; a second call (the
    /// configuration confirming what the command line said) changes nothing.
    pub fn choose_for_process(lang: Lang) {
        let _ = OPERATOR.set(lang);
    }
}

static OPERATOR: OnceLock<Lang> = OnceLock::new();

/// The `language` setting: a language, or `auto` (the system's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LanguageChoice {
    #[default]
    Auto,
    Fixed(Lang),
}

impl LanguageChoice {
    /// `ru`, `en` or `auto` (any case, spaces around allowed); `None` for anything else.
    pub fn parse(text: &str) -> Option<LanguageChoice> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ru" => Some(LanguageChoice::Fixed(Lang::Ru)),
            "en" => Some(LanguageChoice::Fixed(Lang::En)),
            "auto" => Some(LanguageChoice::Auto),
            _ => None,
        }
    }

    /// The language this choice means on this machine.
    pub fn resolve(self) -> Lang {
        match self {
            LanguageChoice::Fixed(lang) => lang,
            LanguageChoice::Auto => Lang::of_system(),
        }
    }
}

/// A refusal or failure an operator reads, in a language. English is the type's `Display`,
/// word for word (tests and scripts compare it); Russian is the type's own translation.
pub trait InLanguage: std::fmt::Display {
    /// The sentence in Russian.
    fn in_russian(&self) -> String;

    /// The sentence in `lang`.
    fn in_language(&self, lang: Lang) -> String {
        match lang {
            Lang::Ru => self.in_russian(),
            Lang::En => self.to_string(),
        }
    }
}

/// An English verb of a failed step (`create`, `write`, `sync`...) in Russian; a verb the
/// table does not know stays as written.
pub fn step_in_russian(what: &str) -> String {
    let known = [
        ("read", "прочитать"),
        ("create", "создать"),
        ("write", "записать"),
        ("sync", "сбросить на диск"),
        ("rename into place", "переименовать на место"),
        (
            "rename the staged release to",
            "переименовать подготовленный релиз в",
        ),
        ("move", "перенести"),
        ("list", "прочитать список"),
        ("open", "открыть"),
    ];
    match known.iter().find(|(en, _)| *en == what) {
        Some((_, ru)) => (*ru).to_string(),
        None => what.to_string(),
    }
}

/// Fills the `{name}` placeholders of a table's sentence with their values, in one pass
/// over the sentence: a value that itself holds `{name}` (a folder named so) is written as
/// it is, never filled again. A placeholder without a value stays as written, so a missing
/// one shows in a test rather than vanishing.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, v.to_string()))
        });
        match value {
            Some((close, text)) => {
                out.push_str(&text);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!(
            LanguageChoice::parse("ru"),
            Some(LanguageChoice::Fixed(Lang::Ru))
        );
        assert_eq!(
            LanguageChoice::parse(" EN "),
            Some(LanguageChoice::Fixed(Lang::En))
        );
        assert_eq!(LanguageChoice::parse("auto"), Some(LanguageChoice::Auto));
        assert_eq!(LanguageChoice::parse("russian"), None);
        assert_eq!(LanguageChoice::parse(""), None);
    }

    #[test]
    fn fill_puts_values_in_their_places() {
        assert_eq!(
            fill(
                "релиз {version} в {dir}",
                &[("version", &20250301), ("dir", &"/srv")]
            ),
            "релиз 20250301 в /srv"
        );
        assert_eq!(fill("{missing}", &[]), "{missing}");
        assert_eq!(
            fill("{a} and {b}", &[("a", &"{b}"), ("b", &"x")]),
            "{b} and x"
        );
    }
}
