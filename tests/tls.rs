//! HTTPS listings, verified against the roots the system names. `SSL_CERT_FILE` names them
//! here, as operators behind an intercepting proxy do; on Linux and the BSDs the platform
//! verifier honours it (macOS, Windows and Android ask the OS, so these tests do not run there).
#![cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    Case, ReadItem, Route, TestServer, cases, dateline, feed_entry, fixtures_dir, read_feed,
    write_config,
};

fn tls_fixture(name: &str) -> PathBuf {
    fixtures_dir().join("tls").join(name)
}

struct HttpsSite {
    dir: tempfile::TempDir,
    config: PathBuf,
    server: TestServer,
    path: String,
    expected: Vec<String>,
    now: String,
}

/// The 經濟日報 fixture case and its page.
fn udn_case() -> (Case, Vec<u8>) {
    let (_, case, page) = cases("select")
        .into_iter()
        .find(|(name, _, _)| name == "udn-utf8-undeclared")
        .expect("fixture udn-utf8-undeclared");
    (case, page)
}

/// The 經濟日報 fixture served over HTTPS as feed `news`.
fn https_site() -> HttpsSite {
    let (case, page) = udn_case();
    let server = TestServer::start_https();
    server.route(&case.path, Route::page(&case.content_type, page));
    let dir = tempfile::tempdir().unwrap();
    let select = toml::to_string(case.select.as_ref().unwrap()).unwrap();
    let feeds = format!(
        "[[feeds]]\nid = \"news\"\nurl = \"{}\"\ntimezone = \"{}\"\n\n[feeds.select]\n{select}",
        server.url(&case.path),
        case.timezone
    );
    let config = write_config(dir.path(), &feeds);
    HttpsSite {
        dir,
        config,
        server,
        path: case.path,
        expected: case.expect.iter().map(|e| e.title.clone()).collect(),
        now: case.now,
    }
}

impl HttpsSite {
    fn build_trusting(&self, roots: &Path) -> Output {
        dateline()
            .arg("--config")
            .arg(&self.config)
            .args(["build", "--now", &self.now])
            .env("SSL_CERT_FILE", roots)
            .env_remove("SSL_CERT_DIR")
            .output()
            .unwrap()
    }

    /// Requests for the listing that reached the server's routes.
    fn served(&self) -> usize {
        self.server
            .seen()
            .iter()
            .filter(|seen| seen.path == self.path)
            .count()
    }

    fn items(&self) -> Vec<ReadItem> {
        read_feed(&self.dir.path().join("public/news.atom")).1
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A run that failed some feeds (exit 2), and its error line for feed `news`.
fn news_error(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let text = stderr(output);
    text.lines()
        .find(|l| l.starts_with("error: feed news: "))
        .unwrap_or_else(|| panic!("no error naming the HTTPS feed: {text}"))
        .to_string()
}

#[test]
fn an_https_listing_is_read_when_its_issuer_is_among_the_system_roots() {
    let site = https_site();
    let output = site.build_trusting(&tls_fixture("ca.pem"));
    assert!(output.status.success(), "{}", stderr(&output));
    let titles: Vec<String> = site.items().into_iter().map(|i| i.title).collect();
    assert_eq!(titles, site.expected);
    assert_eq!(site.served(), 1);
}

#[test]
fn an_https_listing_signed_by_an_unknown_issuer_fails_its_feed_and_keeps_its_files() {
    let site = https_site();
    assert!(site.build_trusting(&tls_fixture("ca.pem")).status.success());
    let before = site.items();
    assert!(!before.is_empty());
    assert_eq!(site.served(), 1);
    let requests = site.server.seen().len();

    // Roots that do not include the site's issuer: the handshake fails, no request is made.
    let error = news_error(&site.build_trusting(&tls_fixture("other-ca.pem")));
    assert!(
        error.to_lowercase().contains("certificate"),
        "the cause is not named: {error}"
    );
    assert_eq!(site.server.seen().len(), requests, "a request got through");
    assert_eq!(site.items(), before, "published items changed");
}

#[test]
fn without_system_roots_only_the_https_feed_fails_and_a_plain_http_feed_is_built() {
    let site = https_site();
    let plain = TestServer::start();
    let (case, page) = udn_case();
    plain.route(&case.path, Route::page(&case.content_type, page));
    let mut config = std::fs::read_to_string(&site.config).unwrap();
    config.push('\n');
    config.push_str(&feed_entry("plain", &plain, &case));
    std::fs::write(&site.config, config).unwrap();

    // A CA bundle with no certificate in it, as on a machine without ca-certificates.
    let empty = site.dir.path().join("no-roots.pem");
    std::fs::write(&empty, "").unwrap();
    let output = site.build_trusting(&empty);
    let error = news_error(&output);
    let text = stderr(&output);
    assert!(
        error.contains("CA certificates"),
        "the cause is not named: {error}"
    );
    assert!(
        !text.contains("feed plain"),
        "the plain HTTP feed failed: {text}"
    );
    assert_eq!(
        site.served(),
        0,
        "a request got through without a handshake"
    );
    let (_, items) = read_feed(&site.dir.path().join("public/plain.atom"));
    let titles: Vec<String> = items.into_iter().map(|i| i.title).collect();
    assert_eq!(titles, site.expected);
}
