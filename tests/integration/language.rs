//! The operator's language: the command line's output, its refusals and the log lines an
//! operator acts on follow the system's language (`LC_ALL`, `LC_MESSAGES`, `LANG`; the
//! Windows UI language), `language` / `--language` / `KKT_LANGUAGE` overrides it; the
//! Russian dashboard has no English words left and writes every date DD.MM.YYYY; what a
//! device receives is byte for byte the same in every language.

use std::collections::BTreeMap;
use std::process::{Output, Stdio};

use crate::common::{self, admin_addr, raw_request, Fixture, Server};

/// The variables that choose the language, cleared so that only the test's own count.
pub(crate) const LANGUAGE_VARIABLES: [&str; 4] = ["LC_ALL", "LC_MESSAGES", "LANG", "KKT_LANGUAGE"];

/// A deployment with one critical release under a rollout and a second, older one.
pub(crate) fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ninventory: \"off\"\n");
    fixture.release("20250101", Some("description: \"Январь\"\n"));
    fixture.release(
        "20250301",
        Some(
            "description: \"Март\"\ncritical: true\nrollout:\n  percent: 50\n  \
             max_new_per_hour: 10\n  window: \"09:00-18:00\"\n",
        ),
    );
    fixture
}

/// The binary run in the fixture with `args` and exactly the language variables given.
pub(crate) fn run(fixture: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = crate::common::server_command();
    command
        .current_dir(fixture.dir.path())
        .args(args)
        .args(["--config", "server.yaml"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for name in LANGUAGE_VARIABLES {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("run the binary")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether `text` has Cyrillic letters.
fn cyrillic(text: &str) -> bool {
    text.chars()
        .any(|c| ('а'..='я').contains(&c) || ('А'..='Я').contains(&c))
}

#[test]
fn check_speaks_the_system_language() {
    let fixture = deployment();
    let ru = run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]);
    let en = run(&fixture, &["check"], &[("LANG", "C")]);
    assert!(
        ru.status.success() && en.status.success(),
        "{}",
        stdout(&ru)
    );
    let (ru, en) = (stdout(&ru), stdout(&en));
    assert!(ru.contains("текущий релиз 20250301"), "{ru}");
    assert!(ru.contains("проверка пройдена"), "{ru}");
    assert!(ru.contains("критический: да"), "{ru}");
    assert!(
        !ru.contains("check passed") && !ru.contains("current release"),
        "{ru}"
    );
    assert!(en.contains("current release 20250301"), "{en}");
    assert!(en.contains("check passed"), "{en}");
    assert!(
        !cyrillic(&en.replace("Январь", "").replace("Март", "")),
        "{en}"
    );
    // The same content: as many lines, the same versions and paths.
    assert_eq!(ru.lines().count(), en.lines().count(), "{ru}\n{en}");
    for needle in ["20250101", "20250301", "\"Март\"", "\"Январь\""] {
        assert_eq!(
            ru.matches(needle).count(),
            en.matches(needle).count(),
            "{needle}"
        );
    }
}

#[test]
fn lc_all_beats_lang_and_the_setting_beats_both() {
    let fixture = deployment();
    let said = |args: &[&str], env: &[(&str, &str)]| stdout(&run(&fixture, args, env));
    // libc's order: LC_ALL, then LC_MESSAGES, then LANG.
    assert!(said(&["check"], &[("LC_ALL", "C"), ("LANG", "ru_RU.UTF-8")]).contains("check passed"));
    assert!(
        said(&["check"], &[("LC_MESSAGES", "ru_RU.UTF-8"), ("LANG", "C")])
            .contains("проверка пройдена")
    );
    assert!(said(&["check"], &[("LANG", "ru")]).contains("проверка пройдена"));
    // --language en beats a Russian system; KKT_LANGUAGE=ru a plain one; the file's key too.
    assert!(
        said(&["check", "--language", "en"], &[("LANG", "ru_RU.UTF-8")]).contains("check passed")
    );
    assert!(
        said(&["check"], &[("LANG", "C"), ("KKT_LANGUAGE", "ru")]).contains("проверка пройдена")
    );
    assert!(said(
        &["check", "--language", "en"],
        &[("LANG", "C"), ("KKT_LANGUAGE", "ru")]
    )
    .contains("check passed"));
    fixture.write_config("settle_ms: 0\ninventory: \"off\"\nlanguage: ru\n");
    assert!(said(&["check"], &[("LANG", "C")]).contains("проверка пройдена"));
    // A value it does not take is refused with the key, the value and the forms.
    fixture.write_config("settle_ms: 0\ninventory: \"off\"\nlanguage: russian\n");
    let refused = run(&fixture, &["check"], &[("LANG", "C")]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("language must be ru, en or auto; got \"russian\""),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_refused_publish_says_why_in_the_system_language() {
    let fixture = deployment();
    let source = fixture.path("incoming/20250301");
    std::fs::create_dir_all(&source).expect("source");
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        std::fs::write(source.join(name), common::firmware_bytes("20250302", name)).expect("bin");
    }
    let source = source.to_string_lossy().into_owned();
    let args = ["publish", source.as_str(), "--no-wait"];
    let ru = run(&fixture, &args, &[("LANG", "ru_RU.UTF-8")]);
    let en = run(&fixture, &args, &[("LANG", "C")]);
    assert!(!ru.status.success() && !en.status.success());
    let (ru, en) = (stderr(&ru), stderr(&en));
    assert!(
        ru.contains("релиз 20250301 уже опубликован") && ru.contains("--replace"),
        "{ru}"
    );
    assert!(
        en.contains("release 20250301 is already published")
            && en.contains("give --replace to replace it in place"),
        "{en}"
    );
    assert!(
        ru.contains("(firmware/20250301)") && en.contains("(firmware/20250301)"),
        "{ru}\n{en}"
    );
    // --language en beats the Russian system.
    let forced = run(
        &fixture,
        &["publish", source.as_str(), "--no-wait", "--language", "en"],
        &[("LANG", "ru_RU.UTF-8")],
    );
    assert!(
        stderr(&forced).contains("is already published"),
        "{}",
        stderr(&forced)
    );
    // A source that is not there: Russian, with the path as given.
    let missing = run(
        &fixture,
        &["publish", "nowhere/20250401", "--no-wait"],
        &[("LANG", "ru_RU.UTF-8")],
    );
    assert!(
        stderr(&missing).contains("nowhere/20250401 не существует"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn publish_and_withdraw_say_what_they_did_in_russian() {
    let fixture = deployment();
    let source = fixture.path("incoming/20250401");
    std::fs::create_dir_all(&source).expect("source");
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        std::fs::write(source.join(name), common::firmware_bytes("20250401", name)).expect("bin");
    }
    let source = source.to_string_lossy().into_owned();
    let ru = [("LANG", "ru_RU.UTF-8")];
    let published = run(&fixture, &["publish", source.as_str(), "--no-wait"], &ru);
    let said = stdout(&published);
    assert!(published.status.success(), "{}", stderr(&published));
    assert!(
        said.contains("релиз 20250401") && said.contains("опубликован "),
        "{said}"
    );
    assert!(
        said.contains("ККТ со сборкой до 20250401 теперь получают его"),
        "{said}"
    );
    let withdrawn = run(&fixture, &["withdraw", "20250401", "--no-wait"], &ru);
    let said = stdout(&withdrawn);
    assert!(withdrawn.status.success(), "{}", stderr(&withdrawn));
    assert!(said.contains("релиз 20250401 отозван"), "{said}");
    assert!(
        said.contains("теперь ККТ со сборкой до 20250301 получают 20250301"),
        "{said}"
    );
    let refused = run(&fixture, &["withdraw", "20250401", "--no-wait"], &ru);
    assert!(
        stderr(&refused).contains("нет релиза 20250401 в"),
        "{}",
        stderr(&refused)
    );
}

/// Starts the server with exactly the language variables given, admin listener on.
pub(crate) fn start(fixture: &Fixture, env: &[(&str, &str)]) -> Server {
    let mut command = crate::common::server_command();
    command
        .current_dir(fixture.dir.path())
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env_remove("KKT_TEST_CLOCK_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for name in LANGUAGE_VARIABLES {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    Server::spawn(command)
}

#[test]
fn the_log_speaks_the_system_language() {
    let fixture = deployment();
    let ru = start(&fixture, &[("LANG", "ru_RU.UTF-8")]);
    assert!(
        ru.wait_for_log("текущий релиз 20250301", common::DEADLINE),
        "{}",
        ru.log()
    );
    assert!(
        ru.log().contains("критическая версия 20250301"),
        "{}",
        ru.log()
    );
    let en = start(&fixture, &[("LANG", "C")]);
    assert!(
        en.wait_for_log("current release 20250301", common::DEADLINE),
        "{}",
        en.log()
    );
}

/// The English words the Russian dashboard must not show as text.
const ENGLISH_WORDS: &[&str] = &[
    "critical",
    "published",
    "rollout",
    "release",
    "current",
    "settling",
    "rejected",
    "offered",
    "downloaded",
    "updated",
    "stuck",
    "paused",
    "halted",
    "admitting",
    "pilot",
    "window",
    "percent",
    "true",
    "false",
    "none",
    "devices",
    "ago",
    "days",
    "hour",
    "new per",
];

/// The text of an HTML page a reader sees: without tags, attributes, styles and scripts.
pub(crate) fn visible_text(html: &str) -> String {
    let mut shown = html.to_string();
    for (open, close) in [("<style", "</style>"), ("<script", "</script>")] {
        while let Some(start) = shown.find(open) {
            let end = shown[start..]
                .find(close)
                .map_or(shown.len(), |e| start + e + close.len());
            shown.replace_range(start..end, " ");
        }
    }
    let mut text = String::new();
    let mut inside = false;
    for c in shown.chars() {
        match c {
            '<' => inside = true,
            '>' => {
                inside = false;
                text.push(' ');
            }
            c if !inside => text.push(c),
            _ => {}
        }
    }
    text
}

/// Text with its runs of blank space made one space, for a readable failure.
pub(crate) fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_russian_dashboard_has_no_english_words_and_one_date_format() {
    let fixture = deployment();
    // The reloads table quotes the log's lines, which are in the operator's language: a
    // Russian operator's.
    let server = start(&fixture, &[("LANG", "ru_RU.UTF-8")]);
    // A device below the critical version, so the recent devices table has a row.
    server.check_firmware("1.1.2024");
    let admin = admin_addr(&server);
    let page = raw_request(
        admin,
        format!(
            "GET / HTTP/1.1\r\nHost: {admin}\r\nAccept-Language: ru-RU,ru;q=0.9\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(page.status, 200);
    let text = visible_text(&page.text());
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != ' ')
        .collect();
    for english in ENGLISH_WORDS {
        let found = words.iter().any(|chunk| {
            chunk
                .split(' ')
                .collect::<Vec<_>>()
                .windows(english.split(' ').count())
                .any(|w| w.join(" ") == *english)
        });
        assert!(
            !found,
            "the Russian dashboard says {english:?}:\n{}",
            squeezed(&text)
        );
    }
    // Dates: DD.MM.YYYY, never yyyymmdd or yyyy-mm-dd, in what a reader sees (but for the
    // reloads table, which quotes log lines naming releases by their folders).
    let text = text.split("Перезагрузки").next().unwrap_or_default();
    assert!(text.contains("01.03.2025"), "{text}");
    assert!(text.contains("01.01.2025"), "{text}");
    let eight_digits = text
        .split(|c: char| !c.is_ascii_digit())
        .any(|n| n.len() == 8 && n.starts_with("20"));
    assert!(!eight_digits, "a date written yyyymmdd:\n{text}");
    assert!(!text.contains("2025-") && !text.contains("2026-"), "{text}");
    // The English page still says it in English.
    let english = raw_request(
        admin,
        format!(
            "GET / HTTP/1.1\r\nHost: {admin}\r\nAccept-Language: en-US\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    let english = visible_text(&english.text());
    assert!(english.contains("(critical)") && english.contains("50%, at most 10 new per hour"));
}

#[test]
fn devices_receive_the_same_bytes_in_every_language() {
    let fixture = deployment();
    // One public URL, so that the two servers' answers do not differ by their ports.
    fixture
        .write_config("settle_ms: 0\ninventory: \"off\"\npublic_url: \"http://fw.example.ru\"\n");
    let answers = |env: &[(&str, &str)]| {
        let server = start(&fixture, env);
        let mut said = BTreeMap::new();
        for build in ["1.1.2024", "1.2.2025", "1.4.2025"] {
            let body = format!(r#"{{"build_date": "{build}"}}"#);
            let answer = server.post("/check_firmware", &body);
            said.insert(build, (answer.status, answer.body.clone()));
        }
        let nothing = server.post("/check_firmware", "{}");
        said.insert("no build", (nothing.status, nothing.body.clone()));
        said
    };
    let ru = answers(&[("LANG", "ru_RU.UTF-8"), ("KKT_LANGUAGE", "ru")]);
    let en = answers(&[("LANG", "C")]);
    assert_eq!(ru, en);
}

/// `server.yaml`'s refusals follow the operator's language: an unknown key with its "did
/// you mean", a value out of bounds, a value of the wrong form (the form in Russian), the
/// line, and the frame naming the file; a file that says `language: ru` is explained in
/// Russian even when the rest of it is refused. English stays word for word.
#[test]
fn configuration_errors_speak_the_operators_language() {
    let fixture = deployment();
    let refusal = |yaml: &str, env: &[(&str, &str)]| {
        fixture.write_config(yaml);
        let out = run(&fixture, &["check"], env);
        assert!(!out.status.success(), "{}", stdout(&out));
        stderr(&out)
    };
    let ru = [("LANG", "ru_RU.UTF-8")];
    let en = [("LANG", "C")];

    let said = refusal("lisen: 0.0.0.0:8888\n", &ru);
    assert!(
        said.contains("server.yaml: ошибка в конфигурации: неизвестный ключ `lisen`: может быть, listen? ключи server.yaml: listen, ")
            && said.contains("(строка 3)"),
        "{said}"
    );
    let said = refusal("lisen: 0.0.0.0:8888\n", &en);
    assert!(
        said.contains("server.yaml: invalid configuration: unknown field `lisen`: did you mean listen? the keys of server.yaml are listen, ")
            && said.contains("(line 3)"),
        "{said}"
    );

    let said = refusal("settle_ms: 99999999999\n", &ru);
    assert!(
        said.contains("settle_ms: ожидается число от 0 до ")
            && said.contains(" (в миллисекундах); получено 99999999999"),
        "{said}"
    );
    let said = refusal("settle_ms: 99999999999\n", &en);
    assert!(
        said.contains("settle_ms must be between 0 and ")
            && said.contains(" (milliseconds); got 99999999999"),
        "{said}"
    );

    let said = refusal("static_files: maybe\n", &ru);
    assert!(
        said.contains("static_files: ожидается true или false; получено \"maybe\""),
        "{said}"
    );
    let said = refusal("static_files: maybe\n", &en);
    assert!(
        said.contains("static_files must be true or false; got \"maybe\""),
        "{said}"
    );

    // The file's own language, though the file is refused further on (admin_token).
    let said = refusal("language: ru\nadmin_token: short\n", &en);
    assert!(
        said.contains("admin_token должен быть не короче 16 символов; в нём 5"),
        "{said}"
    );
    let said = refusal("admin_token: short\n", &en);
    assert!(
        said.contains("admin_token must be at least 16 characters; it has 5"),
        "{said}"
    );

    // A TLS file that cannot be read: the setting and the file, the system's cause as given.
    fixture.write_config(
        "settle_ms: 0\ntls_listen: 127.0.0.1:0\ntls_cert: nope.pem\ntls_key: nope.key\n",
    );
    let out = run(&fixture, &["check"], &ru);
    assert!(
        stdout(&out).contains("ошибка: tls_cert ")
            && stdout(&out).contains("nope.pem: не удаётся прочитать: "),
        "{}",
        stdout(&out)
    );
    let out = run(&fixture, &["check"], &en);
    assert!(
        stdout(&out).contains("problem: tls_cert ")
            && stdout(&out).contains("nope.pem: cannot be read: "),
        "{}",
        stdout(&out)
    );

    // firmware_dir missing; the cause quoted inside is translated too.
    fixture.write_config("settle_ms: 0\n");
    let out = run(&fixture, &["check", "--firmware-dir", "nowhere"], &ru);
    assert!(
        stderr(&out).contains("папки прошивок (firmware_dir) nowhere нет; создайте её"),
        "{}",
        stderr(&out)
    );
    let out = run(&fixture, &["check", "--firmware-dir", "nowhere"], &en);
    assert!(
        stderr(&out).contains("firmware_dir nowhere does not exist; create it"),
        "{}",
        stderr(&out)
    );
}

/// The line saying which configuration file is used, in the operator's language.
#[test]
fn which_configuration_is_used_is_said_in_the_operators_language() {
    let fixture = deployment();
    let ru = run(
        &fixture,
        &["withdraw", "19990101", "--no-wait"],
        &[("LANG", "ru_RU.UTF-8")],
    );
    assert!(
        stderr(&ru).contains("конфигурация server.yaml в рабочей папке ")
            && stderr(&ru).contains(" (--config)"),
        "{}",
        stderr(&ru)
    );
    let en = run(
        &fixture,
        &["withdraw", "19990101", "--no-wait"],
        &[("LANG", "C")],
    );
    assert!(
        stderr(&en).contains("configuration server.yaml in the working folder ")
            && stderr(&en).contains(" (--config)"),
        "{}",
        stderr(&en)
    );
    let ru = run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]);
    assert!(
        stdout(&ru).contains("конфигурация server.yaml в рабочей папке "),
        "{}",
        stdout(&ru)
    );
}

/// The log lines an operator acts on, and `reload`'s answer, in Russian: where the server
/// listens, a license file it cannot use, a rescan asked for, a broken `server.yaml` kept
/// out; in English the same lines as before.
#[test]
fn log_lines_and_reload_speak_the_operators_language() {
    let fixture = deployment();
    fixture.write("lic/broken.yaml", "\"0000000000000002\": [\n");
    fixture.write_config("settle_ms: 0\ninventory: \"off\"\nlicenses: [lic/broken.yaml]\n");
    let reload = |server: &Server, env: &[(&str, &str)]| {
        let mut command = crate::common::server_command();
        command
            .current_dir(fixture.dir.path())
            .args(["reload", "--config", "server.yaml", "--admin-listen"])
            .arg(admin_addr(server).to_string())
            .stdin(Stdio::null());
        for name in LANGUAGE_VARIABLES {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        command.output().expect("run reload")
    };

    let ru_env = [("LANG", "ru_RU.UTF-8")];
    let ru = start(&fixture, &ru_env);
    for line in [
        "принимаю запросы ККТ на 127.0.0.1:",
        "панель администратора на 127.0.0.1:",
        "нельзя использовать",
        "из него не выдаётся ни одной лицензии",
    ] {
        assert!(
            ru.wait_for_log(line, common::DEADLINE),
            "{line}\n{}",
            ru.log()
        );
    }
    let asked = reload(&ru, &ru_env);
    assert!(asked.status.success(), "{}", stderr(&asked));
    // The JSON for scripts is the same in every language; the sentence is Russian.
    assert!(
        stdout(&asked).contains("\"status\": \"reloaded\""),
        "{}",
        stdout(&asked)
    );
    assert!(
        stderr(&asked).contains("сервер перечитал файлы за ")
            && stderr(&asked).contains("для ККТ ничего не изменилось"),
        "{}",
        stderr(&asked)
    );
    assert!(
        ru.wait_for_log("файлы перечитаны по запросу за ", common::DEADLINE),
        "{}",
        ru.log()
    );
    // A server.yaml broken while running: kept out, said in Russian (SIGHUP asks for it).
    fixture
        .write_config("settle_ms: 0\ninventory: \"off\"\nlicenses: [lic/broken.yaml]\nlisen: x\n");
    ru.sighup();
    assert!(
        ru.wait_for_log("сервер работает с прежней конфигурацией", common::DEADLINE),
        "{}",
        ru.log()
    );
    assert!(
        ru.log()
            .contains("ошибка в конфигурации: неизвестный ключ `lisen`"),
        "{}",
        ru.log()
    );
    // The red banner of the Russian dashboard says it in Russian; /status keeps English.
    let page = common::admin(&ru, "/").text();
    assert!(
        page.contains("неизвестный ключ `lisen`: может быть, listen?"),
        "{page}"
    );
    let status = common::admin_json(&ru, "/status");
    let error = status["config_stale"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("unknown field `lisen`: did you mean listen?"),
        "{error}"
    );
    let refused = reload(&ru, &ru_env);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("неизвестный ключ `lisen`"),
        "{}",
        stderr(&refused)
    );
    drop(ru);

    fixture.write_config("settle_ms: 0\ninventory: \"off\"\nlicenses: [lic/broken.yaml]\n");
    let en_env = [("LANG", "C")];
    let en = start(&fixture, &en_env);
    for line in [
        "listening on 127.0.0.1:",
        "admin listening on 127.0.0.1:",
        "cannot be used",
        "no license is served from it",
    ] {
        assert!(
            en.wait_for_log(line, common::DEADLINE),
            "{line}\n{}",
            en.log()
        );
    }
    let asked = reload(&en, &en_env);
    assert!(
        stdout(&asked).contains("\"status\": \"reloaded\""),
        "{}",
        stdout(&asked)
    );
    assert!(
        stderr(&asked).contains("the server reloaded its files in "),
        "{}",
        stderr(&asked)
    );
    assert!(
        en.wait_for_log("rescanned on request in ", common::DEADLINE),
        "{}",
        en.log()
    );
    // With the admin listener off, `reload` says so in the operator's language.
    let off = run(&fixture, &["reload"], &ru_env);
    assert!(
        stderr(&off).contains("admin_listen выключен, поэтому спросить некого"),
        "{}",
        stderr(&off)
    );
    let off = run(&fixture, &["reload"], &en_env);
    assert!(
        stderr(&off).contains("admin_listen is off, so there is nobody to ask"),
        "{}",
        stderr(&off)
    );
}

/// The snapshot's warnings an operator acts on: the repository's samples served (from the
/// source tree's sample folder) and a line not served, in Russian; English as before.
#[test]
fn snapshot_warnings_speak_the_operators_language() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware");
    let samples = samples.to_string_lossy().into_owned();
    let fixture = deployment();
    let args = ["check", "--firmware-dir", samples.as_str()];
    let ru = stdout(&run(&fixture, &args, &[("LANG", "ru_RU.UTF-8")]));
    assert!(
        ru.contains("— сгенерированные образцы из репозитория, а не прошивка"),
        "{ru}"
    );
    let en = stdout(&run(&fixture, &args, &[("LANG", "C")]));
    assert!(
        en.contains("are the repository's generated samples, not firmware"),
        "{en}"
    );

    fixture.write("firmware/C.1/line.yaml", "known_builds: [20221301]\n");
    let ru = stdout(&run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]));
    // The problem line (as the log says it), not only check's own row.
    assert!(
        ru.contains("C.1: линейка C.1 не обслуживается: ") && !ru.contains("is not served"),
        "{ru}"
    );
    let en = stdout(&run(&fixture, &["check"], &[("LANG", "C")]));
    assert!(en.contains("line C.1 is not served"), "{en}");
}

/// `service` refuses in the operator's language: outside Windows, install, uninstall and
/// run all say where services exist, in Russian or English.
#[test]
fn service_refusals_speak_the_operators_language() {
    if cfg!(windows) {
        return;
    }
    let fixture = deployment();
    for action in ["install", "uninstall", "run"] {
        let ru = run(&fixture, &["service", action], &[("LANG", "ru_RU.UTF-8")]);
        let en = run(&fixture, &["service", action], &[("LANG", "C")]);
        assert!(!ru.status.success() && !en.status.success(), "{action}");
        let (ru, en) = (stderr(&ru), stderr(&en));
        assert!(
            ru.contains("службы Windows есть только в Windows; в Linux запускайте сервер"),
            "{action}: {ru}"
        );
        assert!(
            en.contains("Windows services exist only on Windows; on Linux run it"),
            "{action}: {en}"
        );
    }
}
