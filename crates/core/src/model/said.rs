//! One sentence an operator reads, in both languages at once: made where it happens (the
//! scan, a refusal), before anyone knows who reads it, and picked when printed (the log and
//! `check` in the operator's language, a page in its own, `/status` in English). The
//! `words` wing makes one from its tables (`Said::new`); `Display` is the English.

use std::error::Error;
use std::fmt;

use crate::model::lang::{InLanguage, Lang};

/// A sentence in English and in Russian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    en: String,
    ru: String,
}

impl Said {
    /// The sentence as each language's table says it.
    pub fn pair(en: String, ru: String) -> Said {
        Said { en, ru }
    }

    /// A typed refusal, frozen in both languages (to travel in an `anyhow` chain).
    pub fn of(refusal: &impl InLanguage) -> Said {
        Said {
            en: refusal.to_string(),
            ru: refusal.in_russian(),
        }
    }

    /// The sentence in `lang`.
    pub fn in_language(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }

    /// The sentence for a page whose language code (`"ru"` or `"en"`, as the dashboard's
    /// table names it) is `code`.
    pub fn for_page(&self, code: &str) -> &str {
        if code == Lang::Ru.code() {
            &self.ru
        } else {
            &self.en
        }
    }
}

/// Written as its English: what `/status` gives scripts.
impl serde::Serialize for Said {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.en)
    }
}

impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

impl Error for Said {}

impl InLanguage for Said {
    fn in_russian(&self) -> String {
        self.ru.clone()
    }
}
