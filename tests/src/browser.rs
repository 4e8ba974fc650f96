//! A real browser for the web UI's tests: Debian's headless Chromium,
//! driven over WebDriver by its `chromedriver` (fantoccini as the client).
//! `scripts/ensure-chromium.sh` (run by `scripts/test.sh`) installs both;
//! `CONTINUUM_CHROMIUM` and `CONTINUUM_CHROMEDRIVER` name other binaries.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// A headless Chromium session, its driver killed (with the browser) when
/// dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    killed: bool,
}

fn binary(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "{} is missing: the web UI's browser test needs Chromium and chromedriver; run scripts/ensure-chromium.sh \
         (apt-get install chromium chromium-driver) or set {var}",
        path.display()
    );
    path
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless
    /// Chromium session of 1280x1000.
    pub async fn start() -> Browser {
        let chromium = binary("CONTINUUM_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("CONTINUUM_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        // Its own process group, so that dropping it kills the browser too.
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        let args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--no-first-run"];
        caps.insert("goog:chromeOptions".into(), json!({"binary": chromium, "args": args}));
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let start = Instant::now();
        let client = loop {
            match builder.connect(&url).await {
                Ok(c) => break c,
                Err(_) if start.elapsed() < Duration::from_secs(30) => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => panic!("no WebDriver session from {} within 30 s: {e}", chromedriver.display()),
            }
        };
        Browser { client, driver, killed: false }
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The first element matching `css`, waiting up to `timeout` for it.
    pub async fn find(&self, css: &str, timeout: Duration) -> Element {
        match self.client.wait().at_most(timeout).for_element(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) => panic!("no element {css} within {timeout:?}: {e}\npage text:\n{}", self.page_text().await),
        }
    }

    /// Waits until the text of the element `css` satisfies `ok`; returns it.
    pub async fn wait_text(&self, css: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < timeout {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = el.text().await {
                    if ok(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the text of {css} was still {last:?} after {timeout:?}\npage text:\n{}", self.page_text().await)
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css, Duration::from_secs(10)).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks the element `css`, again if the page redrew it between the
    /// finding and the click (a live page does).
    pub async fn click(&self, css: &str) {
        let start = Instant::now();
        loop {
            let el = self.find(css, Duration::from_secs(10)).await;
            match el.click().await {
                Ok(()) => return,
                Err(e) if start.elapsed() > Duration::from_secs(10) => panic!("click {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Picks the option of value `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let el = self.find(css, Duration::from_secs(10)).await;
        el.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Runs `script` in the page; its return value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("run {script}: {e}"))
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("a screenshot")
    }

    /// The page's visible text (for failure messages; empty if unreadable).
    pub async fn page_text(&self) -> String {
        match self.client.execute("return document.body ? document.body.innerText : ''", vec![]).await {
            Ok(Value::String(text)) => text,
            _ => String::new(),
        }
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill();
    }

    fn kill(&mut self) {
        if std::mem::replace(&mut self.killed, true) {
            return;
        }
        let pgid = self.driver.id().to_string();
        let _ = Command::new("kill").args(["-KILL", &format!("-{pgid}")]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}
