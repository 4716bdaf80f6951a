//! `dateline serve`: the output folder on 127.0.0.1, to look at it in a browser or a reader.
//! Only files inside the folder are served; `..`, encoded dots and absolute paths get 404.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use sha2::{Digest, Sha256};

pub const DEFAULT_PORT: u16 = 8080;

/// The media type a file is served with, by extension.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "xml" => "application/rss+xml; charset=utf-8",
        "atom" => "application/atom+xml; charset=utf-8",
        "json" => "application/feed+json; charset=utf-8",
        "opml" => "text/x-opml; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "xsl" | "xslt" => "text/xsl; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file a request path names inside `root`, or `None` for anything that would leave it.
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(request_path)
        .decode_utf8()
        .ok()?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let relative = decoded.trim_start_matches('/');
    let mut path = root.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            // `..`, a root or a drive prefix: never outside the folder.
            _ => return None,
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    // A link inside the folder must not lead out of it either.
    let real = path.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    (real.starts_with(&real_root) && real.is_file()).then_some(real)
}

/// Answer one request for a file under `root`.
pub async fn answer(root: &Path, request: Request<Body>) -> Response<Body> {
    let (parts, _) = request.into_parts();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
    }
    let Some(path) = resolve(root, parts.uri.path()) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let etag = format!(
        "\"{}\"",
        Sha256::digest(&bytes)
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    // Browsers render application/rss+xml as text, so a page request (Accept: text/html) gets the
    // feeds as application/xml and the XSLT view; feed readers get the feed types.
    let wants_page = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let kind = match content_type(&path) {
        feed if wants_page
            && (feed.starts_with("application/rss+xml")
                || feed.starts_with("application/atom+xml")) =>
        {
            "application/xml; charset=utf-8"
        }
        kind => kind,
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is a valid header"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let not_modified = parts
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else if parts.method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        (StatusCode::OK, Body::empty())
    } else {
        (StatusCode::OK, Body::from(bytes))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Serve `root` on 127.0.0.1:`port` until the process is stopped.
pub async fn serve(root: PathBuf, port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "serving {} on http://{}/ (Ctrl-C stops)",
        root.display(),
        listener.local_addr()?
    );
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let root = root.clone();
        async move { answer(&root, request).await }
    });
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("public");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "i").unwrap();
        std::fs::write(root.join("a.xml"), "a").unwrap();
        std::fs::write(root.join("sub/index.html"), "s").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
        let real = |p: &str| root.canonicalize().unwrap().join(p);
        assert_eq!(resolve(&root, "/"), Some(real("index.html")));
        assert_eq!(resolve(&root, "/a.xml"), Some(real("a.xml")));
        assert_eq!(resolve(&root, "/sub/"), Some(real("sub/index.html")));
        for escape in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            "/sub/../../secret.txt",
            "//etc/passwd",
            "/%2Fetc%2Fpasswd",
            "/..%5csecret.txt",
            "/a.xml%00",
            "/link.txt",
            "/missing.xml",
        ] {
            assert_eq!(resolve(&root, escape), None, "{escape}");
        }
    }

    #[test]
    fn feed_types() {
        assert_eq!(
            content_type(Path::new("a.xml")),
            "application/rss+xml; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a.atom")),
            "application/atom+xml; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a.json")),
            "application/feed+json; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("feeds.opml")),
            "text/x-opml; charset=utf-8"
        );
    }
}
