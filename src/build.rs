//! One run: every selected feed through fetch → decode → extract → store → write → publish, each
//! feed's outcome kept as data so that one failing site never stops the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
use crate::enrich::{self, Byline};
use crate::extract::{self, Item};
use crate::fetch::{FetchError, Fetched, Fetcher, Page, Request, Validators};
use crate::lock::{LockError, StateLock};
use crate::publish::{OutputDir, PublishError, Staged};
use crate::store::{
    Article, FeedHealth, GROUP_COMMIT, LastRead, Opened, Published, SeenItem, Starts, Store,
    StoreError, StoredItem, lock,
};
use crate::write::{self, Entry, FeedMeta};

/// A page that used to give at least this many items and now gives under a quarter of them has
/// most likely changed its layout; publishing the remainder would look like mass deletion.
const SHRINK_GUARD_MIN: i64 = 8;
/// Runs in a row that a smaller page is refused before it is taken as the page's new size.
const SHRINK_ACCEPT_AFTER: i64 = 3;
/// Words of the shrink error that tell it apart in the feed's last error.
const SHRINK_MARK: &str = "the page layout has probably changed";

/// What the last read of a page (its validators and fingerprints) is kept under: the feed, the
/// page, and how it is read (the extraction config and this build, `DATELINE_BUILD`: see
/// build.rs at the top), so that fixing a selector, upgrading dateline or a second feed on the
/// same page never keeps what it has not read.
fn page_key(feed: &FeedConfig) -> String {
    let mut how = Fingerprint::new();
    match (&feed.select, &feed.json) {
        (Some(s), _) => {
            how.text("select").text(&s.item_source);
            for value in [&s.title, &s.link, &s.date] {
                how.opt_text(value.as_ref().map(|v| v.source.as_str()));
            }
            how.opt_text(s.date_format.as_deref());
        }
        (None, Some(j)) => {
            how.text("json").text(&format!("{j:?}"));
        }
        (None, None) => {
            how.text("auto");
        }
    }
    // Joined, not formatted: the same text at a fifth of the cost, once per feed per run.
    [
        feed.id.as_str(),
        " ",
        feed.url.as_str(),
        " ",
        &how.finish()[..16],
    ]
    .concat()
}

/// A digest written out in lowercase hex.
pub(crate) fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// A fingerprint fed field by field, each field closed so that no two sequences of fields give
/// the same bytes. Written directly, not through `format!("{:?}")`: every feed's key is made on
/// every run, and formatting was a tenth of a no-change run.
///
/// XXH3-128, not a cryptographic hash: it tells a changed page, item list or view from the last
/// run's. A collision (one in 2^128 by chance) would keep a feed's files as they are while its
/// page kept serving those items, and a site crafting one could only stale its own feed.
/// SHA-256 fed this way was 1 % of a cold build's time (its many small writes). Ids, which
/// must never change, are made otherwise (`entry_id`).
pub(crate) struct Fingerprint(xxhash_rust::xxh3::Xxh3);

impl Fingerprint {
    pub(crate) fn new() -> Fingerprint {
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        hash.update(env!("DATELINE_BUILD").as_bytes());
        hash.update(&[0]);
        Fingerprint(hash)
    }

    /// Without the build: for what must stay the same across upgrades.
    pub(crate) fn of_content() -> Fingerprint {
        Fingerprint(xxhash_rust::xxh3::Xxh3::new())
    }

    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        self.0.update(&(text.len() as u64).to_be_bytes());
        self.0.update(text.as_bytes());
        self
    }

    pub(crate) fn opt_text(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => self.number(1).text(text),
            None => self.number(0),
        }
    }

    pub(crate) fn number(&mut self, n: i64) -> &mut Self {
        self.0.update(&n.to_be_bytes());
        self
    }

    pub(crate) fn opt_number(&mut self, n: Option<i64>) -> &mut Self {
        match n {
            Some(n) => self.number(1).number(n),
            None => self.number(0),
        }
    }

    pub(crate) fn finish(self) -> String {
        hex(&self.0.digest128().to_be_bytes())
    }
}

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
        "{url} gave {found} items where it gave {before} last time; the page layout has probably changed, so the published feed is kept (after 3 such runs the smaller page is accepted)"
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
    /// The page was as last read (the server answered 304, or sent the same bytes again):
    /// nothing was parsed.
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

/// The cores pages are read on: the binary's blocking pool has this many threads, and a run
/// lets two feeds per core wait for them.
pub fn cores() -> usize {
    // Asked once: the answer reads the cgroup's CPU quota from /proc and /sys each time.
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
}

/// What every feed of a run shares.
struct Run {
    fetcher: Fetcher,
    /// Shared with the thread that renders the site beside the feeds.
    output: Arc<OutputDir>,
    /// Shared with the site's templates, which read items as they render.
    store: Arc<Mutex<Store>>,
    /// Files waiting for the commit that makes the items they show durable (see `finish`).
    staged: Mutex<Vec<StagedFeed>>,
    /// Feeds whose staged files could not be put in place.
    unput: Mutex<Vec<(String, FeedError)>>,
    /// What the feeds start from, read from the store at once and taken by each feed as it
    /// starts: one at a time, those reads were an eighth of a no-change rerun's instructions.
    starts: Mutex<Starts>,
    /// Each selected feed's `page_key`, by feed id: made once, not at each of the three places
    /// a feed's run asks for it (3 % of a no-change run's instructions).
    page_keys: HashMap<String, String>,
    base_url: Url,
    now: DateTime<Utc>,
}

impl Run {
    /// `page_key(feed)`, as made when the run started for the feeds it selected.
    fn page_key<'r>(&'r self, feed: &FeedConfig) -> std::borrow::Cow<'r, str> {
        match self.page_keys.get(&feed.id) {
            Some(key) => std::borrow::Cow::Borrowed(key),
            None => std::borrow::Cow::Owned(page_key(feed)),
        }
    }
}

/// The site files rendered beside a run's feeds (see [`crate::site::SiteRender`]).
struct SiteBeside {
    render: Mutex<Beside>,
    /// Only a whole run: `--only` leaves the other feeds' parts unread until the end.
    wanted: bool,
}

#[derive(Default)]
struct Beside {
    render: Option<crate::site::SiteRender>,
    /// Feeds done before the render started.
    done: Vec<String>,
}

impl SiteBeside {
    /// Start rendering unless it has started; if it cannot, the site is rendered at the end.
    fn start(&self, config: &Config, run: &Run) {
        let mut beside = self.render.lock().expect("site render lock");
        if !self.wanted || beside.render.is_some() {
            return;
        }
        match crate::site::SiteRender::start(config, &run.store, &run.output, run.now) {
            Ok(render) => {
                for id in std::mem::take(&mut beside.done) {
                    render.finished(&id);
                }
                beside.render = Some(render);
            }
            Err(e) => tracing::debug!("site files rendered at the end: {e}"),
        }
    }

    fn finished(&self, id: &str) {
        let mut beside = self.render.lock().expect("site render lock");
        match &beside.render {
            Some(render) => render.finished(id),
            None if self.wanted => beside.done.push(id.to_string()),
            None => {}
        }
    }

    fn into_render(self) -> Option<crate::site::SiteRender> {
        self.render.into_inner().expect("site render lock").render
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
    // Held until the run ends; the OS drops it if the process dies, so it never goes stale.
    let mut state_lock = StateLock::acquire(&config.site.state)?;
    let output = OutputDir::open(&out_dir)?;
    // Leftovers of a killed run are looked for unless the last run finished writing this very
    // folder: reading a folder of 1,500 files was 2 % of a run whose pages all answer 304.
    // Resolved, so that a relative `--out` or a switched symlink is not taken for another.
    let folder = std::fs::canonicalize(output.path()).ok();
    if !folder
        .as_deref()
        .is_some_and(|folder| state_lock.finished_before(folder))
    {
        output.remove_leftovers()?;
    }
    let (store, opened) = Store::open(&config.site.state)?;
    let mut warnings = Vec::new();
    if let Opened::MovedAside { to, reason } = opened {
        warnings.push(format!(
            "state file {} was unreadable ({reason}); it was moved aside to {} and a new one started; feed histories are recovered from the published feeds",
            config.site.state.display(),
            to.display()
        ));
    }

    // Feeds of one listing first (with the hidden ones a merged feed reads), then the feeds
    // made from the store: merged feeds and ticker feeds.
    let wanted = |f: &FeedConfig| options.only.is_empty() || options.only.contains(&f.id);
    let merged: Vec<&FeedConfig> = config
        .feeds
        .iter()
        .map(Arc::as_ref)
        .filter(|f| !f.sources.is_empty() && wanted(f))
        .collect();
    let needed_sources: std::collections::HashSet<&str> = merged
        .iter()
        .flat_map(|f| f.sources.iter())
        .filter_map(|s| match s {
            crate::config::Source::Feed(id) => Some(id.as_str()),
            crate::config::Source::Url(_) => None,
        })
        .collect();
    let selected: Vec<&Arc<FeedConfig>> = config
        .feeds
        .iter()
        .filter(|f| f.sources.is_empty() && (wanted(f) || needed_sources.contains(f.id.as_str())))
        .collect();
    let run = Arc::new(Run {
        fetcher: Fetcher::new(config.fetch)?,
        output: Arc::new(output),
        store: Arc::new(Mutex::new(store)),
        staged: Mutex::new(Vec::new()),
        unput: Mutex::new(Vec::new()),
        starts: Mutex::new(Starts::default()),
        page_keys: selected
            .iter()
            .map(|f| (f.id.clone(), page_key(f)))
            .collect(),
        base_url: config.site.base_url.clone(),
        now: options.now.unwrap_or_else(Utc::now),
    });
    // A whole run reads its feeds' starts at once; `--only` a few feeds asks for theirs. Kept to
    // the feeds selected: the state also holds feeds since removed and pages read another way.
    if options.only.is_empty() {
        let ids: std::collections::HashSet<&str> = selected.iter().map(|f| f.id.as_str()).collect();
        let pages: std::collections::HashSet<&str> =
            run.page_keys.values().map(String::as_str).collect();
        match lock(&run.store).starts(|id| ids.contains(id), |key| pages.contains(key)) {
            Ok(starts) => *run.starts.lock().expect("feed starts") = starts,
            // Each feed then reads its own, and fails alone if it cannot.
            Err(e) => tracing::warn!("reading the feeds' state at once: {e}"),
        }
    }
    // The site files are rendered beside the feeds once they will be rendered at all: from the
    // start when the published ones are stale, else from the first feed that changes. A run of
    // `--only` a few feeds renders them at the end.
    let site = SiteBeside {
        render: Mutex::new(Beside::default()),
        wanted: options.only.is_empty(),
    };
    if site.wanted && crate::site::is_stale(&lock(&run.store))? {
        site.start(config, &run);
    }
    let runs = selected.iter().map(|feed| {
        let run = run.clone();
        let feed = Arc::clone(feed);
        let progress = options.progress.clone();
        let site = &site;
        async move {
            let started = Instant::now();
            let result = build_feed(&run, &feed).await;
            if result.as_ref().is_ok_and(|built| built.changed) {
                site.start(config, &run);
            }
            let report = report(&run, &feed.id, started, result, progress.as_ref());
            site.finished(&feed.id);
            report
        }
    });
    // Staged files wait for a shared commit; behind slow feeds, for two GROUP_COMMIT windows
    // at most.
    let feeds_done = Arc::new(tokio::sync::Notify::new());
    let flusher = {
        let (run, feeds_done) = (run.clone(), feeds_done.clone());
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + GROUP_COMMIT, GROUP_COMMIT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let run = run.clone();
                        let _ = tokio::task::spawn_blocking(move || put_all_staged(&run, true)).await;
                    }
                    () = feeds_done.notified() => break,
                }
            }
        })
    };
    // The fetcher bounds requests in flight; this bounds pages held in memory at once: those
    // being fetched, and two per core read or waiting to be read (500 feeds: 16 waiting took
    // the peak from 30 to 33-35 MB, in the same wall time).
    let mut feeds: Vec<FeedReport> = futures::stream::iter(runs)
        .buffer_unordered(config.fetch.concurrency.max(1) + 2 * cores())
        .collect()
        .await;
    // A flush under way finishes before the feeds that read these files begin.
    feeds_done.notify_one();
    let _ = flusher.await;
    // Merged feeds show their sources' items, and the index every feed's files.
    put_all_staged(&run, false);
    for feed in merged {
        let started = Instant::now();
        let result = build_merged(&run, config, feed).await;
        feeds.push(report(
            &run,
            &feed.id,
            started,
            result,
            options.progress.as_ref(),
        ));
        site.finished(&feed.id);
    }
    if options.only.is_empty() {
        for ticker in &config.tickers {
            let started = Instant::now();
            let result = build_ticker(&run, config, ticker);
            feeds.push(report(
                &run,
                &ticker.id,
                started,
                result,
                options.progress.as_ref(),
            ));
            site.finished(&ticker.id);
        }
    }
    put_all_staged(&run, false);
    // A feed whose staged files could not be put in place had already reported success.
    let unput = std::mem::take(&mut *lock_unput(&run));
    let beside = site.into_render();
    // Feeds failed after the render read them: it is rendered again, with their health.
    let beside = beside.filter(|_| unput.is_empty());
    for (id, error) in unput {
        if let Some(feed) = feeds.iter_mut().find(|r| r.id == id) {
            record_failure(&run, &id, &error);
            feed.result = Err(error);
        }
    }
    // Reports in config order (a lookup table: thousands of feeds made a linear search per
    // comparison quadratic), looked up once per report, not per comparison.
    let order: std::collections::HashMap<&str, usize> = config
        .feeds
        .iter()
        .map(|f| f.id.as_str())
        .chain(config.tickers.iter().map(|t| t.id.as_str()))
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    feeds.sort_by_cached_key(|r| order.get(r.id.as_str()).copied());
    let site_error = {
        let site_error = match beside {
            Some(render) => render.finish(&run.store, &run.output),
            None => crate::site::publish_site(config, &run.store, &run.output, run.now),
        }
        .err();
        lock(&run.store).commit()?;
        site_error
    };
    vouch_for_folder(&mut state_lock, folder.as_deref(), &run.output);
    Ok(BuildReport {
        feeds,
        warnings,
        site_error,
    })
}

/// Record in the lock that this run finished `folder`, if every temporary file it made there
/// is in place or removed. Unrecorded, the next run only reads the folder for leftovers it
/// need not.
fn vouch_for_folder(state_lock: &mut StateLock, folder: Option<&Path>, output: &OutputDir) {
    if let Some(folder) = folder
        && output.left_clean()
        && let Err(e) = state_lock.finished(folder)
    {
        tracing::debug!("{e}");
    }
}

async fn build_feed(run: &Arc<Run>, feed: &Arc<FeedConfig>) -> Result<FeedBuilt, FeedError> {
    // Waiting here for a feed being merged on the blocking threads would stall every request
    // in flight (500 feeds: the async thread waited 42 ms of a 0.48 s build); a blocking
    // thread waits instead.
    let held = match started(run, feed) {
        Some(start) => Some(start),
        None => match run.store.try_lock() {
            Ok(mut store) => Some(feed_start(&mut store, run, feed)?),
            Err(std::sync::TryLockError::WouldBlock) => None,
            Err(std::sync::TryLockError::Poisoned(_)) => panic!("store lock poisoned"),
        },
    };
    let (last, health) = match held {
        Some(start) => start,
        None => {
            off_async(run, feed, |run, feed| {
                feed_start(&mut lock(&run.store), run, feed)
            })
            .await?
        }
    };
    let mut request = Request::for_feed(feed);
    request.validators = last.validators.clone();
    let fetched = run
        .fetcher
        .fetch(&request)
        .await
        .map_err(|source| FeedError::Fetch {
            url: feed.url.to_string(),
            source,
        })?;

    let taken = match fetched {
        Fetched::NotModified => {
            if let Some(built) = keep_published(run, feed, &health, AsLastRead::Page)? {
                return Ok(built);
            }
            Taken {
                count: None,
                new: 0,
                not_modified: true,
            }
        }
        Fetched::Page(page) if !feed.fetch_articles => {
            return off_async(run, feed, move |run, feed| {
                take_page(run, feed, &page, &last, &health)
            })
            .await;
        }
        Fetched::Page(page) => {
            let health = health.clone();
            off_async(run, feed, move |run, feed| {
                let read_items = ReadItems::of(feed, page_items(run, feed, &page, &health)?);
                let read = LastRead {
                    validators: page.validators(),
                    body_hash: Some(page.fingerprint()),
                    items_hash: Some(read_items.hash.clone()),
                };
                take_items(run, feed, &read_items.seen(feed), &read)
            })
            .await?
        }
    };
    if feed.fetch_articles {
        fetch_articles(run, feed).await?;
    }
    off_async(run, feed, move |run, feed| {
        render(run, feed, &health, &taken)
    })
    .await
}

/// A feed's start as read with the others (see [`Run::starts`]), if it has stored items; a
/// feed without them may have its history recovered from its files first (`feed_start`).
fn started(run: &Run, feed: &FeedConfig) -> Option<(LastRead, FeedHealth)> {
    let mut starts = run.starts.lock().expect("feed starts");
    let (health, has_items) = starts.feeds.remove(&feed.id)?;
    // `starts` takes a feed that published items to have them: true of files this listing
    // rendered (their key names its way of reading its page), not of files the same id
    // rendered as a merged or ticker feed before, which go the way of a feed without items.
    let others_files = health
        .published
        .as_ref()
        .is_some_and(|p| p.items > 0 && Some(&p.key) != published_key(run, feed, &health).as_ref());
    if !has_items || others_files {
        return None;
    }
    let last = starts
        .pages
        .remove(run.page_key(feed).as_ref())
        .unwrap_or_default();
    Some((last, health))
}

/// What a feed's run starts from: the page as last read and the feed's health.
fn feed_start(
    store: &mut Store,
    run: &Run,
    feed: &FeedConfig,
) -> Result<(LastRead, FeedHealth), FeedError> {
    let has_items = seed_from_published(store, &run.output, feed, run.now.timestamp())?;
    // Validators without stored items would turn a 304 into an empty feed.
    let last = if has_items {
        store.last_read(&run.page_key(feed))?
    } else {
        LastRead::default()
    };
    Ok((last, store.health(&feed.id)?))
}

/// Runs a feed's work after its fetch on the blocking threads: it is CPU and the state file.
/// On the async thread, rendering and merging kept that one thread busy while the core beside
/// it waited for pages (the wall time was that thread's time).
async fn off_async<T: Send + 'static>(
    run: &Arc<Run>,
    feed: &Arc<FeedConfig>,
    work: impl FnOnce(&Run, &FeedConfig) -> Result<T, FeedError> + Send + 'static,
) -> Result<T, FeedError> {
    let (run, feed) = (run.clone(), feed.clone());
    tokio::task::spawn_blocking(move || work(&run, &feed))
        .await
        .map_err(|e| FeedError::Extract(e.to_string()))?
}

/// What reading a feed's page (or its 304) left for rendering.
struct Taken {
    /// Items on the page; `None` when it was not read.
    count: Option<usize>,
    /// Of which new to the store.
    new: usize,
    not_modified: bool,
}

/// The items read from a fetched page, unless the page shrank past belief.
fn page_items(
    run: &Run,
    feed: &FeedConfig,
    page: &Page,
    health: &FeedHealth,
) -> Result<Vec<Item>, FeedError> {
    let ctx = DateContext {
        tz: feed.timezone,
        now: run.now,
    };
    let items = extract_page(page, feed, &ctx)?;
    // After SHRINK_ACCEPT_AFTER runs of the smaller page, it is the page's new size.
    let insisting = health.consecutive_failures >= SHRINK_ACCEPT_AFTER
        && health
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(SHRINK_MARK));
    if let Some(before) = health.last_count
        && before >= SHRINK_GUARD_MIN
        && (items.len() as i64) * 4 < before
        && !insisting
    {
        return Err(FeedError::Shrunk {
            url: feed.url.to_string(),
            found: items.len(),
            before,
        });
    }
    Ok(items)
}

/// Merge a page's items into the store and remember the read.
fn take_items(
    run: &Run,
    feed: &FeedConfig,
    seen: &[SeenItem],
    read: &LastRead,
) -> Result<Taken, FeedError> {
    let mut store = lock(&run.store);
    // The files no longer show what the store holds until this run renders them; another
    // feed's commit may make this merge durable first, and a run killed in between must leave
    // the next one rendering rather than keeping the files for a page as last read.
    store.record_published(&feed.id, None)?;
    let new = store.merge(&feed.id, seen, run.now.timestamp())?;
    store.save_last_read(&run.page_key(feed), read)?;
    Ok(Taken {
        count: Some(seen.len()),
        new,
        not_modified: false,
    })
}

/// A page's items as read, with their bylines and the fingerprint of what merging them would
/// change (`items_hash`): compared with the last read's before any id or ticker is made.
struct ReadItems {
    items: Vec<Item>,
    bylines: Vec<Byline>,
    hash: String,
}

impl ReadItems {
    fn of(feed: &FeedConfig, items: Vec<Item>) -> ReadItems {
        // In the title, or else in the rest of the item's text.
        let bylines: Vec<Byline> = items
            .iter()
            .map(|item| {
                enrich::byline_in_title(&item.title)
                    .or_else(|| item.context.as_deref().and_then(enrich::byline))
                    .unwrap_or_default()
            })
            .collect();
        let hash = items_hash(feed, &items, &bylines);
        ReadItems {
            items,
            bylines,
            hash,
        }
    }

    /// The items as the store keeps them: stable ids and canonical links, and what their titles
    /// and bylines say (tickers as categories, source and author).
    fn seen(self, feed: &FeedConfig) -> Vec<SeenItem> {
        let market = enrich::Market::of(&feed.language, feed.timezone.name());
        self.items
            .into_iter()
            .zip(self.bylines)
            .map(|(item, byline)| {
                let link = item.link.as_ref().map(extract::text::canonical_link);
                SeenItem {
                    id: entry_id(&feed.id, &item.title, link.as_deref(), item.published),
                    link: link.map(|l| l.to_string()),
                    published: item.published.map(|at| at.timestamp()),
                    author: byline.author,
                    source_name: byline.source,
                    categories: enrich::tickers(&item.title, market),
                    title: item.title,
                }
            })
            .collect()
    }
}

/// A fingerprint of what merging a page's items changes in the store: everything but the dates
/// of items with a link, which a known item keeps from when it was first seen (so "3 hours ago"
/// read at another time is still the same item; a new item has a new id). Taken from the items
/// as read, before `ReadItems::seen` makes ids and tickers of them: it is a pure function of these
/// fields (the link made canonical) and the feed's id, language and zone. Like every
/// fingerprint it includes the build, so a new dateline reads every page once.
fn items_hash(feed: &FeedConfig, items: &[Item], bylines: &[Byline]) -> String {
    let mut hash = Fingerprint::new();
    hash.text(&feed.id)
        .text(&feed.language)
        .text(feed.timezone.name());
    for (item, byline) in items.iter().zip(bylines) {
        // The id of an item without a link is made from its date.
        let dated_id = item
            .link
            .is_none()
            .then(|| item.published.map(|at| at.timestamp()));
        // A link with a rotating tracking parameter or fragment is stored without it.
        let link = item.link.as_ref().map(extract::text::canonical_link);
        hash.text(&item.title)
            .opt_text(link.as_ref().map(|link| link.as_str()))
            .opt_number(dated_id.flatten())
            // An item read with a date for the first time takes it (`Store::merge`).
            .number(i64::from(item.published.is_some()))
            .opt_text(byline.author.as_deref())
            .opt_text(byline.source.as_deref());
    }
    hash.finish()
}

/// The feed's newest stored items, published (or only recorded, for a feed that is not).
fn render(
    run: &Run,
    feed: &FeedConfig,
    health: &FeedHealth,
    taken: &Taken,
) -> Result<FeedBuilt, FeedError> {
    let now = run.now.timestamp();
    if !feed.publish {
        let store = lock(&run.store);
        let stored = store.recent(&feed.id, feed.max_items)?;
        store.record_success(&feed.id, now, "", now, taken.count)?;
        return Ok(FeedBuilt {
            items: stored.len(),
            new: taken.new,
            changed: false,
            not_modified: taken.not_modified,
        });
    }
    let entries = {
        let store = lock(&run.store);
        // A filter may drop some of the newest items, so it looks further back; without one the
        // newest `max_items` are the feed (history grows with every run, and reading 500 items
        // to show 100 was most of the reading).
        let wanted = if feed.filter.is_empty() {
            feed.max_items
        } else {
            feed.max_items.max(RECENT_FOR_FILTERS)
        };
        let stored = store.recent(&feed.id, wanted)?;
        let mut entries = entries_from(&store, &stored, feed)?;
        apply_filter(&mut entries, &feed.filter, run.now);
        entries.truncate(feed.max_items);
        entries
    };
    let changed = finish(run, feed, &entries, health, taken.count)?;
    Ok(FeedBuilt {
        items: entries.len(),
        new: taken.new,
        changed,
        not_modified: taken.not_modified,
    })
}

/// A fetched page of a feed that reads no articles: its files stay when the page or its items
/// are as last read; otherwise it is read, merged and rendered.
fn take_page(
    run: &Run,
    feed: &FeedConfig,
    page: &Page,
    last: &LastRead,
    health: &FeedHealth,
) -> Result<FeedBuilt, FeedError> {
    let mut read = LastRead {
        validators: page.validators(),
        body_hash: Some(page.fingerprint()),
        items_hash: last.items_hash.clone(),
    };
    let keep = |read: &LastRead, same| -> Result<Option<FeedBuilt>, FeedError> {
        let Some(built) = keep_published(run, feed, health, same)? else {
            return Ok(None);
        };
        if read != last {
            lock(&run.store).save_last_read(&run.page_key(feed), read)?;
        }
        Ok(Some(built))
    };
    if read.body_hash == last.body_hash
        && let Some(built) = keep(&read, AsLastRead::Page)?
    {
        return Ok(built);
    }
    // Items are compared as read, before ids and tickers are made of them: a page served
    // with a new timestamp around the same items costs only its reading.
    let read_items = ReadItems::of(feed, page_items(run, feed, page, health)?);
    read.items_hash = Some(read_items.hash.clone());
    if read.items_hash == last.items_hash
        && let Some(built) = keep(&read, AsLastRead::Items)?
    {
        return Ok(built);
    }
    let taken = take_items(run, feed, &read_items.seen(feed), &read)?;
    render(run, feed, health, &taken)
}

/// What of a page is as it was when last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AsLastRead {
    /// The page itself: a 304, or the same bytes again.
    Page,
    /// The items read from it: the page changed around them (a served-at time, an ad).
    Items,
}

/// With the page or its items as last read, a feed whose published files are exactly what this
/// run would render keeps them: only its success is recorded. Merging the same items again
/// would change no stored item (a known item keeps its date), so the files would not change.
fn keep_published(
    run: &Run,
    feed: &FeedConfig,
    health: &FeedHealth,
    same: AsLastRead,
) -> Result<Option<FeedBuilt>, FeedError> {
    let Some(items) = unchanged_and_intact(run, feed, health) else {
        return Ok(None);
    };
    let what = match same {
        AsLastRead::Page => "page",
        AsLastRead::Items => "page's items",
    };
    tracing::debug!("feed {}: the {what} as last read; its files stay", feed.id);
    lock(&run.store).record_kept(&feed.id, run.now.timestamp())?;
    Ok(Some(FeedBuilt {
        items,
        new: 0,
        changed: false,
        not_modified: same == AsLastRead::Page,
    }))
}

/// With the page or its items as last read, whether the files already published are exactly
/// what this run would render, so rendering can be skipped: nothing else feeds them (no article
/// summaries arriving, no age filter moving with the clock), they were rendered from the same
/// content and `published_key`, and they are still there at the sizes written. Their item count
/// if so.
fn unchanged_and_intact(run: &Run, feed: &FeedConfig, health: &FeedHealth) -> Option<usize> {
    if !feed.publish || feed.fetch_articles || feed.filter.max_age_days.is_some() {
        return None;
    }
    let published = health.published.as_ref()?;
    if published.key != published_key(run, feed, health)? {
        return None;
    }
    let files = feed_files(feed);
    let intact = published.sizes.len() == files.len()
        && run
            .output
            .has_sizes(files.iter().map(String::as_str), &published.sizes);
    intact.then_some(published.items)
}

/// What a feed's files are rendered from besides its items: the config that shapes them, the
/// way its page is read (`page_key`: a page read one way, then another, then the first way
/// again must not find the first way's last read matching files the second way wrote), the
/// site's address, the folder they are in and this build of dateline, with the content
/// fingerprint and date of its items.
fn published_key(run: &Run, feed: &FeedConfig, health: &FeedHealth) -> Option<String> {
    let mut key = Fingerprint::new();
    key.text(run.base_url.as_str())
        .text(&run.output.path().to_string_lossy())
        .text(&run.page_key(feed))
        .text(&feed.id)
        .opt_text(feed.title.as_deref())
        .text(feed.url.as_str())
        .text(feed.timezone.name())
        .text(&feed.language)
        .number(feed.max_items as i64)
        .number(i64::from(feed.fetch_articles))
        .number(feed.summary_chars as i64);
    // Rare, and without a plainer form (regexes, sources): written out only when set.
    if !feed.filter.is_empty() {
        key.text(&format!("{:?}", feed.filter));
    }
    if !feed.sources.is_empty() {
        key.text(&format!("{:?}", feed.sources));
    }
    key.text(health.content_hash.as_deref()?)
        .number(health.changed_at?);
    Some(key.finish())
}

/// The files of one feed, in the order `stage_feed` writes them.
fn feed_files(feed: &FeedConfig) -> [String; 3] {
    [".xml", ".atom", ".json"].map(|extension| [feed.id.as_str(), extension].concat())
}

/// Filters look further back than a feed shows, so a narrow feed still fills up.
const RECENT_FOR_FILTERS: usize = 500;

/// Record the feed's content and publish its files; whether any file changed.
///
/// Files that may show items new to the store since its last commit are staged beside the
/// published ones and put in place after the commit that makes those items durable, so no
/// item a reader has seen can be missing from the state. That commit is shared: it comes when
/// `STAGED_FEEDS` feeds wait or the transaction is `GROUP_COMMIT` old, and at the end of the
/// feeds. A commit per feed wrote the pages those feeds share to the log again each time (500
/// new feeds: 500 commits and 27,700 page writes; now 62 and 17,500).
fn finish(
    run: &Run,
    feed: &FeedConfig,
    entries: &[Entry],
    health: &FeedHealth,
    count: Option<usize>,
) -> Result<bool, FeedError> {
    let now = run.now.timestamp();
    let hash = content_hash(entries);
    // The feed's date is when its content last changed, so an unchanged feed keeps its bytes.
    let changed_at = match (&health.content_hash, health.changed_at) {
        (Some(old), Some(at)) if *old == hash => at,
        _ => now,
    };
    let updated = feed
        .timezone
        .timestamp_opt(changed_at, 0)
        .single()
        .unwrap_or_else(|| run.now.with_timezone(&feed.timezone));
    let meta = feed_meta(&run.base_url, feed, updated);
    let (files, sizes) = stage_feed(&run.output, feed, &meta, entries)?;
    let changed = !files.is_empty();
    let rendered_from = FeedHealth {
        content_hash: Some(hash.clone()),
        changed_at: Some(changed_at),
        ..FeedHealth::default()
    };
    let staged = StagedFeed {
        id: feed.id.clone(),
        files,
        published: published_key(run, feed, &rendered_from).map(|key| Published {
            key,
            items: entries.len(),
            sizes,
        }),
    };
    let ready = {
        let store = lock(&run.store);
        store.record_success(&feed.id, now, &hash, changed_at, count)?;
        if store.holds_unsaved_items() {
            // Until the files are in place, what they were rendered from is unknown.
            store.record_published(&feed.id, None)?;
            let waiting = {
                let mut waiting = lock_staged(run);
                waiting.push(staged);
                waiting.len()
            };
            if waiting < STAGED_FEEDS && !store.commit_due() {
                return Ok(changed);
            }
            // A failed commit fails this feed with the others waiting (see `commit_staged`).
            commit_staged(run, &store).unwrap_or_default()
        } else {
            let ready = if store.commit_due() {
                commit_staged(run, &store)?
            } else {
                Vec::new()
            };
            if let Err(e) = put_files(staged.files) {
                store.record_published(&feed.id, None)?;
                return Err(e);
            }
            store.record_published(&feed.id, staged.published.as_ref())?;
            ready
        }
    };
    put_staged(run, ready);
    Ok(changed)
}

/// A feed's files written beside the published ones, and the record to keep once they are in
/// place.
struct StagedFeed {
    id: String,
    files: Vec<Staged>,
    published: Option<Published>,
}

/// Feeds whose staged files wait for a commit.
const STAGED_FEEDS: usize = 8;

fn lock_staged(run: &Run) -> std::sync::MutexGuard<'_, Vec<StagedFeed>> {
    run.staged.lock().expect("staged feeds lock")
}

fn lock_unput(run: &Run) -> std::sync::MutexGuard<'_, Vec<(String, FeedError)>> {
    run.unput.lock().expect("unput feeds lock")
}

/// Commit, and take the staged feeds, whose files can now go up. When the commit fails, the
/// items those files show may be lost: the files are dropped and each of those feeds fails
/// with the commit's error. Locks are taken in the order store, staged, unput.
fn commit_staged(run: &Run, store: &Store) -> Result<Vec<StagedFeed>, StoreError> {
    let mut waiting = lock_staged(run);
    match store.commit() {
        Ok(()) => Ok(std::mem::take(&mut *waiting)),
        Err(e) => {
            let mut unput = lock_unput(run);
            for feed in waiting.drain(..) {
                unput.push((feed.id, FeedError::State(e.shared())));
            }
            Err(e)
        }
    }
}

fn put_files(files: Vec<Staged>) -> Result<(), FeedError> {
    for file in files {
        file.put()?;
    }
    Ok(())
}

/// Put in place the files of feeds whose items a commit has made durable. A feed whose files
/// cannot be put has its report turned into that failure at the end of the run.
fn put_staged(run: &Run, ready: Vec<StagedFeed>) {
    if ready.is_empty() {
        return;
    }
    let mut records = Vec::with_capacity(ready.len());
    for feed in ready {
        match put_files(feed.files) {
            Ok(()) => records.extend(feed.published.map(|p| (feed.id, p))),
            Err(e) => lock_unput(run).push((feed.id, e)),
        }
    }
    let store = lock(&run.store);
    for (id, published) in records {
        if let Err(e) = store.record_published(&id, Some(&published)) {
            lock_unput(run).push((id, e.into()));
        }
    }
}

/// Commit and put every staged feed's files in place; with `only_due`, only once the open
/// transaction is `GROUP_COMMIT` old (called every window, so that staged files wait at most
/// two windows behind slow feeds).
fn put_all_staged(run: &Run, only_due: bool) {
    let ready = {
        let store = lock(&run.store);
        if lock_staged(run).is_empty() || (only_due && !store.commit_due()) {
            return;
        }
        // A failure is each waiting feed's, and the run's last commit reports it again.
        commit_staged(run, &store).unwrap_or_default()
    };
    put_staged(run, ready);
}

/// Follow each item's link that has not been read yet, once, for a summary, author, picture and
/// date. A failed article is recorded and never fails the feed.
async fn fetch_articles(run: &Run, feed: &FeedConfig) -> Result<(), FeedError> {
    let todo: Vec<StoredItem> = {
        let store = lock(&run.store);
        let mut todo = Vec::new();
        for item in store.recent(&feed.id, feed.max_items)? {
            if let Some(link) = &item.link
                && allowed_article(link, &feed.url)
                && store.article(link)?.is_none()
            {
                todo.push(item);
            }
        }
        todo.truncate(ARTICLES_PER_RUN);
        todo
    };
    let ctx = DateContext {
        tz: feed.timezone,
        now: run.now,
    };
    let reads = todo.into_iter().map(|item| async move {
        let link = item.link.clone().unwrap_or_default();
        // A failure that may pass (a timeout, 5xx, 429) is not stored, so the next run retries.
        let (article, transient) = match Url::parse(&link) {
            Err(e) => (
                Article {
                    error: Some(e.to_string()),
                    ..Default::default()
                },
                false,
            ),
            Ok(url) => {
                let request = Request {
                    url,
                    validators: Validators::default(),
                    ..Request::for_feed(feed)
                };
                match run.fetcher.fetch(&request).await {
                    Ok(Fetched::Page(page)) => {
                        let summary_chars = feed.summary_chars;
                        let read = tokio::task::spawn_blocking(move || {
                            let decoded = decode::decode_page(&page);
                            crate::article::read_article(
                                &decoded.text,
                                &page.final_url,
                                summary_chars,
                                &ctx,
                            )
                        })
                        .await;
                        match read {
                            Ok(article) => (article, false),
                            Err(e) => (
                                Article {
                                    error: Some(e.to_string()),
                                    ..Default::default()
                                },
                                false,
                            ),
                        }
                    }
                    Ok(Fetched::NotModified) => (Article::default(), false),
                    Err(e) => {
                        let transient = matches!(
                            e,
                            FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Other(_)
                        ) || matches!(e, FetchError::Status { status, .. } if status == 408 || status == 429 || status >= 500);
                        (
                            Article {
                                error: Some(e.to_string()),
                                ..Default::default()
                            },
                            transient,
                        )
                    }
                }
            }
        };
        (item, article, transient)
    });
    let read: Vec<(StoredItem, Article, bool)> = futures::stream::iter(reads)
        .buffer_unordered(4)
        .collect()
        .await;
    let now = run.now.timestamp();
    let store = lock(&run.store);
    for (item, article, transient) in read {
        let link = item.link.clone().unwrap_or_default();
        if let Some(error) = &article.error {
            tracing::info!("feed {}: article {link}: {error}", feed.id);
        }
        if transient {
            continue;
        }
        store.save_article(&link, &article, now)?;
        // The article's time replaces no date or a bare day only before the item is first
        // published: a date once out never moves.
        let day_only = item
            .published
            .and_then(|at| feed.timezone.timestamp_opt(at, 0).single())
            .is_some_and(|at| at.time() == chrono::NaiveTime::MIN);
        if item.first_seen == now
            && (item.published.is_none() || day_only)
            && let Some(better) = article.published
        {
            store.set_published(&feed.id, &item.id, better)?;
        }
    }
    Ok(())
}

/// Article links are followed only to public hosts, or to the listing's own host: a listing
/// must not steer the fetcher at loopback or private addresses.
fn allowed_article(link: &str, listing: &Url) -> bool {
    let Ok(url) = Url::parse(link) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    if url.host_str() == listing.host_str() {
        return true;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            !(ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified())
        }
        Some(url::Host::Ipv6(ip)) => !(ip.is_loopback() || ip.is_unspecified()),
        Some(url::Host::Domain(name)) => name != "localhost" && !name.ends_with(".localhost"),
        None => false,
    }
}

/// At most this many articles are read per feed and run; the rest wait for the next run.
const ARTICLES_PER_RUN: usize = 30;

/// Drop what the feed's filters leave out.
fn apply_filter(entries: &mut Vec<Entry>, filter: &crate::config::Filter, now: DateTime<Utc>) {
    if filter.is_empty() {
        return;
    }
    let oldest = filter
        .max_age_days
        .map(|days| now - chrono::Duration::days(i64::from(days)));
    entries.retain(|entry| {
        let text = match &entry.summary {
            Some(summary) => format!("{} {summary}", entry.title),
            None => entry.title.clone(),
        };
        (filter.include.is_empty() || filter.include.iter().any(|re| re.is_match(&text)))
            && !filter.exclude.iter().any(|re| re.is_match(&text))
            && (filter.tickers.is_empty()
                || filter.tickers.iter().any(|t| entry.categories.contains(t)))
            && oldest.is_none_or(|oldest| entry.published.is_some_and(|at| at >= oldest))
    });
}

/// A merged feed: its sources' stored items, a story syndicated to several of them once, with
/// its earliest date and every source named.
async fn build_merged(
    run: &Run,
    config: &Config,
    feed: &FeedConfig,
) -> Result<FeedBuilt, FeedError> {
    let mut parts: Vec<(String, Vec<Entry>)> = Vec::new();
    let health = {
        let store = lock(&run.store);
        for source in &feed.sources {
            let crate::config::Source::Feed(id) = source else {
                continue;
            };
            let Some(part) = config.feeds.iter().find(|f| &f.id == id) else {
                continue;
            };
            let stored = store.recent(id, RECENT_FOR_FILTERS)?;
            let mut entries = entries_from(&store, &stored, part)?;
            for entry in &mut entries {
                // The merged feed speaks in its own zone.
                entry.published = entry.published.map(|at| at.with_timezone(&feed.timezone));
            }
            let name = part
                .title
                .clone()
                .unwrap_or_else(|| part.url.host_str().unwrap_or(id).to_string());
            parts.push((name, entries));
        }
        store.health(&feed.id)?
    };
    let mut entries = merge_sources(parts);
    apply_filter(&mut entries, &feed.filter, run.now);
    write::sort_entries(&mut entries);
    entries.truncate(feed.max_items);
    if entries.is_empty() {
        return Err(FeedError::NoItems {
            url: "its sources".into(),
            hint: " (none of the merged feeds has items yet)".into(),
        });
    }
    let changed = finish(run, feed, &entries, &health, Some(entries.len()))?;
    Ok(FeedBuilt {
        items: entries.len(),
        new: 0,
        changed,
        not_modified: false,
    })
}

/// How close two copies of one story are in time to count as one.
const SYNDICATION_WINDOW_HOURS: i64 = 48;

/// The same story from several sources (the same link, or the same normalised title within the
/// window, both dated), once: it keeps the id, link and title of its first copy (sources in
/// config order), so its id never changes, takes the earliest date, and names every source in
/// `source:NAME` categories. Copies are only matched across sources: one portal's recurring
/// headline ("Morning Briefing") stays one item per day.
pub fn merge_sources(parts: Vec<(String, Vec<Entry>)>) -> Vec<Entry> {
    struct Group {
        entry: Entry,
        names: Vec<String>,
        sources: Vec<usize>,
    }
    let mut groups: Vec<Group> = Vec::new();
    // The groups by their first entry's link key and title key. An entry joins the first group
    // (in order of creation) it matches, as a walk over every group, comparing title keys made
    // anew each time, found it: that walk was quadratic, and a ticker feed of 500 items spent
    // 0.2 s in it on every run.
    let mut by_link: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, (name, entries)) in parts.into_iter().enumerate() {
        for entry in entries {
            let key = title_key(&entry.title);
            let link = entry
                .link
                .as_deref()
                .and_then(|l| Url::parse(l).ok())
                .map(|l| extract::text::link_key(&l));
            let open_to = |i: &&usize| !groups[**i].sources.contains(&index);
            let by_same_link = link
                .as_ref()
                .and_then(|l| by_link.get(l))
                .into_iter()
                .flatten()
                .filter(open_to);
            let by_same_title = (!key.is_empty())
                .then(|| by_title.get(&key))
                .flatten()
                .into_iter()
                .flatten()
                .filter(open_to)
                .filter(|i| {
                    matches!((groups[**i].entry.published, entry.published), (Some(a), Some(b))
                        if (a - b).num_hours().abs() <= SYNDICATION_WINDOW_HOURS)
                });
            let same = by_same_link.chain(by_same_title).min().copied();
            match same {
                Some(i) => {
                    let group = &mut groups[i];
                    group.sources.push(index);
                    if !group.names.contains(&name) {
                        group.names.push(name.clone());
                    }
                    if let Some(at) = entry.published
                        && group.entry.published.is_none_or(|kept| at < kept)
                    {
                        group.entry.published = Some(at);
                    }
                    for category in entry.categories {
                        if !group.entry.categories.contains(&category) {
                            group.entry.categories.push(category);
                        }
                    }
                    if group.entry.summary.is_none() {
                        group.entry.summary = entry.summary;
                    }
                }
                None => {
                    let at = groups.len();
                    if let Some(link) = link {
                        by_link.entry(link).or_default().push(at);
                    }
                    if !key.is_empty() {
                        by_title.entry(key).or_default().push(at);
                    }
                    groups.push(Group {
                        entry,
                        names: vec![name.clone()],
                        sources: vec![index],
                    });
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|mut group| {
            group
                .entry
                .categories
                .extend(group.names.into_iter().map(|n| format!("source:{n}")));
            group.entry
        })
        .collect()
}

/// A title compared across portals: letters and digits only, lower case.
fn title_key(title: &str) -> String {
    title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A feed of every feed's items about one symbol.
fn build_ticker(
    run: &Run,
    config: &Config,
    ticker: &crate::config::TickerFeed,
) -> Result<FeedBuilt, FeedError> {
    let feed = ticker_feed_config(config, ticker);
    let (parts, health) = {
        let store = lock(&run.store);
        let mut by_feed: Vec<(String, Vec<Entry>)> = Vec::new();
        for (feed_id, item) in store.with_category(&ticker.symbol, RECENT_FOR_FILTERS)? {
            let Some(part) = config.feeds.iter().find(|f| f.id == feed_id) else {
                continue;
            };
            let entry = entries_from(&store, std::slice::from_ref(&item), part)?
                .into_iter()
                .next()
                .map(|mut e| {
                    e.published = e.published.map(|at| at.with_timezone(&feed.timezone));
                    e
                });
            let name = part.title.clone().unwrap_or_else(|| part.id.clone());
            match by_feed.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.extend(entry),
                None => by_feed.push((name, entry.into_iter().collect())),
            }
        }
        (by_feed, store.health(&feed.id)?)
    };
    let mut entries = merge_sources(parts);
    write::sort_entries(&mut entries);
    entries.truncate(feed.max_items);
    let changed = finish(run, &feed, &entries, &health, Some(entries.len()))?;
    Ok(FeedBuilt {
        items: entries.len(),
        new: 0,
        changed,
        not_modified: false,
    })
}

/// The settings a ticker feed is written with.
pub fn ticker_feed_config(config: &Config, ticker: &crate::config::TickerFeed) -> FeedConfig {
    let mut feed = FeedConfig::for_url(
        config.site.base_url.clone(),
        crate::config::DEFAULT_TIMEZONE,
    );
    if let Some(first) = config.feeds.first() {
        feed.timezone = first.timezone;
        feed.language = first.language.clone();
        feed.max_items = first.max_items;
    }
    feed.id = ticker.id.clone();
    feed.title = Some(ticker.title.clone());
    feed
}

/// A feed's outcome: a failure is remembered in its health, and progress is told.
fn report(
    run: &Run,
    id: &str,
    started: Instant,
    result: Result<FeedBuilt, FeedError>,
    progress: Option<&Progress>,
) -> FeedReport {
    if let Err(error) = &result {
        record_failure(run, id, error);
    }
    let report = FeedReport {
        id: id.to_string(),
        elapsed: started.elapsed(),
        result,
    };
    if let Some(progress) = progress {
        progress(&report);
    }
    report
}

/// Count the failure in the feed's health, which the index shows.
fn record_failure(run: &Run, id: &str, error: &FeedError) {
    let store = lock(&run.store);
    if let Err(e) = store.record_failure(id, run.now.timestamp(), &error.to_string()) {
        tracing::warn!("feed {id}: cannot record the failure: {e}");
    }
}

/// A feed the store knows nothing of (a first run after an upgrade, or a state file moved aside)
/// starts from what it already published, so no subscriber loses an item. Whether the feed now
/// has stored items.
fn seed_from_published(
    store: &mut Store,
    output: &OutputDir,
    feed: &FeedConfig,
    now: i64,
) -> Result<bool, FeedError> {
    if store.has_items(&feed.id)? {
        return Ok(true);
    }
    let Some(bytes) = output.read(&format!("{}.atom", feed.id)) else {
        return Ok(false);
    };
    let published = write::read_atom(&bytes);
    if published.is_empty() {
        return Ok(false);
    }
    let seen: Vec<SeenItem> = published
        .into_iter()
        .map(|entry| SeenItem {
            id: entry.id,
            title: entry.title,
            link: entry.link,
            published: entry.published.map(|at| at.timestamp()),
            author: entry.author,
            source_name: None,
            categories: entry
                .categories
                .into_iter()
                .filter(|c| !c.starts_with("source:"))
                .collect(),
        })
        .collect();
    store.merge(&feed.id, &seen, now)?;
    Ok(true)
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
    let decoded = decode::decode_page(page);
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
    // A date selector or format that fits none of the items leaves each dated by when it was
    // first seen: the feed works, its dates are wrong, and only this line says so.
    if let Some(select) = &feed.select
        && let Some(date) = &select.date
        && items.iter().all(|item| item.published.is_none())
    {
        let format = select
            .date_format
            .as_deref()
            .map(|f| format!(" with date_format {f:?}"))
            .unwrap_or_default();
        tracing::warn!(
            "feed {}: date {:?}{format} read no date in any of the {} items; they are dated by when they were first seen",
            feed.id,
            date.source,
            items.len()
        );
    }
    Ok(items)
}

/// Stored items as published, in the feed's zone, with what their articles added: undated ones
/// carry their first-seen instant, or the article's date.
fn entries_from(
    store: &Store,
    stored: &[StoredItem],
    feed: &FeedConfig,
) -> Result<Vec<Entry>, FeedError> {
    let tz = feed.timezone;
    let market = enrich::Market::of(&feed.language, tz.name());
    let mut entries = Vec::with_capacity(stored.len());
    for item in stored {
        let article = match (&item.link, feed.fetch_articles) {
            (Some(link), true) => store.article(link)?,
            _ => None,
        };
        let article = article.filter(|a| a.error.is_none()).unwrap_or_default();
        let date = item.date();
        let mut categories = item.categories.clone();
        if let Some(summary) = &article.summary {
            for ticker in enrich::tickers(summary, market) {
                if !categories.contains(&ticker) {
                    categories.push(ticker);
                }
            }
        }
        let author = item
            .author
            .clone()
            .or(article.author)
            .map(|author| match &item.source_name {
                Some(source) if !author.contains(source.as_str()) => format!("{author} ({source})"),
                _ => author,
            })
            .or_else(|| item.source_name.clone());
        entries.push(Entry {
            id: item.id.clone(),
            title: item.title.clone(),
            link: item.link.clone(),
            published: tz.timestamp_opt(date, 0).single(),
            categories,
            author,
            summary: article.summary,
            image: article.image.as_deref().and_then(|i| Url::parse(i).ok()),
        });
    }
    write::sort_entries(&mut entries);
    Ok(entries)
}

/// A fingerprint of what a reader sees, to tell a changed feed from a re-run. SHA-256 here was
/// 4 % of a cold build's instructions; unlike the other fingerprints it is not tied to the build,
/// so an upgrade does not move every feed's date of last change.
fn content_hash(entries: &[Entry]) -> String {
    let mut hash = Fingerprint::of_content();
    for entry in entries {
        hash.text(&entry.id)
            .text(&entry.title)
            .opt_text(entry.link.as_deref())
            .opt_text(entry.author.as_deref())
            .opt_text(entry.summary.as_deref())
            .opt_text(entry.image.as_ref().map(Url::as_str))
            .number(entry.categories.len() as i64);
        for category in &entry.categories {
            hash.text(category);
        }
        hash.opt_number(entry.published.map(|at| at.timestamp()));
    }
    hash.finish()
}

/// The canonical link identifies an article, so an edited title keeps its id; written with https,
/// so a site moving from http to https does not make every item new. An item without a link is
/// known by its title and date within its feed.
pub fn entry_id(
    feed_id: &str,
    title: &str,
    link: Option<&Url>,
    published: Option<DateTime<Tz>>,
) -> String {
    match link {
        // The text after `http` is the same under https, but for an explicit port 443, which
        // https leaves out (`set_scheme` on a copy: two more allocations and a parse per item).
        Some(link) if link.scheme() == "http" && link.port() != Some(443) => {
            format!("https{}", &link.as_str()["http".len()..])
        }
        Some(link) if link.scheme() == "http" => {
            let mut secure = link.clone();
            match secure.set_scheme("https") {
                Ok(()) => secure.to_string(),
                Err(()) => link.to_string(),
            }
        }
        Some(link) => link.to_string(),
        None => {
            let mut hash = Sha256::new();
            hash.update(title.as_bytes());
            hash.update([0]);
            if let Some(at) = published {
                hash.update(at.timestamp().to_string().as_bytes());
            }
            let digest = hex(&hash.finalize()[..12]);
            format!("urn:dateline:{feed_id}:{digest}")
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

/// Write the feed's files beside the published ones, those whose bytes change; with the sizes
/// of all three.
fn stage_feed(
    output: &OutputDir,
    feed: &FeedConfig,
    meta: &FeedMeta,
    entries: &[Entry],
) -> Result<(Vec<Staged>, Vec<u64>), FeedError> {
    let mut staged = Vec::with_capacity(3);
    let mut sizes = Vec::with_capacity(3);
    let [rss, atom, json] = feed_files(feed);
    for (name, bytes) in [
        (rss, write::rss(meta, entries)),
        (atom, write::atom(meta, entries)),
        (json, write::json_feed(meta, entries)),
    ] {
        staged.extend(output.stage(&name, &bytes)?);
        sizes.push(bytes.len() as u64);
    }
    Ok((staged, sizes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};
    use std::path::Path;

    fn entry(link: &str, title: &str, day: u32, hour: u32) -> Entry {
        let link = Url::parse(link).unwrap().to_string();
        Entry {
            id: link.clone(),
            title: title.into(),
            link: Some(link),
            published: Some(
                chrono_tz::Asia::Taipei
                    .with_ymd_and_hms(2025, 8, day, hour, 0, 0)
                    .unwrap(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn a_folder_is_vouched_for_only_with_none_of_the_runs_files_left() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        let output = OutputDir::open(&dir.path().join("public")).unwrap();
        let folder = std::fs::canonicalize(output.path()).unwrap();
        let staged = output.stage("a.xml", b"<rss/>").unwrap().expect("new file");
        let mut held = StateLock::acquire(&state).unwrap();
        vouch_for_folder(&mut held, Some(&folder), &output);
        drop(held);
        assert!(
            !StateLock::acquire(&state).unwrap().finished_before(&folder),
            "vouched with a staged file in the folder"
        );
        staged.put().unwrap();
        let mut held = StateLock::acquire(&state).unwrap();
        vouch_for_folder(&mut held, Some(&folder), &output);
        drop(held);
        assert!(StateLock::acquire(&state).unwrap().finished_before(&folder));
    }

    /// Page keys are stored: their text must not change with how it is made.
    #[test]
    fn a_page_key_is_the_feed_its_url_and_how_it_is_read() {
        let url = Url::parse("https://news.example.com/list?cat=tw&p=1").unwrap();
        let mut feed = FeedConfig::for_url(url, chrono_tz::Asia::Taipei);
        feed.id = "cnyes-tw".into();
        let key = page_key(&feed);
        let how = key
            .strip_prefix("cnyes-tw https://news.example.com/list?cat=tw&p=1 ")
            .unwrap_or_else(|| panic!("{key}"));
        assert_eq!(how.len(), 16, "{key}");
        assert!(how.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        assert_eq!(page_key(&feed), key);
    }

    /// The items hash changes with what merging stores (byline, link, title, a link-less item's
    /// date, tickers' market) and not with what it does not (a linked item's date, other text,
    /// a link's tracking parameters and fragment); and equal hashes make equal stored items.
    #[test]
    fn items_hash_follows_what_merging_keeps() {
        let url = Url::parse("https://news.example.com/list").unwrap();
        let feed = FeedConfig::for_url(url, chrono_tz::Asia::Taipei);
        let at = |minute| chrono_tz::Asia::Taipei.with_ymd_and_hms(2025, 8, 28, 15, minute, 0);
        let item = |link: Option<&str>, minute, context: &str| Item {
            title: "台積電(2330)法說會前夕外資大買".into(),
            link: link.map(|l| Url::parse(l).unwrap()),
            published: at(minute).single(),
            context: Some(context.into()),
        };
        let hash = |feed: &FeedConfig, items: Vec<Item>| ReadItems::of(feed, items).hash;
        let link = Some("https://news.example.com/n/1");
        let base = hash(&feed, vec![item(link, 48, "【財訊快報/陳孟朔】 5分鐘前")]);

        // A linked item read again with another date or time text: the same store.
        assert_eq!(
            base,
            hash(&feed, vec![item(link, 40, "【財訊快報/陳孟朔】 13分鐘前")])
        );
        // Another byline, link or title; a link-less item's date (its id); another market.
        assert_ne!(
            base,
            hash(&feed, vec![item(link, 48, "【鉅亨網/記者王莞甯】")])
        );
        assert_ne!(
            base,
            hash(
                &feed,
                vec![item(
                    Some("https://news.example.com/n/2"),
                    48,
                    "【財訊快報/陳孟朔】"
                )]
            )
        );
        let mut retitled = item(link, 48, "【財訊快報/陳孟朔】");
        retitled.title.push('!');
        assert_ne!(base, hash(&feed, vec![retitled]));
        // An item read undated, then with a date: the date is stored (`Store::merge`).
        let mut undated = item(link, 48, "【財訊快報/陳孟朔】");
        undated.published = None;
        assert_ne!(base, hash(&feed, vec![undated]));
        let unlinked = hash(&feed, vec![item(None, 48, "")]);
        assert_ne!(unlinked, hash(&feed, vec![item(None, 47, "")]));
        let mut japanese = feed.clone();
        japanese.language = "ja".into();
        assert_ne!(
            base,
            hash(
                &japanese,
                vec![item(link, 48, "【財訊快報/陳孟朔】 5分鐘前")]
            )
        );

        // A link served with a rotating tracking parameter and fragment: stored the same.
        let tracked = |tag: &str| {
            let link = format!("https://news.example.com/n/1?utm_source=list&_gl={tag}#top-{tag}");
            vec![item(Some(&link), 48, "【財訊快報/陳孟朔】")]
        };
        assert_eq!(hash(&feed, tracked("a1")), hash(&feed, tracked("b2")));
        assert_eq!(hash(&feed, tracked("a1")), base);
        let stored = |items: Vec<Item>| {
            let mut seen = ReadItems::of(&feed, items).seen(&feed);
            for item in &mut seen {
                item.published = None;
            }
            format!("{seen:?}")
        };
        assert_eq!(
            stored(tracked("a1")),
            stored(vec![item(link, 40, "【財訊快報/陳孟朔】 13分鐘前")])
        );
    }

    /// A run over a fresh store and folder in `dir`, and `n` feeds with one new item each.
    fn staging_run(dir: &Path, n: usize) -> (Run, Vec<FeedConfig>, [Entry; 1], [SeenItem; 1]) {
        let (store, _) = Store::open(&dir.join("state.sqlite")).unwrap();
        let run = Run {
            fetcher: Fetcher::new(crate::config::FetchLimits {
                concurrency: 1,
                per_host: 1,
            })
            .unwrap(),
            output: Arc::new(OutputDir::open(&dir.join("out")).unwrap()),
            store: Arc::new(Mutex::new(store)),
            staged: Mutex::new(Vec::new()),
            unput: Mutex::new(Vec::new()),
            starts: Mutex::new(Starts::default()),
            page_keys: HashMap::new(),
            base_url: Url::parse("https://feeds.example.com/").unwrap(),
            now: Utc::now(),
        };
        let entries = [entry(
            "https://news.example.com/n/1",
            "台積電法說會前夕",
            28,
            9,
        )];
        let seen = [SeenItem {
            id: entries[0].id.clone(),
            title: entries[0].title.clone(),
            link: Some(entries[0].id.clone()),
            published: entries[0].published.map(|at| at.timestamp()),
            author: None,
            source_name: None,
            categories: Vec::new(),
        }];
        let feeds: Vec<FeedConfig> = (0..n)
            .map(|i| {
                let url = Url::parse("https://news.example.com/list").unwrap();
                let mut feed = FeedConfig::for_url(url, chrono_tz::Asia::Taipei);
                feed.id = format!("f{i}");
                feed
            })
            .collect();
        (run, feeds, entries, seen)
    }

    fn files_in_place(run: &Run, feed: &FeedConfig) -> bool {
        feed_files(feed)
            .iter()
            .all(|name| run.output.path().join(name).is_file())
    }

    #[test]
    fn files_showing_new_items_wait_for_the_commit_that_stores_them() {
        let dir = tempfile::tempdir().unwrap();
        let (run, feeds, entries, seen) = staging_run(dir.path(), STAGED_FEEDS + 2);
        let in_place = |feed: &FeedConfig| files_in_place(&run, feed);
        let mut waited = 0;
        for feed in &feeds {
            lock(&run.store)
                .merge(&feed.id, &seen, run.now.timestamp())
                .unwrap();
            assert!(finish(&run, feed, &entries, &FeedHealth::default(), Some(1)).unwrap());
            // Its files are in place exactly when its new item is committed.
            assert_eq!(in_place(feed), !lock(&run.store).holds_unsaved_items());
            waited += usize::from(!in_place(feed));
        }
        assert!(
            waited >= STAGED_FEEDS - 1,
            "{waited} feeds waited for a commit"
        );
        put_all_staged(&run, false);
        assert!(!lock(&run.store).holds_unsaved_items());
        for feed in &feeds {
            assert!(in_place(feed), "{}", feed.id);
            let health = lock(&run.store).health(&feed.id).unwrap();
            assert_eq!(health.published.map(|p| p.items), Some(1), "{}", feed.id);
        }
    }

    #[test]
    fn a_failed_commit_fails_the_feeds_waiting_for_it_and_puts_none_of_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let (run, feeds, entries, seen) = staging_run(dir.path(), STAGED_FEEDS);
        lock(&run.store).fail_next_commit_for_tests();
        for feed in &feeds {
            lock(&run.store)
                .merge(&feed.id, &seen, run.now.timestamp())
                .unwrap();
            finish(&run, feed, &entries, &FeedHealth::default(), Some(1)).unwrap();
        }
        put_all_staged(&run, false);
        let mut failed: Vec<String> = lock_unput(&run).iter().map(|(id, _)| id.clone()).collect();
        failed.sort();
        let mut ids: Vec<String> = feeds.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        assert_eq!(failed, ids);
        for feed in &feeds {
            assert!(!files_in_place(&run, feed), "{}", feed.id);
        }
        // Nothing staged is left behind in the folder either.
        let left = std::fs::read_dir(run.output.path()).unwrap().count();
        assert_eq!(left, 0, "temporary files left");
    }

    #[test]
    fn a_recurring_headline_of_one_source_stays_one_item_per_day() {
        let a = vec![
            entry(
                "https://a.example/brief-28",
                "Morning Briefing: markets",
                28,
                8,
            ),
            entry(
                "https://a.example/brief-27",
                "Morning Briefing: markets",
                27,
                8,
            ),
        ];
        let merged = merge_sources(vec![("A".into(), a)]);
        assert_eq!(merged.len(), 2);
    }

    /// `merge_sources` as it was: each entry compared with every group in turn.
    fn merge_sources_walking_every_group(parts: Vec<(String, Vec<Entry>)>) -> Vec<Entry> {
        struct Group {
            entry: Entry,
            link: Option<String>,
            names: Vec<String>,
            sources: Vec<usize>,
        }
        let mut groups: Vec<Group> = Vec::new();
        for (index, (name, entries)) in parts.into_iter().enumerate() {
            for entry in entries {
                let key = title_key(&entry.title);
                let link = entry
                    .link
                    .as_deref()
                    .and_then(|l| Url::parse(l).ok())
                    .map(|l| extract::text::link_key(&l));
                let same = groups.iter().position(|group| {
                    let kept = &group.entry;
                    !group.sources.contains(&index)
                        && ((link.is_some() && group.link == link)
                            || (!key.is_empty()
                                && title_key(&kept.title) == key
                                && matches!((kept.published, entry.published), (Some(a), Some(b))
                                    if (a - b).num_hours().abs() <= SYNDICATION_WINDOW_HOURS)))
                });
                match same {
                    Some(i) => {
                        let group = &mut groups[i];
                        group.sources.push(index);
                        if !group.names.contains(&name) {
                            group.names.push(name.clone());
                        }
                        if let Some(at) = entry.published
                            && group.entry.published.is_none_or(|kept| at < kept)
                        {
                            group.entry.published = Some(at);
                        }
                        for category in entry.categories {
                            if !group.entry.categories.contains(&category) {
                                group.entry.categories.push(category);
                            }
                        }
                        if group.entry.summary.is_none() {
                            group.entry.summary = entry.summary;
                        }
                    }
                    None => groups.push(Group {
                        entry,
                        link,
                        names: vec![name.clone()],
                        sources: vec![index],
                    }),
                }
            }
        }
        groups
            .into_iter()
            .map(|mut group| {
                group
                    .entry
                    .categories
                    .extend(group.names.into_iter().map(|n| format!("source:{n}")));
                group.entry
            })
            .collect()
    }

    #[test]
    fn merging_by_key_lookup_groups_as_walking_every_group_did() {
        let titles = [
            "台積電法說會：AI需求強勁",
            "台積電法說會: AI 需求強勁！",
            "Fed holds rates steady",
            "FED HOLDS RATES STEADY.",
            "鴻海營收創新高",
            "---",
            "",
            "NVIDIA beats estimates",
        ];
        let links = [
            None,
            Some("https://a.example/1"),
            Some("http://a.example/1?utm_source=x"),
            Some("https://a.example/2#top"),
            Some("https://b.example/2"),
            Some("https://b.example/3?id=4"),
        ];
        let base = chrono_tz::Asia::Taipei
            .with_ymd_and_hms(2025, 8, 28, 12, 0, 0)
            .unwrap();
        let mut rng = fastrand::Rng::with_seed(20251128);
        let mut joined = 0;
        for case in 0..400 {
            let parts: Vec<(String, Vec<Entry>)> = (0..rng.usize(1..5))
                .map(|source| {
                    let entries = (0..rng.usize(0..25))
                        .map(|_| Entry {
                            id: format!("id{}", rng.u32(0..1000)),
                            title: titles[rng.usize(..titles.len())].to_string(),
                            link: links[rng.usize(..links.len())].map(str::to_string),
                            published: rng
                                .bool()
                                .then(|| base + chrono::Duration::hours(rng.i64(-40..40))),
                            categories: (0..rng.usize(0..3))
                                .map(|c| format!("TWSE:{}", 2330 + c + rng.usize(0..2)))
                                .collect(),
                            summary: rng.bool().then(|| format!("summary {}", rng.u8(..))),
                            ..Default::default()
                        })
                        .collect();
                    // Two sources may share a name, as merged feeds of one portal do.
                    (format!("source {}", source % 3), entries)
                })
                .collect();
            let entries: usize = parts.iter().map(|(_, e)| e.len()).sum();
            let merged = merge_sources(parts.clone());
            joined += entries - merged.len();
            assert_eq!(
                merged,
                merge_sources_walking_every_group(parts),
                "case {case}"
            );
        }
        assert!(
            joined > 1000,
            "too few entries joined a group to tell: {joined}"
        );
    }

    #[test]
    fn a_syndicated_story_keeps_its_first_id_and_takes_the_earliest_date() {
        let a = vec![entry(
            "https://a.example/x",
            "台積電法說會前夕 外資連三買",
            28,
            15,
        )];
        let b = vec![entry(
            "http://b.example/y",
            "台積電法說會前夕，外資連三買",
            28,
            14,
        )];
        let c = vec![entry("http://a.example/x", "Other title", 28, 16)];
        let merged = merge_sources(vec![("A".into(), a), ("B".into(), b), ("C".into(), c)]);
        assert_eq!(merged.len(), 1, "{merged:#?}");
        assert_eq!(
            merged[0].id, "https://a.example/x",
            "the id never moves to a later source's copy"
        );
        assert_eq!(merged[0].published.unwrap().hour(), 14);
        let sources: Vec<&str> = merged[0]
            .categories
            .iter()
            .filter_map(|c| c.strip_prefix("source:"))
            .collect();
        assert_eq!(sources, ["A", "B", "C"]);
    }

    #[test]
    fn ids_are_unique_and_undated_copies_are_not_matched_by_title() {
        let a = vec![entry("https://a.example/1", "Same title here", 20, 9)];
        let b = vec![entry("https://b.example/2", "Same title here", 25, 9)];
        let mut undated = entry("https://c.example/3", "Same title here", 25, 9);
        undated.published = None;
        let merged = merge_sources(vec![
            ("A".into(), a),
            ("B".into(), b),
            ("C".into(), vec![undated]),
        ]);
        let mut ids: Vec<&str> = merged.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), merged.len());
        assert_eq!(
            merged.len(),
            3,
            "five days apart and undated: three stories"
        );
    }

    #[test]
    fn article_links_stay_off_private_hosts_unless_the_listing_is_there() {
        let listing = Url::parse("https://news.example.com/list").unwrap();
        assert!(allowed_article("https://news.example.com/a/1", &listing));
        assert!(allowed_article("https://other.example.org/a", &listing));
        for bad in [
            "http://127.0.0.1/admin",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.5/x",
            "http://localhost:8080/",
            "ftp://news.example.com/a",
            "javascript:alert(1)",
        ] {
            assert!(!allowed_article(bad, &listing), "{bad}");
        }
        let local = Url::parse("http://127.0.0.1:8080/list").unwrap();
        assert!(
            allowed_article("http://127.0.0.1:8080/a/1", &local),
            "the listing's own host"
        );
    }

    #[test]
    fn ids_are_written_with_https() {
        let http = Url::parse("http://news.example.com/a?id=1").unwrap();
        assert_eq!(
            entry_id("f", "t", Some(&http), None),
            "https://news.example.com/a?id=1"
        );
        // Each as `Url::set_scheme` writes it: the port https implies is left out, others kept,
        // and userinfo, IPv6 hosts, queries and fragments carried over.
        for link in [
            "http://news.example.com:443/a",
            "http://news.example.com:8080/a#b",
            "http://user:pw@[::1]:81/a?x=%20y",
            "http://news.example.com",
            "https://news.example.com:80/a",
        ] {
            let link = Url::parse(link).unwrap();
            let mut secure = link.clone();
            secure.set_scheme("https").unwrap();
            assert_eq!(entry_id("f", "t", Some(&link), None), secure.as_str());
        }
    }
}
