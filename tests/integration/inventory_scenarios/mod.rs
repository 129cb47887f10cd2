//! The inventory scenarios that hold for every store, run by the module `inventory` against
//! SQLite and by `inventory_postgres` against a throwaway PostgreSQL.
#![allow(dead_code)]

use std::fs;
use std::time::Duration;

pub use crate::common::{admin, admin_json};
use crate::common::{eventually, Fixture, Server, DEADLINE};

pub const CONFIG: &str =
    "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ncritical_version: 20180120\nlicenses: [fleet.slf]\n";

pub fn start(fixture: &Fixture, extra: &[&str]) -> Server {
    let mut args = vec!["--admin-listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(fixture.dir.path(), &args, &[])
}

/// A deployment with `store` lines (an `inventory:` key, or nothing for the default SQLite)
/// added to the configuration.
pub fn deployment_with(store: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!("{CONFIG}{store}"));
    fixture.write(
        "fleet.slf",
        format!(
            "{}\n",
            crate::common::slf_line("0000000000012345", 'a', 'b')
        ),
    );
    fixture.release("20180125", None);
    fixture
}

/// A register at `address` reporting `build_date`.
pub fn check_in(server: &Server, address: &str, build_date: &str) -> serde_json::Value {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build_date}\"}}"),
        &[("X-Forwarded-For", address), ("User-Agent", "JavaPOS")],
    );
    assert_eq!(response.status, 200);
    response.json()
}

pub fn download(server: &Server, address: &str) {
    let response = server.get(
        "/firmware/20180125/upd_app.bin",
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200);
}

pub fn serial(server: &Server, address: &str, serial: &str) -> u16 {
    server
        .post_with(
            "/feature_licenses",
            &format!("{{\"serial\": \"{serial}\"}}"),
            &[("X-Forwarded-For", address)],
        )
        .status
}

/// Waits until `/devices` counts `n` devices (the writer writes every 50 ms).
pub fn wait_devices(server: &Server, query: &str, n: u64) -> serde_json::Value {
    eventually(&format!("{n} devices for {query}"), DEADLINE, || {
        let list = admin_json(server, &format!("/devices{query}"));
        (list["total"] == n).then_some(list)
    })
}

/// A restart keeps every device and event.
pub fn a_restart_keeps_every_device_and_event(store: &str) {
    let fixture = deployment_with(store);
    let mut server = start(&fixture, &[]);
    for n in 1..=5 {
        check_in(&server, &format!("10.0.0.{n}"), "1.1.2018");
    }
    assert_eq!(serial(&server, "10.0.0.1", "12345"), 200);
    // A release published while running: a history event.
    let staged = fixture.release(".staging-20180201", None);
    fs::rename(staged, fixture.path("firmware/20180201")).expect("mv");
    eventually("20180201 offered", DEADLINE, || {
        (check_in(&server, "10.0.0.1", "1.1.2018")["version"] == 20180201).then_some(())
    });
    wait_devices(&server, "", 5);
    eventually("the publish in the history", DEADLINE, || {
        let history = admin_json(&server, "/history");
        history["events"]
            .as_array()?
            .iter()
            .any(|e| e["kind"] == "published" && e["version"] == 20180201)
            .then_some(())
    });
    assert!(server.terminate(DEADLINE));

    let server = start(&fixture, &[]);
    let list = admin_json(&server, "/devices");
    assert_eq!(list["total"], 5, "{list}");
    let first = list["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["address"] == "10.0.0.1")
        .expect("10.0.0.1 remembered")
        .clone();
    assert_eq!(first["serials"][0], "0000000000012345");
    assert_eq!(first["user_agent"], "JavaPOS");
    assert_eq!(first["build_date"], 20180101);
    let history = admin_json(&server, "/history");
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"published") && kinds.contains(&"started"),
        "{kinds:?}"
    );
    // The fleet view is loaded from the store: the dashboard's counts survive too.
    let status = admin_json(&server, "/status");
    assert_eq!(status["fleet"]["devices"], 5, "{}", status["fleet"]);
    assert_eq!(status["inventory"]["ok"], true);
}

/// Outcomes (updated, stuck, pending), every filter, CSV, the dashboard's and /metrics'
/// counts, and the serials to order.
pub fn outcomes_filters_csv_and_missing_serials(store: &str) {
    let fixture = deployment_with(store);
    let clock = fixture.test_clock();
    let server = start(&fixture, &["--stuck-after-s", "3600"]);
    // Two registers download; one then reports the new build, the other does not.
    for address in ["10.1.0.1", "10.1.0.2"] {
        assert_eq!(
            check_in(&server, address, "1.1.2018")["update_available"],
            true
        );
        download(&server, address);
    }
    check_in(&server, "10.1.0.1", "25.01.2018");
    // A third is offered and never downloads; a fourth is up to date.
    check_in(&server, "10.1.0.3", "17.01.2018");
    check_in(&server, "10.1.0.4", "25.01.2018");
    assert_eq!(serial(&server, "10.1.0.3", "99999"), 404);
    wait_devices(&server, "", 4);
    // Past stuck_after_s, on the server's clock.
    clock.advance(Duration::from_secs(3601));
    check_in(&server, "10.1.0.2", "1.1.2018");

    let stuck = wait_devices(&server, "?outcome=stuck", 1);
    assert_eq!(stuck["devices"][0]["address"], "10.1.0.2");
    assert_eq!(
        admin_json(&server, "/devices?outcome=updated")["devices"][0]["address"],
        "10.1.0.1"
    );
    assert_eq!(
        admin_json(&server, "/devices?outcome=pending")["devices"][0]["address"],
        "10.1.0.3"
    );
    // Below the critical version (20180120): built 20180101 and 20180117.
    let below = admin_json(&server, "/devices?below_critical=1");
    assert_eq!(below["total"], 2, "{below}");
    assert_eq!(
        admin_json(&server, "/devices?build_date=20180125")["total"],
        2
    );
    assert_eq!(
        admin_json(&server, "/devices?q=99999")["devices"][0]["address"],
        "10.1.0.3"
    );
    // The user agent, in any case (LIKE differs between the stores).
    let agents = admin_json(&server, "/devices?q=javapos")["total"].clone();
    assert!(agents.as_u64().is_some_and(|n| n > 0), "{agents}");
    assert_eq!(admin_json(&server, "/devices?q=JAVAPOS")["total"], agents);
    // The stuck register's own page, as JSON.
    let addr = crate::common::admin_addr(&server);
    let page = crate::common::raw_request(
        addr,
        format!(
            "GET /devices/10.1.0.2 HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.json();
    assert_eq!(page["offers"][0]["outcome"], "stuck", "{page}");
    assert_eq!(page["downloads"][0]["complete"], true, "{page}");
    assert_eq!(page["why"]["code"], "offered", "{page}");
    assert_eq!(page["why"]["critical"], true, "{page}");
    assert_eq!(admin_json(&server, "/devices?not_seen_days=1")["total"], 0);
    assert_eq!(
        admin_json(&server, "/devices?limit=1&offset=1")["devices"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let releases = admin_json(&server, "/releases");
    let r = &releases["releases"][0];
    assert_eq!(
        (
            &r["version"],
            &r["offered"],
            &r["downloaded"],
            &r["updated"],
            &r["stuck"]
        ),
        (&20180125.into(), &3.into(), &2.into(), &1.into(), &1.into()),
        "{releases}"
    );
    // Plain-word errors for bad filters.
    let bad = admin(&server, "/devices?build_date=2018-01-01");
    assert_eq!(bad.status, 400);
    assert!(
        bad.error()
            .contains("build_date must be a date written yyyymmdd"),
        "{}",
        bad.text()
    );
    assert_eq!(admin(&server, "/devices?outcome=gone").status, 400);

    let csv = admin(&server, "/devices.csv?below_critical=1");
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    let text = String::from_utf8(csv.body).expect("UTF-8");
    assert!(text.starts_with("\u{feff}address;build_date;"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");

    // The dashboard's table and /metrics carry the same counts. One day of data draws no
    // adoption chart (a curve from a single point says nothing): the page says so.
    let page = admin(&server, "/").text();
    assert!(
        page.contains("id=\"outcomes\"")
            && page.contains("data-version=\"20180125\"")
            && page.contains("id=\"adoption-one-day\"")
            && !page.contains("<polyline"),
        "{page}"
    );
    let metrics = admin(&server, "/metrics").text();
    for line in [
        "kkt_release_devices{line=\"\",outcome=\"stuck\",version=\"20180125\"} 1",
        "kkt_release_devices{line=\"\",outcome=\"updated\",version=\"20180125\"} 1",
        "kkt_release_devices{line=\"\",outcome=\"offered\",version=\"20180125\"} 3",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }

    let missing = admin_json(&server, "/serials/missing");
    assert_eq!(missing["total"], 1);
    assert_eq!(missing["serials"][0]["serial"], "0000000000099999");
    assert_eq!(missing["serials"][0]["address"], "10.1.0.3");
}

/// Reads the store behind a scenario's server (SQLite: the fixture's file): the first
/// column of each row, as numbers.
pub type StoreQuery<'a> = &'a dyn Fn(&Fixture, &str) -> Vec<i64>;

/// What one address can make the store keep is bounded, and it cannot crowd out anyone
/// else's records. While one address asks for thousands of random serials (three threads),
/// another flips its reported build date 300 times and a third downloads the same file 30
/// times, 50 other registers check in: the flooder keeps its most recent serials (64 to
/// 256), the flipper at most 64 build changes, the downloader one row counted 30 times, and
/// all 50 others are stored with nothing dropped.
pub fn a_flooding_address_is_bounded_and_crowds_out_no_one(store: &str, query: StoreQuery) {
    let _heavy = crate::common::heavy();
    const FLOODER: &str = "10.3.9.200";
    const FLIPPER: &str = "10.3.9.201";
    const DOWNLOADER: &str = "10.3.9.202";
    let fixture = deployment_with(store);
    let server = start(&fixture, &[]);
    let query = |sql: &str| query(&fixture, sql);
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for t in 0..3u64 {
            let server = &server;
            scope.spawn(move || {
                for n in 0..1500u64 {
                    // Pseudo-random, distinct serials.
                    let number = (t * 1_000_003 + n * 7_919) % 9_000_000 + 1_000_000;
                    serial(server, FLOODER, &number.to_string());
                }
            });
        }
        scope.spawn(|| {
            for n in 0..300 {
                let build = if n % 2 == 0 { "1.1.2018" } else { "2.1.2018" };
                check_in(&server, FLIPPER, build);
            }
        });
        scope.spawn(|| {
            for _ in 0..30 {
                download(&server, DOWNLOADER);
            }
        });
        for n in 1..=50 {
            check_in(&server, &format!("10.4.0.{n}"), "1.1.2018");
        }
    });
    eprintln!("the flood took {:?}", started.elapsed());
    // The most recent serial is kept: asked for after the others, a second later (serials
    // are ordered by the second they were last asked for).
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(serial(&server, FLOODER, "99999999"), 404);
    let status = eventually("the last serial written", DEADLINE, || {
        let status = admin_json(&server, "/status");
        let last = query(&format!(
            "SELECT COUNT(*) FROM device_serials WHERE address = '{FLOODER}' \
             AND serial = '0000000099999999'"
        ));
        (last == [1] && status["inventory"]["waiting"] == 0).then_some(status)
    });
    eprintln!("{}", status["inventory"]);
    assert_eq!(
        status["inventory"]["dropped"], 0,
        "no one's records dropped: {}",
        status["inventory"]
    );
    assert_eq!(
        admin_json(&server, "/devices?q=10.4.0.")["total"],
        50,
        "every other register stored"
    );
    let serials = query(&format!(
        "SELECT COUNT(*) FROM device_serials WHERE address = '{FLOODER}'"
    ));
    assert!(
        serials.first().is_some_and(|n| (64..=256).contains(n)),
        "the flooder's serials kept: {serials:?}"
    );
    let changes = query(&format!(
        "SELECT COUNT(*) FROM history WHERE address = '{FLIPPER}' AND kind = 'build_changed'"
    ));
    assert!(
        changes.first().is_some_and(|n| (1..=64).contains(n)),
        "the flipper's build changes kept: {changes:?}"
    );
    assert_eq!(
        query(&format!(
            "SELECT times FROM downloads WHERE address = '{DOWNLOADER}'"
        )),
        [30],
        "one row, counted"
    );
}
