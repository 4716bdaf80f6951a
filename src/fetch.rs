//! Listing pages from the web (or disk), politely: one shared client, a global and a per-host
//! limit on requests in flight, a timeout, a redirect limit and a body-size cap enforced while
//! the body streams in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::FetchLimits;

pub const MAX_REDIRECTS: usize = 10;

/// A fetched page, as the extractor needs it.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: Url,
    /// Where the page really was, after redirects: links resolve against it.
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// How one request is made; per feed, from its config.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: Url,
    pub user_agent: String,
    pub timeout: Duration,
    pub max_body_bytes: u64,
}

impl Request {
    pub fn for_feed(feed: &crate::config::FeedConfig) -> Request {
        Request {
            url: feed.url.clone(),
            user_agent: feed.user_agent.clone(),
            timeout: feed.timeout,
            max_body_bytes: feed.max_body_bytes,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP {status}{}", reason.map(|r| format!(" {r}")).unwrap_or_default())]
    Status {
        status: u16,
        reason: Option<&'static str>,
    },
    #[error("too many redirects (more than {MAX_REDIRECTS})")]
    TooManyRedirects,
    #[error("body larger than the {limit}-byte cap")]
    TooLarge { limit: u64 },
    #[error("not a web page: content type {0:?} (expected HTML or XML)")]
    NotHtml(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("request failed: {0}")]
    Other(String),
}

/// One client and the limits every request goes through.
pub struct Fetcher {
    client: reqwest::Client,
    global: Arc<Semaphore>,
    per_host_limit: usize,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    pub fn new(limits: FetchLimits) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| FetchError::Other(e.to_string()))?;
        Ok(Fetcher {
            client,
            global: Arc::new(Semaphore::new(limits.concurrency)),
            per_host_limit: limits.per_host,
            per_host: Mutex::new(HashMap::new()),
        })
    }

    fn host_semaphore(&self, url: &Url) -> Arc<Semaphore> {
        let host = url.host_str().unwrap_or("").to_string();
        let mut map = self.per_host.lock().expect("per-host map lock");
        map.entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_limit)))
            .clone()
    }

    /// Fetch one page within the limits.
    pub async fn fetch(&self, request: &Request) -> Result<Page, FetchError> {
        if request.url.scheme() == "file" {
            return read_file(request).await;
        }
        // Take the host's slot first, so a slow host does not hold global slots while it waits.
        let host = self.host_semaphore(&request.url);
        let _host_permit = host.acquire_owned().await.expect("semaphore never closed");
        let _permit = self.global.acquire().await.expect("semaphore never closed");
        tokio::time::timeout(request.timeout, self.fetch_http(request))
            .await
            .unwrap_or(Err(FetchError::Timeout(request.timeout)))
    }

    async fn fetch_http(&self, request: &Request) -> Result<Page, FetchError> {
        let response = self
            .client
            .get(request.url.clone())
            .header(header::USER_AGENT, &request.user_agent)
            .header(
                header::ACCEPT,
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5",
            )
            .send()
            .await
            .map_err(|e| classify(e, request.timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                reason: status.canonical_reason(),
            });
        }
        let headers = response.headers().clone();
        let content_type = header_text(&headers, header::CONTENT_TYPE);
        if let Some(ct) = &content_type
            && !is_markup(ct)
        {
            return Err(FetchError::NotHtml(ct.clone()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > request.max_body_bytes)
        {
            return Err(FetchError::TooLarge {
                limit: request.max_body_bytes,
            });
        }
        let final_url = response.url().clone();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(e, request.timeout))?;
            if body.len() as u64 + chunk.len() as u64 > request.max_body_bytes {
                return Err(FetchError::TooLarge {
                    limit: request.max_body_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Page {
            url: request.url.clone(),
            final_url,
            status: status.as_u16(),
            content_type,
            body: Bytes::from(body),
            etag: header_text(&headers, header::ETAG),
            last_modified: header_text(&headers, header::LAST_MODIFIED),
        })
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// HTML, XHTML and XML types. A missing type is sniffed by the decoder instead.
fn is_markup(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        mime.as_str(),
        "text/html" | "application/xhtml+xml" | "text/xml" | "application/xml" | ""
    ) || mime.ends_with("+xml")
}

fn classify(error: reqwest::Error, timeout: Duration) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout(timeout)
    } else if error.is_redirect() {
        FetchError::TooManyRedirects
    } else if error.is_connect() {
        FetchError::Connect(root_cause(&error))
    } else {
        FetchError::Other(root_cause(&error))
    }
}

/// reqwest's top-level message is generic ("error sending request"); the cause says what happened.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

async fn read_file(request: &Request) -> Result<Page, FetchError> {
    let path = request
        .url
        .to_file_path()
        .map_err(|()| FetchError::Other(format!("bad file URL {}", request.url)))?;
    let shown = path.display().to_string();
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|source| FetchError::File {
            path: shown.clone(),
            source,
        })?;
    if meta.len() > request.max_body_bytes {
        return Err(FetchError::TooLarge {
            limit: request.max_body_bytes,
        });
    }
    let body = tokio::fs::read(&path)
        .await
        .map_err(|source| FetchError::File {
            path: shown,
            source,
        })?;
    Ok(Page {
        url: request.url.clone(),
        final_url: request.url.clone(),
        status: 200,
        content_type: None,
        body: Bytes::from(body),
        etag: None,
        last_modified: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_types() {
        for ok in [
            "text/html; charset=big5",
            "application/xhtml+xml",
            "application/rss+xml",
            "TEXT/HTML",
        ] {
            assert!(is_markup(ok), "{ok}");
        }
        for bad in [
            "image/png",
            "application/pdf",
            "application/octet-stream",
            "application/json",
            "text/plain",
        ] {
            assert!(!is_markup(bad), "{bad}");
        }
    }
}
