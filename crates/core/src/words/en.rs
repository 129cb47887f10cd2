//! Every word an operator reads in English, in one table: the command line and the log
//! lines (`OPERATOR`), the dashboard (`DASHBOARD`), the other pages (`PAGES`), the log lines an
//! operator acts on (`LOG`) and the configuration's refusals and warnings (`CONFIG`). The
//! structures, and what reads each field, are in the sibling modules; `ru.rs` holds the
//! same table in Russian, field for field.
//! English is word for word what the server said before there were tables: tests and
//! scripts read it.

use super::cli::OperatorText;
use super::config::ConfigText;
use super::dashboard::Text;
use super::log::LogText;
use super::pages::PageText;
use super::scan::{RolloutText, ScanText};
use super::watch::WatchText;
use super::Words;
use crate::model::lang::Lang;

/// All of it.
pub static WORDS: Words = Words {
    lang: Lang::En,
    operator: &OPERATOR,
    dashboard: &DASHBOARD,
    pages: &PAGES,
    log: &LOG,
    config: &CONFIG,
    scan: &SCAN,
    rollout: &ROLLOUT,
    watch: &WATCH,
    // groups
    groups: &GROUPS,
};

pub static OPERATOR: OperatorText = OperatorText {
    yes: "true",
    no: "false",
    none: "none",
    current_release: "current release {version} ({description}, critical: {critical})",
    no_release_published: "no release published in {dir}: devices are told there is no update",
    critical_version: "critical version {version} (from {source})",
    critical_from_config: "critical_version in the configuration",
    critical_from_release: "a release marked critical: true",
    no_critical_version: "no critical version: no device is told an update is critical",
    licenses_count: "{serials} serials with feature licenses from {files} file(s)",
    current_per_line: "current release per line: {lines}",
    no_lines_any_more: "no firmware lines any more",
    row_firmware_dir: "firmware_dir {dir}",
    row_current: "current   {description}, critical: {critical}{rollout}",
    row_published: "published {description}, critical: {critical}{rollout}",
    row_settling: "settling  {reason}; checked again in {ms} ms{serving}",
    row_still_serving: " (the version checked before keeps serving)",
    row_rejected: "rejected  {reason}",
    row_rollout: ", rollout: {rollout}",
    row_line: "line {name} {description} in {dir}",
    row_known_builds: "    known builds: {builds}",
    row_no_known_builds: "none besides its releases",
    row_line_critical: "    critical version: {version}",
    row_line_no_release: "    no release published in this line",
    row_line_not_served: "line {name} not served: {reason}",
    row_licenses: "licenses",
    row_license_file: "  {file}: {count} serials",
    check_listen: "listen {addr}",
    check_tls: "tls: {count} certificate(s) in {cert} with the key in {key}: ok{https}{admin}",
    check_tls_https: "; HTTPS on {addr}",
    check_tls_admin: "; admin listener over HTTPS",
    warning: "warning",
    problem: "problem",
    check_passed: "check passed",
    check_failed: "check failed: {count} problem(s)",
    check_no_release: "no release is published yet: devices are told there is no update. {next}",
    check_as_root: "check ran as root, which can read every file; the service runs as its own \
                    user and may not. Run it as that user to see what the service sees: sudo -u \
                    kkt kkt-update-server check --config <server.yaml>",
    next_step: "Next step: put the vendor's upd_app.bin and upd_app_for_old_frs.bin in a folder \
                named for the release date (yyyymmdd, like 20250301) and copy it into {into}, or \
                run {program} publish <that folder>{line_flag}{config_flag}",
    next_step_line_folder: "the folder of its line in {dir} ({lines})",
    publish_release: "release {version}{where}: {description}{critical}",
    publish_in_line: " in line {line}",
    publish_critical: ", critical",
    publish_file: "  {name}: {bytes} bytes, sha256 {hash}",
    publish_rollout: "  rollout: {rollout}",
    publish_dry_run_replace: "dry run: would replace in place {target} (nothing was written)",
    publish_dry_run_new: "dry run: would publish as {target} (nothing was written)",
    publish_published: "published {target} (pinned by sha256, synced)",
    publish_replaced: "replaced in place {target} (pinned by sha256, synced)",
    offer_devices: "devices",
    offer_devices_of_line: "devices of line {line}",
    offer_now_offered: "{named} built before {version} are now offered it",
    offer_newer_stays: "{version} is published, but {newer} is newer and stays the release {named} are offered",
    offer_offered: "{named} are offered {version} now",
    offer_now: "now {named} built before {version} are offered {version}",
    offer_line_not_served: "line {line} is not served (see kkt-update-server check)",
    offer_no_release: "no release of {line} is published now: {named} are told there is no update",
    offer_as_rollout_admits: " as the rollout admits them ({rollout}); the others keep the release below",
    offer_everyone: " (everyone)",
    offer_critical_before: "; builds before {version} are told it is critical",
    served_now: "the running server serves it ({seconds} s)",
    no_server_answered: "no running server answered ({why}); a server started later finds the release by itself",
    ask_version: "release date of {source} (yyyymmdd): ",
    withdrew: "withdrew {version}: moved to {moved} (publish it again with kkt-update-server publish {moved} --replace{line_flag})",
    withdraw_no_longer_served: "the running server no longer serves it",
    withdraw_no_server: "no running server answered; nothing more to wait for",
    service_installed: "installed the service {name} (starts at boot) with {config}\n\
                        start it now: sc start {name}   (or in services.msc)\n\
                        its log: {log}\n",
    service_removed: "removed the service {name}\n",
    service_no_config: "give --config with the path of server.yaml: the service reads it from there",
    service_config_missing: "{file} does not exist",
    service_config_path: "cannot find {file}: {why}",
    service_current_exe: "cannot tell where this program is: {why}",
    service_run_by_windows: "`service run` is started by Windows' service manager",
    service_log_unwritable: "cannot write the log {file}: {why}",
    service_not_here: "Windows services exist only on Windows; on Linux run it with the systemd \
                       unit in contrib/ (or the .deb, which installs it)",
    service_manager: "cannot open the service manager (run as administrator): {why}",
    service_create: "cannot create the service {name}: {why}",
    service_describe: "cannot describe the service {name}: {why}",
    service_no_such: "there is no service {name}: {why}",
    service_remove: "cannot remove the service {name}: {why}",
    service_already_running: "the service is already running",
    service_not_started: "cannot start as a service ({why}); `service run` is what the service \
                          manager starts: install the service with `kkt-update-server service \
                          install`, or run the server directly",
    reload_no_admin: "admin_listen is off, so there is nobody to ask; set admin_listen (the \
                      reload goes through it) or, on Unix, send SIGHUP",
    reload_answered: "the server answered {status}: {body}",
    reload_done: "the server reloaded its files in {ms} ms: {outcome}",
    reload_kept: "the server kept its running state ({ms} ms): {outcome}",
    client_no_admin: "admin_listen is off, so the running server cannot be asked",
    client_token_refused: "the token was refused: give an operator's token with --token or \
                           KKT_TOKEN (or set admin_token as the server has it)",
    client_unreachable: "cannot reach the server's {which} listener at {target}; is it running?",
    client_admin: "admin",
    client_device: "device",
    meta_floor_not_bool: "floor: {value} is not true or false (expected floor: true to make \
                          devices built before this release install it before anything newer)",
    row_upgrade_path: "upgrade path: {path}",
    path_floor: "floor {version}",
    path_newest: "newest {version}",
    publish_floor: "  floor: devices built before {version} install it before anything newer",
    offer_floors_first: "; devices below a floor install it first ({path})",
    rollout_deadline_invalid: "rollout.deadline: {value} is not a day (expected YYYY-MM-DD, like 2026-12-31)",
    // audit: the audit trail (branch audit).
    audit_broken: "audit record {seq} is bad: {why}",
    audit_unknown_action: "its action {action} is not one the server records",
    audit_bad_field: "its {field} is not as the server writes it (too long, more than one line, or not a hash)",
    audit_missing: "it is missing, though a later record is stored (it was removed)",
    audit_edited: "its bytes do not hash to the prev that record {next} carries (it was edited, or record {next}'s prev was)",
    audit_unanchored: "the records before it are missing and no checkpoint says they were pruned",
    audit_head_not_found: "the head {head} is no stored record's hash: records after {last} were removed, or the newest was edited",
    audit_ok: "ok: {count} records, head {head}",
    audit_head_not_hash: "--head {value} is not a hash (expected 64 lowercase hex digits, as the server logs it)",
    audit_unreadable: "cannot read the audit trail from {store}: {why}",
    audit_inventory_off: "the inventory is off (inventory: off in server.yaml): there is no audit trail to verify",
    audit_head_pruned: "note: the head given is no longer stored: checkpoint {seq} ({at}) says a prune removed it. A prune removes only records older than {days} days, so this holds only if that head was logged before {before}; if it was logged later, records were removed by hand",
    // operators (branch `operators`).
    token_new_made: "A new token for {name} ({role}). Give it to the operator: it is shown only \
                     now, and the server keeps only its SHA-256.\n\n    {token}\n\nAdd this \
                     line under operators: in server.yaml (a running server takes it at its \
                     next reload):\n\n{line}\n",
    token_new_refused: "token new: {problem}",
    token_new_no_random: "token new: the system gave no random bytes: {why}",
    client_token_chars: "the token may hold only Latin letters, digits and punctuation (no \
                         spaces, no line breaks); check --token or KKT_TOKEN",
    client_forbidden: "the server refused this operator's token for this (its role is too \
                       low): {body}",
};

pub static DASHBOARD: Text = Text {
    lang: "en",
    title: "kkt-update-server — register updates",
    refreshes_every: "Refreshes every",
    running_for: "up",
    current_release: "Current release",
    none: "none",
    no_release_published: "no release published",
    critical_version: "Critical version",
    from_server_yaml: "from server.yaml",
    from_release: "from a release (critical: true)",
    not_set: "not set",
    devices_24h: "Devices, 24 h",
    below_critical: "Below critical",
    offered_not_critical: "Update offered, not critical",
    up_to_date: "Up to date",
    licensed_serials: "Licensed serials",
    fleet_by_build_date: "Fleet by build date (24 h)",
    no_device_yet: "No register has asked yet.",
    releases: "Releases",
    version: "Version",
    state: "State",
    description: "Description",
    reason: "Reason",
    update_outcomes: "Update outcomes",
    offered: "Offered",
    downloaded: "Downloaded",
    updated: "Updated",
    stuck: "Stuck",
    days: "days",
    curves_note: "dashed: downloaded; solid: updated",
    link_below_critical: "registers below the critical version",
    link_stuck: "stuck",
    link_missing_serials: "serials without a license — order them",
    link_all_devices: "every register",
    link_history: "history",
    inventory_not_writing: "The inventory is not being written:",
    license_files: "License files",
    file: "File",
    serials: "Serials",
    problems: "Problems",
    recent_devices: "Recent registers",
    address: "Address",
    build_date: "Build date",
    serial: "Serial",
    seen: "Seen",
    reloads: "Reloads",
    local_time: "Time (local)",
    trigger: "Trigger",
    outcome: "Outcome",
    ms: "ms",
    is_current: "up to date",
    ago: "ago",
    unit_s: "s",
    unit_min: "min",
    unit_h: "h",
    unit_d: "d",
    state_current: "current",
    state_published: "published",
    state_settling: "settling",
    state_rejected: "rejected",
    lines: "Firmware lines",
    line: "Line",
    default_line: "(default)",
    known_builds: "Known builds",
    line_not_served: "Line not served:",
    rollouts: "Staged rollouts",
    settings: "Settings",
    admitted: "Admitted",
    left_this_hour: "Left this hour",
    no_cap: "no cap",
    window: "Window",
    all_day: "all day",
    halted_because: "Halted automatically:",
    resume_hint: "edit rollout in meta.yaml to resume",
    unmapped_dates: "Build dates without a line",
    unmapped_note: "Add the date to known_builds of the right line.yaml so these registers get their line's updates.",
    kind: "Kind",
    served_by: "Served by",
    no_update: "get no update",
    rollout_admitting: "admitting",
    rollout_paused: "paused",
    rollout_halted: "halted",
    rollout_outside_window: "outside its window",
    rollout_cap_reached: "hourly cap reached",
    kind_unknown: "unknown",
    kind_ambiguous: "in several lines",
    no_line_card: "No line (no update)",
    tls_certificate: "TLS certificate expires in",
    critical_word: "critical",
    triggers: [
        ("startup", "startup"),
        ("files", "files"),
        ("signal", "signal"),
        ("settle", "settle"),
        ("request", "request"),
    ],
    critical_mark: "(critical)",
    user_agent: "User-Agent",
    pages: &PAGES,
    operator: &OPERATOR,
    stale_for: "has not loaded for",
    stale_since: "since",
    stale_config_kept: "The server keeps the configuration it had until the file is fixed.",
    stale_licenses_kept: "Until the file is fixed, the licenses loaded before are served:",
    stale_licenses_none: "No license is served from this file: every serial in it gets 404 \
                          until the file is fixed.",
    stale_fix: "Fix the file: the server picks it up without a restart \
                (check it with kkt-update-server check).",
    upgrade_path: "Upgrade path (floors, in order)",
    upgrade_path_then_newest: "then the newest",
    stage_of: "stage {n} of {of}: {percent}%",
    stage_since: "since",
    stage_states: [
        "soaking",
        "waiting",
        "advancing",
        "last stage",
        "halted",
        "paused, its clock stands still",
    ],
    deadline: "Deadline",
    deadline_on_time: "on time",
    deadline_late: "late",
    projected_finish: "projected finish",
    devices_below: "{n} registers of the line still below the release",
    projection_reasons: [
        ("finished", "every register of the line runs this release"),
        ("paused", "no projected finish: the rollout is paused"),
        ("halted", "no projected finish: the rollout is halted"),
        (
            "no_confirmation_yet",
            "no projected finish: no register has confirmed the update yet",
        ),
        (
            "plan_ends_below_100_percent",
            "not every register will be admitted: the last stage is below 100%",
        ),
        (
            "stage_never_passes",
            "a stage can never pass: its min_updated is more than it admits",
        ),
        ("beyond_two_years", "the finish is more than two years away"),
        ("pending", "projecting"),
        ("no_inventory", "no projection: the inventory is off"),
    ],
};

pub static PAGES: PageText = PageText {
    why_heading: "Update",
    why_no_build_date: "The register has not sent its firmware build date yet (it asked only for licenses), so it has not been offered an update.",
    why_unknown_build: "Build date {build} belongs to no firmware line: the register is told there is no update. Add the date to the right line's builds.",
    why_ambiguous_line: "Build date {build} is listed in several lines: until that is fixed, the register is told there is no update.",
    why_no_release: "Line \"{line}\" has no published release: the register is told there is no update.",
    why_up_to_date: "Up to date: build {build}, and the current release of line \"{line}\" is {version}.",
    why_offered: "Offered the update to {version} (now build {build}, line \"{line}\").",
    why_below_critical: "The update is mandatory: build {build} is older than the critical version {version}.",
    why_held_back: "A newer release, {version}, is being rolled out in stages and has not admitted this register yet.",
    why_not_admitted: "A newer release, {version}, exists, but it is being rolled out in stages ({percent}% of registers) and has not admitted this register yet: it is told there is no update (build {build}).",
    why_paused: "The rollout is paused: no new register is admitted.",
    why_not_admitted_critical: "The register is below the critical version and gets the mandatory update once admitted.",
    device_title: "Register",
    back: "← dashboard",
    polls: "Requests",
    first_seen: "First seen",
    last_seen: "Last seen",
    last_check_in: "Last update check",
    client: "Client (User-Agent)",
    offers: "Updates offered",
    offered_at: "Offered",
    downloaded_at: "Downloaded",
    updated_at: "Updated",
    downloads: "Downloads",
    bytes: "Bytes",
    complete: "Whole",
    times: "Times",
    licensed: "Licensed",
    admissions: "Rollout admissions",
    pilot: "Pilot",
    yes: "yes",
    no: "no",
    never: "never",
    nothing_yet: "Nothing yet.",
    devices_title: "Registers",
    stuck_title: "Stuck updates",
    history_title: "History",
    search: "Search",
    search_hint: "address, serial or User-Agent",
    any: "any",
    find: "Find",
    found: "Found",
    next_page: "Next →",
    outcome_pending: "offered",
    outcome_downloaded: "downloaded",
    outcome_updated: "updated",
    outcome_stuck: "stuck",
    attention: "Needs attention",
    attention_none: "All is well: nothing needs attention.",
    attention_no_release: "No release is published: registers are told there is no update.",
    attention_below_critical: "Registers below the critical version",
    attention_stuck: "Stuck updates",
    attention_rejected: "Rejected release folders",
    attention_halted: "Rollouts halted or paused",
    attention_inventory: "The fleet memory is not being written.",
    one_day_only: "Data for one day only: the chart appears from the second day.",
    event: "Event",
    detail: "Detail",
    kinds: [
        "published",
        "changed",
        "rollout paused",
        "rollout unpaused",
        "rollout halted (stuck devices)",
        "rollout resumed",
        "withdrawn",
        "rejected",
        "licenses loaded",
        "build date changed",
        "server started",
    ],
    why_below_floor: "Below a floor: offered floor {floor} before {newest} (now build {build}, line \"{line}\").",
    why_below_floor_not_admitted: "Below a floor: it must install {floor} before {newest}, and the rollout of {floor} has not admitted this register yet.",
    why_below_floor_meanwhile: "Meanwhile it is offered {version} (now build {build}, line \"{line}\").",
    why_below_floor_nothing: "Meanwhile it is told there is no update (build {build}, line \"{line}\").",
    kind_advanced: "advanced",
    kind_stage_forced: "stage forced",
    kept_bucket: "Its bucket (0 to 99, drawn from its address and the release) is {bucket}, and the rollout admits buckets below {percent}.",
    kept_bucket_stage: "Its bucket (0 to 99, drawn from its address and the release) is {bucket}, and stage {stage} of {stages} admits buckets below {percent}.",
    kept_stage_soaking: "Stage {stage} soaks {left} more before stage {next} (buckets below {next_percent}) may start.",
    kept_stage_waiting: "Stage {stage} has soaked and waits for confirmations before stage {next} (buckets below {next_percent}) starts: {figures}.",
    kept_stage_advancing: "Stage {stage} has passed: stage {next} (buckets below {next_percent}) starts within seconds.",
    kept_stage_last: "Stage {stage} is the last: raise its percent to reach this register.",
    kept_outside_window: "New registers are admitted only within the window {window} (server local time), and it is {time} there now.",
    kept_hourly_cap: "The hourly cap is reached: {admitted} admitted in the last hour, at most {cap} per hour.",
    kept_hourly_cap_stage: "The hourly cap is reached: {admitted} admitted in the last hour, at most {cap} per hour at stage {stage} of {stages}.",
    kept_halted: "The rollout halted itself: {stuck} of the {finished} registers that downloaded it are stuck ({share}, above {threshold}). An edit of rollout: in its meta.yaml resumes it.",
    kept_admitted_at_next_check: "Nothing keeps it now: it is admitted at its next update check.",
    // audit: the audit trail (branch audit).
    audit_title: "Audit trail",
    audit_seq: "No.",
    audit_actor: "Who",
    audit_action: "Action",
    audit_subject: "What",
    audit_result: "Result",
    audit_head: "Newest hash (head):",
    audit_verify_hint: "Check the chain with: kkt-update-server audit verify --head <hash>",
    // operators (branch `operators`).
    login_title: "Log in",
    login_intro: "Enter your operator token (an admin makes one with kkt-update-server token \
                  new). The browser remembers the login until it is closed for the night \
                  (session_ttl_s) or you log out.",
    login_token: "Token",
    login_submit: "Log in",
    login_wrong: "No operator has this token. Check that it was copied whole.",
    login_needed: "This page needs a login: no token was given, or it is no operator's.",
    login_open: "No token is configured on this server: the dashboard is open without a login.",
    login_signed_in: "You are logged in as {name} ({role}).",
    login_to_dashboard: "To the dashboard",
    logout: "Log out",
    // forms (branch `forms`).
    forms_signed_in: "You: {name} ({role})",
    forms_upload_title: "Upload a release",
    forms_upload_open: "Upload a release…",
    forms_upload_intro: "A .zip of the release folder, or the two firmware files. The same checks as the publish command; the answer comes once the release is served.",
    forms_zip: "Archive (.zip)",
    forms_or_files: "or the two files:",
    forms_version: "Version (YYYYMMDD; empty: from the archive's name)",
    forms_line: "Line",
    forms_description: "Description",
    forms_critical: "Critical (registers below must update)",
    forms_floor: "Floor: registers below get it first",
    forms_rollout_percent: "Rollout share, % (empty: everyone at once)",
    forms_pilot: "Pilot network (e.g. 10.1.2.0/24), optional",
    forms_replace: "Replace the files of the release already published with this version",
    forms_publish: "Publish",
    forms_cancel: "Cancel",
    forms_actions: "Actions",
    forms_pause: "Pause",
    forms_resume: "Resume",
    forms_withdraw: "Withdraw…",
    forms_withdraw_title: "Withdraw the release?",
    forms_withdraw_text: "Release {version} ({line}) will no longer be offered nor served; its folder goes to the withdrawn/ shelf beside the releases (to bring it back, move the folder back). Registers that already downloaded it stay as they are.",
    forms_withdraw_confirm: "Yes, withdraw",
    forms_published: "Release {version} ({line}) published.",
    forms_withdrawn: "Release {version} ({line}) withdrawn.",
    forms_paused: "Rollout of {version} ({line}) paused.",
    forms_resumed: "Rollout of {version} ({line}) resumed.",
    forms_refused: "Not done:",
    forms_notice_close: "dismiss",
    // views (branch `views`).
    group: "Group",
    all_groups: "all groups",
    limited_to: "You see only the registers of the groups: {groups}.",
    fleet_figures_hidden: "Figures of the whole fleet (rollouts, requests, reloads, licenses) \
                           are shown only to operators not limited to groups.",
};

pub static LOG: LogText = LogText {
    listening: "listening on {addr}",
    listening_https: "listening for HTTPS on {addr}",
    admin_listening: "admin listening on {addr}{token}",
    token_required: " (token required)",
    systemd_socket: "using the {name} socket systemd passed ({addr})",
    stopped: "stopped",
    trigger_files: "after file changes",
    trigger_signal: "on SIGHUP",
    trigger_settle: "after the settle time",
    trigger_request: "on request",
    rescanned: "rescanned {trigger} in {ms} ms: {nothing}",
    reloaded: "reloaded {trigger} in {ms} ms: {changes}",
    nothing_changed: "nothing devices see changed",
    rescan_failed: "rescan failed ({why}); still serving the previous state",
    rescan_failed_outcome: "rescan failed: {why}",
    config_kept_outcome: "configuration kept: {why}",
    config_loads_again: "the configuration loads again",
    config_reloaded: "configuration reloaded",
    config_broken: "{why}; keeping the running configuration",
    listen_changed: "listen changed to {new}: restart to apply (still on {old})",
    admin_listen_changed: "admin_listen changed: restart to apply",
    admin_settings_changed:
        "admin_hosts, admin_tls, session_ttl_s or shutdown_timeout_s changed: restart to apply",
    certificate_taken: "TLS certificate {file} changed: new connections get the new one",
    certificate_refused: "{why}; the certificate served before keeps serving",
    events_lost: "file events were lost (a full queue or an overflow): files not yet published \
                  now wait unconfirmed_settle_ms of quiet unless pinned",
    license_file_broken: "license file {file} cannot be used ({why}): no license is served from \
                          it, every serial in it gets 404 until it is fixed (the fix is picked up \
                          without a restart)",
    line_not_served: "{dir}: line {name} is not served: {reason}",
    static_not_served: "static files are not served: {why}",
    ambiguous_build: "build date {date} belongs to several lines ({lines}): devices reporting it \
                      get no update until only one line.yaml or release folder claims it",
    sample_one: "release {versions} is the repository's generated sample",
    sample_many: "releases {versions} are the repository's generated samples",
    sample_served: "{what}, not firmware: served only because {folder} is the source tree's \
                    sample folder; for real registers, point firmware_dir at a folder of your own",
    // operators (branch `operators`).
    operators_reloaded: "operators changed: the admin listener now knows {count} (operators \
                         and admin_token), from the next request on",
    login_failed: "admin login refused from {peer}: the token is no operator's",
    login_done: "admin login: {name} ({role}) from {peer}",
};

pub static CONFIG: ConfigText = ConfigText {
    used_flag: "configuration {path} (--config)",
    used_env: "configuration {path} (KKT_CONFIG)",
    used_found: "configuration {path} (found without --config)",
    used_none: "no configuration file found (looked for --config, KKT_CONFIG, {tried})",
    defaults_only: ": defaults and flags only",
    in_working_folder: "{path} in the working folder {folder}",
    invalid: "{file}: invalid configuration: {why}",
    cannot_read: "cannot read the configuration file {file}: {why}",
    not_regular: "it is {kind}, not a regular file",
    file_kinds: &[
        ("a symbolic link", "a symbolic link"),
        ("a folder", "a folder"),
        ("a FIFO (named pipe)", "a FIFO (named pipe)"),
        ("a socket", "a socket"),
        ("a device", "a device"),
        ("not a regular file", "not a regular file"),
    ],
    too_big: "it is larger than {kib} KiB, which no configuration file is",
    at_line: "{sentence} (line {line})",
    not_keys: "the configuration must be lines of key: value, like listen: 0.0.0.0:8888; got {got}",
    a_list: "a list",
    out_of_bounds: "{key} must be between {min} and {max}{unit}; got {value}",
    unit: " ({unit})",
    units: &[
        ("milliseconds", "milliseconds"),
        ("seconds", "seconds"),
        ("days", "days"),
    ],
    wrong_form: "{key} must be {form}; got {given}",
    forms: &[],
    twice: "{key} is written twice; keep one",
    unknown_key: "{field}: {did_you_mean}the keys of server.yaml are {keys}",
    unknown_field: "unknown field `{key}`",
    unknown_field_hidden:
        "unknown field of {count} characters (not shown: it is not written like a key)",
    did_you_mean: "did you mean {near}? ",
    too_large_here: "{key} {value} is too large here",
    critical_not_a_date: "critical_version {value} is not a real date written yyyymmdd",
    tls_needs_files: "tls_listen and admin_tls need tls_cert and tls_key: the certificate chain \
                      and its private key as PEM files (for example certbot's fullchain.pem and \
                      privkey.pem)",
    tls_listen_own: "tls_listen must be an address of its own, not listen's or admin_listen's",
    inventory_form: "inventory must be sqlite:<file>, postgres://user:password@host/database or \
                     off; got {got}",
    firmware_dir_missing_no_config: "firmware_dir {dir} does not exist, and {found}. Name the \
                                     configuration with --config <file> (or KKT_CONFIG), or run \
                                     the command in its folder",
    firmware_dir_missing: "firmware_dir {dir} does not exist; create it (one folder per release \
                           inside) or point firmware_dir (--firmware-dir, KKT_FIRMWARE_DIR) at \
                           the right folder",
    firmware_dir_is_file: "firmware_dir {dir} is a file, not a folder",
    firmware_dir_unlistable: "firmware_dir {dir} cannot be listed: {why}",
    admin_token_blank: "admin_token is blank; write a random text of at least 16 characters, or \
                        remove the key to run the admin listener without a token",
    admin_token_short: "admin_token must be at least 16 characters; it has {count}",
    admin_token_chars: "admin_token may hold only Latin letters, digits and punctuation (no \
                        spaces, no Cyrillic): a browser or curl could not send it otherwise",
    admin_hosts_form: "admin_hosts: {name} is not a host name like kkt-admin.example.ru \
                       (letters, digits, dots and dashes; no port, no scheme)",
    address_form: "{key} {text} is not an address like 0.0.0.0:8888 or [::]:8888: {why}",
    public_url_form: "public_url {url} must look like https://fw.example.ru or \
                      http://10.0.0.5:8888/prefix",
    tls_cert_unreadable: "tls_cert {file}: cannot be read: {why}",
    tls_cert_not_pem: "tls_cert {file}: not a PEM certificate: {why}",
    tls_no_certificate: "tls_cert {file}: holds no certificate (expected -----BEGIN \
                         CERTIFICATE-----)",
    tls_key_unreadable: "tls_key {file}: cannot be read: {why}",
    tls_no_key: "tls_key {file}: no private key in it (expected -----BEGIN PRIVATE KEY----- or \
                 an RSA/EC key): {why}",
    tls_not_their_key: "tls_key {key} does not belong to the certificate in tls_cert {cert}",
    tls_key_refused: "tls_key {file}: {why}",
    tls_set_up: "TLS set-up failed: {why}",
    warn_admin_open: "admin_listen {addr} can be reached from other machines and admin_token is \
                      not set: anyone who reaches it can read the fleet (serials, addresses) and \
                      ask for reloads. Set admin_token (better: KKT_ADMIN_TOKEN in the service's \
                      environment), or listen on 127.0.0.1",
    warn_trusted_everyone: "trusted_proxies holds {everyone}, which is every address: any device \
                            can name any address in X-Forwarded-For and pass for a rollout pilot \
                            or another shop. List only your proxies' addresses",
    // operators (branch `operators`).
    operators_too_many: "operators lists {count} entries; at most {max} are allowed",
    operators_entry: "operators, entry {number}{name}: {problem}",
    operator_not_keys: "must be keys with values, like {name: \"Иванов\", token_sha256: \"<64 \
                        hexadecimal digits>\", role: viewer}; got {given}",
    operator_unknown_key: "unknown key {key}; an operator's keys are name, token_sha256, role \
                           and groups",
    operator_plain_token: "never write the token itself into server.yaml: write token_sha256, \
                           its SHA-256 (kkt-update-server token new prints the line to paste)",
    operator_missing: "{key} is missing; an operator needs name, token_sha256 and role",
    operator_not_text: "{key} must be text; got {given}",
    operator_name_empty: "name is empty; write 1 to {max} characters",
    operator_name_long: "name has {count} characters; at most {max} are allowed",
    operator_name_control: "name holds control characters (a line break, a tab, an escape); \
                            write it on one line",
    operator_name_twice: "the name is also entry {other}'s; each operator needs a name of its \
                          own (the audit trail records it)",
    operator_hash_form: "token_sha256 must be 64 hexadecimal digits, the SHA-256 of the token \
                         as kkt-update-server token new prints it; got {count} characters (not \
                         shown: it may be a token)",
    operator_hash_twice: "token_sha256 is also entry {other}'s: two operators with one token \
                          could not be told apart; give each its own token",
    operator_role: "role must be viewer, publisher or admin; got {given}",
    operator_groups_not_viewer: "groups limits a viewer only, and this operator's role is \
                                 {role}, which sees every device; remove groups, or make the \
                                 role viewer",
    operator_groups_form: "groups must be a list of group names, like [\"ООО Ромашка\"]; got \
                           {given}",
    operator_groups_empty: "groups is empty, which would show this viewer nothing; name at \
                            least one group, or remove groups to show every device",
    operator_groups_many: "groups lists {count} groups; at most {max} are allowed",
    operator_group_name: "groups: {given} is not a group name (1 to {max} characters, no \
                          control characters)",
    operator_admin_name: "the name admin belongs to the operator admin_token makes; choose \
                          another name, or remove admin_token",
    operator_admin_hash: "token_sha256 is the SHA-256 of admin_token: one token cannot be two \
                          operators; give this operator a token of its own",
    // attack26
    operator_empty_hash:
        "token_sha256 is the SHA-256 of an empty token (what `printf %s \"$TOKEN\" | \
                          sha256sum` prints when the variable is unset): anyone would get in \
                          with an empty password; paste the line `token new` prints",
};

pub static SCAN: ScanText = ScanText {
    cannot_list_firmware: "cannot list the firmware folder: {why}",
    not_a_date_folder: "ignored: the name is not a real date (yyyymmdd)",
    still_serving_before: "{reason}; still serving the version checked before (remove the \
                           folder to withdraw it)",
    being_written: "{name} is being written",
    changed_while_read: "{name} changed while it was read",
    cannot_read_folder: "cannot read the folder: {why}",
    folder_is_link: "is a symbolic link; copy the folder itself",
    not_a_folder: "is not a folder",
    file_missing: "{name} is missing",
    cannot_read_file: "cannot read {name}: {why}",
    file_not_regular: "{name} is not a regular file",
    file_of_kind: "{name} is {kind}, not a regular file",
    file_empty: "{name} is empty",
    firmware_too_large: "{name} is larger than {mib} MiB, far more than firmware or its \
                         description ever is; is it the right file?",
    in_file: "{name}: {why}",
    changed_recently: "changed less than settle_ms ago",
    not_seen_closed: "{names} not seen closed by the watcher: waiting for \
                      unconfirmed_settle_ms of quiet",
    and: " and ",
    sha_mismatch: "{name} does not match its sha256 in meta.yaml (pinned {pinned}, file has {has})",
    internal_two_files: "internal: expected two firmware files",
    sample_refused: "{name} is the repository's generated sample (it starts with \
                     \"KKT-SAMPLE-FIRMWARE\"), not firmware: it is served only from the source \
                     tree's own firmware folder, never to registers of an installed server; \
                     remove this folder and publish the vendor's firmware",
    checked_again_in: "{reason}; checked again in {ms} ms",
    not_utf8: "{what} is not UTF-8 text (line {line}; Cyrillic saved as Windows-1251?): save \
               it as UTF-8",
    meta_unknown_file: "sha256: unknown file {name} (expected upd_app.bin, \
                        upd_app_for_old_frs.bin)",
    meta_bad_pin: "sha256 of {file}: {pin} is not 64 hex digits",
    line_name_refused: "a line's folder name may hold only latin letters, digits, '.', '-' and \
                        '_' (it becomes part of download URLs)",
    line_changed_recently: "line.yaml changed less than settle_ms ago",
    line_still_using: "{reason}; still using the line.yaml checked before",
    line_yaml_too_large: "line.yaml is larger than {mib} MiB; it holds a few lines",
    line_not_a_date: "{key}: {shown} is not a real date (expected yyyymmdd like 20221228)",
    license_unknown_type: "unknown license file type (expected .slf, .yaml or .yml)",
    license_not_regular: "is not a regular file",
    license_cannot_read: "cannot read: {why}",
    license_unreadable: "unreadable",
    license_missing: "does not exist: no licenses from it (a file or folder named in licenses:)",
    license_too_large: "it is larger than {mib} MiB, far more than the licenses of any fleet; \
                        is it the right file?",
    license_still_serving: "{reason}; still serving the {count} licenses loaded before",
    serial_repeats: "serial {serial} repeats on line {line}; this line wins",
    more_repeats: "{more} more repeated serials",
    cannot_list_folder: "cannot list the folder: {why}",
    serials_also_in: "{count} serial(s) also in {file} (first {first}); the later file wins",
    slf_not_utf8: "not UTF-8 text",
    slf_fields: "expected 3 tab-separated fields (serial, licenses, signature), found {found}",
    slf_serial: "serial {serial} is not 16 digits",
    hex_length: "expected {len} hex digits, found {found} characters",
    hex_not_hex: "{found} at position {position} is not a hex digit",
    yaml_invalid: "not valid YAML: {why}",
    yaml_not_mapping: "expected a mapping of serial numbers, found {kind}",
    yaml_entry: "serial {key}: {why}",
    entry_serial: "the serial must be 16 digits (quote it: \"0000000000012345\")",
    entry_not_mapping: "expected `licenses` and `signature`, found {kind}",
    entry_unknown_key: "unknown key {name} (expected `licenses` and `signature`)",
    entry_not_text: "{name}: expected a string of hex digits",
    entry_missing: "missing `{name}`",
    value_kinds: &[
        ("nothing", "nothing"),
        ("a boolean", "a boolean"),
        ("a number", "a number"),
        ("a string", "a string"),
        ("a list", "a list"),
        ("a mapping", "a mapping"),
        ("a tagged value", "a tagged value"),
    ],
    did_you_mean_key: "; did you mean `{key}`?",
    yaml_unknown_key: "unknown field `{key}`, expected one of {keys}",
    fw_empty: "firmware_dir is empty; name a folder of its own that holds only release \
               folders, like firmware or /var/lib/kkt-update-server/firmware",
    fw_cannot_open: "firmware_dir {dir} cannot be opened: {why}",
    fw_system_folder: "firmware_dir {dir} is a system folder: every file in it would be \
                       downloadable by any device or anyone on the network. Point firmware_dir \
                       at a folder of its own that holds only release folders, like \
                       /var/lib/kkt-update-server/firmware",
    fw_holds_private: "firmware_dir {dir} holds {what} {path}: devices could download it. Keep \
                       firmware_dir a folder of its own with only release folders in it (like \
                       firmware/ next to server.yaml), and keep the server's own files outside \
                       it",
    private_files: &[
        ("the configuration file", "the configuration file"),
        ("the license folder", "the license folder"),
        ("the license file", "the license file"),
        ("the TLS certificate", "the TLS certificate"),
        ("the TLS private key", "the TLS private key"),
        ("the inventory", "the inventory"),
        ("the access log", "the access log"),
        // groups
        ("the groups file", "the groups file"),
    ],
    // hardening
    yaml_too_deep: "line {line}: lists or mappings in brackets ([ ] or { }) are nested more \
                    than {max} levels deep; the file is refused without being read (a real \
                    one needs two or three levels)",
    yaml_too_deep_indented: "line {line}: lists or mappings are nested more than {max} levels \
                             deep by indentation; the file is refused without being read (a \
                             real one needs a few levels)",
    license_yaml_too_large:
        "a YAML license file may hold at most {mib} MiB (the YAML parser keeps \
                             all of it in memory, many times over); put the licenses into .slf \
                             files, which are read line by line",
};

pub static ROLLOUT: RolloutText = RolloutText {
    percent: "rollout.percent: {value} is not a whole number from 0 to 100",
    too_large_at_most: "rollout.{key}: {value} is too large (at most {max})",
    window: "rollout.window: {value} is not a time span (expected like \"22:00-06:00\", server \
             local time)",
    empty_window: "rollout.window: {value} starts where it ends; leave window out to admit at \
                   any hour",
    halt_percent: "rollout.halt_when_stuck_percent: {value} is not a percentage from 0 to 100",
    net_not_address: "{key}: {entry} is not an IP address or network (expected like 192.0.2.15 \
                      or 10.20.0.0/16)",
    net_bad_prefix: "{key}: bad prefix in {entry} (expected 0 to {max} after the /)",
    net_too_many: "{key}: more than {max} entries",
    stage_with_percent: "rollout: stages and percent together (stages replaces percent; give \
                         each stage its percent)",
    stage_count: "rollout.stages: {count} stages (expected 1 to {max}, each like {percent: 5, \
                  soak: 24h, min_updated: 20, success_percent: 95})",
    stage_missing_percent: "rollout.stages, stage {n}: no percent (every stage needs one, a \
                            whole number from 0 to 100)",
    stage_percent: "rollout.stages, stage {n}: percent {value} is not a whole number from 0 to \
                    100",
    stage_lower: "rollout.stages, stage {n}: percent {value} is below stage {previous}'s \
                  {before} (each stage admits at least the share of the one before)",
    stage_soak: "rollout.stages, stage {n}: soak {value} is not a duration (expected a whole \
                 number and a unit, like 30s, 15m, 24h or 7d, at most 90d)",
    stage_min_updated: "rollout.stages, stage {n}: min_updated {value} is too large (at most \
                        {max})",
    stage_success: "rollout.stages, stage {n}: success_percent {value} is not a percentage from \
                    0 to 100",
    rate_growth: "rollout.rate_growth: {value} is not a factor from 1 to {max} (like 2, or 1.5)",
    limit_below_cap: "rollout.max_new_per_hour_limit: {limit} is below max_new_per_hour {cap} \
                      (the limit bounds how far the cap grows)",
    forced: "rollout.stage: {value} is not a stage of this rollout (expected 1 to {count})",
    needs: "rollout.{key}: only means something with {needs}",
    needs_what: &[
        ("stages", "stages"),
        (
            "max_new_per_hour (the cap it grows)",
            "max_new_per_hour (the cap it grows)",
        ),
        (
            "max_new_per_hour (the cap it bounds)",
            "max_new_per_hour (the cap it bounds)",
        ),
    ],
};

pub static WATCH: WatchText = WatchText {
    halted_restored: "the rollout of {version} (line {line}) is halted: {reason}; edit its \
                      meta.yaml rollout to resume",
    halted: "the rollout of {version} (line {line}) is halted: {reason}; nobody new is offered \
             it until its meta.yaml rollout is edited",
    resumed: "the rollout of {version} (line {line}) is resumed",
    stepped: "the rollout of {version} (line {line}) {what}: {detail}",
    advanced: "advanced",
    stage_forced: "stage forced",
    step_advance: "stage {from} ({from_percent}%) → stage {to} ({to_percent}%): {figures}, \
                   after a soak of {soak}{cap}",
    step_forced_from: "stage {stage} ({percent}%) forced by stage: {forced} in meta.yaml (was \
                       stage {from}){cap}",
    step_forced: "stage {stage} ({percent}%) forced by stage: {forced} in meta.yaml{cap}",
    step_cap: "; at most {cap} new per hour",
    halt_reason: "{stuck} of the {finished} devices that downloaded it are stuck ({share}, above \
                  halt_when_stuck_percent {threshold})",
    admissions_restored: "inventory: {count} rollout admissions restored",
    admissions_unreadable: "inventory: cannot read rollout admissions: {why}",
    watch_unreadable: "rollout watch: cannot read the inventory: {why}; trying again",
    writer_not_started: "cannot start the inventory writer: {why}",
    writer_late: "the inventory writer did not finish in time; its last records are lost",
    records_lost: "inventory: {count} records could not be written before the stop",
    pruned: "inventory: pruned {count} rows older than {days} days",
    cannot_prune: "inventory: cannot prune old rows: {why}",
    cannot_write: "inventory {store}: {why}; devices are still answered, records wait and are \
                   retried",
    writing_again: "inventory {store}: writing again",
    unreadable_build_date: "inventory: {why}; taken as unknown and written over",
    pg_sslmode_form: "inventory: sslmode={value} is not understood; sslmode must be {forms}",
    pg_twice: "inventory: {key} is given twice in the PostgreSQL URL",
    pg_rootcert_empty: "inventory: sslrootcert is empty; it must name a file of CA certificates \
                        (PEM)",
    pg_unsupported: "inventory: {key} is not supported in the PostgreSQL URL (no client \
                     certificates); the TLS keys understood are sslmode and sslrootcert",
    pg_needs_rootcert: "inventory: sslmode={mode} needs sslrootcert=<file of the CA \
                        certificates (PEM) that signed the server's certificate>",
    pg_disable_with_rootcert: "inventory: sslrootcert is given but sslmode=disable uses no TLS; \
                               drop one of them",
    pg_not_understood: "inventory: the PostgreSQL URL is not understood: {why}",
    pg_rootcert_not_file: "inventory: sslrootcert {file} is not a regular file; it must be a \
                           file of CA certificates (PEM)",
    pg_rootcert_unreadable: "inventory: sslrootcert {file} cannot be read: {why}",
    pg_rootcert_too_large: "inventory: sslrootcert {file} is larger than {mib} MiB; it must be a \
                            file of CA certificates (PEM)",
    pg_rootcert_not_pem: "inventory: sslrootcert {file} is not valid PEM: {why}",
    pg_rootcert_empty_file: "inventory: sslrootcert {file} holds no certificate; it must hold \
                             the CA certificates (PEM, -----BEGIN CERTIFICATE-----)",
    halts_unreadable: "inventory: cannot read the rollouts' halts: {why}",
    stages_unreadable: "inventory: cannot read the rollouts' stages: {why}",
    stages_failing: "rollout watch: cannot step the rollouts' stages: {why}; every stage \
                     stays where it stands until this is fixed",
    // audit: the audit trail (branch audit).
    audit_appended: "audit: record {seq} ({action} {subject} by {actor}: {result}); head {head}",
    audit_pruned: "audit: pruned records before {first} (older than {days} days); checkpoint record {seq} carries {hash}",
    audit_failing: "audit: cannot append to the trail ({count} records wait, retried): {why}",
};

// groups: device groups (`groups.yaml`).
pub static GROUPS: super::groups::GroupsText = super::groups::GroupsText {
    not_a_list: "expected a list of groups (each starting with \"- name:\"), not {kind}",
    yaml_invalid: "not valid YAML: {why}",
    too_large: "larger than {mib} MiB; a groups file holds names, networks and serials",
    too_many_groups: "{count} groups, more than the {max} allowed",
    missing: "the file does not exist",
    not_regular: "not a regular file",
    cannot_read: "cannot read: {why}",
    still_using: "{reason}; still using the {count} groups loaded before",
    group_number: "group {number}",
    group_named: "group {name}",
    entry_not_mapping: "{group}: expected name, networks, serials and time_zone, not {kind}",
    unknown_key: "{group}: unknown key `{key}` (allowed: {keys}){hint}",
    wrong_kind: "{group}: {key}: expected {form}, not {kind}",
    missing_name: "{group}: `name` is missing (expected a name, like \"OOO Romashka\")",
    name_too_long: "{group}: the name is longer than {max} characters",
    name_control: "{group}: the name holds a line break, a tab, or another control or \
                   text-direction character; expected one line of plain text",
    name_repeated: "{group}: the name is taken already ({first}); names must differ, upper and \
                    lower case alike",
    networks_key: "{group}: networks",
    too_many_networks: "{group}: networks: {count} entries, more than the {max} allowed",
    too_many_serials: "{group}: serials: {count} entries, more than the {max} allowed",
    bad_serial: "{group}: serials: {value} is not a serial number (expected 16 digits in \
                 quotes, like \"0000000000012345\")",
    bad_time_zone: "{group}: time_zone: {value} is not an IANA time zone (expected a name like \
                    Europe/Moscow or Asia/Vladivostok){hint}",
    inverted_offset: "{group}: time_zone: {value} means {utc}: in the Etc/GMT names the sign is \
                      inverted (Etc/GMT+3 is three hours behind UTC, not Moscow time); name \
                      the stores' city zone instead, like Europe/Moscow or Asia/Vladivostok",
    forms: &[
        ("name", "a name in quotes, like \"OOO Romashka\""),
        (
            "networks",
            "a list of addresses or networks, like [10.1.0.0/16, 192.0.2.15]",
        ),
        (
            "serials",
            "a list of serial numbers, like [\"0000000000012345\"]",
        ),
        ("time_zone", "an IANA time zone, like Europe/Moscow"),
        ("serial", "16 digits in quotes, like \"0000000000012345\""),
        ("network", "an address or network, like 10.1.0.0/16"),
    ],
    loaded: "groups: {count} in {file}{names}",
    none_loaded: "groups: none loaded from {file}",
    changed: "groups now: {count}{names}",
    pilot_group_unknown: "rollout.pilot_groups: no group is named {name} (known: {known}){hint}; \
                          it admits nobody until one is",
    pilot_groups_without_file: "rollout.pilot_groups: names groups, but no groups file is set \
                                (`groups:` in server.yaml); it admits nobody",
    known_none: "none",
    stale_kept: "Still using the groups loaded before it broke:",
    stale_none: "No groups are used until the file loads: every register counts as in no group \
                 (rollout windows in the server's time zone, no pilot groups).",
    kept_outside_window: "New registers of the group {group} are admitted only within the \
                          window {window} ({zone} time), and it is {time} there now.",
    // views (branch `views`).
    operator_group_unknown: "operators: the operator {operator} is limited to the group {name}, \
                             which the groups file does not have (known: {known}){hint}; it \
                             sees no register of it until the names match",
    operator_groups_without_file: "operators: the operator {operator} is limited to groups, but \
                                   no groups file is set (`groups:` in server.yaml); it sees no \
                                   register",
};
