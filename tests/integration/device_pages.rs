//! The dashboard an operator lives in, against the real binary with SQLite: a register's
//! page (`/devices/<address>`, HTML for a browser, JSON on request) with why it is or is
//! not offered an update; the devices list's search and filters; the stuck list and the
//! history as pages for a browser (JSON unchanged for the rest); the below-critical card
//! and the "needs attention" block; no adoption chart from one day; hostile text from
//! devices escaped; the address in the path parsed strictly; and, in headless Chromium,
//! what needs attention on a phone's first screen.
//! Addresses come through `X-Forwarded-For` from a trusted proxy (127.0.0.1).

use crate::common;

use common::{admin_addr, eventually, raw_request, Fixture, Response, Server, DEADLINE};

/// 20180125 for everyone; 20180301 rolled out to its pilots (10.9.0.0/16) only; critical
/// from 20180120.
fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write_config("settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ncritical_version: 20180120\n");
    fixture.release("20180125", None);
    fixture.release(
        "20180301",
        Some("description: March\nrollout:\n  percent: 0\n  pilot: [10.9.0.0/16]\n"),
    );
    fixture
}

fn check_in(server: &Server, address: &str, build: &str, agent: &str) -> serde_json::Value {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build}\"}}"),
        &[("X-Forwarded-For", address), ("User-Agent", agent)],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// `GET path` on the admin listener with `headers`.
fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    let addr = admin_addr(server);
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

const HTML: (&str, &str) = ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
const JSON: (&str, &str) = ("Accept", "application/json");
const ENGLISH: (&str, &str) = ("Accept-Language", "en-US,en;q=0.9");

const HOSTILE_AGENT: &str = "<script>alert(1)</script>JavaPOS";
const HOSTILE_SERIAL: &str = "<img src=x onerror=alert(2)>";

/// The fleet: one register per reason, one hostile, one serial.
fn fleet() -> (Fixture, Server) {
    let fixture = deployment();
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
    // A pilot already on the newest release: up to date.
    check_in(&server, "10.9.0.1", "01.03.2018", "DrvFR");
    // On the current release for everyone; the newer one has not admitted it.
    check_in(&server, "10.0.0.2", "25.01.2018", "DrvFR");
    // Below the critical version: offered 20180125 as critical.
    check_in(&server, "10.0.0.3", "17.01.2018", "JavaPOS-Test/1.0");
    // Above it: offered 20180125, not critical, and downloads it.
    check_in(&server, "10.0.0.4", "22.01.2018", "DrvFR");
    let download = server.get(
        "/firmware/20180125/upd_app.bin",
        &[("X-Forwarded-For", "10.0.0.4")],
    );
    assert_eq!(download.status, 200);
    check_in(&server, "10.0.0.5", "22.01.2018", HOSTILE_AGENT);
    let licenses = server.post_with(
        "/feature_licenses",
        "{\"serial\": \"0000000000012345\"}",
        &[
            ("X-Forwarded-For", "10.0.0.3"),
            ("User-Agent", "JavaPOS-Test/1.0"),
        ],
    );
    assert!(licenses.status == 200 || licenses.status == 404);
    eventually("5 devices in the inventory", DEADLINE, || {
        let list = get(&server, "/devices", &[]).json();
        (list["total"] == 5).then_some(())
    });
    eventually("the serial in the inventory", DEADLINE, || {
        let list = get(&server, "/devices?q=12345", &[]).json();
        (list["total"] == 1).then_some(())
    });
    // A serial no device API would take, written straight into the store: the page must
    // still show it as text.
    let db = rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("open");
    db.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    db.execute(
        "INSERT INTO device_serials (address, serial, licensed, last_seen) VALUES ('10.0.0.5', ?1, 0, 1)",
        [HOSTILE_SERIAL],
    )
    .expect("insert a hostile serial");
    (fixture, server)
}

fn why(server: &Server, address: &str, headers: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec![JSON];
    all.extend_from_slice(headers);
    let response = get(server, &format!("/devices/{address}"), &all);
    assert_eq!(response.status, 200, "{address}: {}", response.text());
    assert!(response
        .header("content-type")
        .is_some_and(|c| c.contains("json")));
    response.json()
}

#[test]
fn a_registers_page_says_why_it_is_or_is_not_offered_an_update() {
    let (_fixture, server) = fleet();

    let up = why(&server, "10.9.0.1", &[ENGLISH]);
    assert_eq!(up["why"]["code"], "up_to_date", "{up}");
    assert_eq!(up["why"]["current"], 20180301);
    assert!(
        up["why"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Up to date: build 01.03.2018"),
        "{up}"
    );

    let held = why(&server, "10.0.0.2", &[]);
    assert_eq!(held["why"]["code"], "not_admitted", "{held}");
    assert_eq!(held["why"]["version"], 20180301);
    let text = held["why"]["text"].as_str().unwrap();
    assert!(
        text.contains("выпускается поэтапно (0% касс)") && text.contains("01.03.2018"),
        "{text}"
    );

    let critical = why(&server, "10.0.0.3", &[]);
    assert_eq!(critical["why"]["code"], "offered", "{critical}");
    assert_eq!(critical["why"]["critical"], true);
    assert_eq!(critical["why"]["version"], 20180125);
    let text = critical["why"]["text"].as_str().unwrap();
    assert!(
        text.contains("Предлагается обновление до 25.01.2018"),
        "{text}"
    );
    assert!(
        text.contains(
            "Обновление обязательное: сборка 17.01.2018 старше критической версии 20.01.2018"
        ),
        "{text}"
    );
    assert!(
        text.contains("01.03.2018"),
        "the held-back release is named: {text}"
    );
    // Its history: the offer, its serial.
    assert_eq!(critical["offers"][0]["version"], 20180125);
    assert_eq!(critical["offers"][0]["outcome"], "pending");
    assert_eq!(critical["serial_list"][0]["serial"], "0000000000012345");
    assert_eq!(critical["user_agent"], "JavaPOS-Test/1.0");

    let offered = why(&server, "10.0.0.4", &[ENGLISH]);
    assert_eq!(offered["why"]["code"], "offered", "{offered}");
    assert_eq!(offered["why"]["critical"], false);
    let text = offered["why"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Offered the update to 25.01.2018"),
        "{text}"
    );
    assert!(!text.contains("mandatory"), "{text}");
    eventually("the download on the page", DEADLINE, || {
        let page = why(&server, "10.0.0.4", &[]);
        (page["downloads"][0]["file"] == "upd_app.bin").then_some(())
    });

    // The page for a browser: the same reason, in Russian, with Russian dates.
    let page = get(&server, "/devices/10.0.0.3", &[HTML]);
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    let html = page.text();
    assert!(html.contains("data-code=\"offered\""), "{html}");
    assert!(html.contains("Обновление обязательное"), "{html}");
    assert!(html.contains("17.01.2018"), "{html}");
    for english in [
        "Offered",
        "Downloads",
        "Serial",
        "never",
        "critical",
        "User-Agent",
        "Update",
    ] {
        assert!(
            !html.contains(english),
            "English {english:?} on the Russian page: {html}"
        );
    }
}

#[test]
fn hostile_text_is_escaped_and_the_address_is_parsed_strictly() {
    let (_fixture, server) = fleet();
    let html = get(&server, "/devices/10.0.0.5", &[HTML]).text();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;JavaPOS"),
        "{html}"
    );
    assert!(
        html.contains("&#60;img src=x onerror=alert(2)&#62;"),
        "{html}"
    );
    let list = get(&server, "/devices?q=javapos", &[HTML]).text();
    assert!(!list.contains("<script>alert"), "{list}");

    for bad in [
        "shop1",
        "10.0.0",
        "10.0.0.5:80",
        "10.0.0.5%2F24",
        "%3Cscript%3E",
        &"1".repeat(300),
    ] {
        let response = get(&server, &format!("/devices/{bad}"), &[HTML]);
        assert_eq!(response.status, 400, "{bad}: {}", response.text());
        let text = response.text();
        assert!(text.contains("is not a register's address"), "{text}");
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.len() < 400, "{text}");
    }
    assert_eq!(get(&server, "/devices/10.0.0.99", &[HTML]).status, 404);
    assert_eq!(get(&server, "/devices/2001:db8::5", &[JSON]).status, 404);
}

fn total(server: &Server, query: &str) -> u64 {
    let response = get(server, &format!("/devices{query}"), &[]);
    assert_eq!(response.status, 200, "{query}: {}", response.text());
    response.json()["total"].as_u64().expect("total")
}

fn page_total(server: &Server, query: &str) -> u64 {
    let html = get(server, &format!("/devices{query}"), &[HTML]).text();
    html.split("id=\"total\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no total on the page for {query}: {html}"))
}

#[test]
fn the_devices_list_searches_and_filters_as_json_and_as_a_page() {
    let (_fixture, server) = fleet();
    // The search: address, serial, user agent (any case).
    assert_eq!(total(&server, "?q=10.0.0.3"), 1);
    assert_eq!(total(&server, "?q=12345"), 1);
    assert_eq!(total(&server, "?q=javapos"), 2);
    assert_eq!(total(&server, "?q=JAVAPOS-TEST"), 1);
    assert_eq!(total(&server, "?q=drvfr"), 3);
    assert_eq!(page_total(&server, "?q=javapos"), 2);
    // Bounded.
    let long = get(&server, &format!("/devices?q={}", "a".repeat(65)), &[]);
    assert_eq!(long.status, 400);
    assert!(
        long.text().contains("at most 64 characters"),
        "{}",
        long.text()
    );
    // Each filter, and on the page a blank field means "any".
    assert_eq!(page_total(&server, "?q=&build_date=&line=&outcome="), 5);
    assert_eq!(page_total(&server, "?build_date=20180117"), 1);
    assert_eq!(page_total(&server, "?below_critical=1"), 1);
    assert_eq!(page_total(&server, "?outcome=pending"), 2);
    assert_eq!(page_total(&server, "?line=C.3"), 0);
    assert_eq!(
        total(&server, "?line="),
        5,
        "JSON: line= is the default line"
    );
    let html = get(&server, "/devices?below_critical=1", &[HTML]).text();
    assert!(html.contains("href=\"devices/10.0.0.3\""), "{html}");
    assert!(
        html.contains("name=\"below_critical\" value=\"1\" checked"),
        "{html}"
    );
    assert!(html.contains("<form class=\"filters\""), "{html}");
}

#[test]
fn the_stuck_list_and_the_history_are_pages_for_a_browser_and_json_for_the_rest() {
    let (_fixture, server) = fleet();
    let stuck = get(&server, "/devices?outcome=stuck", &[HTML]);
    assert!(stuck
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert!(
        stuck.text().contains("<h1>Застрявшие обновления</h1>"),
        "{}",
        stuck.text()
    );
    let json = get(&server, "/devices?outcome=stuck", &[]);
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(json.json()["total"], 0);

    let history = eventually("the history's first entry", DEADLINE, || {
        let history = get(&server, "/history", &[HTML]).text();
        history.contains("class=\"event\"").then_some(history)
    });
    assert!(history.contains("<h1>История</h1>"), "{history}");
    assert!(
        history.contains("сервер запущен") || history.contains("опубликован"),
        "{history}"
    );
    let json = get(&server, "/history", &[]);
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert!(json.json()["events"].is_array());
}

#[test]
fn the_dashboard_puts_what_needs_attention_first() {
    let (_fixture, server) = fleet();
    let page = eventually("the below-critical register counted", DEADLINE, || {
        let page = get(&server, "/", &[HTML]).text();
        page.contains("id=\"below-critical\">1<").then_some(page)
    });
    assert!(
        page.contains("class=\"card alert\" id=\"below-critical-card\""),
        "{page}"
    );
    let attention = page.find("id=\"attention\"").expect("the attention block");
    assert!(attention < page.find("id=\"current-release\"").expect("cards"));
    assert!(page.contains("data-kind=\"below_critical\""), "{page}");
    assert!(page.contains("href=\"devices?below_critical=1\""), "{page}");
    assert!(page.contains("<form id=\"search\""), "{page}");
    // One day of downloads is not a chart.
    let page = eventually("the day's download counted", DEADLINE, || {
        let page = get(&server, "/", &[HTML]).text();
        page.contains("id=\"adoption-one-day\"").then_some(page)
    });
    assert!(!page.contains("<svg id=\"adoption\""), "{page}");
}

/// On a phone (390 × 844), the "needs attention" block is on the first screen.
#[test]
fn on_a_phone_what_needs_attention_is_on_the_first_screen() {
    let Some(chromium) = common::chromium() else {
        return;
    };
    let (_fixture, server) = fleet();
    let page = eventually("the below-critical register counted", DEADLINE, || {
        let page = get(&server, "/", &[HTML]).text();
        page.contains("id=\"below-critical\">1<").then_some(page)
    });
    let measured = page.replace(
        "</body>",
        "<script>const r = document.getElementById('attention').getBoundingClientRect(); \
         parent.postMessage(Math.round(r.bottom) + '|' + document.documentElement.scrollWidth, '*')\
         </script></body>",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("dashboard.html"), measured).expect("save the page");
    let wrapper = "<html><body style=\"margin:0\"><iframe src=\"dashboard.html\" width=\"390\" \
         height=\"844\" style=\"border:0\"></iframe><script>window.addEventListener(\
         'message', e => document.body.setAttribute('data-measured', e.data))</script>\
         </body></html>";
    let file = dir.path().join("wrapper.html");
    std::fs::write(&file, wrapper).expect("save the wrapper");
    let output = common::headless(chromium, &dir.path().join("profile"))
        .arg("--allow-file-access-from-files")
        .arg("--window-size=520,1000")
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let measured = dom
        .split("data-measured=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no measurement in the DOM: {}", &dom[..dom.len().min(500)]));
    let (bottom, width) = measured.split_once('|').expect("two numbers");
    let bottom: i64 = bottom.parse().expect("a number");
    let width: i64 = width.parse().expect("a number");
    assert!(
        bottom > 0 && bottom <= 844,
        "the attention block ends at {bottom} px"
    );
    assert!(width <= 390, "the page is {width} px wide on a phone");
}
