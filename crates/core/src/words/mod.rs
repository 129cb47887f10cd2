//! Every word an operator reads, in one home: `ru.rs` and `en.rs` each hold one
//! language's whole table, and the sibling modules define its parts by where they are
//! read: the command line and the log's summary lines (`cli`), the dashboard
//! (`dashboard`) and the other pages (`pages`). A translator reads one file; a new
//! sentence is one field here and one line in each language's file (the compiler refuses a
//! table missing it). Placeholders in braces are filled by `model::lang::fill`; what
//! devices receive never comes from here.

pub mod cli;
pub mod dashboard;
pub mod en;
pub mod pages;
pub mod ru;

use crate::model::lang::Lang;

/// One language's words, every part of them.
pub struct Words {
    pub lang: Lang,
    pub operator: &'static cli::OperatorText,
    pub dashboard: &'static dashboard::Text,
    pub pages: &'static pages::PageText,
}

impl Words {
    /// The table of a language.
    pub fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::Ru => &ru::WORDS,
            Lang::En => &en::WORDS,
        }
    }
}
