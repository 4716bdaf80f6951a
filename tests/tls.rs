//! HTTPS listings, verified against the roots the system names. `SSL_CERT_FILE` names them
//! here, as operators behind an intercepting proxy do; on Linux and the BSDs the platform
//! verifier honours it (macOS, Windows and Android ask the OS, so these tests do not run there).
#![cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{ReadItem, cases, dateline, read_feed, write_config};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// An HTTPS server on 127.0.0.1 with the fixture certificate, answering every path but
/// `/robots.txt` (404) with `page`; its origin and the count of requests it answered.
fn start_https(page: Vec<u8>, content_type: &'static str) -> (String, Arc<AtomicUsize>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_fixture("server.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file(tls_fixture("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let answered = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let counter = answered.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let page: Arc<[u8]> = page.into();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let (acceptor, page, counter) = (acceptor.clone(), page.clone(), counter.clone());
                tokio::spawn(async move {
                    // A client that does not trust the certificate ends here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let robots = request.starts_with(b"GET /robots.txt ");
                    let (status, body): (&str, &[u8]) = if robots {
                        ("404 Not Found", b"")
                    } else {
                        ("200 OK", &page)
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(body).await;
                    let _ = tls.shutdown().await;
                    counter.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
    });
    let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    (format!("https://{addr}"), answered)
}

struct HttpsSite {
    dir: tempfile::TempDir,
    config: PathBuf,
    answered: Arc<AtomicUsize>,
    expected: Vec<String>,
    now: String,
}

/// The 經濟日報 fixture served over HTTPS as feed `news`.
fn https_site() -> HttpsSite {
    let (_, case, page) = cases("select")
        .into_iter()
        .find(|(name, _, _)| name == "udn-utf8-undeclared")
        .expect("fixture udn-utf8-undeclared");
    let (origin, answered) = start_https(page, "text/html");
    let dir = tempfile::tempdir().unwrap();
    let select = toml::to_string(case.select.as_ref().unwrap()).unwrap();
    let feeds = format!(
        "[[feeds]]\nid = \"news\"\nurl = \"{origin}{}\"\ntimezone = \"{}\"\n\n[feeds.select]\n{select}",
        case.path, case.timezone
    );
    let config = write_config(dir.path(), &feeds);
    HttpsSite {
        dir,
        config,
        answered,
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

    fn items(&self) -> Vec<ReadItem> {
        read_feed(&self.dir.path().join("public/news.atom")).1
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_https_listing_is_read_when_its_issuer_is_among_the_system_roots() {
    let site = https_site();
    let output = site.build_trusting(&tls_fixture("ca.pem"));
    assert!(output.status.success(), "{}", stderr(&output));
    let titles: Vec<String> = site.items().into_iter().map(|i| i.title).collect();
    assert_eq!(titles, site.expected);
    assert!(site.answered.load(Ordering::SeqCst) >= 1);
}

#[test]
fn an_https_listing_signed_by_an_unknown_issuer_fails_its_feed_and_keeps_its_files() {
    let site = https_site();
    assert!(site.build_trusting(&tls_fixture("ca.pem")).status.success());
    let before = site.items();
    assert!(!before.is_empty());
    let served = site.answered.load(Ordering::SeqCst);

    // Roots that do not include the site's issuer: the handshake fails, nothing is served.
    let output = site.build_trusting(&tls_fixture("other-ca.pem"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    let error = text
        .lines()
        .find(|l| l.starts_with("error: feed news: "))
        .unwrap_or_else(|| panic!("no error naming the feed: {text}"));
    assert!(
        error.to_lowercase().contains("certificate"),
        "the cause is not named: {error}"
    );
    assert_eq!(site.answered.load(Ordering::SeqCst), served);
    assert_eq!(site.items(), before, "published items changed");
}
