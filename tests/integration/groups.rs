//! Device groups (`groups.yaml`) against the real binary, with registers polling from their
//! own loopback addresses (127.0.x.y, as in `stages`): a rollout window is read in each
//! register's group's time zone (two groups, one window open in one zone and closed in the
//! other right now, computed from the current UTC time); `pilot_groups` admits a group's
//! registers at 0 %; a bad edit of `groups.yaml` keeps the last good groups serving (a
//! register's answer still follows them) and is reported in `/status`, on the dashboard and
//! by `check`, until it is fixed; a `pilot_groups` name no group has is reported as its
//! release's problem, and the report follows an edit of `groups.yaml` alone; hostile files
//! are refused with the sentence that says why. No sleep is an assertion: waits poll with a
//! deadline.

use std::net::Ipv4Addr;

use crate::common::march_rollout::march_meta as meta;
use crate::common::{
    admin, admin_addr, eventually, raw_request, run_check, unix_now, Fixture, Server, DEADLINE,
};
use crate::stages::request_from;

const OLD: &str = "1.12.2024";

/// A deployment whose release 20250301 has `rollout` (20250101 below it has none), with
/// `groups.yaml` holding `groups` and `groups:` set in `server.yaml`.
fn deployment(rollout: &str, groups: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ninventory: off\ngroups: groups.yaml\n");
    fixture.write("groups.yaml", groups);
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&meta(rollout)));
    fixture
}

/// The server in UTC (`TZ`), so that a register of no group reads the window in a known
/// zone whatever this machine's.
fn start(fixture: &Fixture) -> Server {
    Server::start(
        fixture.dir.path(),
        &["--admin-listen", "127.0.0.1:0"],
        &[("TZ", "UTC")],
    )
}

/// The version a register at `from` on the old build is offered.
fn offered_to(server: &Server, from: Ipv4Addr) -> u64 {
    let body = format!("{{\"build_date\": \"{OLD}\"}}");
    let (status, answer) = request_from(from, server.addr, "POST /check_firmware", &body);
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&answer).expect("json");
    answer["version"].as_u64().expect("a version")
}

fn status(server: &Server) -> serde_json::Value {
    admin(server, "/status").json()
}

/// `HH:MM` of the minute `minute` of the day (wrapped).
fn hm(minute: i64) -> String {
    let minute = minute.rem_euclid(1440);
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Moscow is UTC+3 and Vladivostok UTC+10 all year (neither has summer time since 2014):
/// a window of two hours around Moscow's time now is open in Moscow, and closed in
/// Vladivostok (seven hours later) and in UTC (three hours earlier).
#[test]
fn a_window_is_read_in_each_groups_time_zone() {
    let utc_minute = i64::try_from((unix_now() % 86_400) / 60).expect("minute");
    let moscow = utc_minute + 3 * 60;
    let window = format!("{}-{}", hm(moscow - 60), hm(moscow + 60));
    let fixture = deployment(
        &format!("window: \"{window}\""),
        "- name: \"Москва\"\n  networks: [127.0.21.0/24]\n  time_zone: Europe/Moscow\n\
         - name: \"Владивосток\"\n  networks: [127.0.22.0/24]\n  time_zone: Asia/Vladivostok\n",
    );
    let server = start(&fixture);
    assert_eq!(
        offered_to(&server, Ipv4Addr::new(127, 0, 21, 5)),
        20250301,
        "Moscow's window {window} is open now"
    );
    assert_eq!(
        offered_to(&server, Ipv4Addr::new(127, 0, 22, 5)),
        20250101,
        "Vladivostok is seven hours later: outside {window}"
    );
    // No group: the server's time zone (UTC here), three hours before Moscow.
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 23, 5)), 20250101);
    // `/status` says the rollout admits: its window is open by one of the clocks in use.
    let rollouts = status(&server)["rollouts"].clone();
    assert_eq!(rollouts[0]["state"], "admitting", "{rollouts}");
    let (ok, report, _) = run_check(fixture.dir.path());
    assert!(ok, "{report}");
    assert!(
        report.contains("groups: 2 in ") && report.contains("(\"Москва\", \"Владивосток\")"),
        "{report}"
    );
}

/// A register's page says which window keeps it out, in its group's time zone.
#[test]
fn a_registers_page_reads_the_window_in_its_groups_zone() {
    let utc_minute = i64::try_from((unix_now() % 86_400) / 60).expect("minute");
    // Closed in Vladivostok (UTC+10) now: the window is the two hours before its time now
    // plus six, so that the hour it names is the register's, not the server's.
    let vladivostok = utc_minute + 10 * 60;
    let window = format!("{}-{}", hm(vladivostok + 360), hm(vladivostok + 480));
    let fixture = deployment(
        &format!("window: \"{window}\""),
        "- name: \"Владивосток\"\n  networks: [127.0.22.0/24]\n  time_zone: Asia/Vladivostok\n",
    );
    fixture.write_config("settle_ms: 0\ngroups: groups.yaml\n");
    let server = start(&fixture);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 22, 5)), 20250101);
    let addr = admin_addr(&server);
    let page = |accept: &str| {
        raw_request(
            addr,
            format!(
                "GET /devices/127.0.22.5 HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\n\
                 Accept-Language: en\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let json = eventually("the register in the inventory", DEADLINE, || {
        let response = page("application/json");
        (response.status == 200).then(|| response.text())
    });
    assert!(
        json.contains("\"time_zone\": \"Asia/Vladivostok\""),
        "{json}"
    );
    // The minute may have turned since the test read the clock.
    let now_there = [hm(vladivostok), hm(vladivostok + 1)];
    assert!(
        now_there
            .iter()
            .any(|hm| json.contains(&format!("\"local_time\": \"{hm}\""))),
        "{json}"
    );
    let html = page("text/html").text();
    assert!(
        now_there.iter().any(|hm| html.contains(&format!(
            "only within the window {window} (Asia/Vladivostok time), and it is {hm} there now"
        ))),
        "{html}"
    );
}

const PILOTS: &str = "- name: \"Пилотные магазины\"\n  networks: [127.0.31.0/24]\n\
                      - name: \"ООО Ромашка\"\n  networks: [127.0.32.0/24]\n  \
                      serials: [\"0000000000012345\"]\n";

#[test]
fn pilot_groups_admit_their_registers_at_zero_percent() {
    let fixture = deployment("percent: 0\npilot_groups: [\"Пилотные магазины\"]", PILOTS);
    let server = start(&fixture);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 31, 9)), 20250301);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 32, 9)), 20250101);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 33, 9)), 20250101);
    let problems = status(&server)["release_problems"].clone();
    assert_eq!(problems, serde_json::json!([]), "{problems}");
}

/// Waits until `/status` lists the groups file among the files that do not load (or no
/// longer does, with `stale` false); returns its entry.
fn wait_groups_stale(server: &Server, stale: bool) -> serde_json::Value {
    eventually("the groups file's stale entry", DEADLINE, || {
        let entries = status(server)["config_stale"].clone();
        let entry = entries
            .as_array()
            .and_then(|all| all.iter().find(|e| e["kind"] == "groups").cloned());
        match (entry, stale) {
            (Some(entry), true) => Some(entry),
            (None, false) => Some(serde_json::Value::Null),
            _ => None,
        }
    })
}

/// The value of `kkt_groups_stale{file="groups.yaml"}` in `/metrics` (none: no series).
fn groups_stale_metric(server: &Server) -> Option<String> {
    let metrics = admin(server, "/metrics").text();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("kkt_groups_stale{file=\"groups.yaml\"}"))
        .map(|value| value.trim().to_string())
}

/// The dashboard in `language`.
fn dashboard(server: &Server, language: &str) -> String {
    let addr = admin_addr(server);
    raw_request(
        addr,
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: {language}\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .text()
}

#[test]
fn a_bad_groups_edit_keeps_the_last_good_groups_and_is_reported() {
    let fixture = deployment(
        "percent: 0\npilot_groups: [P]",
        "- name: P\n  networks: [127.0.41.0/24]\n",
    );
    let server = start(&fixture);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 41, 2)), 20250301);
    assert_eq!(groups_stale_metric(&server).as_deref(), Some("0"));

    // The edit moves P to 127.0.42.0/24, with a typo in another group: refused whole.
    fixture.write(
        "groups.yaml",
        "- name: P\n  networks: [127.0.42.0/24]\n- name: Q\n  netwroks: [127.0.43.0/24]\n",
    );
    let entry = wait_groups_stale(&server, true);
    let error = entry["error"].as_str().expect("error").to_string();
    assert_eq!(
        error,
        "group \"Q\": unknown key `netwroks` (allowed: `name`, `networks`, `serials`, \
         `time_zone`); did you mean `networks`?"
    );
    assert_eq!(entry["groups_served"], 1);
    assert!(entry["meanwhile"]
        .as_str()
        .is_some_and(|m| m.contains("Still using the groups loaded before it broke: 1.")));
    // The metric the alert `KktGroupsFileBroken` reads.
    assert_eq!(groups_stale_metric(&server).as_deref(), Some("1"));
    // Devices still follow the old groups: a new register of the old P is a pilot, one of
    // the new P is not.
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 41, 7)), 20250301);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 42, 3)), 20250101);
    // Said on the dashboard (in Russian too), in the log and by `check`.
    let page = dashboard(&server, "en");
    assert!(page.contains("data-kind=\"groups\""), "{page}");
    assert!(page.contains("netwroks"), "{page}");
    assert!(
        page.contains("Still using the groups loaded before it broke: 1."),
        "{page}"
    );
    let page = dashboard(&server, "ru");
    assert!(page.contains("неизвестный ключ `netwroks`"), "{page}");
    assert!(
        page.contains("Пока действуют группы, загруженные до ошибки: 1."),
        "{page}"
    );
    assert!(
        server.wait_for_log("unknown key `netwroks`", DEADLINE),
        "{}",
        server.log()
    );
    let (ok, report, _) = run_check(fixture.dir.path());
    assert!(!ok, "{report}");
    assert!(report.contains("unknown key `netwroks`"), "{report}");

    // Fixed: the new groups serve, and nothing is stale.
    fixture.write("groups.yaml", "- name: P\n  networks: [127.0.42.0/24]\n");
    wait_groups_stale(&server, false);
    assert_eq!(groups_stale_metric(&server).as_deref(), Some("0"));
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 42, 3)), 20250301);
    // Once admitted, always admitted: the old P's register keeps its offer.
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 41, 7)), 20250301);
    assert!(
        server.wait_for_log("groups now: 1 (\"P\")", DEADLINE),
        "{}",
        server.log()
    );
}

#[test]
fn an_unknown_pilot_group_is_its_releases_problem_until_the_group_exists() {
    let fixture = deployment("percent: 0\npilot_groups: [\"Пилотные магазин\"]", PILOTS);
    let sentence = "rollout.pilot_groups: no group is named \"Пилотные магазин\" (known: \
                    \"Пилотные магазины\", \"ООО Ромашка\"); did you mean `Пилотные магазины`?; \
                    it admits nobody until one is";
    let (ok, report, _) = run_check(fixture.dir.path());
    assert!(!ok, "{report}");
    assert!(report.contains(sentence), "{report}");
    let server = start(&fixture);
    let problems = status(&server)["release_problems"].clone();
    assert_eq!(
        problems,
        serde_json::json!([format!("firmware/20250301/meta.yaml: {sentence}")])
    );
    // The release still serves (its pilots are none): nobody at 0 % is admitted.
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 31, 9)), 20250101);
    // Only groups.yaml changes: the problem goes, and the group's registers are pilots.
    fixture.write(
        "groups.yaml",
        format!("{PILOTS}- name: \"Пилотные магазин\"\n  networks: [127.0.34.0/24]\n"),
    );
    eventually("the problem to go", DEADLINE, || {
        let problems = status(&server)["release_problems"].clone();
        (problems == serde_json::json!([])).then_some(())
    });
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 34, 9)), 20250301);
}

/// Each hostile file is refused by `check` with the sentence saying why, and the server
/// started with it serves no group (and says so) instead of failing.
#[test]
fn hostile_groups_files_are_refused_with_the_sentence() {
    let many: String = (0..1001).map(|i| format!("- name: g{i}\n")).collect();
    let deep = format!(
        "- name: A\n  networks: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: [(&str, String, &str); 4] = [
        ("many", many, "1001 groups, more than the 1000 allowed"),
        (
            "deep",
            deep,
            "line 2: lists or mappings in brackets ([ ] or { }) are nested more than 16 levels deep",
        ),
        (
            "zone",
            "- name: A\n  time_zone: \"UTC+3\"\n".to_string(),
            "group \"A\": time_zone: \"UTC+3\" is not an IANA time zone",
        ),
        (
            "control",
            "- name: \"A\\u0007B\"\n".to_string(),
            "group \"A\\u{7}B\": the name holds a line break, a tab, or another control or \
             text-direction character",
        ),
    ];
    for (what, text, sentence) in cases {
        let fixture = deployment("percent: 0\npilot_groups: [A]", &text);
        let (ok, report, _) = run_check(fixture.dir.path());
        assert!(!ok, "{what}: {report}");
        assert!(report.contains(sentence), "{what}: {report}");
        assert!(
            report.contains("groups: none loaded from "),
            "{what}: {report}"
        );
    }
    // Larger than the bound: not read at all (a sparse file, so the test writes nothing).
    let fixture = deployment("percent: 100", "");
    let file = std::fs::File::create(fixture.path("groups.yaml")).expect("groups.yaml");
    file.set_len(2 * 1024 * 1024 + 1).expect("set_len");
    let (ok, report, _) = run_check(fixture.dir.path());
    assert!(!ok, "{report}");
    assert!(report.contains("larger than 2 MiB"), "{report}");
    let server = start(&fixture);
    let entry = wait_groups_stale(&server, true);
    assert_eq!(entry["groups_served"], 0);
    assert_eq!(groups_stale_metric(&server).as_deref(), Some("1"));
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 51, 1)), 20250301);
}

/// Only the key turns groups on: a `groups.yaml` next to `server.yaml` without `groups:`
/// changes nothing, and `check` says nothing of it.
#[test]
fn a_groups_file_without_the_key_is_not_read() {
    let fixture = deployment(
        "percent: 0\npilot_groups: [P]",
        "- name: P\n  networks: [127.0.61.0/24]\n",
    );
    fixture.write_config("settle_ms: 0\ninventory: off\n");
    let (_, report, _) = run_check(fixture.dir.path());
    assert!(
        !report.lines().any(|l| l.starts_with("groups: ")),
        "{report}"
    );
    assert!(
        report.contains("rollout.pilot_groups: names groups, but no groups file is set"),
        "{report}"
    );
    let server = start(&fixture);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 61, 1)), 20250101);
}
