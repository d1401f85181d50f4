//! A headless Chromium driven over the Chrome DevTools protocol (one
//! WebSocket to the browser, one page session), for the report tests:
//! console errors, exceptions, network requests, in-page checks and
//! screenshots. Every wait is bounded.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// The chromium binary: $BTCSNIFF_CHROMIUM, else `chromium` or
/// `chromium-browser` on the PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BTCSNIFF_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// What a page did while it loaded.
#[derive(Debug, Default)]
pub struct PageLog {
    /// Console errors, uncaught exceptions, log entries of level error
    /// (CSP violations are such).
    pub errors: Vec<String>,
    /// Every request but the page's own document.
    pub requests: Vec<String>,
}

pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    session: String,
    profile: PathBuf,
    pub log: PageLog,
    page_url: String,
}

const STEP: Duration = Duration::from_secs(30);

impl Browser {
    /// Starts headless Chromium with a fresh profile in `scratch` and
    /// opens a blank page session of `width` x `height` CSS pixels.
    pub fn start(chromium: &Path, scratch: &Path, width: u32, height: u32) -> Browser {
        let profile = scratch.join("chromium-profile");
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("profile dir");
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(STEP) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not announce its DevTools port within {STEP:?}");
            }
        };
        let host = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host:port")
            .to_string();
        let stream = TcpStream::connect(&host).expect("connect to DevTools");
        stream.set_read_timeout(Some(STEP)).expect("read timeout");
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("DevTools handshake");
        let mut browser = Browser {
            child,
            ws,
            next_id: 0,
            session: String::new(),
            profile,
            log: PageLog::default(),
            page_url: String::new(),
        };
        let target = browser.call_browser("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = browser.call_browser(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        for domain in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            browser.call(domain, json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> u64 {
        self.next_id += 1;
        let mut msg = json!({"id": self.next_id, "method": method, "params": params});
        if session {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to DevTools");
        self.next_id
    }

    /// Reads messages until the answer to `id` (recording events on the
    /// way), within [`STEP`].
    fn answer(&mut self, id: u64, method: &str) -> Value {
        let start = Instant::now();
        loop {
            assert!(
                start.elapsed() < STEP,
                "no answer to {method} within {STEP:?}"
            );
            let msg = self.read();
            if msg["id"].as_u64() == Some(id) {
                if let Some(err) = msg.get("error") {
                    panic!("{method}: {err}");
                }
                return msg["result"].clone();
            }
            self.record(&msg);
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("read from DevTools") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("CDP JSON"),
                Message::Close(_) => panic!("DevTools closed the connection"),
                _ => {}
            }
        }
    }

    fn record(&mut self, msg: &Value) {
        let params = &msg["params"];
        match msg["method"].as_str() {
            Some("Runtime.consoleAPICalled") => {
                let kind = params["type"].as_str().unwrap_or("");
                if kind == "error" || kind == "assert" {
                    self.log
                        .errors
                        .push(format!("console.{kind}: {}", params["args"]));
                }
            }
            Some("Runtime.exceptionThrown") => self
                .log
                .errors
                .push(format!("exception: {}", params["exceptionDetails"])),
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => self
                .log
                .errors
                .push(format!("log: {}", params["entry"]["text"])),
            Some("Network.requestWillBeSent") => {
                let url = params["request"]["url"].as_str().unwrap_or("").to_string();
                if url != self.page_url {
                    self.log.requests.push(url);
                }
            }
            _ => {}
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, false);
        self.answer(id, method)
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, true);
        self.answer(id, method)
    }

    /// Opens `file` and waits for its load event.
    pub fn open(&mut self, file: &Path) -> Duration {
        self.log = PageLog::default();
        let file = file.canonicalize().expect("page path");
        self.page_url = format!("file://{}", file.display());
        let start = Instant::now();
        let url = self.page_url.clone();
        self.call("Page.navigate", json!({"url": url}));
        loop {
            assert!(start.elapsed() < STEP, "{url} did not load within {STEP:?}");
            let msg = self.read();
            if msg["method"] == "Page.loadEventFired" {
                return start.elapsed();
            }
            self.record(&msg);
        }
    }

    /// The value of a JavaScript expression in the page (JSON-able).
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self) -> Vec<u8> {
        use base64::Engine;
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("screenshot data"))
            .expect("base64 PNG")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
