//! The dashboard on a desktop and on a phone, in headless Chromium: with 30 and with 800
//! distinct build dates in the fleet, at 1280 and 390 px wide, the page never scrolls
//! sideways (its document is no wider than the window), the chart keeps its labels few and
//! its critical label inside the picture, and the count cards add up to the devices seen.
//!
//! The page has no scripts of its own; the test saves it with one measuring line appended
//! (the page is self-contained, so a saved copy renders the same) and reads the result from
//! Chromium's DOM dump.

use crate::common;

use crate::common::{admin_addr, raw_request, Fixture, Server};

/// A fleet with one device per build date, `dates` distinct dates from 2022-01-01 on.
fn fleet(dates: usize) -> (Fixture, Server) {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ncritical_version: 20230115\ninventory: \"off\"\n");
    fixture.release("20250301", None);
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
    let mut day = chrono::NaiveDate::from_ymd_opt(2022, 1, 1).expect("date");
    for n in 0..dates {
        let build = day.format("%-d.%-m.%Y").to_string();
        let response = server.post_with(
            "/check_firmware",
            &format!("{{\"build_date\": \"{build}\"}}"),
            &[(
                "X-Forwarded-For",
                &format!("10.{}.{}.{}", n / 65536, n / 256 % 256, n % 256),
            )],
        );
        assert_eq!(response.status, 200);
        day = day.succ_opt().expect("next day");
    }
    (fixture, server)
}

/// The page's document width in a `width` px viewport, what sticks out, and the page.
///
/// Headless Chromium's window is at least 500 px wide, so the page is loaded in an iframe
/// of exactly `width` px; a line appended to a saved copy of the page (which is
/// self-contained, so the copy renders the same) measures it and posts the result to the
/// wrapper, whose DOM Chromium dumps.
fn measure(server: &Server, width: u32, chromium: &str) -> (u32, String, String) {
    let addr = admin_addr(server);
    let page = raw_request(
        addr,
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .text();
    let measured = page.replace(
        "</body>",
        "<script>parent.postMessage(document.documentElement.scrollWidth + '|' + \
         Array.from(document.querySelectorAll('body *')).filter(e => \
         e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll')) \
         .slice(0, 5).map(e => e.tagName + '#' + e.id).join(' '), '*')</script></body>",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("dashboard.html"), measured).expect("save the page");
    let wrapper = format!(
        "<html><body style=\"margin:0\"><iframe src=\"dashboard.html\" width=\"{width}\" \
         height=\"900\" style=\"border:0\"></iframe><script>window.addEventListener(\
         'message', e => document.body.setAttribute('data-measured', e.data))</script>\
         </body></html>"
    );
    let file = dir.path().join("wrapper.html");
    std::fs::write(&file, wrapper).expect("save the wrapper");
    let output = common::headless(chromium, &dir.path().join("profile"))
        .arg("--allow-file-access-from-files")
        .arg(format!("--window-size={},1000", width.max(500) + 20))
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let measured = dom
        .split("data-measured=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no measurement in the DOM: {}", &dom[..dom.len().min(500)]))
        .to_string();
    let (scroll_width, wide) = measured.split_once('|').unwrap_or((&measured, ""));
    let scroll_width = scroll_width.parse().expect("a width");
    (scroll_width, wide.to_string(), page)
}

fn number_in(page: &str, id: &str) -> usize {
    page.split(&format!("id=\"{id}\">"))
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no #{id}"))
}

fn check_layout(dates: usize) {
    let Some(chromium) = common::chromium() else {
        return;
    };
    let (_fixture, server) = fleet(dates);
    for width in [1280, 390] {
        let (scroll_width, wide, page) = measure(&server, width, chromium);
        assert!(
            scroll_width <= width,
            "{dates} dates at {width} px: the page is {scroll_width} px wide (too wide: {wide})"
        );
        let labels = page.matches("<text x=").count();
        assert!(labels < 40, "{dates} dates: {labels} texts in the charts");
        // The cards add up.
        let total = number_in(&page, "devices-24h");
        assert_eq!(total, dates);
        assert_eq!(
            number_in(&page, "below-critical")
                + number_in(&page, "up-to-date")
                + number_in(&page, "offered-not-critical"),
            total
        );
        // The critical label stays inside the chart.
        let label = page
            .split("id=\"critical-label\" x=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|x| x.parse::<f64>().ok())
            .expect("critical label");
        assert!((0.0..=720.0).contains(&label), "{label}");
        // The reload history is folded below the devices.
        assert!(page.find("id=\"devices\"") < page.find("id=\"reload-history\""));
    }
}

#[test]
fn thirty_build_dates_fit_a_desktop_and_a_phone() {
    check_layout(30);
}

#[test]
fn eight_hundred_build_dates_fit_a_desktop_and_a_phone() {
    check_layout(800);
}
