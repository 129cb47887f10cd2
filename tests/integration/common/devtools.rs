//! Headless Chromium driven over the DevTools protocol, for tests that click through the
//! dashboard as an operator does (log in, choose a file, press a button). The protocol
//! runs over a pair of pipes (`--remote-debugging-pipe`: Chromium reads commands from its
//! fd 3 and writes answers and events to its fd 4, each message a JSON text ended by a NUL
//! byte), so no port is opened and no WebSocket client is needed. Every wait has a
//! deadline; the browser is killed when the `Browser` is dropped.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long one protocol command may take.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// A headless Chromium with one page, attached.
pub struct Browser {
    child: Child,
    commands: std::io::PipeWriter,
    messages: Receiver<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` (from `common::chromium`) with a fresh profile and attaches to its
    /// page.
    pub fn start(chromium: &str) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let (their_commands, commands) = std::io::pipe().expect("pipe");
        let (answers, their_answers) = std::io::pipe().expect("pipe");
        let read_fd = their_commands.as_raw_fd();
        let write_fd = their_answers.as_raw_fd();
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Out of the way first, so that neither end lands on the other's number.
                let high_read = libc::fcntl(read_fd, libc::F_DUPFD, 10);
                let high_write = libc::fcntl(write_fd, libc::F_DUPFD, 10);
                if high_read < 0
                    || high_write < 0
                    || libc::dup2(high_read, 3) < 0
                    || libc::dup2(high_write, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start chromium");
        drop(their_commands);
        drop(their_answers);
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(answers);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                message.pop_if(|b| *b == 0);
                if let Ok(value) = serde_json::from_slice::<Value>(&message) {
                    if sender.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            commands,
            messages,
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let targets = browser.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["type"] == "page"))
            .map(|t| t["targetId"].clone())
            .unwrap_or_else(|| {
                browser.call("Target.createTarget", json!({"url": "about:blank"}))["targetId"]
                    .clone()
            });
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": page, "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser.page("Page.enable", json!({}));
        browser.page("Runtime.enable", json!({}));
        browser
    }

    /// Sends a command to the browser itself and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    /// Sends a command to the page and waits for its result.
    pub fn page(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.try_send(method, params, session)
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    fn try_send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("json");
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .map_err(|e| format!("cannot write to chromium: {e}"))?;
        let deadline = Instant::now() + ANSWER_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(answer) if answer["id"] == id => {
                    if let Some(error) = answer.get("error") {
                        return Err(error.to_string());
                    }
                    return Ok(answer["result"].clone());
                }
                // An event, or an answer to an earlier command: not this one's.
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return Err("no answer in time".into()),
                Err(RecvTimeoutError::Disconnected) => return Err("chromium is gone".into()),
            }
        }
    }

    /// Evaluates `expression` in the page; its value, or the exception's text.
    pub fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let session = self.session.clone();
        let result = self.try_send(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            Some(&session),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(exception.to_string());
        }
        Ok(result["result"]["value"].clone())
    }

    /// Evaluates `expression`, which must not throw.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|error| panic!("{expression}: {error}"))
    }

    /// Waits until `expression` is true in the page (a page still loading counts as not
    /// yet), at most `timeout`.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.try_eval(expression).is_ok_and(|v| v == json!(true)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expression}; the page: {}",
                self.try_eval("location.href + '\\n' + document.body.innerText")
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens `url` and waits until its page has loaded.
    pub fn open(&mut self, url: &str) {
        self.page("Page.navigate", json!({"url": url}));
        self.wait_for(
            &format!(
                "location.href === {} && document.readyState === 'complete'",
                json!(url)
            ),
            ANSWER_WAIT,
        );
    }

    /// Runs `action` (a click, a submit) that leaves the page, and waits until the next
    /// page has loaded.
    pub fn leave_by(&mut self, action: &str) {
        self.eval("window.__left_behind = true");
        self.eval(action);
        self.wait_for(
            "window.__left_behind === undefined && document.readyState === 'complete'",
            ANSWER_WAIT,
        );
    }

    /// Chooses `files` in the file input `selector`, as an operator does in the dialog.
    pub fn choose_files(&mut self, selector: &str, files: &[&Path]) {
        let document = self.page("DOM.getDocument", json!({}));
        let node = self.page(
            "DOM.querySelector",
            json!({"nodeId": document["root"]["nodeId"], "selector": selector}),
        );
        let node_id = node["nodeId"].as_u64().expect("a node");
        assert_ne!(node_id, 0, "no {selector} in the page");
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        self.page(
            "DOM.setFileInputFiles",
            json!({"nodeId": node_id, "files": files}),
        );
    }

    /// Makes the page's window `width` px wide (a phone's, with its font scaling off).
    pub fn set_width(&mut self, width: u32) {
        self.page(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
