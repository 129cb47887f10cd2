//! The dashboard's forms against the real binary, in headless Chromium driven over the
//! DevTools protocol (`common::devtools`): a publisher logs in through the login form,
//! uploads a release through the upload form (the file chosen with
//! `DOM.setFileInputFiles`), which a register is then offered and the audit trail records
//! under the operator's name; pauses and resumes its rollout and withdraws it through its
//! confirmation page, each recorded once; logs out. The upload form fits a 390 px phone. A
//! viewer's dashboard has no form and no audit link, a publisher's has them; another
//! site's page posting the withdraw form with the operator's cookie changes nothing, nor
//! does a post of the operator's own site without the CSRF token; the notice shows a
//! refusal's words as text; a thousand wrong logins leave a handful of audit records and
//! never the tried token.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use crate::common::devtools::Browser;
use crate::common::operators::{bearer, request, start_with_admin, FORM};
use crate::common::{self, admin_addr, csrf_in, firmware_bytes, sha256, Fixture, Server};

const DEADLINE: Duration = Duration::from_secs(20);
const PUBLISHER: &str = "kkt_publisher-token-for-the-forms-test-0001";
const VIEWER: &str = "kkt_viewer-token-for-the-forms-test-00000002";

/// One release (20250101) in the default line, a publisher «Иванов» and a viewer, the
/// inventory on (the audit trail lives there).
fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20250101", None);
    fixture.write_config(&format!(
        "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ninventory: \"sqlite:inventory.sqlite\"\n\
         operators:\n  - {{name: \"Иванов\", token_sha256: \"{}\", role: publisher}}\n  - \
         {{name: \"Ромашка ИТ\", token_sha256: \"{}\", role: viewer}}\n",
        sha256(PUBLISHER.as_bytes()),
        sha256(VIEWER.as_bytes()),
    ));
    fixture
}

/// The audit trail as (actor, action, subject, result), oldest first.
fn trail(addr: SocketAddr) -> Vec<(String, String, String, String)> {
    let auth = bearer(PUBLISHER);
    let answer = request(
        addr,
        "GET",
        "/audit?limit=1000",
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json = answer.json();
    let mut records: Vec<_> = json["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (
                field("actor"),
                field("action"),
                field("subject"),
                field("result"),
            )
        })
        .collect();
    records.reverse();
    records
}

/// How many records of the trail are `actor`'s `action` on `subject`.
fn count(
    trail: &[(String, String, String, String)],
    actor: &str,
    action: &str,
    subject: &str,
) -> usize {
    trail
        .iter()
        .filter(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str()) == (actor, action, subject))
        .count()
}

/// Waits until the trail holds `actor`'s `action` on `subject`.
fn wait_recorded(addr: SocketAddr, actor: &str, action: &str, subject: &str) {
    common::eventually(&format!("{actor} {action} {subject}"), DEADLINE, || {
        (count(&trail(addr), actor, action, subject) > 0).then_some(())
    });
}

/// The version a register with build `build` at `address` is offered (0: none).
fn offered(server: &Server, address: &str) -> u64 {
    let answer = server.post_with(
        "/check_firmware",
        "{\"build_date\": \"1.1.2000\"}",
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json = answer.json();
    json["version"].as_u64().unwrap_or(0)
}

/// Whether the rollout of 20250301 stands paused, as `/status` says.
fn rollout_paused(server: &Server) -> Option<bool> {
    let auth = bearer(PUBLISHER);
    let status = request(
        admin_addr(server),
        "GET",
        "/status",
        &[("Authorization", &auth)],
        "",
    )
    .json();
    status["rollouts"]
        .as_array()?
        .iter()
        .find(|r| r["version"] == 20250301)?["paused"]
        .as_bool()
}

/// A zip of release `version` (its folder and the two files).
fn release_zip(dir: &Path, version: &str) -> std::path::PathBuf {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        zip.start_file(format!("{version}/{name}"), options)
            .expect("entry");
        zip.write_all(&firmware_bytes(version, name))
            .expect("write");
    }
    let bytes = zip.finish().expect("finish").into_inner();
    let path = dir.join(format!("{version}.zip"));
    std::fs::write(&path, bytes).expect("write the zip");
    path
}

/// The page's widest thing: the document's width, at most the window's when nothing
/// sticks out.
fn document_width(browser: &mut Browser) -> u64 {
    browser
        .eval("document.documentElement.scrollWidth")
        .as_u64()
        .expect("a width")
}

#[test]
fn a_publisher_uploads_pauses_resumes_and_withdraws_through_the_dashboard() {
    let Some(chromium) = common::chromium() else {
        return;
    };
    let fixture = deployment();
    let (server, addr) = start_with_admin(&fixture, &[]);
    let base = format!("http://{addr}/");
    let mut browser = Browser::start(chromium);

    // Logs in through the login form.
    browser.open(&format!("{base}login"));
    browser.eval(&format!(
        "document.querySelector('input[name=token]').value = {:?}",
        PUBLISHER
    ));
    browser.leave_by("document.querySelector('#login').submit()");
    browser.wait_for(
        "location.pathname === '/' && !!document.querySelector('#logout')",
        DEADLINE,
    );
    let who = browser.eval("document.querySelector('#who').innerText");
    assert!(who.as_str().is_some_and(|w| w.contains("Иванов")), "{who}");

    // The upload form, on a 390 px phone: nothing sticks out.
    browser.leave_by("document.querySelector('#upload-open').click()");
    browser.set_width(390);
    browser.wait_for("!!document.querySelector('#upload-form')", DEADLINE);
    let width = document_width(&mut browser);
    assert!(width <= 390, "the upload page is {width} px wide at 390");
    let refreshes = browser.eval("!!document.querySelector('meta[http-equiv=refresh]')");
    assert_eq!(
        refreshes,
        serde_json::json!(false),
        "the open form must not be wiped"
    );

    // Chooses the zip and fills the fields as an operator does.
    let files = tempfile::tempdir().expect("temp dir");
    let zip = release_zip(files.path(), "20250301");
    browser.choose_files("input[name=file]", &[&zip]);
    browser.eval(
        "document.querySelector('input[name=description]').value = 'Из браузера <b>жирно</b>';
         document.querySelector('input[name=rollout_percent]').value = '10';
         document.querySelector('input[name=pilot]').value = '10.9.0.0/24';",
    );
    browser.leave_by("document.querySelector('#upload-submit').click()");
    browser.wait_for(
        "document.querySelector('#notice') && document.querySelector('#notice').dataset.kind === 'published'",
        DEADLINE,
    );
    let notice = browser.eval("document.querySelector('#notice').innerText");
    assert!(
        notice.as_str().is_some_and(|n| n.contains("01.03.2025")),
        "{notice}"
    );
    // Published, under its rollout: the pilot's register is offered it.
    let meta = std::fs::read_to_string(fixture.path("firmware/20250301/meta.yaml")).expect("meta");
    assert!(meta.contains("published_by: Иванов"), "{meta}");
    assert_eq!(offered(&server, "10.9.0.7"), 20250301);
    wait_recorded(addr, "Иванов", "upload", "20250301");
    wait_recorded(addr, "Иванов", "publish", "20250301");

    // Pause, then resume, from the rollout's row.
    browser.set_width(1280);
    browser.open(&base);
    let row = "tr.rollout[data-version='20250301']";
    browser.leave_by(&format!(
        "document.querySelector(\"{row} form.pause button\").click()"
    ));
    browser.wait_for(
        "document.querySelector('#notice')?.dataset.kind === 'paused'",
        DEADLINE,
    );
    assert!(
        std::fs::read_to_string(fixture.path("firmware/20250301/meta.yaml"))
            .expect("meta")
            .contains("paused: true")
    );
    assert_eq!(rollout_paused(&server), Some(true));
    browser.wait_for(
        &format!("!!document.querySelector(\"{row} form.resume\")"),
        DEADLINE,
    );
    browser.leave_by(&format!(
        "document.querySelector(\"{row} form.resume button\").click()"
    ));
    browser.wait_for(
        "document.querySelector('#notice')?.dataset.kind === 'resumed'",
        DEADLINE,
    );
    assert_eq!(rollout_paused(&server), Some(false));
    wait_recorded(addr, "Иванов", "pause", "20250301");
    wait_recorded(addr, "Иванов", "resume", "20250301");

    // Withdraw: the button opens its confirmation page; confirming withdraws.
    browser.leave_by("document.querySelector(\"a.withdraw[data-version='20250301']\").click()");
    browser.wait_for("!!document.querySelector('#withdraw-confirm')", DEADLINE);
    assert!(
        fixture.path("firmware/20250301").is_dir(),
        "the confirmation page alone changes nothing"
    );
    browser.leave_by("document.querySelector('#withdraw-confirm').click()");
    browser.wait_for(
        "document.querySelector('#notice')?.dataset.kind === 'withdrawn'",
        DEADLINE,
    );
    assert!(!fixture.path("firmware/20250301").exists());
    assert_eq!(offered(&server, "10.9.0.7"), 20250101);
    wait_recorded(addr, "Иванов", "withdraw", "20250301");

    // Each change is in the trail once, under the operator (the rescan that saw it on disk
    // did not record it again under someone else).
    let records = trail(addr);
    for action in ["publish", "pause", "resume", "withdraw"] {
        let all: Vec<_> = records
            .iter()
            .filter(|r| r.1 == action && r.2 == "20250301")
            .collect();
        assert_eq!(all.len(), 1, "{action}: {all:?}");
        assert_eq!(all[0].0, "Иванов", "{action}: {all:?}");
    }

    // Logs out: back to the login form, which asks for the token again.
    browser.leave_by("document.querySelector('#logout').click()");
    browser.wait_for("location.pathname === '/login'", DEADLINE);
    browser.open(&format!("{base}login"));
    browser.wait_for("!!document.querySelector('#login')", DEADLINE);
}

#[test]
fn a_viewer_sees_no_form_and_a_publisher_does() {
    let fixture = deployment();
    fixture.write("firmware/20250101/meta.yaml", "rollout:\n  percent: 10\n");
    let (_server, addr) = start_with_admin(&fixture, &[]);
    let viewer = bearer(VIEWER);
    let publisher = bearer(PUBLISHER);
    let page = |auth: &str, path: &str| {
        let answer = request(addr, "GET", path, &[("Authorization", auth)], "");
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        answer.text()
    };
    for path in ["/", "/?upload=1"] {
        let seen = page(&viewer, path);
        assert!(seen.contains("id=\"releases\""), "{seen}");
        for form_bit in [
            "<form method=\"post\"",
            "<form class=\"inline",
            "id=\"upload-open\"",
            "id=\"upload-form\"",
            "class=\"withdraw\"",
            "?csrf=",
            "name=\"csrf\"",
            "href=\"audit\"",
        ] {
            assert!(!seen.contains(form_bit), "a viewer sees {form_bit}: {path}");
        }
    }
    let seen = page(&publisher, "/");
    for form_bit in [
        "id=\"upload-open\"",
        "class=\"withdraw\"",
        "form class=\"inline pause\"",
        "href=\"audit\"",
    ] {
        assert!(seen.contains(form_bit), "a publisher misses {form_bit}");
    }
    assert!(page(&publisher, "/?upload=1").contains("id=\"upload-form\""));
    // The trail and the confirmation page are a publisher's; a viewer is refused them.
    for path in ["/audit", "/audit.csv", "/releases/20250101/withdraw"] {
        let answer = request(addr, "GET", path, &[("Authorization", &viewer)], "");
        assert_eq!(answer.status, 403, "{path}");
        let answer = request(addr, "GET", path, &[("Authorization", &publisher)], "");
        assert_eq!(answer.status, 200, "{path}");
    }
    // Every role boundary on the wire: a viewer's token (Bearer: no CSRF token needed) may
    // not upload, withdraw, pause, resume or reload, and nothing changes.
    for path in [
        "/releases",
        "/releases/20250101/withdraw",
        "/releases/20250101/pause",
        "/releases/20250101/resume",
        "/reload",
    ] {
        let answer = request(
            addr,
            "POST",
            path,
            &[
                ("Authorization", &viewer),
                ("Content-Type", "multipart/form-data; boundary=x"),
            ],
            "--x--\r\n",
        );
        assert_eq!(answer.status, 403, "{path}: {}", answer.text());
        assert!(answer.text().contains("publisher") || answer.text().contains("admin"));
    }
    assert!(page(&publisher, "/").contains("class=\"withdraw\""));
    // The confirmation page is only for a release that is published: a link cannot make
    // it say anything else.
    for path in [
        "/releases/20990101/withdraw",
        "/releases/20250101/withdraw?line=%3Cb%3Enope",
    ] {
        let answer = request(addr, "GET", path, &[("Authorization", &publisher)], "");
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert!(!answer.text().contains("withdraw-confirm"), "{path}");
    }
}

/// Logs `token` in with the form; the session cookie (`kkt_session=<id>`).
fn session(addr: SocketAddr, token: &str) -> String {
    let answer = request(addr, "POST", "/login", &[FORM], &format!("token={token}"));
    assert_eq!(answer.status, 303, "{}", answer.text());
    let set = answer.header("set-cookie").expect("Set-Cookie");
    set.split(';').next().expect("cookie").trim().to_string()
}

/// Serves `page` to every request on a port of its own (another origin), until dropped.
struct OtherSite {
    addr: SocketAddr,
}

impl OtherSite {
    fn serve(page: String) -> OtherSite {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming().take(20) {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    )
                    .as_bytes(),
                );
            }
        });
        OtherSite { addr }
    }
}

#[test]
fn cross_site_and_tokenless_posts_change_nothing() {
    let fixture = deployment();
    let (server, addr) = start_with_admin(&fixture, &[]);
    let cookie = session(addr, PUBLISHER);
    let token = csrf_in(&request(addr, "GET", "/", &[("Cookie", &cookie)], "").text())
        .expect("the publisher's dashboard carries a token");
    let withdraw = "/releases/20250101/withdraw";

    // A raw post with the operator's cookie and another origin: refused, with the token too.
    for body in [String::new(), format!("csrf={token}")] {
        let answer = request(
            addr,
            "POST",
            withdraw,
            &[FORM, ("Cookie", &cookie), ("Origin", "http://evil.example")],
            &body,
        );
        assert_eq!(answer.status, 403, "{}", answer.text());
    }
    // The operator's own site, without the token, a wrong one or another session's.
    let other = session(addr, PUBLISHER);
    let others =
        csrf_in(&request(addr, "GET", "/", &[("Cookie", &other)], "").text()).expect("a token");
    for body in ["", "csrf=", "csrf=00", &format!("csrf={others}")] {
        for site in [vec![("Sec-Fetch-Site", "same-origin")], vec![]] {
            let mut headers = vec![FORM, ("Cookie", cookie.as_str())];
            headers.extend(site);
            let answer = request(addr, "POST", withdraw, &headers, body);
            assert_eq!(answer.status, 403, "{body}: {}", answer.text());
            assert!(answer.text().contains("CSRF"), "{}", answer.text());
        }
    }
    // An upload without the token is refused before its body is read.
    let answer = request(
        addr,
        "POST",
        "/releases",
        &[
            ("Content-Type", "multipart/form-data; boundary=x"),
            ("Cookie", &cookie),
        ],
        "--x--\r\n",
    );
    assert_eq!(answer.status, 403, "{}", answer.text());

    // In a browser: another site's page posts the withdraw form (the session is the
    // browser's own, logged in through the form).
    if let Some(chromium) = common::chromium() {
        let mut browser = Browser::start(chromium);
        browser.open(&format!("http://{addr}/login"));
        browser.eval(&format!(
            "document.querySelector('input[name=token]').value = {PUBLISHER:?}"
        ));
        browser.leave_by("document.querySelector('#login').submit()");
        browser.wait_for("!!document.querySelector('#logout')", DEADLINE);
        let evil = OtherSite::serve(format!(
            "<!DOCTYPE html><form id=f method=post action=\"http://{addr}{withdraw}\">\
             <input type=hidden name=csrf value=\"{}\"></form>",
            "0".repeat(64)
        ));
        browser.open(&format!("http://{}/", evil.addr));
        browser.leave_by("document.querySelector('#f').submit()");
        let said = browser.eval("document.body.innerText");
        assert!(
            said.as_str().is_some_and(|s| s.contains("refused")),
            "{said}"
        );
    }
    assert!(
        fixture.path("firmware/20250101").is_dir(),
        "withdrawn by a forged post"
    );
    assert_eq!(offered(&server, "10.9.0.1"), 20250101);
    // The operator's own post with the token goes through.
    let answer = request(
        addr,
        "POST",
        withdraw,
        &[FORM, ("Cookie", &cookie), ("Accept", "text/html")],
        &format!("csrf={token}"),
    );
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert_eq!(answer.header("location"), Some("/?withdrawn=20250101"));
    assert!(!fixture.path("firmware/20250101").exists());
}

#[test]
fn the_notice_shows_a_refusal_as_text() {
    let fixture = deployment();
    let (_server, addr) = start_with_admin(&fixture, &[]);
    let auth = bearer(VIEWER);
    let page = request(
        addr,
        "GET",
        "/?refused=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        &[("Authorization", &auth), ("Accept-Language", "ru")],
        "",
    )
    .text();
    assert!(page.contains("id=\"notice\""), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&#60;script&#62;alert(1)"), "{page}");
    // A version that is no date, a line with markup: no notice at all.
    for query in ["published=%3Cb%3E", "paused=20250301&line=%3Cb%3E"] {
        let page = request(
            addr,
            "GET",
            &format!("/?{query}"),
            &[("Authorization", &auth)],
            "",
        )
        .text();
        assert!(!page.contains("id=\"notice\""), "{query}");
    }
}

#[test]
fn a_flood_of_wrong_logins_leaves_a_bounded_trail() {
    let fixture = deployment();
    let (server, addr) = start_with_admin(&fixture, &[]);
    let tried = "kkt_wrong-token-that-must-never-be-recorded";
    for n in 0..1000 {
        let answer = if n % 2 == 0 {
            request(
                addr,
                "POST",
                "/login",
                &[FORM],
                &format!("token={tried}{n}"),
            )
        } else {
            request(
                addr,
                "GET",
                "/status",
                &[("Authorization", &bearer(&format!("{tried}{n}")))],
                "",
            )
        };
        assert_eq!(answer.status, 401, "{}", answer.text());
    }
    let metrics = request(
        addr,
        "GET",
        "/metrics",
        &[("Authorization", &bearer(PUBLISHER))],
        "",
    );
    assert!(
        metrics
            .text()
            .contains("kkt_admin_login_failures_total 1000"),
        "every failure is counted"
    );
    wait_recorded(addr, "unknown", "login_failed", "from 127.0.0.1");
    let records = trail(addr);
    let failed: Vec<_> = records.iter().filter(|r| r.1 == "login_failed").collect();
    assert!(
        !failed.is_empty() && failed.len() <= 2,
        "1,000 wrong logins from one address: {failed:?}"
    );
    let everything = request(
        addr,
        "GET",
        "/audit.csv",
        &[("Authorization", &bearer(PUBLISHER))],
        "",
    )
    .text();
    assert!(
        !everything.contains(tried),
        "the tried token is recorded: {everything}"
    );
    assert!(!server.log().contains(tried), "the tried token is logged");
    // Logged as often as recorded, not once per failure: a flood does not fill the log.
    let logged = server.log().matches("admin login refused from").count();
    assert!(
        (1..=2).contains(&logged),
        "1,000 wrong logins logged {logged} times"
    );
}

#[test]
fn a_named_lines_forms_name_the_line_and_work() {
    let fixture = deployment();
    fixture.write("firmware/kassa/line.yaml", "known_builds: [20240101]\n");
    fixture.release("kassa/20240101", None);
    fixture.release("kassa/20250301", Some("rollout:\n  percent: 10\n"));
    let (_server, addr) = start_with_admin(&fixture, &[]);
    let cookie = session(addr, PUBLISHER);
    let page = request(addr, "GET", "/?upload=1", &[("Cookie", &cookie)], "").text();
    assert!(
        page.contains("<option value=\"kassa\">kassa</option>"),
        "{page}"
    );
    let pause = "action=\"releases/20250301/pause?line=kassa\"";
    assert!(page.contains(pause), "{page}");
    assert!(
        page.contains("href=\"releases/20250301/withdraw?line=kassa\""),
        "{page}"
    );
    let token = csrf_in(&page).expect("a token");
    // The pause form as the browser posts it.
    let answer = request(
        addr,
        "POST",
        "/releases/20250301/pause?line=kassa",
        &[FORM, ("Cookie", &cookie), ("Accept", "text/html")],
        &format!("csrf={token}"),
    );
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert_eq!(
        answer.header("location"),
        Some("/?paused=20250301&line=kassa")
    );
    let meta =
        std::fs::read_to_string(fixture.path("firmware/kassa/20250301/meta.yaml")).expect("meta");
    assert!(meta.contains("paused: true"), "{meta}");
    let page = request(
        addr,
        "GET",
        "/?paused=20250301&line=kassa",
        &[("Cookie", &cookie)],
        "",
    )
    .text();
    assert!(page.contains("data-kind=\"paused\""), "{page}");
    assert!(
        page.contains("action=\"releases/20250301/resume?line=kassa\""),
        "{page}"
    );
    // The confirmation page's button posts to the line's withdraw.
    let confirm = request(
        addr,
        "GET",
        "/releases/20250301/withdraw?line=kassa",
        &[("Cookie", &cookie)],
        "",
    )
    .text();
    assert!(
        confirm.contains("action=\"withdraw?line=kassa\""),
        "{confirm}"
    );
    wait_recorded(addr, "Иванов", "pause", "kassa/20250301");
}
