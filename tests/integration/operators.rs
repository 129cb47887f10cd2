//! Operators, roles, the login form and CSRF, against the real binary: tokens made by
//! `token new` and pasted into `server.yaml` give each operator its role (a viewer cannot
//! reload), `admin_token` still works, `reload` takes `--token` / `KKT_TOKEN`, the login
//! form's cookie is `HttpOnly`, `SameSite=Strict` (and `Secure` over TLS) and ends at
//! logout or expiry, a form post with the cookie needs the page's CSRF token, operators are
//! hot-reloaded, and bad `operators:` entries are refused in plain words in both languages.

use std::net::SocketAddr;
use std::process::Output;
use std::time::Duration;

use crate::common::operators::{bearer, request, start_with_admin, token_new, FORM};
use crate::common::{admin_addr, eventually, server_command, Fixture, Response, DEADLINE};

/// A deployment with one release and `operators:` holding `lines`, started with an admin
/// listener.
fn deployment(extra: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write_config(&format!("settle_ms: 0\n{extra}"));
    fixture
}

fn operators(lines: &[&str]) -> String {
    format!("operators:\n{}\n", lines.join("\n"))
}

#[test]
fn tokens_from_token_new_give_each_operator_its_role() {
    let viewer = token_new(&["Ромашка ИТ", "--groups", "ООО Ромашка"]);
    let publisher = token_new(&["Сборка", "--role", "publisher"]);
    let admin = token_new(&["Иванов", "--role", "admin"]);
    let old = "s3cret-token-for-tests";
    let fixture = deployment(&format!(
        "{}admin_token: {old}\n",
        operators(&[&viewer.line, &publisher.line, &admin.line])
    ));
    let (_server, addr) = start_with_admin(&fixture, &[]);

    // Every operator reads.
    for token in [
        &viewer.token,
        &publisher.token,
        &admin.token,
        &old.to_string(),
    ] {
        let auth = bearer(token);
        for path in [
            "/", "/status", "/metrics", "/healthz", "/devices", "/history",
        ] {
            let answer = request(addr, "GET", path, &[("Authorization", &auth)], "");
            assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        }
    }
    // Only an admin reloads: a viewer and a publisher are told the role needed.
    for (who, token) in [("viewer", &viewer.token), ("publisher", &publisher.token)] {
        let answer = request(
            addr,
            "POST",
            "/reload",
            &[("Authorization", &bearer(token))],
            "",
        );
        assert_eq!(answer.status, 403, "{who}: {}", answer.text());
        assert_eq!(
            answer.error(),
            format!(
                "refused: this needs the role admin or above, and your token's role is {who}; \
                 ask an admin for a token with that role"
            )
        );
    }
    for token in [&admin.token, &old.to_string()] {
        let answer = request(
            addr,
            "POST",
            "/reload",
            &[("Authorization", &bearer(token))],
            "",
        );
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    // Basic: any user name, the token as the password.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("anyone:{}", viewer.token))
    );
    let answer = request(addr, "GET", "/status", &[("Authorization", &basic)], "");
    assert_eq!(answer.status, 200, "{}", answer.text());

    // Unknown tokens, the hash itself, and nothing at all (the open mode is off, even on
    // 127.0.0.1).
    let hash = admin
        .line
        .split('"')
        .nth(3)
        .expect("hash in the line")
        .to_string();
    for auth in [
        Some(bearer("kkt_not-a-token-of-anyone-here-0000000000000")),
        Some(bearer(&hash)),
        Some(bearer(&admin.token[..admin.token.len() - 1])),
        None,
    ] {
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let answer = request(addr, "GET", "/status", &headers, "");
        assert_eq!(answer.status, 401, "{auth:?}: {}", answer.text());
        let answer = request(addr, "POST", "/reload", &headers, "");
        assert_eq!(answer.status, 401, "{auth:?}: {}", answer.text());
    }
    // A browser refused for want of a token is pointed to the login form, and may still
    // answer the Basic prompt.
    let answer = request(addr, "GET", "/", &[("Accept", "text/html,*/*")], "");
    assert_eq!(answer.status, 401);
    assert!(
        answer.text().contains("action=\"login\""),
        "{}",
        answer.text()
    );
    assert!(
        answer
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic ")),
        "{answer:?}"
    );
}

fn reload_command(
    fixture: &Fixture,
    addr: SocketAddr,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Output {
    let mut command = server_command();
    command
        .current_dir(fixture.dir.path())
        .args(["reload", "--config", "server.yaml"])
        .args(["--admin-listen", &addr.to_string()])
        .args(args)
        .env_remove("KKT_TOKEN")
        .env_remove("KKT_ADMIN_TOKEN");
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().expect("run reload")
}

#[test]
fn reload_takes_the_token_from_the_flag_then_the_environment_then_admin_token() {
    let viewer = token_new(&["Ромашка ИТ"]);
    let admin = token_new(&["Иванов", "--role", "admin"]);
    let old = "s3cret-token-for-tests";
    let fixture = deployment(&format!(
        "{}admin_token: {old}\n",
        operators(&[&viewer.line, &admin.line])
    ));
    let (_server, addr) = start_with_admin(&fixture, &[]);
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    // admin_token of the configuration, when nothing else is given.
    let out = reload_command(&fixture, addr, &[], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The flag.
    let out = reload_command(&fixture, addr, &["--token", &admin.token], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = reload_command(&fixture, addr, &["--token", &viewer.token], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("role is viewer"), "{}", stderr(&out));
    // The environment, over admin_token.
    let out = reload_command(&fixture, addr, &[], &[("KKT_TOKEN", &admin.token)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = reload_command(&fixture, addr, &[], &[("KKT_TOKEN", &viewer.token)]);
    assert!(
        !out.status.success(),
        "the environment wins over admin_token"
    );
    // The flag over the environment.
    let out = reload_command(
        &fixture,
        addr,
        &["--token", &admin.token],
        &[("KKT_TOKEN", &viewer.token)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A token nobody has: said in words.
    let out = reload_command(
        &fixture,
        addr,
        &["--token", "kkt_nobody-0000000000000000000"],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the token was refused"),
        "{}",
        stderr(&out)
    );
}

/// The cookie `Set-Cookie` sets (`kkt_session=<id>`).
fn session_cookie(answer: &Response) -> String {
    let set = answer.header("set-cookie").expect("Set-Cookie");
    set.split(';').next().expect("cookie").trim().to_string()
}

/// The CSRF token in a page's form.
fn csrf_in(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no csrf field in {page}"))
        .to_string()
}

fn login(addr: SocketAddr, token: &str) -> Response {
    let body = format!("token={}", token.replace('+', "%2B"));
    request(
        addr,
        "POST",
        "/login",
        &[FORM, ("Accept-Language", "en")],
        &body,
    )
}

#[test]
fn the_login_form_sets_a_strict_cookie_that_opens_the_dashboard_until_logout() {
    let admin = token_new(&["Иванов", "--role", "admin"]);
    let viewer = token_new(&["Ромашка ИТ"]);
    let fixture = deployment(&operators(&[&admin.line, &viewer.line]));
    let (server, addr) = start_with_admin(&fixture, &[]);

    let page = request(addr, "GET", "/login", &[("Accept-Language", "ru")], "");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("<html lang=\"ru\">"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("Войти"), "{}", page.text());
    // Never framed by another site's page (clickjacking would carry the CSRF token along).
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(
        page.header("content-security-policy"),
        Some("frame-ancestors 'none'")
    );

    // A wrong token: 401, the form again, counted and logged (the token never shown).
    let wrong = login(addr, "kkt_wrong-token-000000000000000");
    assert_eq!(wrong.status, 401, "{}", wrong.text());
    assert!(wrong.header("set-cookie").is_none());
    assert!(
        wrong.text().contains("No operator has this token"),
        "{}",
        wrong.text()
    );
    assert!(server.wait_for_log("admin login refused from 127.0.0.1", DEADLINE));
    assert!(!server.log().contains("kkt_wrong-token"));
    let metrics = request(
        addr,
        "GET",
        "/metrics",
        &[("Authorization", &bearer(&admin.token))],
        "",
    );
    assert!(
        metrics.text().contains("kkt_admin_login_failures_total 1"),
        "{}",
        metrics.text()
    );

    // Another site's page cannot log the browser in (login CSRF), and a login form is small.
    let forged = request(
        addr,
        "POST",
        "/login",
        &[FORM, ("Origin", "http://attacker.example")],
        &format!("token={}", admin.token),
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
    assert!(forged.header("set-cookie").is_none());
    let huge = format!("token={}", "a".repeat(64 * 1024));
    let answer = request(addr, "POST", "/login", &[FORM], &huge);
    assert_eq!(answer.status, 413, "{}", answer.text());

    let answer = login(addr, &admin.token);
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert_eq!(answer.header("location"), Some("./"));
    let set = answer.header("set-cookie").expect("Set-Cookie").to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(
            set.split("; ").any(|a| a == attribute),
            "{attribute}: {set}"
        );
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = session_cookie(&answer);
    let with_cookie = [("Cookie", cookie.as_str())];

    for path in ["/", "/status", "/devices.csv"] {
        let answer = request(addr, "GET", path, &with_cookie, "");
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    }
    let page = request(addr, "GET", "/login", &with_cookie, "").text();
    assert!(
        page.contains("You are logged in as Иванов (admin)")
            || page.contains("Вы вошли как Иванов (admin)"),
        "{page}"
    );
    let csrf = csrf_in(&page);

    // A form post with the cookie: from another site's page it is refused outright; with no
    // CSRF token or a wrong one, too; with the page's token, it is done.
    let cross_site = request(
        addr,
        "POST",
        "/reload",
        &[
            ("Cookie", &cookie),
            FORM,
            ("Origin", "http://attacker.example"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        &format!("csrf={csrf}"),
    );
    assert_eq!(cross_site.status, 403, "{}", cross_site.text());
    assert!(
        cross_site.error().contains("another site"),
        "{}",
        cross_site.error()
    );
    let other = "0".repeat(64);
    for (content_type, body) in [
        (FORM.1, String::new()),
        (FORM.1, format!("csrf={other}")),
        ("text/plain", format!("csrf={csrf}")),
        ("multipart/form-data; boundary=x", String::new()),
    ] {
        let answer = request(
            addr,
            "POST",
            "/reload",
            &[("Cookie", &cookie), ("Content-Type", content_type)],
            &body,
        );
        assert_eq!(
            answer.status,
            403,
            "{content_type} {body}: {}",
            answer.text()
        );
        assert!(answer.error().contains("CSRF token"), "{}", answer.error());
    }
    let done = request(
        addr,
        "POST",
        "/reload",
        &[
            ("Cookie", &cookie),
            FORM,
            ("Origin", &format!("http://{addr}")),
        ],
        &format!("csrf={csrf}"),
    );
    assert_eq!(done.status, 200, "{}", done.text());
    // In the header, too (a page's script), and a Bearer script needs none.
    let header = request(
        addr,
        "POST",
        "/reload",
        &[("Cookie", &cookie), FORM, ("X-CSRF-Token", &csrf)],
        "",
    );
    assert_eq!(header.status, 200, "{}", header.text());
    let script = request(
        addr,
        "POST",
        "/reload",
        &[("Authorization", &bearer(&admin.token)), FORM],
        "",
    );
    assert_eq!(script.status, 200, "{}", script.text());

    // A viewer's session, with its own valid token: the role still decides.
    let viewer_cookie = session_cookie(&login(addr, &viewer.token));
    let viewer_page = request(addr, "GET", "/login", &[("Cookie", &viewer_cookie)], "").text();
    let viewer_csrf = csrf_in(&viewer_page);
    assert_ne!(viewer_csrf, csrf, "each session has its own token");
    let refused = request(
        addr,
        "POST",
        "/reload",
        &[("Cookie", &viewer_cookie), FORM],
        &format!("csrf={viewer_csrf}"),
    );
    assert_eq!(refused.status, 403);
    assert!(
        refused.error().contains("role is viewer"),
        "{}",
        refused.error()
    );
    // Another session's token does not open this one.
    let swapped = request(
        addr,
        "POST",
        "/reload",
        &[("Cookie", &cookie), FORM],
        &format!("csrf={viewer_csrf}"),
    );
    assert_eq!(swapped.status, 403, "{}", swapped.text());

    // Logout needs the token too, then ends the session and clears the cookie.
    let forged = request(addr, "POST", "/logout", &[("Cookie", &cookie), FORM], "");
    assert_eq!(forged.status, 403, "{}", forged.text());
    let out = request(
        addr,
        "POST",
        "/logout",
        &[("Cookie", &cookie), FORM],
        &format!("csrf={csrf}"),
    );
    assert_eq!(out.status, 303, "{}", out.text());
    assert_eq!(out.header("location"), Some("login"));
    assert!(out
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=0")));
    let after = request(addr, "GET", "/status", &with_cookie, "");
    assert_eq!(after.status, 401, "the session ended: {}", after.text());
    // The viewer's session lives on.
    let still = request(addr, "GET", "/status", &[("Cookie", &viewer_cookie)], "");
    assert_eq!(still.status, 200);
    // A made-up session id opens nothing.
    let made_up = format!("kkt_session={}", "a".repeat(64));
    let answer = request(addr, "GET", "/status", &[("Cookie", &made_up)], "");
    assert_eq!(answer.status, 401);
}

#[test]
fn a_session_ends_when_it_expires_or_its_operator_leaves() {
    let admin = token_new(&["Иванов", "--role", "admin"]);
    let viewer = token_new(&["Ромашка ИТ"]);
    let fixture = deployment(&format!(
        "session_ttl_s: 600\n{}",
        operators(&[&admin.line, &viewer.line])
    ));
    let clock = fixture.test_clock();
    let (_server, addr) = start_with_admin(&fixture, &[]);
    let answer = login(addr, &admin.token);
    assert!(answer
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=600")));
    let cookie = session_cookie(&answer);
    let status = |cookie: &str| request(addr, "GET", "/status", &[("Cookie", cookie)], "").status;
    assert_eq!(status(&cookie), 200);
    clock.advance(Duration::from_secs(590));
    assert_eq!(status(&cookie), 200, "still within its 600 s");
    clock.advance(Duration::from_secs(20));
    assert_eq!(status(&cookie), 401, "expired");

    // An operator removed from server.yaml: their session opens nothing from then on.
    let viewer_cookie = session_cookie(&login(addr, &viewer.token));
    assert_eq!(status(&viewer_cookie), 200);
    fixture.write_config(&format!("settle_ms: 0\n{}", operators(&[&admin.line])));
    eventually("the viewer removed", DEADLINE, || {
        (status(&viewer_cookie) == 401).then_some(())
    });
}

#[test]
fn operators_and_admin_token_are_hot_reloaded() {
    let viewer = token_new(&["Ромашка ИТ"]);
    let admin = token_new(&["Иванов", "--role", "admin"]);
    let fixture = deployment(&operators(&[&viewer.line]));
    let (server, addr) = start_with_admin(&fixture, &[]);
    let reload = |token: &str| {
        request(
            addr,
            "POST",
            "/reload",
            &[("Authorization", &bearer(token))],
            "",
        )
        .status
    };
    assert_eq!(reload(&viewer.token), 403);
    assert_eq!(reload(&admin.token), 401);
    // The viewer becomes an admin's colleague: a new line, no restart.
    fixture.write_config(&format!(
        "settle_ms: 0\n{}",
        operators(&[&viewer.line, &admin.line])
    ));
    eventually("the new admin", DEADLINE, || {
        (reload(&admin.token) == 200).then_some(())
    });
    assert!(
        server.wait_for_log("operators changed", DEADLINE),
        "{}",
        server.log()
    );
    // A broken edit keeps the operators that serve.
    fixture.write_config(&format!(
        "settle_ms: 0\n{}",
        operators(&[
            &viewer.line,
            &admin.line.replace("role: admin", "role: root")
        ])
    ));
    assert!(server.wait_for_log("role must be viewer, publisher or admin", DEADLINE));
    assert_eq!(reload(&admin.token), 200);
    // admin_token too.
    fixture.write_config("settle_ms: 0\nadmin_token: s3cret-token-for-tests\n");
    eventually("admin_token alone", DEADLINE, || {
        (reload("s3cret-token-for-tests") == 200 && reload(&admin.token) == 401).then_some(())
    });
}

#[test]
fn over_tls_the_session_cookie_is_secure() {
    if !crate::tls_certs::have_openssl() {
        return;
    }
    use crate::tls_certs::{connect, start_with_tls};
    use std::io::{Read, Write};
    let admin = token_new(&["Иванов", "--role", "admin"]);
    let fixture = deployment(&operators(&[&admin.line]));
    let (server, ca) = start_with_tls(
        &fixture,
        &["--admin-listen", "127.0.0.1:0", "--admin-tls", "true"],
    );
    let addr = admin_addr(&server);
    let body = format!("token={}", admin.token);
    let mut stream = connect(addr, &ca);
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 303"), "{text}");
    let set = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {text}"));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(
            set.trim().split("; ").any(|a| a == attribute),
            "{attribute}: {set}"
        );
    }
}

/// `check`'s errors for a `server.yaml` with `operators:` written as `entry`, in
/// `language` (a file that does not load cannot say its own language).
fn refused(entry: &str, language: &str) -> String {
    let fixture = deployment(&format!("operators:\n{entry}\n"));
    let output = server_command()
        .current_dir(fixture.dir.path())
        .args(["check", "--config", "server.yaml"])
        .env("KKT_LANGUAGE", language)
        .output()
        .expect("run check");
    assert!(!output.status.success(), "{entry}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_operators_entries_are_refused_in_plain_words_in_both_languages() {
    let hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
    let cases: [(String, &str, &str); 6] = [
        (
            format!("  - {{name: Иванов, token_sha256: \"{hash}\", role: root}}"),
            "operators, entry 1 (\"Иванов\"): role must be viewer, publisher or admin; got \"root\"",
            "operators, запись 1 (\"Иванов\"): role: ожидается viewer, publisher или admin; получено \"root\"",
        ),
        (
            "  - {name: Иванов, token_sha256: kkt_my-secret-token, role: admin}".to_string(),
            "token_sha256 must be 64 hexadecimal digits",
            "token_sha256 должен быть из 64 шестнадцатеричных цифр",
        ),
        (
            format!("  - {{name: Сборка, token_sha256: \"{hash}\", role: publisher, groups: [x]}}"),
            "groups limits a viewer only, and this operator's role is publisher",
            "groups ограничивает только роль viewer, а у этого оператора роль publisher",
        ),
        (
            format!(
                "  - {{name: a, token_sha256: \"{hash}\", role: admin}}\n  - {{name: a, token_sha256: \"{}\", role: viewer}}",
                hash.replace('5', "6")
            ),
            "operators, entry 2 (\"a\"): the name is also entry 1's",
            "operators, запись 2 (\"a\"): такое же имя у записи 1",
        ),
        (
            format!("  - {{name: a, token: my-secret-token, token_sha256: \"{hash}\", role: admin}}"),
            "never write the token itself into server.yaml",
            "не пишите сам токен в server.yaml",
        ),
        (
            "  - Иванов".to_string(),
            "operators, entry 1: must be keys with values",
            "operators, запись 1: ожидаются ключи со значениями",
        ),
    ];
    for (entry, english, russian) in &cases {
        let errors = refused(entry, "en");
        assert!(errors.contains(english), "{entry}: {errors}");
        assert!(!errors.contains("my-secret-token"), "{errors}");
        let errors = refused(entry, "ru");
        assert!(errors.contains(russian), "{entry}: {errors}");
        assert!(!errors.contains("my-secret-token"), "{errors}");
    }
    // The list is bounded.
    let many: Vec<String> = (0..1001)
        .map(|i| {
            format!(
                "  - {{name: op{i}, token_sha256: \"{:064x}\", role: viewer}}",
                i
            )
        })
        .collect();
    let errors = refused(&many.join("\n"), "en");
    assert!(
        errors.contains("operators lists 1001 entries; at most 1000 are allowed"),
        "{errors}"
    );
}
