//! Whether the person at this machine reads Russian, asked of the operating system once:
//! the command line's output and the log lines an operator acts on follow it, so a
//! technician in a Russian service centre reads Russian without configuring anything.
//!
//! On Unix the locale of messages is, as libc reads it, the first non-empty of `LC_ALL`,
//! `LC_MESSAGES`, `LANG`; `C`, `POSIX` or nothing at all is English. On Windows it is the
//! user's UI language (`GetUserDefaultUILanguage`), Russian when its primary language is
//! `LANG_RUSSIAN` (0x19).

/// The system's answer: Russian or not.
pub fn prefers_russian() -> bool {
    imp::prefers_russian()
}

/// The locale that governs messages, from the three variables libc reads, in libc's order:
/// the first one set to something non-empty.
pub fn messages_locale<'a>(
    lc_all: Option<&'a str>,
    lc_messages: Option<&'a str>,
    lang: Option<&'a str>,
) -> Option<&'a str> {
    [lc_all, lc_messages, lang]
        .into_iter()
        .flatten()
        .find(|value| !value.is_empty())
}

/// Whether a locale name (`ru_RU.UTF-8`, `ru_RU`, `ru`, `ru_UA@euro`) is Russian: its
/// language part, before `_`, `.`, `@` or `-`, is `ru` (any case). `C`, `POSIX` and
/// anything else is not.
pub fn locale_is_russian(locale: &str) -> bool {
    let language = locale
        .split(['_', '.', '@', '-'])
        .next()
        .unwrap_or_default();
    language.eq_ignore_ascii_case("ru")
}

/// Whether a Windows language identifier (LANGID) is Russian: its primary language, the
/// low ten bits, is `LANG_RUSSIAN`.
pub fn langid_is_russian(langid: u16) -> bool {
    langid & 0x3ff == 0x19
}

#[cfg(unix)]
mod imp {
    pub fn prefers_russian() -> bool {
        let read = |name: &str| std::env::var(name).ok();
        let (lc_all, lc_messages, lang) = (read("LC_ALL"), read("LC_MESSAGES"), read("LANG"));
        super::messages_locale(lc_all.as_deref(), lc_messages.as_deref(), lang.as_deref())
            .is_some_and(super::locale_is_russian)
    }
}

#[cfg(windows)]
mod imp {
    #[link(name = "kernel32")]
    extern "system" {
        fn GetUserDefaultUILanguage() -> u16;
    }

    pub fn prefers_russian() -> bool {
        // SAFETY: no arguments, no pointers; it returns the user's UI language identifier.
        let langid = unsafe { GetUserDefaultUILanguage() };
        super::langid_is_russian(langid)
    }
}

#[cfg(not(any(unix, windows)))]
mod imp {
    pub fn prefers_russian() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_locales_are_russian() {
        for locale in [
            "ru_RU.UTF-8",
            "ru_RU",
            "ru",
            "RU_ru.utf8",
            "ru_UA@euro",
            "ru-RU",
        ] {
            assert!(locale_is_russian(locale), "{locale}");
        }
    }

    #[test]
    fn other_locales_are_english() {
        for locale in [
            "en_US.UTF-8",
            "C",
            "POSIX",
            "C.UTF-8",
            "",
            "rus",
            "uk_UA.UTF-8",
        ] {
            assert!(!locale_is_russian(locale), "{locale}");
        }
    }

    #[test]
    fn lc_all_beats_lc_messages_beats_lang() {
        assert_eq!(
            messages_locale(Some("C"), Some("ru_RU.UTF-8"), Some("ru_RU.UTF-8")),
            Some("C")
        );
        assert_eq!(
            messages_locale(None, Some("ru_RU.UTF-8"), Some("en_US.UTF-8")),
            Some("ru_RU.UTF-8")
        );
        assert_eq!(
            messages_locale(Some("ru_RU.UTF-8"), None, Some("en_US.UTF-8")),
            Some("ru_RU.UTF-8")
        );
        assert_eq!(messages_locale(Some(""), None, Some("ru")), Some("ru"));
        assert_eq!(messages_locale(None, None, None), None);
        assert_eq!(messages_locale(Some(""), Some(""), Some("")), None);
    }

    #[test]
    fn windows_russian_is_primary_language_0x19() {
        assert!(langid_is_russian(0x0419)); // ru-RU
        assert!(langid_is_russian(0x0819)); // ru-MD
        assert!(!langid_is_russian(0x0409)); // en-US
        assert!(!langid_is_russian(0x0422)); // uk-UA
    }
}
