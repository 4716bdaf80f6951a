//! The benchmarks' listing server: the pages at `/p/{i}` on 127.0.0.1, with ETags (304 on a
//! matching If-None-Match) unless `set_validators(false)` (as most portals' listings), each
//! response stamped with a serial number in the page if `set_stamped(true)` (as dynamic pages
//! print the time they were served), and optionally gzip or brotli bodies compressed once up
//! front, chosen per run with `set_encoding` and only for clients whose Accept-Encoding takes
//! them. Counts the responses and the body bytes it sends.

#![allow(dead_code)] // each bench uses its share

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, Response, StatusCode};

#[path = "../../tests/common/loopback.rs"]
mod loopback;

/// gzip level and brotli quality / window of the precompressed bodies: what a server that
/// compresses its pages once (a cache, a CDN) typically uses.
const GZIP_LEVEL: u32 = 6;
const BROTLI_QUALITY: u32 = 9;
const BROTLI_LGWIN: u32 = 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity = 0,
    Gzip = 1,
    Brotli = 2,
}

impl Encoding {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "plain",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }

    /// The Content-Encoding token.
    fn token(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            1 => Encoding::Gzip,
            2 => Encoding::Brotli,
            _ => Encoding::Identity,
        }
    }
}

/// One page: its bytes, and its compressed forms once `precompress` made them.
pub struct Page {
    plain: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
    /// Where `</body>` begins (the end when there is none): stamps go there.
    body_end: usize,
}

impl Page {
    pub fn new(html: Vec<u8>) -> Self {
        let body_end = html
            .windows(7)
            .rposition(|w| w == b"</body>")
            .unwrap_or(html.len());
        Page {
            plain: Bytes::from(html),
            gzip: None,
            brotli: None,
            body_end,
        }
    }

    /// The plain page with a footer naming response `serial`.
    fn stamped(&self, serial: u64) -> Bytes {
        let stamp = format!("<p class=\"served\">served #{serial}</p>");
        let mut body = Vec::with_capacity(self.plain.len() + stamp.len());
        body.extend_from_slice(&self.plain[..self.body_end]);
        body.extend_from_slice(stamp.as_bytes());
        body.extend_from_slice(&self.plain[self.body_end..]);
        Bytes::from(body)
    }

    pub fn len(&self) -> usize {
        self.plain.len()
    }

    fn body(&self, encoding: Encoding) -> Option<&Bytes> {
        match encoding {
            Encoding::Identity => Some(&self.plain),
            Encoding::Gzip => self.gzip.as_ref(),
            Encoding::Brotli => self.brotli.as_ref(),
        }
    }
}

fn gzip(data: &[u8]) -> Bytes {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
    encoder.write_all(data).unwrap();
    Bytes::from(encoder.finish().unwrap())
}

fn brotli(data: &[u8]) -> Bytes {
    let mut encoder =
        brotli::CompressorWriter::new(Vec::new(), 64 * 1024, BROTLI_QUALITY, BROTLI_LGWIN);
    encoder.write_all(data).unwrap();
    encoder.flush().unwrap();
    Bytes::from(encoder.into_inner())
}

/// Every page with its gzip and brotli forms, compressed on all cores.
pub fn precompress(mut pages: Vec<Page>) -> Vec<Page> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = pages.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in pages.chunks_mut(chunk) {
            scope.spawn(move || {
                for page in part {
                    page.gzip = Some(gzip(&page.plain));
                    page.brotli = Some(brotli(&page.plain));
                }
            });
        }
    });
    pages
}

/// What the server has answered so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Responses with a body (200).
    pub responses: u64,
    /// Of those, the ones sent with a Content-Encoding.
    pub encoded: u64,
    /// Body bytes sent, as on the wire (compressed where encoded).
    pub body_bytes: u64,
    /// 304 answers.
    pub not_modified: u64,
}

impl Counters {
    pub fn since(&self, before: &Counters) -> Counters {
        Counters {
            responses: self.responses - before.responses,
            encoded: self.encoded - before.encoded,
            body_bytes: self.body_bytes - before.body_bytes,
            not_modified: self.not_modified - before.not_modified,
        }
    }
}

struct Shared {
    pages: Vec<Page>,
    encoding: AtomicU8,
    validators: AtomicBool,
    stamped: AtomicBool,
    responses: AtomicU64,
    encoded: AtomicU64,
    body_bytes: AtomicU64,
    not_modified: AtomicU64,
}

pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// Whether Accept-Encoding takes `token` (listed, or `*`, without q=0).
fn accepts(headers: &HeaderMap, token: &str) -> bool {
    let mut star = false;
    for value in headers.get_all("accept-encoding") {
        for part in value.to_str().unwrap_or("").split(',') {
            let mut fields = part.split(';');
            let name = fields.next().unwrap_or("").trim();
            let refused = fields.any(|f| {
                f.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            if name.eq_ignore_ascii_case(token) {
                return !refused;
            }
            star |= name == "*" && !refused;
        }
    }
    star
}

impl Server {
    /// Serves the pages from a thread of its own (one tokio worker) until the process ends.
    pub fn start(pages: Vec<Page>) -> Server {
        let shared = Arc::new(Shared {
            pages,
            encoding: AtomicU8::new(Encoding::Identity as u8),
            validators: AtomicBool::new(true),
            stamped: AtomicBool::new(false),
            responses: AtomicU64::new(0),
            encoded: AtomicU64::new(0),
            body_bytes: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
        });
        let served = shared.clone();
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let served = served.clone();
            async move { respond(&served, &request) }
        });
        Server {
            addr: loopback::serve(1, |tcp| tcp, app),
            shared,
        }
    }

    /// The URL of page `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}/p/{i}", self.addr)
    }

    /// How the following responses are encoded (for clients that accept it).
    pub fn set_encoding(&self, encoding: Encoding) {
        self.shared.encoding.store(encoding as u8, Ordering::SeqCst);
    }

    /// Whether the following responses carry an ETag and answer a matching one with 304.
    pub fn set_validators(&self, on: bool) {
        self.shared.validators.store(on, Ordering::SeqCst);
    }

    /// Whether the following plain responses each carry a serial number in the page.
    pub fn set_stamped(&self, on: bool) {
        self.shared.stamped.store(on, Ordering::SeqCst);
    }

    pub fn counters(&self) -> Counters {
        let s = &self.shared;
        Counters {
            responses: s.responses.load(Ordering::SeqCst),
            encoded: s.encoded.load(Ordering::SeqCst),
            body_bytes: s.body_bytes.load(Ordering::SeqCst),
            not_modified: s.not_modified.load(Ordering::SeqCst),
        }
    }
}

fn respond(shared: &Shared, request: &Request<Body>) -> Response<Body> {
    let path = request.uri().path();
    let Some(page) = path
        .strip_prefix("/p/")
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| shared.pages.get(i))
    else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap();
    };
    let wanted = Encoding::from_u8(shared.encoding.load(Ordering::SeqCst));
    let encoding = match page.body(wanted) {
        Some(_) if wanted == Encoding::Identity || accepts(request.headers(), wanted.token()) => {
            wanted
        }
        _ => Encoding::Identity,
    };
    let tag = path.len() + path.bytes().map(usize::from).sum::<usize>();
    // A strong ETag names one representation: each encoding has its own.
    let etag = match encoding {
        Encoding::Identity => format!("\"{tag}\""),
        _ => format!("\"{tag}-{}\"", encoding.token()),
    };
    let validators = shared.validators.load(Ordering::SeqCst);
    if validators
        && request
            .headers()
            .get("if-none-match")
            .is_some_and(|v| v.to_str().unwrap_or("") == etag)
    {
        shared.not_modified.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", etag)
            .body(Body::empty())
            .unwrap();
    }
    let serial = shared.responses.fetch_add(1, Ordering::SeqCst);
    let body = if encoding == Encoding::Identity && shared.stamped.load(Ordering::SeqCst) {
        page.stamped(serial)
    } else {
        page.body(encoding).unwrap().clone()
    };
    shared
        .body_bytes
        .fetch_add(body.len() as u64, Ordering::SeqCst);
    let mut response = Response::builder().header("content-type", "text/html; charset=utf-8");
    if validators {
        response = response.header("etag", etag);
    }
    if wanted != Encoding::Identity {
        response = response.header("vary", "accept-encoding");
    }
    if encoding != Encoding::Identity {
        shared.encoded.fetch_add(1, Ordering::SeqCst);
        response = response.header("content-encoding", encoding.token());
    }
    response.body(Body::from(body)).unwrap()
}
