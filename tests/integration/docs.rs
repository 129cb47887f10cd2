//! The documentation a newcomer follows must not lead anywhere that is not there: README.md
//! and the guides in docs/ are read by people who copy their links, commands and paths
//! verbatim. This holds them to the repository (every relative link and `#anchor`), to the
//! binary (every `kkt-update-server <command>` README names), and to the packages (every
//! absolute install path README names is one the packages create), and keeps README short.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// README.md and every Markdown file below docs/.
fn documents() -> Vec<PathBuf> {
    let mut found = vec![root().join("README.md")];
    let mut folders = vec![root().join("docs")];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("docs/ can be listed") {
            let path = entry.expect("a docs/ entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The text outside fenced code blocks, line by line (commands in blocks are not links).
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// The targets of the `[text](target)` links of a document.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_` kept, spaces
/// to `-`, everything else (backquotes, punctuation) dropped.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every anchor a Markdown file offers (a repeated heading gets `-1`, `-2`, … as on GitHub).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading.trim());
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

#[test]
fn every_relative_link_points_to_a_file_that_exists() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in documents() {
        let text = read(&document);
        let folder = document.parent().expect("a document is in a folder");
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                document.clone()
            } else {
                folder.join(file)
            };
            let name = document.strip_prefix(root()).unwrap_or(&document).display();
            if !path.exists() {
                broken.push(format!("{name}: {target}: no such file"));
                continue;
            }
            if !anchor.is_empty()
                && path.extension().is_some_and(|e| e == "md")
                && !anchors(&read(&path)).contains(anchor)
            {
                broken.push(format!("{name}: {target}: no such heading"));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} relative links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The subcommands a `--help` lists under "Commands:".
fn subcommands(args: &[&str]) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_kkt-update-server"))
        .args(args)
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{args:?} --help failed");
    let help = String::from_utf8(output.stdout).expect("--help is UTF-8");
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Each `kkt-update-server <word>` (or `kkt-update-server.exe <word>`) in a text, with the
/// word after it, where the word is a lower-case command-like word.
fn commands_named(text: &str) -> Vec<(String, Option<String>)> {
    let mut named = Vec::new();
    for name in ["kkt-update-server ", "kkt-update-server.exe "] {
        let mut rest = text;
        while let Some(at) = rest.find(name) {
            let after = &rest[at + name.len()..];
            rest = after;
            let mut words = after.split([' ', '`', '\n']);
            let first = words.next().unwrap_or("");
            if first.is_empty() || !first.chars().all(|c| c.is_ascii_lowercase()) {
                continue;
            }
            let second = words
                .next()
                .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
                .map(str::to_string);
            named.push((first.to_string(), second));
        }
    }
    named
}

#[test]
fn every_command_readme_names_exists_in_the_binary() {
    let top = subcommands(&[]);
    let service = subcommands(&["service"]);
    assert!(
        top.contains("publish") && service.contains("install"),
        "{top:?} {service:?}"
    );
    let readme = read(&root().join("README.md"));
    let named = commands_named(&readme);
    let mut missing = Vec::new();
    for (command, next) in &named {
        if !top.contains(command) {
            missing.push(command.clone());
        } else if command == "service" {
            match next {
                Some(sub) if service.contains(sub) => {}
                other => missing.push(format!("service {other:?}")),
            }
        }
    }
    let distinct: BTreeSet<&str> = named.iter().map(|(c, _)| c.as_str()).collect();
    for expected in ["check", "publish", "service"] {
        assert!(distinct.contains(expected), "README names no `{expected}`");
    }
    assert!(
        missing.is_empty(),
        "README names commands the binary does not have: {missing:?} (it has {top:?})"
    );
}

/// What the packages install and create, as absolute paths. Each is checked against the
/// packaging files below, so this list cannot drift from them.
const PACKAGED: &[&str] = &[
    "/usr/bin/kkt-update-server",
    "/etc/kkt-update-server",
    "/etc/kkt-update-server/server.yaml",
    "/etc/kkt-update-server/environment",
    "/var/lib/kkt-update-server",
    "/var/lib/kkt-update-server/firmware",
    "/var/lib/kkt-update-server/licenses",
    "/var/lib/kkt-update-server/inventory.sqlite",
    "/usr/share/doc/kkt-update-server",
    "/usr/share/doc/kkt-update-server/examples",
];

/// Where the packages' paths are defined: cargo-deb's assets (without the leading `/`),
/// the conffile, the maintainer script, and the unit the package's unit is made from.
fn packaging_text() -> String {
    [
        "Cargo.toml",
        "packaging/debian/server.yaml",
        "packaging/debian/postinst",
        "packaging/build.sh",
        "contrib/kkt-update-server.service",
    ]
    .iter()
    .map(|file| read(&root().join(file)))
    .collect::<Vec<_>>()
    .join("\n")
}

#[test]
fn the_packaged_paths_listed_here_are_the_packages_own() {
    let packaging = packaging_text();
    for path in PACKAGED {
        assert!(
            packaging.contains(path) || packaging.contains(&path[1..]),
            "{path} is in no packaging file"
        );
    }
}

/// The absolute Unix paths a text names under the folders an installation uses.
fn install_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for prefix in ["/etc/", "/var/", "/srv/", "/usr/", "/opt/"] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| c.is_whitespace() || "`)(,\"';<>|*{".contains(c))
                .unwrap_or(tail.len());
            rest = &tail[end..];
            // A path inside a longer one (`target/release/…`) or a URL is not an install path.
            if before.is_some_and(|c| c.is_alphanumeric() || "/.-_".contains(c)) {
                continue;
            }
            found.insert(tail[..end].trim_end_matches(['/', '.', ':']).to_string());
        }
    }
    found
}

#[test]
fn every_install_path_readme_names_is_a_packaged_one() {
    let readme = read(&root().join("README.md"));
    let paths = install_paths(&readme);
    assert!(
        paths.contains("/etc/kkt-update-server/server.yaml")
            && paths.contains("/var/lib/kkt-update-server/firmware"),
        "README names no install path: {paths:?}"
    );
    let strangers: Vec<&String> = paths
        .iter()
        .filter(|p| !PACKAGED.contains(&p.as_str()))
        .collect();
    assert!(
        strangers.is_empty(),
        "README names paths the packages do not create: {strangers:?}"
    );
}

#[test]
fn no_document_names_the_old_layouts() {
    for document in documents() {
        let text = read(&document);
        for old in ["/srv/kkt", "/etc/kkt/"] {
            assert!(
                !text.contains(old),
                "{} still names {old}: the packaged paths are /etc/kkt-update-server and /var/lib/kkt-update-server",
                document.display()
            );
        }
    }
}

#[test]
fn readme_is_short() {
    let before = read(&root().join("README.md"));
    let lines = before.lines().count();
    assert!(
        lines <= 300,
        "README is {lines} lines: move the rest into docs/"
    );
    for section in ["## Change the port", "## Install", "## Where to go next"] {
        assert!(before.contains(section), "README has no {section:?}");
    }
    let port = before.find("## Change the port").expect("checked above");
    let install = before.find("## Install").expect("checked above");
    assert!(port < install, "the port change comes before the install");
}

#[test]
fn the_helpers_read_what_they_should() {
    assert_eq!(
        slug("HTTPS without a proxy (native TLS), with certbot"),
        "https-without-a-proxy-native-tls-with-certbot"
    );
    assert_eq!(
        slug("Check a deployment: `kkt-update-server check`"),
        "check-a-deployment-kkt-update-server-check"
    );
    assert_eq!(slug("Сменить порт"), "сменить-порт");
    assert_eq!(
        link_targets("see [a](docs/a.md#x) and [b](https://e.org) `c`\n```\n[d](e)\n```\n"),
        ["docs/a.md#x", "https://e.org"]
    );
    assert_eq!(
        commands_named("run `kkt-update-server check --config x` or kkt-update-server.exe service install; kkt-update-server.socket, kkt-update-server_0.1.0"),
        [
            ("check".to_string(), None),
            ("service".to_string(), None),
        ]
    );
    assert_eq!(
        install_paths("a `/etc/kkt-update-server/server.yaml`, target/release/x /usr/bin/ and https://h/var/x"),
        BTreeSet::from(["/etc/kkt-update-server/server.yaml".to_string(), "/usr/bin".to_string()])
    );
}
