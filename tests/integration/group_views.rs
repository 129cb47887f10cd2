//! Group views and viewer scopes against the real binary: two groups (`groups.yaml`),
//! registers of each polling from their own loopback addresses (one by network, one by a
//! serial of the group it asked licenses for), a viewer limited to group A made with
//! `token new` sees none of group B's registers anywhere (`/devices` as JSON and HTML, the
//! `.csv` and `.xlsx` exports, `/history` as JSON and HTML, the dashboard, `/metrics`,
//! `/status`, `/serials/missing`, B's register's page: 404 as for a register never seen);
//! an unlimited reader's `?group=` filters and totals; an edit of `groups.yaml` tags the
//! stored registers again; hostile group names are escaped in HTML, CSV, xlsx and metrics
//! labels; a viewer limited to a group the file does not have is reported; and the same
//! scope holds on PostgreSQL. No sleep is an assertion: waits poll with a deadline.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};

use crate::common::operators::{start_with_admin, token_new, Made};
use crate::common::{eventually, raw_request, run_check, Fixture, Response, Server, DEADLINE};
use crate::stages::request_from;

/// Group A's name, and group B's: markup, a spreadsheet formula and both quotes.
const A: &str = "ООО Ромашка";
const B: &str = "=HYPERLINK(\"x\")<b>Лютик</b>'";
/// B's name as `groups.yaml` writes it (a YAML double-quoted string).
const B_YAML: &str = "\"=HYPERLINK(\\\"x\\\")<b>Лютик</b>'\"";
/// The serials each group holds (a register that asked for one is in it, for views).
const A_SERIAL: &str = "0000000000011111";
const B_SERIAL: &str = "0000000000022222";

/// A's registers: by network, and by its serial (from an address of no group).
const A_NET: Ipv4Addr = Ipv4Addr::new(127, 0, 41, 5);
const A_BY_SERIAL: Ipv4Addr = Ipv4Addr::new(127, 0, 43, 7);
/// B's registers, likewise.
const B_NET: Ipv4Addr = Ipv4Addr::new(127, 0, 42, 5);
const B_BY_SERIAL: Ipv4Addr = Ipv4Addr::new(127, 0, 43, 8);
/// A register of no group.
const NONE: Ipv4Addr = Ipv4Addr::new(127, 0, 44, 9);

fn groups_yaml(a_networks: &str, b_networks: &str) -> String {
    format!(
        "- name: \"{A}\"\n  networks: [{a_networks}]\n  serials: [\"{A_SERIAL}\"]\n\
         - name: {B_YAML}\n  networks: [{b_networks}]\n  serials: [\"{B_SERIAL}\"]\n"
    )
}

/// A viewer's token from `token new`, limited to `group`. `token new NAME --groups G`
/// cannot be run on this branch (the server-wide `--groups FILE` flag takes the name), so
/// the groups are added to the line `token new` printed, as an operator would write them.
fn viewer_of(name: &str, group: &str) -> (String, String) {
    let Made { token, line } = token_new(&[name, "--role", "viewer"]);
    let line = line
        .trim_end()
        .strip_suffix('}')
        .map(|line| format!("{line}, groups: [{}]}}", serde_json::json!(group)))
        .unwrap_or_else(|| panic!("no entry in {line}"));
    (token, line)
}

/// The tokens of the viewer limited to A, and of an admin.
struct Tokens {
    viewer: String,
    admin: String,
    operators: String,
}

fn tokens() -> Tokens {
    let (viewer, viewer_line) = viewer_of("Ромашка ИТ", A);
    let Made {
        token: admin,
        line: admin_line,
    } = token_new(&["Иванов", "--role", "admin"]);
    Tokens {
        viewer,
        admin,
        operators: format!("operators:\n{viewer_line}\n{admin_line}\n"),
    }
}

/// A deployment with two releases, the two groups and the operators, its inventory as
/// `inventory` says.
fn deployment(tokens: &Tokens, inventory: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!(
        "settle_ms: 0\ngroups: groups.yaml\n{inventory}{}",
        tokens.operators
    ));
    fixture.write("groups.yaml", groups_yaml("127.0.41.0/24", "127.0.42.0/24"));
    fixture.release("20250101", None);
    fixture.release("20250301", None);
    fixture
}

/// `GET path` with `token`, asking for `accept`.
fn get(admin: SocketAddr, token: &str, path: &str, accept: &str) -> Response {
    raw_request(
        admin,
        format!(
            "GET {path} HTTP/1.1\r\nHost: {admin}\r\nAuthorization: Bearer {token}\r\n\
             Accept: {accept}\r\nAccept-Language: ru\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

fn json(admin: SocketAddr, token: &str, path: &str) -> serde_json::Value {
    let response = get(admin, token, path, "application/json");
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.json()
}

fn text(admin: SocketAddr, token: &str, path: &str, accept: &str) -> String {
    let response = get(admin, token, path, accept);
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.text()
}

/// A register at `from` checks in on `build` (dd.mm.yyyy).
fn check_in(server: &Server, from: Ipv4Addr, build: &str) {
    let body = format!("{{\"build_date\": \"{build}\"}}");
    let (status, _) = request_from(from, server.addr, "POST /check_firmware", &body);
    assert_eq!(status, 200);
}

/// A register at `from` asks licenses for `serial` (no license file holds it: 404, and the
/// serial asked for is remembered all the same).
fn ask_serial(server: &Server, from: Ipv4Addr, serial: &str) {
    let body = format!("{{\"serial\": \"{serial}\"}}");
    let (status, _) = request_from(from, server.addr, "POST /feature_licenses", &body);
    assert_eq!(status, 404);
}

/// The five registers: each checks in on an old build, then (for the history) on a newer
/// one; those of a group by serial ask for it first.
fn registers_poll(server: &Server) {
    ask_serial(server, A_BY_SERIAL, A_SERIAL);
    ask_serial(server, B_BY_SERIAL, B_SERIAL);
    for from in [A_NET, A_BY_SERIAL, B_NET, B_BY_SERIAL, NONE] {
        check_in(server, from, "1.12.2024");
    }
}

/// The second check-in, on another build: a `build_changed` entry in the history, once the
/// first is stored.
fn registers_update(server: &Server) {
    for from in [A_NET, B_NET, NONE] {
        check_in(server, from, "1.1.2025");
    }
}

/// The addresses a `/devices` answer lists.
fn addresses(list: &serde_json::Value) -> BTreeSet<String> {
    list["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["address"].as_str().expect("address").to_string())
        .collect()
}

fn set(addresses: &[Ipv4Addr]) -> BTreeSet<String> {
    addresses.iter().map(Ipv4Addr::to_string).collect()
}

/// Waits until the admin sees every register tagged as expected.
fn wait_for_tags(admin: SocketAddr, token: &str, expected: &[(Ipv4Addr, Option<&str>)]) {
    eventually("the registers tagged with their groups", DEADLINE, || {
        let list = json(admin, token, "/devices?limit=100");
        let devices = list["devices"].as_array()?.clone();
        expected
            .iter()
            .all(|(ip, group)| {
                devices.iter().any(|d| {
                    d["address"] == ip.to_string().as_str() && d["group"].as_str() == *group
                })
            })
            .then_some(())
    });
}

/// The text of every part of an .xlsx (the sheet's XML, the shared strings).
fn xlsx_text(body: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("an xlsx is a zip");
    let mut all = String::new();
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).expect("a part");
        let mut text = String::new();
        part.read_to_string(&mut text).expect("text");
        all.push_str(&text);
    }
    all
}

/// B's registers, in every form a page or a file could name them.
fn b_addresses() -> [String; 2] {
    [B_NET.to_string(), B_BY_SERIAL.to_string()]
}

/// Asserts `body` (from `what`) names none of B's registers, nor B itself in any escaping.
fn nothing_of_b(what: &str, body: &str) {
    for address in b_addresses() {
        assert!(
            !body.contains(&address),
            "{what} shows B's {address}:\n{body}"
        );
    }
    assert!(!body.contains(B_SERIAL), "{what} shows B's serial:\n{body}");
    assert!(!body.contains("Лютик"), "{what} names group B:\n{body}");
}

#[test]
fn a_viewer_limited_to_a_group_sees_none_of_another_groups_registers_anywhere() {
    let tokens = tokens();
    let fixture = deployment(&tokens, "");
    let (server, admin) = start_with_admin(&fixture, &[("TZ", "UTC")]);
    registers_poll(&server);
    wait_for_tags(
        admin,
        &tokens.admin,
        &[
            (A_NET, Some(A)),
            (A_BY_SERIAL, Some(A)),
            (B_NET, Some(B)),
            (B_BY_SERIAL, Some(B)),
            (NONE, None),
        ],
    );
    registers_update(&server);
    eventually("the build changes in the history", DEADLINE, || {
        let events = json(admin, &tokens.admin, "/history?limit=1000")["events"].clone();
        let changed = events
            .as_array()?
            .iter()
            .filter(|e| e["kind"] == "build_changed")
            .count();
        (changed == 3).then_some(())
    });
    let viewer = tokens.viewer.as_str();

    // The lists: JSON and HTML.
    let list = json(admin, viewer, "/devices");
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(addresses(&list), set(&[A_NET, A_BY_SERIAL]));
    nothing_of_b("/devices", &list.to_string());
    let page = text(admin, viewer, "/devices", "text/html");
    assert!(page.contains(&A_NET.to_string()), "{page}");
    assert!(page.contains(&format!("<option value=\"{A}\">")), "{page}");
    nothing_of_b("/devices (HTML)", &page);
    // Its filters keep the scope: a search for B's address finds nothing.
    let searched = json(admin, viewer, &format!("/devices?q={}", B_NET));
    assert_eq!(searched["total"], 0, "{searched}");

    // The exports.
    let csv = text(admin, viewer, "/devices.csv", "*/*");
    assert_eq!(csv.lines().count(), 3, "a header and A's two: {csv}");
    nothing_of_b("/devices.csv", &csv);
    let xlsx = get(admin, viewer, "/devices.xlsx", "*/*");
    assert_eq!(xlsx.status, 200);
    let sheet = xlsx_text(&xlsx.body);
    assert!(sheet.contains(&A_NET.to_string()), "{sheet}");
    nothing_of_b("/devices.xlsx", &sheet);

    // The history: JSON and HTML. A's build change is there, B's is not; a release entry's
    // detail (which may count the whole fleet) is left out.
    let history = json(admin, viewer, "/history?limit=1000");
    let events = history["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "build_changed" && e["address"] == A_NET.to_string().as_str()),
        "{history}"
    );
    assert!(events
        .iter()
        .filter(|e| e["address"].is_null())
        .all(|e| e["detail"] == ""));
    assert!(
        events
            .iter()
            .all(|e| e["address"] != NONE.to_string().as_str()),
        "a register of no group is not A's: {history}"
    );
    nothing_of_b("/history", &history.to_string());
    nothing_of_b(
        "/history (HTML)",
        &text(admin, viewer, "/history", "text/html"),
    );

    // The dashboard, /status and /metrics.
    let dashboard = text(admin, viewer, "/", "text/html");
    assert!(dashboard.contains(&A_NET.to_string()), "{dashboard}");
    assert!(dashboard.contains("id=\"limited-to\""), "{dashboard}");
    nothing_of_b("the dashboard", &dashboard);
    let status = json(admin, viewer, "/status");
    assert_eq!(status["fleet"]["devices"], 2, "{}", status["fleet"]);
    assert_eq!(status["fleet"]["checked_in_24h"], 2, "{}", status["fleet"]);
    assert_eq!(
        status["requests"],
        serde_json::json!([]),
        "fleet-wide counts hidden"
    );
    assert_eq!(status["inventory"]["written"], 0);
    nothing_of_b("/status", &status.to_string());
    let metrics = text(admin, viewer, "/metrics", "*/*");
    assert!(
        metrics.contains(&format!("kkt_group_devices{{group=\"{A}\"}} 2")),
        "{metrics}"
    );
    assert!(
        !metrics.contains("kkt_http_requests_total") && !metrics.contains("kkt_devices_seen"),
        "{metrics}"
    );
    nothing_of_b("/metrics", &metrics);

    // The serials asked for: A's, never B's.
    let missing = json(admin, viewer, "/serials/missing");
    assert_eq!(missing["total"], 1, "{missing}");
    nothing_of_b("/serials/missing", &missing.to_string());
    nothing_of_b(
        "/serials/missing.csv",
        &text(admin, viewer, "/serials/missing.csv", "*/*"),
    );

    // B's register's page is not found, in the words of one never seen; A's is there.
    let own = get(
        admin,
        viewer,
        &format!("/devices/{A_NET}"),
        "application/json",
    );
    assert_eq!(own.status, 200, "{}", own.text());
    let other = get(admin, viewer, &format!("/devices/{B_NET}"), "text/html");
    let never = get(admin, viewer, "/devices/127.0.99.99", "text/html");
    assert_eq!(other.status, 404);
    assert_eq!(
        other.text().replace(&B_NET.to_string(), "X"),
        never.text().replace("127.0.99.99", "X")
    );
    nothing_of_b("B's page", &other.text().replace(&B_NET.to_string(), ""));
    // ?group= of B, or of no group at all: the same 404.
    let b = get(
        admin,
        viewer,
        &format!("/devices?group={}", encode(B)),
        "*/*",
    );
    let nope = get(admin, viewer, "/devices?group=Nope", "*/*");
    assert_eq!((b.status, nope.status), (404, 404));
    assert_eq!(b.text(), nope.text(), "existence is not confirmed");
    for path in ["/", "/devices.csv", "/history", "/status"] {
        let path = format!("{path}?group={}", encode(B));
        assert_eq!(get(admin, viewer, &path, "*/*").status, 404, "{path}");
    }
    // Its own group, picked: the same two.
    let picked = json(admin, viewer, &format!("/devices?group={}", encode(A)));
    assert_eq!(picked["total"], 2);

    // The admin sees everything, and ?group= filters and totals.
    let all = json(admin, &tokens.admin, "/devices");
    assert_eq!(all["total"], 5);
    let of_b = json(
        admin,
        &tokens.admin,
        &format!("/devices?group={}", encode(B)),
    );
    assert_eq!(of_b["total"], 2, "{of_b}");
    assert_eq!(addresses(&of_b), set(&[B_NET, B_BY_SERIAL]));
    let b_status = json(
        admin,
        &tokens.admin,
        &format!("/status?group={}", encode(B)),
    );
    assert_eq!(b_status["fleet"]["devices"], 2, "{}", b_status["fleet"]);
    assert_ne!(b_status["requests"], serde_json::json!([]), "not limited");
    let b_csv = text(
        admin,
        &tokens.admin,
        &format!("/devices.csv?group={}", encode(B)),
        "*/*",
    );
    assert_eq!(b_csv.lines().count(), 3, "{b_csv}");
    let b_history = json(
        admin,
        &tokens.admin,
        &format!("/history?limit=1000&group={}", encode(B)),
    );
    let b_events = b_history["events"].as_array().expect("events");
    assert!(b_events
        .iter()
        .all(|e| e["address"].is_null() || e["address"] == B_NET.to_string().as_str()));
    assert!(b_events
        .iter()
        .any(|e| e["address"] == B_NET.to_string().as_str()));
    let full = text(admin, &tokens.admin, "/metrics", "*/*");
    assert!(
        full.contains(&format!("kkt_group_devices{{group=\"{A}\"}} 2")),
        "{full}"
    );
    assert!(full.contains("kkt_http_requests_total"), "{full}");

    // B's hostile name, escaped wherever it is shown.
    assert!(
        full.contains("kkt_group_devices{group=\"=HYPERLINK(\\\"x\\\")<b>Лютик</b>'\"} 2"),
        "a label's quotes escaped: {full}"
    );
    let page = text(admin, &tokens.admin, "/devices", "text/html");
    assert!(!page.contains("<b>Лютик"), "{page}");
    assert!(page.contains("&#60;b&#62;Лютик"), "{page}");
    let dashboard = text(admin, &tokens.admin, "/", "text/html");
    assert!(!dashboard.contains("<b>Лютик"), "{dashboard}");
    assert!(dashboard.contains("id=\"group-select\""), "{dashboard}");
    assert!(
        b_csv.contains("\"'=HYPERLINK(\"\"x\"\")<b>Лютик</b>'\""),
        "a formula is neutralised in CSV: {b_csv}"
    );
    let b_xlsx = get(
        admin,
        &tokens.admin,
        &format!("/devices.xlsx?group={}", encode(B)),
        "*/*",
    );
    let sheet = xlsx_text(&b_xlsx.body);
    assert!(!sheet.contains("<f>"), "no formula: {sheet}");
    assert!(sheet.contains("&lt;b&gt;Лютик"), "{sheet}");
}

/// An edit of `groups.yaml` moves the stored registers (every one tagged again, without a
/// request of theirs); a register asking licenses for a serial of a group joins it.
#[test]
fn an_edit_of_the_groups_moves_the_stored_registers() {
    let tokens = tokens();
    let fixture = deployment(&tokens, "");
    let (server, admin) = start_with_admin(&fixture, &[("TZ", "UTC")]);
    registers_poll(&server);
    wait_for_tags(
        admin,
        &tokens.admin,
        &[(B_NET, Some(B)), (NONE, None), (A_NET, Some(A))],
    );
    // A register of no group asks for A's serial: it is A's from then on. One of B's
    // network asking for it (first, so written no later) stays B's: the network decides.
    ask_serial(&server, B_NET, A_SERIAL);
    ask_serial(&server, NONE, A_SERIAL);
    wait_for_tags(admin, &tokens.admin, &[(NONE, Some(A)), (B_NET, Some(B))]);
    assert_eq!(json(admin, &tokens.viewer, "/devices")["total"], 3);
    // B's network now belongs to A: B keeps only its register by serial.
    fixture.write(
        "groups.yaml",
        groups_yaml("127.0.41.0/24, 127.0.42.0/24", "192.0.2.0/28"),
    );
    wait_for_tags(
        admin,
        &tokens.admin,
        &[(B_NET, Some(A)), (B_BY_SERIAL, Some(B))],
    );
    let list = json(admin, &tokens.viewer, "/devices");
    assert_eq!(
        addresses(&list),
        set(&[A_NET, A_BY_SERIAL, B_NET, NONE]),
        "{list}"
    );
    // The viewer's dashboard counts them too (the in-memory fleet, by Groups::of).
    let status = json(admin, &tokens.viewer, "/status");
    assert_eq!(status["fleet"]["devices"], 4, "{}", status["fleet"]);
}

/// A viewer limited to a group the groups file does not have: `check` and the log say so,
/// with the nearest name; it sees nothing (safe).
#[test]
fn a_viewer_of_a_group_that_does_not_exist_is_reported_and_sees_nothing() {
    let tokens = tokens();
    // "OOO" in Latin letters: a typo no eye sees.
    let (typo, typo_line) = viewer_of("Опечатка", "OOO Ромашка");
    let fixture = deployment(&tokens, "");
    fixture.write_config(&format!(
        "settle_ms: 0\ngroups: groups.yaml\n{}{typo_line}\n",
        tokens.operators
    ));
    let (ok, report, errors) = run_check(fixture.dir.path());
    assert!(ok, "a warning, not a refusal: {report}{errors}");
    assert!(
        report.contains(
            "the operator \"Опечатка\" is limited to the group \"OOO Ромашка\", which the groups \
             file does not have"
        ) && report.contains("did you mean `ООО Ромашка`?"),
        "{report}"
    );
    let (server, admin) = start_with_admin(&fixture, &[("TZ", "UTC")]);
    eventually("the warning in the log", DEADLINE, || {
        server
            .log()
            .contains("is limited to the group \"OOO Ромашка\"")
            .then_some(())
    });
    registers_poll(&server);
    wait_for_tags(admin, &tokens.admin, &[(A_NET, Some(A))]);
    assert_eq!(json(admin, &typo, "/devices")["total"], 0);
    assert_eq!(json(admin, &typo, "/status")["fleet"]["devices"], 0);
}

/// The same scope on PostgreSQL (migration 9 in its dialect): the viewer's list, the
/// admin's `?group=`, and the retag after an edit.
#[test]
fn a_viewers_scope_holds_on_postgres() {
    let Some(pg) = crate::inventory_postgres::start_postgres() else {
        return;
    };
    let tokens = tokens();
    let fixture = deployment(&tokens, &format!("inventory: \"{}\"\n", pg.url()));
    let (server, admin) = start_with_admin(&fixture, &[("TZ", "UTC")]);
    registers_poll(&server);
    wait_for_tags(
        admin,
        &tokens.admin,
        &[(A_BY_SERIAL, Some(A)), (B_NET, Some(B)), (NONE, None)],
    );
    let list = json(admin, &tokens.viewer, "/devices");
    assert_eq!(addresses(&list), set(&[A_NET, A_BY_SERIAL]), "{list}");
    let of_b = json(
        admin,
        &tokens.admin,
        &format!("/devices?group={}", encode(B)),
    );
    assert_eq!(of_b["total"], 2);
    let history = json(admin, &tokens.viewer, "/history?limit=1000");
    nothing_of_b("/history", &history.to_string());
    fixture.write(
        "groups.yaml",
        groups_yaml("127.0.41.0/24, 127.0.42.0/24", "192.0.2.0/28"),
    );
    wait_for_tags(admin, &tokens.admin, &[(B_NET, Some(A))]);
    assert_eq!(json(admin, &tokens.viewer, "/devices")["total"], 3);
}

/// `text` made safe for a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
