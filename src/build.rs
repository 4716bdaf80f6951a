//! One run: every selected feed through fetch → decode → extract → store → write → publish, each
//! feed's outcome kept as data so that one failing site never stops the others.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use url::Url;

use crate::config::{Config, FeedConfig};
use crate::dates::DateContext;
use crate::decode;
use crate::extract::{self, Item};
use crate::fetch::{FetchError, Fetched, Fetcher, Page, Request, Validators};
use crate::lock::{LockError, StateLock};
use crate::publish::{OutputDir, PublishError, Written};
use crate::store::{Opened, SeenItem, Store, StoreError, StoredItem};
use crate::write::{self, Entry, FeedMeta};

/// A page that used to give at least this many items and now gives under a quarter of them has
/// most likely changed its layout; publishing the remainder would look like mass deletion.
const SHRINK_GUARD_MIN: i64 = 8;

/// Called as each feed finishes, for progress display.
pub type Progress = Arc<dyn Fn(&FeedReport) + Send + Sync>;

#[derive(Clone, Default)]
pub struct BuildOptions {
    /// Overrides `site.out_dir`.
    pub out_dir: Option<PathBuf>,
    /// Build only these feeds; all when empty.
    pub only: Vec<String>,
    /// The run's clock; the real one when `None`.
    pub now: Option<DateTime<Utc>>,
    pub progress: Option<Progress>,
}

/// Why a run could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no feed with id {0:?} in the config")]
    UnknownFeed(String),
    #[error(transparent)]
    Output(#[from] PublishError),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error(transparent)]
    State(#[from] StoreError),
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] FetchError),
}

/// Why one feed was not built. Its published files and its state stay as they were.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("fetching {url}: {source}")]
    Fetch { url: String, source: FetchError },
    #[error("no dated headlines found on {url}{hint}")]
    NoItems { url: String, hint: String },
    #[error(
        "{url} gave {found} items where it gave {before} last time; the page layout has probably changed, so the published feed is kept"
    )]
    Shrunk {
        url: String,
        found: usize,
        before: i64,
    },
    #[error("extraction failed: {0}")]
    Extract(String),
    #[error(transparent)]
    Json(#[from] extract::json::JsonError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    State(#[from] StoreError),
}

#[derive(Debug)]
pub struct FeedReport {
    pub id: String,
    pub elapsed: Duration,
    pub result: Result<FeedBuilt, FeedError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedBuilt {
    /// Items in the published feed.
    pub items: usize,
    /// Items seen for the first time in this run.
    pub new: usize,
    /// Whether any published file changed.
    pub changed: bool,
    /// The server answered 304: nothing was parsed.
    pub not_modified: bool,
}

#[derive(Debug)]
pub struct BuildReport {
    pub feeds: Vec<FeedReport>,
    /// Things the operator should know that did not fail a feed.
    pub warnings: Vec<String>,
    /// The index, OPML or stylesheet could not be written (the feeds were).
    pub site_error: Option<crate::site::SiteError>,
}

impl BuildReport {
    pub fn failures(&self) -> impl Iterator<Item = (&str, &FeedError)> {
        self.feeds
            .iter()
            .filter_map(|f| f.result.as_ref().err().map(|e| (f.id.as_str(), e)))
    }
}

/// What every feed of a run shares.
struct Run {
    fetcher: Fetcher,
    output: OutputDir,
    store: Mutex<Store>,
    base_url: Url,
    now: DateTime<Utc>,
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
    let output = OutputDir::open(&out_dir)?;
    // Held until the run ends; the OS drops it if the process dies, so it never goes stale.
    let _lock = StateLock::acquire(&config.site.state)?;
    output.remove_leftovers()?;
    let (store, opened) = Store::open(&config.site.state)?;
    let mut warnings = Vec::new();
    if let Opened::MovedAside { to, reason } = opened {
        warnings.push(format!(
            "state file {} was unreadable ({reason}); it was moved aside to {} and a new one started; feed histories are recovered from the published feeds",
            config.site.state.display(),
            to.display()
        ));
    }
    let run = Arc::new(Run {
        fetcher: Fetcher::new(config.fetch)?,
        output,
        store: Mutex::new(store),
        base_url: config.site.base_url.clone(),
        now: options.now.unwrap_or_else(Utc::now),
    });

    let selected: Vec<&FeedConfig> = config
        .feeds
        .iter()
        .filter(|f| options.only.is_empty() || options.only.contains(&f.id))
        .collect();
    let runs = selected.iter().map(|feed| {
        let run = run.clone();
        let feed = (*feed).clone();
        let progress = options.progress.clone();
        async move {
            let started = Instant::now();
            let result = build_feed(&run, &feed).await;
            if let Err(error) = &result {
                let store = run.store.lock().expect("store lock");
                if let Err(e) =
                    store.record_failure(&feed.id, run.now.timestamp(), &error.to_string())
                {
                    tracing::warn!("feed {}: cannot record the failure: {e}", feed.id);
                }
            }
            let report = FeedReport {
                id: feed.id.clone(),
                elapsed: started.elapsed(),
                result,
            };
            if let Some(progress) = &progress {
                progress(&report);
            }
            report
        }
    });
    // The fetcher bounds requests in flight; this bounds pages held in memory at once.
    let mut feeds: Vec<FeedReport> = futures::stream::iter(runs)
        .buffer_unordered(config.fetch.concurrency.max(1) * 2)
        .collect()
        .await;
    let order = |id: &str| selected.iter().position(|f| f.id == id);
    feeds.sort_by_key(|r| order(&r.id));
    let site_error = {
        let store = run.store.lock().expect("store lock");
        crate::site::publish_site(config, &store, &run.output, run.now).err()
    };
    Ok(BuildReport {
        feeds,
        warnings,
        site_error,
    })
}

async fn build_feed(run: &Run, feed: &FeedConfig) -> Result<FeedBuilt, FeedError> {
    let now = run.now.timestamp();
    let url = feed.url.to_string();
    let (validators, health) = {
        let mut store = run.store.lock().expect("store lock");
        seed_from_published(&mut store, &run.output, feed, now)?;
        // Validators without stored items would turn a 304 into an empty feed.
        let validators = if store.has_items(&feed.id)? {
            store.validators(&url)?
        } else {
            Validators::default()
        };
        (validators, store.health(&feed.id)?)
    };
    let mut request = Request::for_feed(feed);
    request.validators = validators;
    let fetched = run
        .fetcher
        .fetch(&request)
        .await
        .map_err(|source| FeedError::Fetch {
            url: url.clone(),
            source,
        })?;

    let (count, new, not_modified) = match fetched {
        Fetched::NotModified => (None, 0, true),
        Fetched::Page(page) => {
            let ctx = DateContext {
                tz: feed.timezone,
                now: run.now,
            };
            let parse_feed = feed.clone();
            let page_validators = Validators {
                etag: page.etag.clone(),
                last_modified: page.last_modified.clone(),
            };
            let items = tokio::task::spawn_blocking(move || extract_page(&page, &parse_feed, &ctx))
                .await
                .map_err(|e| FeedError::Extract(e.to_string()))??;
            if let Some(before) = health.last_count
                && before >= SHRINK_GUARD_MIN
                && (items.len() as i64) * 4 < before
            {
                return Err(FeedError::Shrunk {
                    url,
                    found: items.len(),
                    before,
                });
            }
            let seen = seen_items(feed, &items);
            let mut store = run.store.lock().expect("store lock");
            let new = store.merge(&feed.id, &seen, now)?;
            store.save_validators(&url, &page_validators)?;
            (Some(items.len()), new, false)
        }
    };

    let (entries, changed_at) = {
        let store = run.store.lock().expect("store lock");
        let stored = store.recent(&feed.id, feed.max_items)?;
        let entries = entries_from(&stored, feed.timezone);
        let hash = content_hash(&entries);
        // The feed's date is when its content last changed, so an unchanged feed keeps its bytes.
        let changed_at = match (&health.content_hash, health.changed_at) {
            (Some(old), Some(at)) if *old == hash => at,
            _ => now,
        };
        store.record_success(&feed.id, now, &hash, changed_at, count)?;
        (entries, changed_at)
    };
    let updated = feed
        .timezone
        .timestamp_opt(changed_at, 0)
        .single()
        .unwrap_or_else(|| run.now.with_timezone(&feed.timezone));
    let meta = feed_meta(&run.base_url, feed, updated);
    let changed = publish_feed(&run.output, feed, &meta, &entries)?;
    Ok(FeedBuilt {
        items: entries.len(),
        new,
        changed,
        not_modified,
    })
}

/// A feed the store knows nothing of (a first run after an upgrade, or a state file moved aside)
/// starts from what it already published, so no subscriber loses an item.
fn seed_from_published(
    store: &mut Store,
    output: &OutputDir,
    feed: &FeedConfig,
    now: i64,
) -> Result<(), FeedError> {
    if store.has_items(&feed.id)? {
        return Ok(());
    }
    let Some(bytes) = output.read(&format!("{}.atom", feed.id)) else {
        return Ok(());
    };
    let published = write::read_atom(&bytes);
    if published.is_empty() {
        return Ok(());
    }
    let seen: Vec<SeenItem> = published
        .into_iter()
        .map(|entry| SeenItem {
            id: entry.id,
            title: entry.title,
            link: entry.link.map(|l| l.to_string()),
            published: entry.published.map(|at| at.timestamp()),
        })
        .collect();
    store.merge(&feed.id, &seen, now)?;
    Ok(())
}

/// Fetch a feed's listing page, unconditionally.
pub async fn fetch_page(fetcher: &Fetcher, feed: &FeedConfig) -> Result<Page, FeedError> {
    let fetched = fetcher
        .fetch(&Request::for_feed(feed))
        .await
        .map_err(|source| FeedError::Fetch {
            url: feed.url.to_string(),
            source,
        })?;
    match fetched {
        Fetched::Page(page) => Ok(*page),
        Fetched::NotModified => Err(FeedError::Extract(
            "the server answered 304 Not Modified to a request without validators".into(),
        )),
    }
}

/// What one page gives: its items, and in auto mode every dated listing found.
#[derive(Debug)]
pub struct PageReading {
    pub items: Vec<Item>,
    pub listings: Vec<extract::auto::Listing>,
    /// Auto mode over JSON: the arrays that read as dated listings, best first.
    pub json_listings: Vec<extract::json::JsonListing>,
    /// The items came from JSON rather than the page's HTML.
    pub from_json: bool,
    pub encoding: &'static encoding_rs::Encoding,
}

/// A short HTML list (a sidebar) beside a data listing of at least twice as many items: the
/// page's real listing is rendered from the data.
fn dwarfs(data: &[Item], shown: &[Item]) -> bool {
    shown.len() < 10 && data.len() >= shown.len() * 2
}

/// Whether `data` holds at least as many items as `shown`, and most of its links.
fn covers(data: &[Item], shown: &[Item]) -> bool {
    let keys: std::collections::HashSet<String> = data
        .iter()
        .filter_map(|i| i.link.as_ref().map(extract::text::link_key))
        .collect();
    let found = shown
        .iter()
        .filter(|i| {
            i.link
                .as_ref()
                .is_some_and(|l| keys.contains(&extract::text::link_key(l)))
        })
        .count();
    data.len() >= shown.len() && found * 5 >= shown.len() * 4
}

/// A response that is JSON by its type, or by its first character when the type says nothing.
fn is_json(content_type: Option<&str>, text: &str) -> bool {
    match content_type.map(|ct| ct.to_ascii_lowercase()) {
        Some(ct) if ct.contains("json") => true,
        Some(ct) if ct.contains("html") || ct.contains("xml") => false,
        _ => text.trim_start().starts_with(['{', '[']),
    }
}

/// Decode and extract one fetched page in the feed's mode. Synchronous: run it off the async
/// threads. `build` and `preview` both read pages through it.
pub fn read_page(
    page: &Page,
    feed: &FeedConfig,
    ctx: &DateContext,
) -> Result<PageReading, FeedError> {
    let tld = page.final_url.host_str().and_then(|h| h.rsplit('.').next());
    let decoded = decode::decode(&page.body, page.content_type.as_deref(), tld);
    let json = is_json(page.content_type.as_deref(), &decoded.text);
    let url = &page.final_url;
    let mut reading = PageReading {
        items: Vec::new(),
        listings: Vec::new(),
        json_listings: Vec::new(),
        from_json: false,
        encoding: decoded.encoding,
    };
    match (&feed.select, &feed.json) {
        (Some(select), _) => {
            reading.items =
                extract::select::extract(&decoded.text, url, decoded.encoding, select, ctx);
        }
        (None, Some(config)) => {
            reading.items =
                extract::json::extract_configured(&decoded.text, json, url, config, ctx)
                    .map_err(FeedError::Json)?;
        }
        (None, None) => {
            if !json {
                let found = extract::auto::extract(&decoded.text, url, decoded.encoding, ctx);
                reading.items = found.best().map(|l| l.items.clone()).unwrap_or_default();
                reading.listings = found.listings;
            }
            // A page whose HTML holds no dated headlines may carry them as data for a script;
            // and where the data holds the same articles as the HTML and more (full titles,
            // exact times, the items the HTML trims), the data is the better listing.
            reading.json_listings = extract::json::find_listings(&decoded.text, json, url, ctx);
            if let Some(data) = reading.json_listings.first()
                && (reading.items.is_empty()
                    || covers(&data.items, &reading.items)
                    || dwarfs(&data.items, &reading.items))
            {
                reading.items = data.items.clone();
                reading.from_json = true;
            }
        }
    }
    Ok(reading)
}

/// Why a page gave nothing, for the error line.
pub fn no_items(page: &Page, feed: &FeedConfig) -> FeedError {
    let hint = match (&feed.select, &feed.json) {
        (Some(select), _) => format!(
            " (selector {:?} matched no item with a title)",
            select.item_source
        ),
        (None, Some(json)) => format!(" (the array at {:?} has no items with a title)", json.items),
        (None, None) => {
            " (auto mode found no repeated, dated links nor a dated JSON listing; add [feeds.select] or [feeds.json])".into()
        }
    };
    FeedError::NoItems {
        url: page.final_url.to_string(),
        hint,
    }
}

/// The items of one fetched page; none is an error.
pub fn extract_page(
    page: &Page,
    feed: &FeedConfig,
    ctx: &DateContext,
) -> Result<Vec<Item>, FeedError> {
    let items = read_page(page, feed, ctx)?.items;
    if items.is_empty() {
        return Err(no_items(page, feed));
    }
    Ok(items)
}

/// This run's items with their stable ids and canonical links.
fn seen_items(feed: &FeedConfig, items: &[Item]) -> Vec<SeenItem> {
    items
        .iter()
        .map(|item| {
            let link = item.link.as_ref().map(extract::text::canonical_link);
            SeenItem {
                id: entry_id(&feed.id, &item.title, link.as_ref(), item.published),
                title: item.title.clone(),
                link: link.map(|l| l.to_string()),
                published: item.published.map(|at| at.timestamp()),
            }
        })
        .collect()
}

/// Stored items as published, in the feed's zone; undated ones carry their first-seen instant.
fn entries_from(stored: &[StoredItem], tz: Tz) -> Vec<Entry> {
    let mut entries: Vec<Entry> = stored
        .iter()
        .map(|item| Entry {
            id: item.id.clone(),
            title: item.title.clone(),
            link: item.link.as_deref().and_then(|l| Url::parse(l).ok()),
            published: tz.timestamp_opt(item.date(), 0).single(),
        })
        .collect();
    write::sort_entries(&mut entries);
    entries
}

/// A fingerprint of what a reader sees, to tell a changed feed from a re-run.
fn content_hash(entries: &[Entry]) -> String {
    let mut hash = Sha256::new();
    for entry in entries {
        for part in [
            entry.id.as_str(),
            entry.title.as_str(),
            entry.link.as_ref().map_or("", Url::as_str),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.update(entry.published.map_or(0, |at| at.timestamp()).to_be_bytes());
    }
    hash.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The canonical link identifies an article, so an edited title keeps its id. An item without a
/// link is known by its title and date within its feed.
pub fn entry_id(
    feed_id: &str,
    title: &str,
    link: Option<&Url>,
    published: Option<DateTime<Tz>>,
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

fn feed_meta(base: &Url, feed: &FeedConfig, updated: DateTime<Tz>) -> FeedMeta {
    let join = |name: String| base.join(&name).expect("feed ids are safe path segments");
    let host = feed.url.host_str().unwrap_or("local file").to_string();
    FeedMeta {
        id: feed.id.clone(),
        title: feed.title.clone().unwrap_or_else(|| host.clone()),
        description: format!("Headlines from {}", feed.url),
        source_url: feed.url.clone(),
        language: feed.language.clone(),
        rss_url: join(format!("{}.xml", feed.id)),
        atom_url: join(format!("{}.atom", feed.id)),
        json_url: join(format!("{}.json", feed.id)),
        updated,
        author: host,
    }
}

/// Write both files; whether either changed.
fn publish_feed(
    output: &OutputDir,
    feed: &FeedConfig,
    meta: &FeedMeta,
    entries: &[Entry],
) -> Result<bool, FeedError> {
    let mut changed = false;
    for (name, bytes) in [
        (format!("{}.xml", feed.id), write::rss(meta, entries)),
        (format!("{}.atom", feed.id), write::atom(meta, entries)),
        (format!("{}.json", feed.id), write::json_feed(meta, entries)),
    ] {
        changed |= output.publish(&name, &bytes)? == Written::Changed;
    }
    Ok(changed)
}
