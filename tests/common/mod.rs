//! Shared pieces of the end-to-end tests: a real HTTP server on 127.0.0.1 serving fixture pages,
//! the fixture cases, and readers for the feeds the binary writes.
#![allow(dead_code)] // each test binary uses its own share of these helpers

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

pub mod loopback;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
    /// Send the body in chunks without a Content-Length, as streaming servers do.
    pub chunked: bool,
    /// Answer 304 to a request whose If-None-Match carries this ETag.
    pub etag: Option<String>,
}

impl Route {
    pub fn page(content_type: &str, body: Vec<u8>) -> Route {
        Route {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body,
            delay: Duration::ZERO,
            chunked: false,
            etag: None,
        }
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: format!("<html><body>status {status}</body></html>").into_bytes(),
            delay: Duration::ZERO,
            chunked: false,
            etag: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Answered with this ETag, and 304 to a request that sends it back.
    pub fn etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub at: std::time::Instant,
}

/// An in-process HTTP server on 127.0.0.1 with its own runtime thread.
pub struct TestServer {
    pub origin: String,
    routes: Arc<Mutex<HashMap<String, Vec<Route>>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_on("http", |tcp| tcp)
    }

    /// The same server over HTTPS, with `tests/fixtures/tls`' certificate for 127.0.0.1 (signed
    /// by the test CA `ca.pem` there). A client that refuses it never reaches the routes.
    #[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
    pub fn start_https() -> TestServer {
        let acceptor = tls::acceptor();
        TestServer::start_on("https", move |tcp| tls::Listener { tcp, acceptor })
    }

    /// Serve the routes on a fresh 127.0.0.1 port, taking connections through `listen`.
    fn start_on<L>(
        scheme: &str,
        listen: impl FnOnce(tokio::net::TcpListener) -> L + Send + 'static,
    ) -> TestServer
    where
        L: axum::serve::Listener,
        L::Addr: std::fmt::Debug,
    {
        let routes: Arc<Mutex<HashMap<String, Vec<Route>>>> = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (routes_srv, seen_srv) = (routes.clone(), seen.clone());
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let routes = routes_srv.clone();
            let seen = seen_srv.clone();
            async move { answer(request, &routes, &seen).await }
        });
        let addr = loopback::serve(2, listen, app);
        TestServer {
            origin: format!("{scheme}://{addr}"),
            routes,
            seen,
        }
    }

    pub fn route(&self, path_and_query: &str, route: Route) {
        self.sequence(path_and_query, vec![route]);
    }

    /// Answer with each route in turn; the last one answers every later request.
    pub fn sequence(&self, path_and_query: &str, routes: Vec<Route>) {
        assert!(!routes.is_empty());
        self.routes
            .lock()
            .unwrap()
            .insert(path_and_query.to_string(), routes);
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.origin, path_and_query)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Connections over TLS, for `TestServer::start_https`.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
mod tls {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    pub fn acceptor() -> tokio_rustls::TlsAcceptor {
        let dir = super::fixtures_dir().join("tls");
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.join("server.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    pub struct Listener {
        pub tcp: tokio::net::TcpListener,
        pub acceptor: tokio_rustls::TlsAcceptor,
    }

    impl axum::serve::Listener for Listener {
        type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                let Ok((tcp, addr)) = self.tcp.accept().await else {
                    continue;
                };
                // A client that does not trust the certificate ends here.
                if let Ok(tls) = self.acceptor.accept(tcp).await {
                    return (tls, addr);
                }
            }
        }

        fn local_addr(&self) -> std::io::Result<SocketAddr> {
            self.tcp.local_addr()
        }
    }
}

async fn answer(
    request: Request<Body>,
    routes: &Mutex<HashMap<String, Vec<Route>>>,
    seen: &Mutex<Vec<Seen>>,
) -> Response<Body> {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers: request.headers().clone(),
        at: std::time::Instant::now(),
    });
    let route = {
        let mut routes = routes.lock().unwrap();
        routes.get_mut(&path).map(|list| {
            if list.len() > 1 {
                list.remove(0)
            } else {
                list[0].clone()
            }
        })
    };
    let Some(route) = route else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .unwrap();
    };
    if !route.delay.is_zero() {
        tokio::time::sleep(route.delay).await;
    }
    if let Some(etag) = &route.etag {
        let matches = request
            .headers()
            .get("if-none-match")
            .is_some_and(|v| v.to_str().unwrap_or("") == etag);
        if matches {
            return Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .header("etag", etag)
                .body(Body::empty())
                .unwrap();
        }
    }
    let mut response = Response::builder().status(route.status);
    for (name, value) in &route.headers {
        response = response.header(name, value);
    }
    if let Some(etag) = &route.etag {
        response = response.header("etag", etag);
    }
    if route.chunked {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = route
            .body
            .chunks(64 * 1024)
            .map(|c| Ok(c.to_vec()))
            .collect();
        return response
            .body(Body::from_stream(futures::stream::iter(chunks)))
            .unwrap();
    }
    response.body(Body::from(route.body)).unwrap()
}

/// A fixture case: a page, how it is served, and the items it must give.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub path: String,
    pub content_type: String,
    pub now: String,
    pub timezone: String,
    #[serde(default)]
    pub select: Option<toml::Table>,
    #[serde(default)]
    pub json: Option<toml::Table>,
    #[serde(default)]
    pub expect: Vec<Expected>,
    #[serde(default)]
    pub alternative: Vec<Expected>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct Expected {
    pub title: String,
    pub link: String,
    pub date: Option<String>,
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every case under `tests/fixtures/{kind}`, sorted by name.
pub fn cases(kind: &str) -> Vec<(String, Case, Vec<u8>)> {
    let dir = fixtures_dir().join(kind);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("case.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let folder = dir.join(&name);
            let text = std::fs::read_to_string(folder.join("case.toml")).unwrap();
            let case: Case = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let page = std::fs::read(folder.join("page.html")).unwrap();
            (name, case, page)
        })
        .collect()
}

/// An item as a feed parser read it back.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadItem {
    pub id: String,
    pub title: String,
    pub link: Option<String>,
    /// The instant as feed-rs read it (in UTC).
    pub date: Option<DateTime<FixedOffset>>,
    /// The date as written in the file, offset kept (feed-rs normalises to UTC).
    pub written_date: Option<DateTime<FixedOffset>>,
}

/// Parse a feed file with feed-rs, after checking it is strict, well-formed XML 1.0.
pub fn read_feed(path: &Path) -> (feed_rs::model::Feed, Vec<ReadItem>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_strict_xml(path, &bytes);
    let feed = feed_rs::parser::parse(bytes.as_slice())
        .unwrap_or_else(|e| panic!("{}: feed-rs cannot parse: {e}", path.display()));
    let written = written_dates(&bytes);
    assert_eq!(
        written.len(),
        feed.entries.len(),
        "{}: entries",
        path.display()
    );
    let items = feed
        .entries
        .iter()
        .zip(written)
        .map(|(e, written_date)| ReadItem {
            written_date,
            id: e.id.clone(),
            title: e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default(),
            link: e.links.first().map(|l| l.href.clone()),
            date: e.published.map(|d| d.fixed_offset()),
        })
        .collect();
    (feed, items)
}

/// Each item's `pubDate` (RSS) or `published` (Atom) as written, in document order.
fn written_dates(bytes: &[u8]) -> Vec<Option<DateTime<FixedOffset>>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap();
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("item") || n.has_tag_name(("http://www.w3.org/2005/Atom", "entry"))
        })
        .map(|item| {
            let date = item
                .children()
                .find(|c| {
                    c.has_tag_name("pubDate")
                        || c.has_tag_name(("http://www.w3.org/2005/Atom", "published"))
                })?
                .text()?
                .trim()
                .to_string();
            Some(
                DateTime::parse_from_rfc2822(&date)
                    .or_else(|_| DateTime::parse_from_rfc3339(&date))
                    .unwrap_or_else(|e| panic!("unreadable date {date:?}: {e}")),
            )
        })
        .collect()
}

/// Lenient parsers accept raw control characters; this does not.
pub fn assert_strict_xml(path: &Path, bytes: &[u8]) {
    let text =
        std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", path.display()));
    if let Some(c) = text.chars().find(|&c| {
        !matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    }) {
        panic!("{}: character U+{:04X} is not allowed in XML 1.0", path.display(), c as u32);
    }
    roxmltree::Document::parse(text)
        .unwrap_or_else(|e| panic!("{}: not well-formed: {e}", path.display()));
}

/// A config file with the given feeds, its output in `dir/public`.
pub fn write_config(dir: &Path, feeds: &str) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[site]\ntitle = \"Test feeds\"\nbase_url = \"https://feeds.example.com/sub/\"\nout_dir = \"public\"\nstate = \"state/state.sqlite\"\n\n[defaults]\ntimeout_secs = 5\n\n{feeds}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The `[[feeds]]` entry for a fixture case served by `server`.
pub fn feed_entry(id: &str, server: &TestServer, case: &Case) -> String {
    let mut text = format!(
        "[[feeds]]\nid = \"{id}\"\ntitle = \"{id}\"\nurl = \"{}\"\ntimezone = \"{}\"\n",
        server.url(&case.path),
        case.timezone
    );
    if let Some(select) = &case.select {
        text.push_str("\n[feeds.select]\n");
        text.push_str(&toml::to_string(select).unwrap());
    }
    if let Some(json) = &case.json {
        text.push_str("\n[feeds.json]\n");
        text.push_str(&toml::to_string(json).unwrap());
    }
    text
}

/// Where end-to-end tests leave the feeds they wrote, for `.ci/run` to check with feedparser and
/// jing: one folder per test, with the expectations beside the files.
pub fn keep_for_ci(test: &str, out_dir: &Path, expectations: &serde_json::Value) {
    let target = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/e2e-feeds")
        .join(test);
    let _ = std::fs::remove_dir_all(&target);
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(out_dir).unwrap().filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with('.') && entry.path().is_file() {
            std::fs::copy(entry.path(), target.join(&*name)).unwrap();
        }
    }
    std::fs::write(
        target.join("expected.json"),
        serde_json::to_string_pretty(expectations).unwrap(),
    )
    .unwrap();
}

pub fn dateline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("dateline").unwrap()
}

/// Build the named selector fixtures into one folder published under a sub-path
/// (`https://feeds.example.com/sub/`).
pub fn build_fixture_site(names: &[&str]) -> (TestServer, tempfile::TempDir, Vec<(String, Case)>) {
    let server = TestServer::start();
    let mut feeds = String::new();
    let mut picked = Vec::new();
    for (name, case, page) in cases("select") {
        if !names.contains(&name.as_str()) {
            continue;
        }
        server.route(&case.path, Route::page(&case.content_type, page));
        feeds.push_str(&feed_entry(&name, &server, &case));
        feeds.push('\n');
        picked.push((name, case));
    }
    assert_eq!(picked.len(), names.len());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feeds);
    let output = dateline()
        .args([
            "--config",
            config.to_str().unwrap(),
            "build",
            "--now",
            "2025-08-28T16:00:00+08:00",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (server, dir, picked)
}

/// A child process killed when the test lets go of it, also when the test fails.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `dateline serve` on a free port of 127.0.0.1, running until the guard is dropped.
pub fn start_serve(out: &Path) -> (KillOnDrop, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dateline"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, port)
}

/// A program the test needs: in CI (`CI` set) it must be installed by `.ci/run`; elsewhere a
/// missing one skips the test with a note.
pub fn required_program(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed; .ci/run must install it"
        );
        eprintln!("skipping: {name} is not installed (CI installs it)");
    }
    found
}

/// A selector-mode config as `[feeds.select]` would give it.
pub fn select_config(
    item: &str,
    title: Option<&str>,
    link: Option<&str>,
    date: Option<&str>,
) -> dateline::config::SelectConfig {
    use dateline::extract::spec::{ValueSpec, compile};
    dateline::config::SelectConfig {
        item: compile(item).unwrap(),
        item_source: item.to_string(),
        title: title.map(|t| ValueSpec::parse(t).unwrap()),
        link: link.map(|t| ValueSpec::parse(t).unwrap()),
        date: date.map(|t| ValueSpec::parse(t).unwrap()),
        date_format: None,
    }
}
