//! The files around the feeds: `index.html`, `feeds.opml`, the stylesheet and the XSLT feed view.
//! Rendered with minijinja from `templates/`; the defaults are compiled in, and a `templates/`
//! folder next to the config overrides any of them.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use minijinja::value::{Enumerator, Object, ObjectRepr, Serde};
use minijinja::{Environment, Value, context};
use serde::Serialize;
use url::Url;

use crate::build::Fingerprint;
use crate::config::{Config, FeedConfig};
use crate::publish::{OutputDir, PublishError, Staged};
use crate::store::{FeedHealth, Published, Store, StoreError, lock};
use crate::write::{GENERATOR, STYLESHEET};

/// The templates, by the name of the file each writes.
const DEFAULTS: &[(&str, &str)] = &[
    ("index.html", include_str!("../templates/index.html")),
    ("feeds.opml", include_str!("../templates/feeds.opml")),
    ("dateline.css", include_str!("../templates/dateline.css")),
    (STYLESHEET, include_str!("../templates/feed.xsl")),
];

/// Days in the index's items-per-day chart.
const CHART_DAYS: i64 = 30;
const CHART_WIDTH: f64 = 180.0;
const CHART_HEIGHT: f64 = 36.0;
/// Headlines shown per feed on the index.
const LATEST: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("template {name}: {source}")]
    Template {
        name: String,
        source: minijinja::Error,
    },
    #[error("reading template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("starting the thread that renders the site: {0}")]
    Thread(std::io::Error),
}

#[derive(Debug, Serialize)]
struct SiteView {
    title: String,
    language: String,
    generator: &'static str,
}

#[derive(Debug, Serialize)]
struct LatestView {
    title: String,
    link: String,
    time: String,
    iso: String,
}

#[derive(Debug, Serialize)]
struct HealthView {
    ok: bool,
    failures: i64,
    /// Given for a feed that is failing: for a healthy one it is every run's time, and would
    /// make every run rewrite the index.
    last_success: Option<String>,
    last_success_iso: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
    last_error_at_iso: Option<String>,
}

/// A feed's items per day, for the index. Templates read it as a map (`days`, `width`,
/// `height`, `max`, `bars`) and each bar as one (`day`, `count`, `x`, `y`, `w`, `h`); the fields
/// are made when read, as an index of 500 feeds has 15,000 bars and shows the few with items.
#[derive(Debug)]
struct Chart {
    days: i64,
    width: f64,
    height: f64,
    max: usize,
    bars: Arc<[Bar]>,
}

#[derive(Debug, Clone, Copy)]
struct Bar {
    day: NaiveDate,
    count: u32,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

const CHART_KEYS: &[&str] = &["days", "width", "height", "max", "bars"];
const BAR_KEYS: &[&str] = &["day", "count", "x", "y", "w", "h"];

impl Object for Chart {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "days" => Value::from(self.days),
            "width" => Value::from(self.width),
            "height" => Value::from(self.height),
            "max" => Value::from(self.max),
            "bars" => Value::from_object(Bars(self.bars.clone())),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(CHART_KEYS)
    }
}

#[derive(Debug)]
struct Bars(Arc<[Bar]>);

impl Object for Bars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let bar = *self.0.get(key.as_usize()?)?;
        Some(Value::from_object(bar))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

impl Object for Bar {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "day" => Value::from(self.day.format("%Y-%m-%d").to_string()),
            "count" => Value::from(self.count),
            "x" => Value::from(self.x),
            "y" => Value::from(self.y),
            "w" => Value::from(self.w),
            "h" => Value::from(self.h),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(BAR_KEYS)
    }
}

/// What the site files are made of, owned, so that they may be rendered on a thread of their
/// own while a run goes on.
struct SiteParts {
    env: Environment<'static>,
    sources: Vec<String>,
    site: SiteView,
    base: Url,
}

/// The parts, and the feeds the pages show.
fn site_parts(config: &Config) -> Result<(SiteParts, Vec<ShownFeed>), SiteError> {
    let (env, sources) = environment(&config.base_dir().join("templates"))?;
    let site = SiteView {
        title: config.site.title.clone(),
        language: config
            .feeds
            .first()
            .map_or_else(|| "en".to_string(), |f| f.language.clone()),
        generator: GENERATOR,
    };
    let tickers: Vec<FeedConfig> = config
        .tickers
        .iter()
        .map(|t| crate::build::ticker_feed_config(config, t))
        .collect();
    let feeds: Vec<ShownFeed> = config
        .feeds
        .iter()
        .map(std::sync::Arc::as_ref)
        .filter(|feed| feed.publish)
        .chain(&tickers)
        .map(ShownFeed::of)
        .collect();
    let parts = SiteParts {
        env,
        sources,
        site,
        base: config.site.base_url.clone(),
    };
    Ok((parts, feeds))
}

/// Render and publish the site files. Unchanged files are left alone, like the feeds.
///
/// The store is locked only between template reads: each feed's headlines and chart are read
/// when a template asks for them, so no run holds every feed's view at once.
pub fn publish_site(
    config: &Config,
    store: &Arc<Mutex<Store>>,
    output: &OutputDir,
    now: DateTime<Utc>,
) -> Result<(), SiteError> {
    let (parts, feeds) = site_parts(config)?;
    let Some((inputs, healths)) = unpublished_inputs(store, &parts, &feeds, now, output)? else {
        return Ok(());
    };
    let views = Views::new(feeds, Health::Read(healths), store, &parts, now);
    let feeds = views.feeds.len();
    let files = render_files(&parts.env, &parts.site, Arc::new(views), output)?;
    put_files(store, files, &inputs, feeds)
}

/// Whether the site files will be rendered whatever the run does: none were recorded, or the
/// items they showed have changed since.
pub fn is_stale(store: &Store) -> Result<bool, StoreError> {
    Ok(!matches!(store.site_published()?, Some((_, Some(_)))))
}

/// Each feed's health, by feed id, as the store has it.
type Healths = HashMap<String, FeedHealth>;

/// The site's inputs now and the healths they were made from, unless the files published are
/// the ones rendered from the same inputs (see [`is_published`]).
fn unpublished_inputs(
    store: &Arc<Mutex<Store>>,
    parts: &SiteParts,
    feeds: &[ShownFeed],
    now: DateTime<Utc>,
    output: &OutputDir,
) -> Result<Option<(String, Healths)>, SiteError> {
    let (healths, last) = {
        let store = lock(store);
        (store.healths()?, store.site_published()?)
    };
    let inputs = view_inputs(parts, feeds, &healths, now);
    Ok((!is_published(&inputs, last.as_ref(), output)).then_some((inputs, healths)))
}

/// The views are a function of these inputs and the stored items, and the store forgets
/// `inputs` whenever an item changes: the same inputs, with the files still there at the
/// sizes written, need no rendering, no reading of items and no upload to the host.
fn is_published(
    inputs: &str,
    last: Option<&(Published, Option<String>)>,
    output: &OutputDir,
) -> bool {
    last.is_some_and(|(published, last_inputs)| {
        last_inputs.as_deref() == Some(inputs)
            && published.sizes.len() == DEFAULTS.len()
            && output.has_sizes(DEFAULTS.iter().map(|(name, _)| *name), &published.sizes)
    })
}

/// The site files rendered beside the published ones: each staged (`None` when it holds what
/// is published), with its size.
type RenderedFiles = Vec<(Option<Staged>, u64)>;

fn render_files(
    env: &Environment<'static>,
    site: &SiteView,
    views: Arc<Views>,
    output: &OutputDir,
) -> Result<RenderedFiles, SiteError> {
    let mut files = Vec::with_capacity(DEFAULTS.len());
    for (name, _) in DEFAULTS {
        let template = env
            .get_template(name)
            .map_err(|source| SiteError::Template {
                name: name.to_string(),
                source,
            })?;
        let context = context! {
            site => Value::from(Serde(site)),
            feeds => Value::from_object(FeedViews(views.clone())),
        };
        // Rendered straight into the file: an index of thousands of feeds is megabytes.
        let mut failure = None;
        let staged = output.stage_streamed(name, |out| {
            let mut out = LastByte { out, last: None };
            match template.render_captured_to(context, &mut out) {
                Ok(_) if out.last == Some(b'\n') => Ok(()),
                Ok(_) => out.write_all(b"\n"),
                Err(source) => {
                    failure = Some(source);
                    Err(std::io::Error::other("template failed"))
                }
            }
        });
        if let Some(e) = views.failure.lock().expect("site failure").take() {
            // A file rendered without some feed's items is not published as complete.
            return Err(SiteError::State(e));
        }
        if let Some(source) = failure {
            return Err(SiteError::Template {
                name: name.to_string(),
                source,
            });
        }
        files.push(staged?);
    }
    Ok(files)
}

/// Put rendered files in place and remember what they were rendered from.
fn put_files(
    store: &Arc<Mutex<Store>>,
    files: RenderedFiles,
    inputs: &str,
    feeds: usize,
) -> Result<(), SiteError> {
    lock(store).record_site(None)?;
    let mut sizes = Vec::with_capacity(files.len());
    for (staged, size) in files {
        if let Some(staged) = staged {
            staged.put()?;
        }
        sizes.push(size);
    }
    let published = Published {
        key: inputs.to_string(),
        items: feeds,
        sizes,
    };
    lock(store).record_site(Some((&published, inputs)))?;
    Ok(())
}

/// The site files rendered on a thread of their own while a run builds its feeds: each feed's
/// part of a page waits until [`SiteRender::finished`] says the feed is done. On 2 cores the
/// index of 500 feeds was the last 20 ms of a cold build, with one core idle.
pub struct SiteRender {
    done: Arc<FeedsDone>,
    views: Arc<Views>,
    render: Option<std::thread::JoinHandle<Result<(RenderedFiles, SiteParts), SiteError>>>,
}

impl SiteRender {
    /// Start rendering; a feed's health and items are read once it is done.
    pub fn start(
        config: &Config,
        store: &Arc<Mutex<Store>>,
        output: &Arc<OutputDir>,
        now: DateTime<Utc>,
    ) -> Result<SiteRender, SiteError> {
        let (parts, feeds) = site_parts(config)?;
        let done = Arc::new(FeedsDone::new(&feeds));
        let views = Arc::new(Views::new(
            feeds,
            Health::WhenDone(done.clone()),
            store,
            &parts,
            now,
        ));
        let render = {
            let (views, output) = (views.clone(), output.clone());
            std::thread::Builder::new()
                .name("site".into())
                .spawn(move || {
                    render_files(&parts.env, &parts.site, views, &output).map(|f| (f, parts))
                })
                .map_err(SiteError::Thread)?
        };
        Ok(SiteRender {
            done,
            views,
            render: Some(render),
        })
    }

    /// The feed is done: its health and items are final for this run.
    pub fn finished(&self, id: &str) {
        self.done.finished(id);
    }

    /// Publish the files once every feed is done, as [`publish_site`] would have.
    pub fn finish(
        mut self,
        store: &Arc<Mutex<Store>>,
        output: &OutputDir,
    ) -> Result<(), SiteError> {
        self.done.all_finished();
        let render = self.render.take().expect("joined once");
        let (files, parts) = render
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let Some((inputs, _)) =
            unpublished_inputs(store, &parts, &self.views.feeds, self.views.now, output)?
        else {
            return Ok(());
        };
        tracing::debug!("site files rendered beside the feeds");
        put_files(store, files, &inputs, self.views.feeds.len())
    }
}

impl Drop for SiteRender {
    /// Unfinished (the run failed, or must render again), the thread renders the rest without
    /// waiting for feeds, and is waited for: its files are removed unput before the run ends,
    /// not left half-written by the process's exit.
    fn drop(&mut self) {
        self.done.all_finished();
        if let Some(render) = self.render.take() {
            // Its outcome is dropped with it; a panic there was the render's, not this run's.
            let _ = render.join();
        }
    }
}

/// The feeds a run has done, for a render that goes on beside it, by each feed's place in the
/// pages: marking one done takes no allocation, and the render asks by place.
#[derive(Debug)]
struct FeedsDone {
    places: HashMap<String, usize>,
    state: Mutex<DoneState>,
    changed: std::sync::Condvar,
}

#[derive(Debug)]
struct DoneState {
    done: Vec<bool>,
    all: bool,
    /// The place the render waits for: only that feed's end wakes the render (each wake-up is
    /// two context switches, and most feeds end while the render is busy or waits for another).
    awaited: Option<usize>,
}

impl FeedsDone {
    fn new(feeds: &[ShownFeed]) -> FeedsDone {
        FeedsDone {
            places: feeds
                .iter()
                .enumerate()
                .map(|(place, feed)| (feed.id.clone(), place))
                .collect(),
            state: Mutex::new(DoneState {
                done: vec![false; feeds.len()],
                all: false,
                awaited: None,
            }),
            changed: std::sync::Condvar::new(),
        }
    }

    fn finished(&self, id: &str) {
        // Feeds the pages do not show (hidden ones) are not waited for.
        let Some(&place) = self.places.get(id) else {
            return;
        };
        let mut state = self.state.lock().expect("feeds done");
        state.done[place] = true;
        if state.awaited == Some(place) {
            state.awaited = None;
            self.changed.notify_one();
        }
    }

    fn all_finished(&self) {
        self.state.lock().expect("feeds done").all = true;
        self.changed.notify_one();
    }

    fn wait_for(&self, place: usize) {
        let mut state = self.state.lock().expect("feeds done");
        while !state.all && !state.done.get(place).copied().unwrap_or(true) {
            state.awaited = Some(place);
            state = self.changed.wait(state).expect("feeds done");
        }
    }
}

/// A fingerprint of what the views are computed from besides the items: templates, config,
/// each feed's health as shown, and the days the charts cover.
fn view_inputs(
    parts: &SiteParts,
    feeds: &[ShownFeed],
    healths: &HashMap<String, FeedHealth>,
    now: DateTime<Utc>,
) -> String {
    let mut key = Fingerprint::new();
    for source in &parts.sources {
        key.text(source);
    }
    key.text(&parts.site.title)
        .text(&parts.site.language)
        .text(parts.site.generator)
        .text(parts.base.as_str());
    for feed in feeds {
        let health = healths.get(&feed.id);
        let ok = health.is_some_and(is_ok);
        key.text(&feed.id)
            .text(&feed.title)
            .text(&feed.language)
            .text(feed.source_url.as_str())
            .text(feed.timezone.name())
            .number(feed.max_items as i64)
            .number(i64::from(
                chart_first_day(now, feed.timezone).num_days_from_ce(),
            ))
            .number(i64::from(ok));
        match health {
            None => key.number(0),
            Some(h) => key
                .number(1)
                .number(h.consecutive_failures)
                .opt_number(h.last_success.filter(|_| !ok))
                .opt_text(h.last_error.as_deref())
                .opt_number(h.last_error_at)
                .opt_number(h.changed_at)
                .opt_number(h.last_count),
        };
    }
    key.finish()
}

/// A feed is shown as healthy once it has succeeded and not failed since.
fn is_ok(health: &FeedHealth) -> bool {
    health.consecutive_failures == 0 && health.last_success.is_some()
}

/// The first local day of the chart, which ends today.
fn chart_first_day(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    (now - Duration::days(CHART_DAYS - 1))
        .with_timezone(&tz)
        .date_naive()
}

/// A writer that remembers the last byte written through it.
struct LastByte<'a> {
    out: &'a mut dyn std::io::Write,
    last: Option<u8>,
}

impl std::io::Write for LastByte<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(bytes)?;
        if n > 0 {
            self.last = Some(bytes[n - 1]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// What the index shows of a feed besides its items and health.
#[derive(Debug)]
struct ShownFeed {
    id: String,
    title: String,
    language: String,
    source_url: Url,
    timezone: Tz,
    max_items: usize,
}

impl ShownFeed {
    fn of(feed: &FeedConfig) -> ShownFeed {
        ShownFeed {
            id: feed.id.clone(),
            title: feed
                .title
                .clone()
                .unwrap_or_else(|| feed.url.host_str().unwrap_or("feed").to_string()),
            language: feed.language.clone(),
            source_url: feed.url.clone(),
            timezone: feed.timezone,
            max_items: feed.max_items,
        }
    }
}

/// Everything the feed views are made from. A store error met while a template reads is kept
/// here (a template can't be handed one) and fails the site after that template.
struct Views {
    feeds: Vec<ShownFeed>,
    health: Health,
    slot: Mutex<Slot>,
    store: Arc<Mutex<Store>>,
    base: Url,
    now: DateTime<Utc>,
    failure: Mutex<Option<StoreError>>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Views")
            .field("feeds", &self.feeds.len())
            .finish_non_exhaustive()
    }
}

/// Where the views find each feed's health.
enum Health {
    /// Every feed's, read before rendering.
    Read(Healths),
    /// Beside a run: each read from the store once its feed is done.
    WhenDone(Arc<FeedsDone>),
}

impl Views {
    fn new(
        feeds: Vec<ShownFeed>,
        health: Health,
        store: &Arc<Mutex<Store>>,
        parts: &SiteParts,
        now: DateTime<Utc>,
    ) -> Views {
        Views {
            feeds,
            health,
            slot: Mutex::new(Slot::default()),
            store: store.clone(),
            base: parts.base.clone(),
            now,
            failure: Mutex::new(None),
        }
    }

    /// A value read from the store, or undefined with the error kept.
    fn read<T: Into<Value>>(&self, read: impl FnOnce(&Store) -> Result<T, StoreError>) -> Value {
        match read(&lock(&self.store)) {
            Ok(value) => value.into(),
            Err(e) => {
                self.failed(e);
                Value::UNDEFINED
            }
        }
    }

    /// Keep the first error met while reading.
    fn failed(&self, error: StoreError) {
        self.failure
            .lock()
            .expect("site failure")
            .get_or_insert(error);
    }
}

/// The feeds, in config order, as a sequence for the templates.
#[derive(Debug)]
struct FeedViews(Arc<Views>);

impl Object for FeedViews {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let index = key.as_usize().filter(|&i| i < self.0.feeds.len())?;
        Some(Value::from_object(FeedView {
            views: self.0.clone(),
            index,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.feeds.len())
    }
}

/// One feed as the templates see it. Its headlines, chart and count are read from the store
/// the first time a template asks for them (the OPML never does), and kept while templates
/// read this feed (see [`Slot`]).
#[derive(Debug)]
struct FeedView {
    views: Arc<Views>,
    index: usize,
}

/// What was read for the feed the templates read now. One feed at a time: a template's loop
/// keeps every view it made until the loop ends, and views that kept their own reads held every
/// feed's health, headlines and chart at once by the end of the index (about 1 KB a feed). A
/// template that goes back to a feed reads it again.
#[derive(Debug, Default)]
struct Slot {
    index: Option<usize>,
    health: Option<FeedHealth>,
    values: Vec<(&'static str, Value)>,
}

impl Slot {
    fn value(&self, index: usize, key: &str) -> Option<Value> {
        if self.index != Some(index) {
            return None;
        }
        self.values
            .iter()
            .find_map(|(k, v)| (*k == key).then(|| v.clone()))
    }

    /// The slot for `index`, emptied if it held another feed.
    fn of(&mut self, index: usize) -> &mut Slot {
        if self.index != Some(index) {
            *self = Slot {
                index: Some(index),
                ..Slot::default()
            };
        }
        self
    }
}

impl FeedView {
    fn feed(&self) -> &ShownFeed {
        &self.views.feeds[self.index]
    }

    /// Beside a run, wait until the feed is done: what follows is read from the store.
    fn wait_until_done(&self) {
        if let Health::WhenDone(done) = &self.views.health {
            done.wait_for(self.index);
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.views.slot.lock().expect("view slot")
    }

    /// A value made once while templates read this feed.
    fn kept(&self, key: &'static str, make: impl FnOnce() -> Value) -> Value {
        if let Some(value) = self.slot().value(self.index, key) {
            return value;
        }
        // Made without the slot held: making it may read the health, kept there too.
        let value = make();
        self.slot().of(self.index).values.push((key, value.clone()));
        value
    }

    /// The feed's health, kept in the slot: from the healths read before rendering, or read
    /// once the feed is done.
    fn health(&self) -> FeedHealth {
        if let Some(health) = self.slot().of(self.index).health.clone() {
            return health;
        }
        let id = &self.feed().id;
        let health = match &self.views.health {
            Health::Read(healths) => healths.get(id).cloned().unwrap_or_default(),
            Health::WhenDone(_) => {
                self.wait_until_done();
                let read = lock(&self.views.store).health(id);
                read.unwrap_or_else(|e| {
                    self.views.failed(e);
                    FeedHealth::default()
                })
            }
        };
        self.slot().of(self.index).health = Some(health.clone());
        health
    }
}

const FEED_VIEW_KEYS: &[&str] = &[
    "id",
    "title",
    "language",
    "source_url",
    "source_host",
    "rss",
    "atom",
    "json",
    "rss_url",
    "built",
    "item_count",
    "last_change",
    "last_change_iso",
    "latest",
    "health",
    "chart",
];

impl Object for FeedView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let views = &self.views;
        let feed = self.feed();
        let tz = feed.timezone;
        let value = match key.as_str()? {
            "id" => Value::from(feed.id.as_str()),
            "title" => Value::from(feed.title.as_str()),
            "language" => Value::from(feed.language.as_str()),
            "source_url" => Value::from(feed.source_url.as_str()),
            "source_host" => Value::from(feed.source_url.host_str().unwrap_or("local file")),
            "rss" => Value::from(format!("{}.xml", feed.id)),
            "atom" => Value::from(format!("{}.atom", feed.id)),
            "json" => Value::from(format!("{}.json", feed.id)),
            // Absolute, for readers importing the OPML; the others are relative, so the folder
            // works under any sub-path.
            "rss_url" => Value::from(
                views
                    .base
                    .join(&format!("{}.xml", feed.id))
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
            ),
            // Whether the feed's files exist: a feed that has never been built is listed with its
            // health, but offers no subscription that would answer 404.
            "built" => Value::from(self.health().last_success.is_some()),
            "last_change" => Value::from(
                self.health()
                    .changed_at
                    .and_then(|at| local(at, tz))
                    .map(|l| l.0),
            ),
            "last_change_iso" => Value::from(
                self.health()
                    .changed_at
                    .and_then(|at| local(at, tz))
                    .map(|l| l.1),
            ),
            "health" => self.kept("health", || {
                Value::from(Serde(health_view(&self.health(), tz)))
            }),
            // Merged and ticker feeds keep no items of their own; their last build counted them.
            "item_count" => self.kept("item_count", || {
                let last_count = self.health().last_count.unwrap_or(0) as usize;
                views.read(|store| {
                    Ok(store
                        .count(&feed.id, feed.max_items)?
                        .max(last_count)
                        .min(feed.max_items))
                })
            }),
            "latest" => self.kept("latest", || {
                self.wait_until_done();
                views.read(|store| latest(store, feed).map(|latest| Value::from(Serde(latest))))
            }),
            "chart" => self.kept("chart", || {
                self.wait_until_done();
                let first_day = chart_first_day(views.now, tz);
                views.read(|store| {
                    let counts =
                        store.counts_between(&feed.id, &chart_day_bounds(first_day, tz))?;
                    Ok(Value::from_object(chart(&counts, first_day)))
                })
            }),
            _ => return None,
        };
        Some(value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(FEED_VIEW_KEYS)
    }
}

/// The compiled-in templates, each replaced by a file of the same name in `overrides` if any;
/// with their sources.
fn environment(overrides: &Path) -> Result<(Environment<'static>, Vec<String>), SiteError> {
    let mut env = Environment::new();
    // HTML escaping is also correct XML escaping, so OPML and XSL are escaped the same way.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".css") {
            minijinja::AutoEscape::None
        } else {
            minijinja::AutoEscape::Html
        }
    });
    // Escape what XML and HTML need (`& < > " '`) and no more, so URLs stay readable.
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if *state.auto_escape() != minijinja::AutoEscape::None && !value.is_safe() => {
            crate::extract::text::escape_markup_into(text, out).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    let mut sources = Vec::with_capacity(DEFAULTS.len());
    for (name, default) in DEFAULTS {
        let path = overrides.join(name);
        let source = if path.is_file() {
            std::fs::read_to_string(&path).map_err(|source| SiteError::Read { path, source })?
        } else {
            default.to_string()
        };
        sources.push(source.clone());
        env.add_template_owned(name.to_string(), source)
            .map_err(|source| SiteError::Template {
                name: name.to_string(),
                source,
            })?;
    }
    Ok((env, sources))
}

fn local(at: i64, tz: Tz) -> Option<(String, String)> {
    let at = tz.timestamp_opt(at, 0).single()?;
    // Written out, not through a format string that chrono would parse for every headline.
    let shown = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    );
    Some((shown, at.to_rfc3339()))
}

/// The feed's newest headlines, as the index lists them.
fn latest(store: &Store, feed: &ShownFeed) -> Result<Vec<LatestView>, StoreError> {
    Ok(store
        .recent(&feed.id, LATEST)?
        .into_iter()
        .map(|item| {
            let (time, iso) = local(item.date(), feed.timezone).unwrap_or_default();
            LatestView {
                link: item.link.clone().unwrap_or_default(),
                title: item.title,
                time: time.get(5..).unwrap_or(&time).to_string(),
                iso,
            }
        })
        .collect())
}

fn health_view(health: &FeedHealth, tz: Tz) -> HealthView {
    let ok = is_ok(health);
    let last_success = health
        .last_success
        .filter(|_| !ok)
        .and_then(|at| local(at, tz));
    let last_error_at = health.last_error_at.and_then(|at| local(at, tz));
    HealthView {
        ok,
        failures: health.consecutive_failures,
        last_success_iso: last_success.as_ref().map(|(_, iso)| iso.clone()),
        last_success: last_success.map(|(shown, _)| shown),
        last_error: health.last_error.clone(),
        last_error_at_iso: last_error_at.as_ref().map(|(_, iso)| iso.clone()),
        last_error_at: last_error_at.map(|(shown, _)| shown),
    }
}

/// Where the chart's local days begin and the last one ends, as instants: a day is counted
/// from its first instant (after a skipped midnight, the end of the gap; of a repeated one, the
/// first) to the next day's.
fn chart_day_bounds(first_day: NaiveDate, tz: Tz) -> Vec<i64> {
    (0..=CHART_DAYS)
        .map(|i| {
            let midnight = (first_day + Duration::days(i)).and_time(chrono::NaiveTime::MIN);
            crate::dates::local_to_instant(midnight, tz).timestamp()
        })
        .collect()
}

/// Bars of items per local day (`counts`, from `first_day`), oldest left, scaled to the
/// busiest day.
fn chart(counts: &[usize], first_day: NaiveDate) -> Chart {
    let max = counts.iter().copied().max().unwrap_or(0);
    let slot = CHART_WIDTH / CHART_DAYS as f64;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let h = if max == 0 {
                0.0
            } else {
                ((count as f64 / max as f64) * (CHART_HEIGHT - 2.0)).max(if count > 0 {
                    1.0
                } else {
                    0.0
                })
            };
            Bar {
                day: first_day + Duration::days(i as i64),
                count: count as u32,
                x: round(i as f64 * slot + 0.5),
                y: round(CHART_HEIGHT - 1.0 - h),
                w: round(slot - 1.0),
                h: round(h),
            }
        })
        .collect();
    Chart {
        days: CHART_DAYS,
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        max,
        bars,
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store holding one feed's items dated at these instants.
    fn store_dated(dates: &[i64]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        let items: Vec<crate::store::SeenItem> = dates
            .iter()
            .enumerate()
            .map(|(i, &at)| crate::store::SeenItem {
                id: format!("i{i}"),
                title: format!("t{i}"),
                link: None,
                published: Some(at),
                author: None,
                source_name: None,
                categories: Vec::new(),
            })
            .collect();
        store.merge("f", &items, 0).unwrap();
        (dir, store)
    }

    fn chart_of(dates: &[i64], first: NaiveDate, tz: Tz) -> Chart {
        let (_dir, store) = store_dated(dates);
        let counts = store
            .counts_between("f", &chart_day_bounds(first, tz))
            .unwrap();
        chart(&counts, first)
    }

    /// A render dropped unfinished is waited for: its thread (blocked on feeds that never
    /// finish) has let go of the folder when the drop returns, its files removed unput.
    #[test]
    fn a_render_dropped_unfinished_is_done_with_the_folder_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        let text = "[site]\ntitle = \"t\"\nbase_url = \"https://feeds.example.com/\"\n\n\
                    [[feeds]]\nid = \"a\"\nurl = \"https://example.com/a\"\n";
        let config = Config::parse(text, &config_path).unwrap();
        let (store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        let store = Arc::new(Mutex::new(store));
        let output = Arc::new(OutputDir::open(&dir.path().join("public")).unwrap());
        let render = SiteRender::start(&config, &store, &output, Utc::now()).unwrap();
        drop(render);
        assert_eq!(
            Arc::strong_count(&output),
            1,
            "the render thread still holds the folder"
        );
        assert!(output.left_clean());
        assert_eq!(output.hidden_entries(), 0, "temporary files left");
    }

    #[test]
    fn chart_counts_items_per_local_day() {
        let tz = chrono_tz::Asia::Taipei;
        let first = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
        let at = |d: u32, h: u32| {
            tz.with_ymd_and_hms(2025, 8, d, h, 0, 0)
                .unwrap()
                .timestamp()
        };
        // 00:30 Taipei on the 2nd is still the 1st in UTC; it counts for the 2nd.
        let chart = chart_of(
            &[at(1, 9), at(1, 23), at(2, 0), at(30, 12), at(31, 12)],
            first,
            tz,
        );
        assert_eq!(chart.bars.len(), 30);
        assert_eq!(chart.max, 2);
        let counts: Vec<usize> = chart.bars.iter().map(|b| b.count as usize).collect();
        assert_eq!((counts[0], counts[1], counts[29]), (2, 1, 1));
        assert_eq!(
            counts.iter().sum::<usize>(),
            4,
            "the 31st is outside the 30 days"
        );
        assert!(chart.bars[0].h > chart.bars[1].h);
    }

    #[test]
    fn chart_days_are_local_days_across_clock_changes() {
        // New York changes clocks at 02:00; Santiago at midnight, so one of its days starts at
        // 01:00 and another has two midnights.
        for (tz, first) in [
            (chrono_tz::America::New_York, (2025, 10, 20)),
            (chrono_tz::America::New_York, (2025, 2, 25)),
            (chrono_tz::America::Santiago, (2025, 3, 20)),
            (chrono_tz::America::Santiago, (2025, 8, 25)),
            (chrono_tz::Asia::Taipei, (2025, 8, 1)),
        ] {
            let first = NaiveDate::from_ymd_opt(first.0, first.1, first.2).unwrap();
            let start = tz
                .from_local_datetime(&first.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .unwrap()
                .timestamp();
            // Every 20 minutes (counted day by day in the store) and every 7 hours (read and
            // placed), from a day before the chart to a day after it.
            for step in [1200, 7 * 3600] {
                let dates: Vec<i64> = (-86_400 / step..(CHART_DAYS + 1) * 86_400 / step)
                    .map(|k| start + k * step)
                    .collect();
                let shown: Vec<u32> = chart_of(&dates, first, tz)
                    .bars
                    .iter()
                    .map(|b| b.count)
                    .collect();
                let mut expected = vec![0u32; CHART_DAYS as usize];
                for &at in &dates {
                    let day = tz.timestamp_opt(at, 0).unwrap().date_naive();
                    let index = (day - first).num_days();
                    if (0..CHART_DAYS).contains(&index) {
                        expected[index as usize] += 1;
                    }
                }
                assert_eq!(shown, expected, "{tz} from {first}, every {step} s");
                if step == 1200 {
                    assert!(
                        expected.iter().any(|&n| n != 72) || tz == chrono_tz::Asia::Taipei,
                        "{tz} from {first}: no day of another length in the window"
                    );
                }
            }
        }
    }

    #[test]
    fn templates_read_the_chart_as_maps() {
        let first = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
        let mut counts = vec![0; CHART_DAYS as usize];
        (counts[0], counts[2]) = (2, 1);
        let chart = Value::from_object(chart(&counts, first));
        let env = Environment::new();
        let shown = env
            .render_str(
                "{{ chart.days }} {{ chart.width }}x{{ chart.height }} max {{ chart.max }}, \
                 {{ chart.bars | length }} bars:\
                 {% for bar in chart.bars if bar.count > 0 %} {{ bar.day }}={{ bar.count }}\
                 @{{ bar.x }},{{ bar.y }},{{ bar.w }},{{ bar.h }}{% endfor %}; \
                 {{ chart.bars[1].day }} {{ chart.bars[1].count }}; {{ chart.nothing is undefined }}",
                context! { chart },
            )
            .unwrap();
        assert_eq!(
            shown,
            "30 180.0x36.0 max 2, 30 bars: 2025-08-01=2@0.5,1.0,5.0,34.0 \
             2025-08-03=1@12.5,18.0,5.0,17.0; 2025-08-02 0; True"
        );
    }
}
