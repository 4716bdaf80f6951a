//! One run: every selected feed through fetch → decode → extract → write, each feed's outcome
//! kept as data so that one failing site never stops the others.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::config::{Config, FeedConfig};
use crate::dates::DateContext;
use crate::decode;
use crate::extract::{self, Item};
use crate::fetch::{FetchError, Fetcher, Page, Request};
use crate::publish::{OutputDir, PublishError, Written};
use crate::write::{self, Entry, FeedMeta};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Overrides `site.out_dir`.
    pub out_dir: Option<PathBuf>,
    /// Build only these feeds; all when empty.
    pub only: Vec<String>,
    /// The run's clock; the real one when `None`.
    pub now: Option<DateTime<Utc>>,
}

/// Why a run could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no feed with id {0:?} in the config")]
    UnknownFeed(String),
    #[error(transparent)]
    Output(#[from] PublishError),
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] FetchError),
}

/// Why one feed was not built. Its published files stay as they were.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("fetching {url}: {source}")]
    Fetch { url: String, source: FetchError },
    #[error("no dated headlines found on {url}{hint}")]
    NoItems { url: String, hint: String },
    #[error("extraction failed: {0}")]
    Extract(String),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

#[derive(Debug)]
pub struct FeedReport {
    pub id: String,
    pub elapsed: Duration,
    pub result: Result<FeedBuilt, FeedError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedBuilt {
    pub items: usize,
    pub undated: usize,
    pub changed: bool,
}

#[derive(Debug)]
pub struct BuildReport {
    pub feeds: Vec<FeedReport>,
}

impl BuildReport {
    pub fn failures(&self) -> impl Iterator<Item = (&str, &FeedError)> {
        self.feeds
            .iter()
            .filter_map(|f| f.result.as_ref().err().map(|e| (f.id.as_str(), e)))
    }
}

/// Run every selected feed and publish what succeeds.
pub async fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport, BuildError> {
    for id in &options.only {
        if !config.feeds.iter().any(|f| &f.id == id) {
            return Err(BuildError::UnknownFeed(id.clone()));
        }
    }
    let out_dir = options
        .out_dir
        .clone()
        .unwrap_or_else(|| config.site.out_dir.clone());
    let output = Arc::new(OutputDir::open(&out_dir)?);
    let fetcher = Arc::new(Fetcher::new(config.fetch)?);
    let now = options.now.unwrap_or_else(Utc::now);

    let selected: Vec<&FeedConfig> = config
        .feeds
        .iter()
        .filter(|f| options.only.is_empty() || options.only.contains(&f.id))
        .collect();
    let runs = selected.iter().map(|feed| {
        let fetcher = fetcher.clone();
        let output = output.clone();
        let config = config.clone();
        let feed = (*feed).clone();
        async move {
            let started = Instant::now();
            let result = build_feed(&config, &feed, &fetcher, &output, now).await;
            FeedReport {
                id: feed.id.clone(),
                elapsed: started.elapsed(),
                result,
            }
        }
    });
    // The fetcher bounds requests in flight; this bounds pages held in memory at once.
    let mut feeds: Vec<FeedReport> = futures::stream::iter(runs)
        .buffer_unordered(config.fetch.concurrency.max(1) * 2)
        .collect()
        .await;
    let order = |id: &str| selected.iter().position(|f| f.id == id);
    feeds.sort_by_key(|r| order(&r.id));
    Ok(BuildReport { feeds })
}

async fn build_feed(
    config: &Config,
    feed: &FeedConfig,
    fetcher: &Fetcher,
    output: &OutputDir,
    now: DateTime<Utc>,
) -> Result<FeedBuilt, FeedError> {
    let page = fetch_page(fetcher, feed).await?;
    let ctx = DateContext {
        tz: feed.timezone,
        now,
    };
    let feed_for_parse = feed.clone();
    let items = tokio::task::spawn_blocking(move || extract_page(&page, &feed_for_parse, &ctx))
        .await
        .map_err(|e| FeedError::Extract(e.to_string()))??;
    let entries = entries_for(feed, items);
    let meta = feed_meta(config, feed, &entries, now);
    publish_feed(output, feed, &meta, &entries)
}

/// Fetch a feed's listing page.
pub async fn fetch_page(fetcher: &Fetcher, feed: &FeedConfig) -> Result<Page, FeedError> {
    fetcher
        .fetch(&Request::for_feed(feed))
        .await
        .map_err(|source| FeedError::Fetch {
            url: feed.url.to_string(),
            source,
        })
}

/// Decode and extract one fetched page. Synchronous: run it off the async threads.
pub fn extract_page(
    page: &Page,
    feed: &FeedConfig,
    ctx: &DateContext,
) -> Result<Vec<Item>, FeedError> {
    let tld = page.final_url.host_str().and_then(|h| h.rsplit('.').next());
    let decoded = decode::decode(&page.body, page.content_type.as_deref(), tld);
    let items = match &feed.select {
        Some(select) => extract::select::extract(&decoded.text, &page.final_url, select, ctx),
        None => extract::auto::extract(&decoded.text, &page.final_url, ctx)
            .listings
            .into_iter()
            .next()
            .map(|listing| listing.items)
            .unwrap_or_default(),
    };
    if items.is_empty() {
        let hint = match &feed.select {
            Some(select) => format!(
                " (selector {:?} matched no item with a title)",
                select.item_source
            ),
            None => {
                " (auto mode found no repeated, dated links; add a [feeds.select] table)".into()
            }
        };
        return Err(FeedError::NoItems {
            url: page.final_url.to_string(),
            hint,
        });
    }
    Ok(items)
}

/// Items as published: stable ids, newest first, at most `max_items`.
fn entries_for(feed: &FeedConfig, items: Vec<Item>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = items
        .into_iter()
        .map(|item| {
            let link = item.link.as_ref().map(extract::text::canonical_link);
            Entry {
                id: entry_id(&feed.id, &item.title, link.as_ref(), item.published),
                title: item.title,
                link,
                published: item.published,
            }
        })
        .collect();
    write::sort_entries(&mut entries);
    entries.truncate(feed.max_items);
    entries
}

/// The canonical link identifies an article, so an edited title keeps its id. An item without a
/// link is known by its title and date within its feed.
pub fn entry_id(
    feed_id: &str,
    title: &str,
    link: Option<&url::Url>,
    published: Option<DateTime<chrono_tz::Tz>>,
) -> String {
    match link {
        Some(link) => link.to_string(),
        None => {
            let mut hash = Sha256::new();
            hash.update(title.as_bytes());
            hash.update([0]);
            if let Some(at) = published {
                hash.update(at.timestamp().to_string().as_bytes());
            }
            let digest = hash.finalize();
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            format!("urn:dateline:{feed_id}:{hex}")
        }
    }
}

fn feed_meta(
    config: &Config,
    feed: &FeedConfig,
    entries: &[Entry],
    now: DateTime<Utc>,
) -> FeedMeta {
    let base = &config.site.base_url;
    let join = |name: String| base.join(&name).expect("feed ids are safe path segments");
    let host = feed.url.host_str().unwrap_or("local file").to_string();
    // Without a history, the newest headline is when the content last changed.
    let updated = entries
        .iter()
        .filter_map(|e| e.published)
        .max()
        .unwrap_or_else(|| now.with_timezone(&feed.timezone));
    FeedMeta {
        id: feed.id.clone(),
        title: feed.title.clone().unwrap_or_else(|| host.clone()),
        description: format!("Headlines from {}", feed.url),
        source_url: feed.url.clone(),
        language: feed.language.clone(),
        rss_url: join(format!("{}.xml", feed.id)),
        atom_url: join(format!("{}.atom", feed.id)),
        updated,
        author: host,
    }
}

fn publish_feed(
    output: &OutputDir,
    feed: &FeedConfig,
    meta: &FeedMeta,
    entries: &[Entry],
) -> Result<FeedBuilt, FeedError> {
    let rss = write::rss(meta, entries);
    let atom = write::atom(meta, entries);
    let mut changed = false;
    for (name, bytes) in [
        (format!("{}.xml", feed.id), rss),
        (format!("{}.atom", feed.id), atom),
    ] {
        changed |= output.publish(&name, &bytes)? == Written::Changed;
    }
    Ok(FeedBuilt {
        items: entries.len(),
        undated: entries.iter().filter(|e| e.published.is_none()).count(),
        changed,
    })
}
