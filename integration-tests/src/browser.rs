//! Headless Chromium driven over WebDriver: Debian's `chromium` and `chromium-driver`
//! (`chromedriver`), the driver started on a free 127.0.0.1 port and killed on drop.
//! A missing browser or driver is a test failure (see `require_tool`).

use crate::require_tool;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running chromedriver.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    pub fn start() -> Driver {
        require_tool("chromium");
        require_tool("chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("chromedriver")
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A new headless browser session, `width`×`height`.
    pub async fn session(&self, width: u32, height: u32) -> Client {
        let binary = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
            .expect("chromium on PATH");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                    format!("--window-size={width},{height}"),
                ],
            }
        });
        let caps = caps.as_object().cloned().unwrap_or_default();
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a chromium session")
    }
}

impl Drop for Driver {
    /// Ask chromedriver to quit every session (closing their browsers, which killing it
    /// would orphan when a test panics before `Client::close`), then stop it.
    fn drop(&mut self) {
        let _ = ureq::get(&format!("{}/shutdown", self.url))
            .timeout(Duration::from_secs(10))
            .call();
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Save a PNG screenshot of the page as `<dir>/<name>.png`.
pub async fn shot(c: &Client, dir: &Path, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// The text of the first element matching `css`, waiting up to 10 s for it.
pub async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Replace the value of the input matching `css`.
pub async fn fill(c: &Client, css: &str, value: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

/// Click the element matching `css`.
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Mark the current document, so that [`wait_for_new_page`] can tell it was replaced.
async fn mark(c: &Client) {
    c.execute("window.__pierOld = true;", vec![]).await.unwrap();
}

/// Wait (up to 15 s) until the marked document was replaced by a fully loaded one.
async fn wait_for_new_page(c: &Client, after: &str) {
    let script = "return window.__pierOld === undefined && document.readyState === 'complete';";
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(serde_json::Value::Bool(true)) = c.execute(script, vec![]).await {
            return;
        }
        assert!(Instant::now() < deadline, "no new page after {after}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Click a link or submit button matching `css` and wait for the page it leads to.
pub async fn navigate_by(c: &Client, css: &str) {
    mark(c).await;
    click(c, css).await;
    wait_for_new_page(c, css).await;
}

/// Click a button of a `form.confirm`, accept the confirmation dialog, wait for the
/// page the form leads to.
pub async fn click_confirmed(c: &Client, css: &str) {
    mark(c).await;
    click(c, css).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.accept_alert().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "no confirmation dialog after {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_new_page(c, css).await;
}

/// Does the page's source contain `needle`?
pub async fn page_has(c: &Client, needle: &str) -> bool {
    c.source().await.unwrap().contains(needle)
}
