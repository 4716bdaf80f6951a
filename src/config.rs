//! `config.toml` in two layers: raw serde structs that mirror the file (unknown keys rejected),
//! then a validated [`Config`] with parsed URLs, zones and compiled selectors.
//!
//! Every problem is collected with its line and key path, so `dateline check` can report them all
//! at once instead of one per run.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use url::Url;

use crate::extract::json::{JsonConfig, JsonSource, LinkSpec, check_pointer};
use crate::extract::spec::{ValueSpec, compile};

pub mod cache;

pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Taipei;
pub const DEFAULT_LANGUAGE: &str = "zh-TW";
pub const DEFAULT_MAX_ITEMS: usize = 100;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_CONCURRENCY: usize = 8;
pub const DEFAULT_PER_HOST: usize = 2;
pub const DEFAULT_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;
/// More requests in flight than this is a typo, not a plan.
pub const MAX_CONCURRENCY: usize = 1024;
pub const DEFAULT_SUMMARY_CHARS: usize = 280;
pub const DEFAULT_OUT_DIR: &str = "public";
pub const DEFAULT_STATE: &str = ".dateline/state.sqlite";
pub const DEFAULT_USER_AGENT: &str = concat!(
    "dateline/",
    env!("CARGO_PKG_VERSION"),
    " (feed generator; +https://crates.io/crates/dateline)"
);

/// A validated configuration, ready to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The file it was read from; relative paths in it are relative to its folder.
    pub path: PathBuf,
    pub site: Site,
    pub fetch: FetchLimits,
    /// Shared with each feed's run as it is: cloning every feed's settings into each run was
    /// 1 % of a run whose pages all answer 304.
    pub feeds: Vec<Arc<FeedConfig>>,
    /// `[[tickers]]`: a feed per symbol of every feed's items about it.
    pub tickers: Vec<TickerFeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TickerFeed {
    /// `ticker-twse-2330` for `TWSE:2330`.
    pub id: String,
    pub symbol: String,
    pub title: String,
}

/// Where a merged feed's items come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// Another configured feed.
    Feed(String),
    /// A listing page read in auto mode, as a hidden feed of its own.
    Url(Url),
}

/// Which of a feed's items are published.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Filter {
    #[serde(with = "cache::regexes")]
    pub include: Vec<regex::Regex>,
    #[serde(with = "cache::regexes")]
    pub exclude: Vec<regex::Regex>,
    pub tickers: Vec<String>,
    pub max_age_days: Option<u32>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.tickers.is_empty()
            && self.max_age_days.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Site {
    pub title: String,
    /// Always ends with `/`, so joining a file name keeps any sub-path.
    pub base_url: Url,
    pub out_dir: PathBuf,
    pub state: PathBuf,
}

/// Limits that hold for a whole run, across feeds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct FetchLimits {
    pub concurrency: usize,
    pub per_host: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedConfig {
    pub id: String,
    pub title: Option<String>,
    pub url: Url,
    pub timezone: Tz,
    pub language: String,
    pub max_items: usize,
    pub user_agent: String,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    /// Fetch robots.txt and skip pages it disallows.
    pub respect_robots: bool,
    pub select: Option<SelectConfig>,
    /// JSON mode: the listing is a JSON array (an API, or data embedded in the page).
    pub json: Option<JsonConfig>,
    /// Follow each new item's link once for a summary, author, picture and better date.
    pub fetch_articles: bool,
    pub summary_chars: usize,
    /// A merged feed's sources; empty for a feed of one listing page.
    pub sources: Vec<Source>,
    pub filter: Filter,
    /// Whether the feed gets files of its own (not for a merged feed's URL sources).
    pub publish: bool,
}

impl FeedConfig {
    /// A feed for a bare URL (`dateline preview URL`): auto mode, built-in defaults.
    pub fn for_url(url: Url, timezone: Tz) -> FeedConfig {
        let id = url
            .host_str()
            .map(|h| {
                h.trim_start_matches("www.")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '-'
                        }
                    })
                    .collect::<String>()
            })
            .filter(|id| is_safe_id(id))
            .unwrap_or_else(|| "news".to_string());
        FeedConfig {
            id,
            title: None,
            url,
            timezone,
            language: DEFAULT_LANGUAGE.to_string(),
            max_items: DEFAULT_MAX_ITEMS,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            respect_robots: false,
            select: None,
            json: None,
            fetch_articles: false,
            summary_chars: DEFAULT_SUMMARY_CHARS,
            sources: Vec::new(),
            filter: Filter::default(),
            publish: true,
        }
    }
}

/// Selector mode: where each value of an item is found.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "cache::SelectSource", try_from = "cache::SelectSource")]
pub struct SelectConfig {
    pub item: scraper::Selector,
    pub item_source: String,
    pub title: Option<ValueSpec>,
    pub link: Option<ValueSpec>,
    pub date: Option<ValueSpec>,
    pub date_format: Option<String>,
}

/// The settings every feed inherits from `[defaults]`.
#[derive(Debug, Clone)]
struct Settings {
    timezone: Tz,
    language: String,
    max_items: usize,
    user_agent: String,
    timeout: Duration,
    max_body_bytes: u64,
    respect_robots: bool,
    fetch_articles: bool,
    summary_chars: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timezone: DEFAULT_TIMEZONE,
            language: DEFAULT_LANGUAGE.to_string(),
            max_items: DEFAULT_MAX_ITEMS,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            respect_robots: false,
            fetch_articles: false,
            summary_chars: DEFAULT_SUMMARY_CHARS,
        }
    }
}

/// One thing wrong with the config, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub key: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", Problems { path, problems })]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

struct Problems<'a> {
    path: &'a Path,
    problems: &'a [Problem],
}

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: ", self.path.display(), p.line)?;
            if !p.key.is_empty() {
                write!(f, "{}: ", p.key)?;
            }
            write!(f, "{}", p.message)?;
        }
        Ok(())
    }
}

/// The keys each table knows; the serde structs below deny any other as a second guard.
const SITE_KEYS: &[&str] = &["title", "base_url", "out_dir", "state"];
const DEFAULTS_KEYS: &[&str] = &[
    "timezone",
    "language",
    "max_items",
    "user_agent",
    "timeout_secs",
    "max_body_bytes",
    "respect_robots",
    "fetch_articles",
    "summary_chars",
    "concurrency",
    "per_host",
];
const FEED_KEYS: &[&str] = &[
    "id",
    "title",
    "url",
    "timezone",
    "language",
    "max_items",
    "user_agent",
    "timeout_secs",
    "max_body_bytes",
    "respect_robots",
    "select",
    "json",
    "sources",
    "fetch_articles",
    "summary_chars",
    "include",
    "exclude",
    "tickers",
    "max_age_days",
];
const TICKER_KEYS: &[&str] = &["symbol", "title"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTicker {
    symbol: Spanned<String>,
    title: Option<Spanned<String>>,
}
const SELECT_KEYS: &[&str] = &["item", "title", "link", "date", "date_format"];
const JSON_KEYS: &[&str] = &["source", "items", "title", "link", "date", "date_format"];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    out_dir: Option<Spanned<String>>,
    state: Option<Spanned<String>>,
}

/// Keys that `[defaults]` sets and each feed may override.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timezone: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
    user_agent: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<f64>>,
    max_body_bytes: Option<Spanned<i64>>,
    respect_robots: Option<bool>,
    fetch_articles: Option<bool>,
    summary_chars: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    id: Spanned<String>,
    title: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    sources: Option<Spanned<Vec<Spanned<String>>>>,
    fetch_articles: Option<bool>,
    summary_chars: Option<Spanned<i64>>,
    include: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
    tickers: Option<Vec<Spanned<String>>>,
    max_age_days: Option<Spanned<i64>>,
    timezone: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
    user_agent: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<f64>>,
    max_body_bytes: Option<Spanned<i64>>,
    respect_robots: Option<bool>,
    select: Option<RawSelect>,
    json: Option<RawJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJson {
    source: Option<Spanned<String>>,
    items: Spanned<String>,
    title: Spanned<String>,
    link: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    date_format: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelect {
    item: Spanned<String>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    date_format: Option<Spanned<String>>,
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(&read(path)?, path)
    }

    /// Validate config text; `path` names it in messages and anchors its relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut checker = Checker {
            text,
            problems: Vec::new(),
            compiled: HashMap::new(),
        };
        let config = checker.config(path);
        match config {
            Some(config) if checker.problems.is_empty() => Ok(config),
            _ => {
                let mut problems = checker.problems;
                problems.sort_by_key(|p| p.line);
                Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    problems,
                })
            }
        }
    }

    /// The folder relative paths in the config are resolved against.
    pub fn base_dir(&self) -> &Path {
        base_dir_of(&self.path)
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn base_dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

struct Checker<'t> {
    text: &'t str,
    problems: Vec<Problem>,
    /// Selectors compiled so far, by their text: feeds of one portal share them, and compiling
    /// them was a fifth of reading a config of 500 such feeds.
    compiled: HashMap<String, Result<scraper::Selector, String>>,
}

impl<'t> Checker<'t> {
    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text[..offset].bytes().filter(|&b| b == b'\n').count() + 1
    }

    fn problem(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            line: self.line_of(span.start),
            key: key.into(),
            message: message.into(),
        });
    }

    /// Report keys a table does not know, each at its line, and take them out of it, so that
    /// one misspelt key does not hide the section's other problems. The table's `path` is only
    /// written out for a problem: naming every feed's tables was 1 % of a build with nothing
    /// to do.
    fn known_keys(
        &mut self,
        value: &mut Spanned<DeValue<'_>>,
        path: &dyn Fn() -> String,
        known: &[&str],
        nested: &[(&str, &[&str])],
    ) {
        if let DeValue::Table(table) = value.get_mut() {
            let mut unknown = Vec::new();
            for (key, inner) in table.iter_mut() {
                let name: &str = key.get_ref();
                if !known.contains(&name) {
                    unknown.push((name.to_string(), key.span()));
                    continue;
                }
                if let Some((_, inner_known)) = nested.iter().find(|(n, _)| *n == name) {
                    self.known_keys(inner, &|| format!("{}.{name}", path()), inner_known, &[]);
                }
            }
            for (name, span) in &unknown {
                let message = match name.as_str() {
                    "concurrency" | "per_host" => {
                        format!("`{name}` is a run-wide limit: set it in [defaults]")
                    }
                    _ => format!(
                        "unknown key `{name}` (expected one of: {})",
                        known.join(", ")
                    ),
                };
                self.problem(span.clone(), format!("{}.{name}", path()), message);
            }
            if !unknown.is_empty() {
                *table = std::mem::take(table)
                    .into_iter()
                    .filter(|(k, _)| {
                        !unknown
                            .iter()
                            .any(|(name, _)| name.as_str() == k.get_ref().as_ref())
                    })
                    .collect();
            }
        }
    }

    /// Deserialize one section on its own, so that an error in one feed does not hide the others.
    /// The section is taken out of the document, not copied: a copy of every feed's table was a
    /// tenth of reading a config of 500 feeds. Its keys are needed again only to name the key of
    /// an error, and are then read from the text anew.
    fn section<T: DeserializeOwned>(
        &mut self,
        value: &mut Spanned<DeValue<'_>>,
        at: SectionAt,
    ) -> Option<T> {
        let whole = value.span();
        let taken = std::mem::replace(value, Spanned::new(whole.clone(), DeValue::Boolean(false)));
        match T::deserialize(ValueDeserializer::from(taken)) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or_else(|| whole.clone());
                let key = at.key();
                let path = match DeTable::parse(self.text)
                    .ok()
                    .as_ref()
                    .and_then(|root| at.find(root.get_ref()))
                {
                    Some(DeValue::Table(table)) => key_path_at(table, span.start, &key),
                    _ => key,
                };
                self.problem(span, path, e.message().trim().to_string());
                None
            }
        }
    }

    fn config(&mut self, path: &Path) -> Option<Config> {
        let mut root = match DeTable::parse(self.text) {
            Ok(root) => root,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                self.problem(span, "", format!("not valid TOML: {}", e.message().trim()));
                return None;
            }
        };
        let mut raw_site = RawSite::default();
        let mut raw_defaults = RawDefaults::default();
        let mut raw_feeds: Vec<(usize, Range<usize>, RawFeed)> = Vec::new();
        let mut raw_tickers: Vec<(usize, RawTicker)> = Vec::new();
        let mut feeds_seen = false;
        for (key, value) in root.get_mut().iter_mut() {
            match key.get_ref().as_ref() {
                "site" => {
                    self.known_keys(value, &|| "site".into(), SITE_KEYS, &[]);
                    raw_site = self
                        .section(value, SectionAt::Table("site"))
                        .unwrap_or_default()
                }
                "defaults" => {
                    self.known_keys(value, &|| "defaults".into(), DEFAULTS_KEYS, &[]);
                    raw_defaults = self
                        .section(value, SectionAt::Table("defaults"))
                        .unwrap_or_default()
                }
                "tickers" => {
                    let span = value.span();
                    let DeValue::Array(array) = value.get_mut() else {
                        self.problem(span, "tickers", "must be an array of [[tickers]] tables");
                        continue;
                    };
                    for (i, entry) in array.iter_mut().enumerate() {
                        let at = SectionAt::Entry("tickers", i);
                        self.known_keys(entry, &|| at.key(), TICKER_KEYS, &[]);
                        if let Some(raw) = self.section::<RawTicker>(entry, at) {
                            raw_tickers.push((i, raw));
                        }
                    }
                }
                "feeds" => {
                    feeds_seen = true;
                    let span = value.span();
                    let DeValue::Array(array) = value.get_mut() else {
                        self.problem(span, "feeds", "must be an array of [[feeds]] tables");
                        continue;
                    };
                    raw_feeds.reserve(array.len());
                    for (i, feed) in array.iter_mut().enumerate() {
                        let at = SectionAt::Entry("feeds", i);
                        self.known_keys(
                            feed,
                            &|| at.key(),
                            FEED_KEYS,
                            &[("select", SELECT_KEYS), ("json", JSON_KEYS)],
                        );
                        if let Some(raw) = self.section::<RawFeed>(feed, at) {
                            raw_feeds.push((i, feed.span(), raw));
                        }
                    }
                }
                other => self.problem(
                    key.span(),
                    other,
                    "unknown section (expected site, defaults, feeds or tickers)",
                ),
            }
        }
        if !feeds_seen {
            self.problem(0..0, "feeds", "no [[feeds]] entries: nothing to build");
        }

        let base = base_dir_of(path);
        let site = self.site(raw_site, base);
        let fetch = FetchLimits {
            concurrency: self.bounded(
                &raw_defaults.concurrency,
                "defaults.concurrency",
                DEFAULT_CONCURRENCY,
                MAX_CONCURRENCY,
            ),
            per_host: self.bounded(
                &raw_defaults.per_host,
                "defaults.per_host",
                DEFAULT_PER_HOST,
                MAX_CONCURRENCY,
            ),
        };
        let defaults = self.defaults(&raw_defaults);
        let mut ids = HashSet::new();
        let mut feeds = Vec::with_capacity(raw_feeds.len());
        // A merged feed's named sources must be feeds of one listing each; checked against every
        // feed written, also those with problems of their own.
        let all_ids: HashSet<String> = raw_feeds
            .iter()
            .map(|(_, _, r)| r.id.get_ref().clone())
            .collect();
        let merged_ids: HashSet<String> = raw_feeds
            .iter()
            .filter(|(_, _, r)| r.sources.is_some())
            .map(|(_, _, r)| r.id.get_ref().clone())
            .collect();
        for (i, _, raw) in &raw_feeds {
            for source in raw.sources.iter().flat_map(|s| s.get_ref().iter()) {
                let Source::Feed(id) = parse_source(source.get_ref()) else {
                    continue;
                };
                let key = format!("feeds[{i}].sources");
                if !all_ids.contains(&id) {
                    self.problem(source.span(), key, format!("no feed with id {id:?}"));
                } else if merged_ids.contains(&id) {
                    self.problem(
                        source.span(),
                        key,
                        format!("{id:?} is itself a merged feed"),
                    );
                }
            }
        }
        for (i, span, raw) in raw_feeds {
            if let Some(feed) = self.feed(i, span, raw, &defaults, base, &mut ids) {
                feeds.push(Arc::new(feed));
            }
        }
        let site = site?;
        // A URL source becomes a hidden feed of its own (state only, no files).
        let mut hidden = Vec::new();
        for feed in &mut feeds {
            if feed.sources.is_empty() {
                continue;
            }
            // Not shared yet: changed in place.
            let feed = Arc::make_mut(feed);
            feed.url = site.base_url.clone();
            // Hidden feeds take the host's name, not the merged feed's title, for source:NAME.
            let template = FeedConfig {
                sources: Vec::new(),
                filter: Filter::default(),
                publish: false,
                title: None,
                ..feed.clone()
            };
            for source in feed.sources.iter_mut() {
                if let Source::Url(url) = source {
                    // Named by the URL, so reordering or removing sources keeps each history.
                    let part = FeedConfig {
                        id: format!("{}.src-{}", template.id, short_hash(url.as_str())),
                        url: url.clone(),
                        ..template.clone()
                    };
                    *source = Source::Feed(part.id.clone());
                    hidden.push(Arc::new(part));
                }
            }
        }
        feeds.extend(hidden);
        let mut tickers: Vec<TickerFeed> = Vec::new();
        for (i, raw) in raw_tickers {
            let span = raw.symbol.span();
            if let Some(ticker) = self.ticker(i, raw, &ids) {
                if tickers.iter().any(|t| t.id == ticker.id) {
                    self.problem(
                        span,
                        format!("tickers[{i}].symbol"),
                        format!("{} is listed twice", ticker.symbol),
                    );
                    continue;
                }
                tickers.push(ticker);
            }
        }
        Some(Config {
            path: path.to_path_buf(),
            site,
            fetch,
            feeds,
            tickers,
        })
    }

    fn ticker(
        &mut self,
        index: usize,
        raw: RawTicker,
        ids: &HashSet<String>,
    ) -> Option<TickerFeed> {
        let symbol = raw.symbol.get_ref().trim().to_ascii_uppercase();
        let valid = symbol.split_once(':').is_some_and(|(market, code)| {
            !market.is_empty()
                && !code.is_empty()
                && symbol
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.'))
        });
        if !valid {
            self.problem(
                raw.symbol.span(),
                format!("tickers[{index}].symbol"),
                format!(
                    "{:?} is not a symbol such as \"TWSE:2330\" or \"NASDAQ:NVDA\"",
                    raw.symbol.get_ref()
                ),
            );
            return None;
        }
        let id = format!(
            "ticker-{}",
            symbol.to_ascii_lowercase().replace([':', '.'], "-")
        );
        if ids.contains(&id) {
            self.problem(
                raw.symbol.span(),
                format!("tickers[{index}].symbol"),
                format!("its feed id {id:?} is taken by a feed"),
            );
            return None;
        }
        Some(TickerFeed {
            title: raw
                .title
                .map(Spanned::into_inner)
                .unwrap_or_else(|| symbol.clone()),
            id,
            symbol,
        })
    }

    fn site(&mut self, raw: RawSite, base: &Path) -> Option<Site> {
        let title = raw
            .title
            .map(Spanned::into_inner)
            .unwrap_or_else(|| "dateline feeds".to_string());
        let base_url = match raw.base_url {
            None => {
                self.problem(
                    0..0,
                    "site.base_url",
                    "missing: the public URL of the output folder is needed for self links",
                );
                None
            }
            Some(value) => {
                let mut text = value.get_ref().trim().to_string();
                if !text.ends_with('/') {
                    text.push('/');
                }
                match Url::parse(&text) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
                    Ok(url) => {
                        self.problem(
                            value.span(),
                            "site.base_url",
                            format!("must be http or https, not {}:", url.scheme()),
                        );
                        None
                    }
                    Err(e) => {
                        self.problem(
                            value.span(),
                            "site.base_url",
                            format!("bad URL {text:?}: {e}"),
                        );
                        None
                    }
                }
            }
        };
        let path_or = |v: Option<Spanned<String>>, default: &str| {
            base.join(
                v.map(Spanned::into_inner)
                    .unwrap_or_else(|| default.to_string()),
            )
        };
        Some(Site {
            title,
            base_url: base_url?,
            out_dir: path_or(raw.out_dir, DEFAULT_OUT_DIR),
            state: path_or(raw.state, DEFAULT_STATE),
        })
    }

    /// `[defaults]`, checked once and named by its own keys.
    fn defaults(&mut self, raw: &RawDefaults) -> Settings {
        let mut settings = Settings::default();
        if let Some(v) = &raw.timezone {
            settings.timezone = self
                .timezone(v, "defaults.timezone")
                .unwrap_or(settings.timezone);
        }
        if let Some(v) = &raw.language {
            settings.language = self
                .language(v, "defaults.language")
                .unwrap_or(settings.language);
        }
        settings.max_items =
            self.positive(&raw.max_items, "defaults.max_items", settings.max_items);
        settings.max_body_bytes = self.positive(
            &raw.max_body_bytes,
            "defaults.max_body_bytes",
            settings.max_body_bytes as usize,
        ) as u64;
        if let Some(v) = &raw.timeout_secs {
            settings.timeout = self
                .timeout(v, "defaults.timeout_secs")
                .unwrap_or(settings.timeout);
        }
        if let Some(v) = &raw.user_agent {
            settings.user_agent = self
                .user_agent(v, "defaults.user_agent")
                .unwrap_or(settings.user_agent);
        }
        settings.respect_robots = raw.respect_robots.unwrap_or(false);
        settings.fetch_articles = raw.fetch_articles.unwrap_or(false);
        settings.summary_chars = self.positive(
            &raw.summary_chars,
            "defaults.summary_chars",
            settings.summary_chars,
        );
        settings
    }

    fn timezone(&mut self, value: &Spanned<String>, key: &str) -> Option<Tz> {
        let parsed = value.get_ref().parse::<Tz>().ok();
        if parsed.is_none() {
            self.problem(
                value.span(),
                key,
                format!(
                    "unknown time zone {:?} (use an IANA name such as \"Asia/Taipei\")",
                    value.get_ref()
                ),
            );
        }
        parsed
    }

    fn language(&mut self, value: &Spanned<String>, key: &str) -> Option<String> {
        if is_language_tag(value.get_ref()) {
            return Some(value.get_ref().clone());
        }
        self.problem(
            value.span(),
            key,
            format!(
                "{:?} is not a language tag such as \"zh-TW\"",
                value.get_ref()
            ),
        );
        None
    }

    fn timeout(&mut self, value: &Spanned<f64>, key: &str) -> Option<Duration> {
        let secs = *value.get_ref();
        if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
            return Some(Duration::from_secs_f64(secs));
        }
        self.problem(value.span(), key, "must be between 0 and 3600 seconds");
        None
    }

    fn user_agent(&mut self, value: &Spanned<String>, key: &str) -> Option<String> {
        let text = value.get_ref();
        if !text.trim().is_empty() && reqwest::header::HeaderValue::from_str(text).is_ok() {
            return Some(text.clone());
        }
        self.problem(value.span(), key, "must be non-empty printable ASCII");
        None
    }

    fn bounded(
        &mut self,
        value: &Option<Spanned<i64>>,
        key: &str,
        default: usize,
        max: usize,
    ) -> usize {
        match value {
            Some(v) if *v.get_ref() > max as i64 => {
                self.problem(
                    v.span(),
                    key,
                    format!("must be at most {max}, not {}", v.get_ref()),
                );
                default
            }
            _ => self.positive(value, key, default),
        }
    }

    fn positive(&mut self, value: &Option<Spanned<i64>>, key: &str, default: usize) -> usize {
        match value {
            None => default,
            Some(v) if *v.get_ref() >= 1 => *v.get_ref() as usize,
            Some(v) => {
                self.problem(
                    v.span(),
                    key,
                    format!("must be at least 1, not {}", v.get_ref()),
                );
                default
            }
        }
    }

    fn feed(
        &mut self,
        index: usize,
        span: Range<usize>,
        raw: RawFeed,
        defaults: &Settings,
        base: &Path,
        ids: &mut HashSet<String>,
    ) -> Option<FeedConfig> {
        let key = |name: &str| format!("feeds[{index}].{name}");
        let problems_before = self.problems.len();

        let id = raw.id.get_ref().clone();
        if !is_safe_id(&id) {
            self.problem(
                raw.id.span(),
                key("id"),
                format!("{id:?} is not a safe id: use lower-case letters, digits, '-' and '_', starting with a letter or digit"),
            );
        } else if !ids.insert(id.clone()) {
            self.problem(raw.id.span(), key("id"), format!("duplicate id {id:?}"));
        }

        let url = match (&raw.url, &raw.sources) {
            (Some(url), None) => self.feed_url(url, || key("url"), base),
            (None, Some(sources)) => {
                if sources.get_ref().is_empty() {
                    self.problem(sources.span(), key("sources"), "lists no sources");
                }
                // Replaced by the site's URL once it is known.
                Url::parse("https://merged.invalid/").ok()
            }
            (Some(_), Some(sources)) => {
                self.problem(
                    sources.span(),
                    key("sources"),
                    "a feed takes `url` or `sources`, not both",
                );
                None
            }
            (None, None) => {
                self.problem(
                    span.clone(),
                    key("url"),
                    "missing: a feed needs `url` (or `sources` for a merged feed)",
                );
                None
            }
        };
        let mut sources = Vec::new();
        for source in raw.sources.iter().flat_map(|s| s.get_ref().iter()) {
            let parsed = parse_source(source.get_ref());
            if let Source::Url(url) = &parsed
                && !matches!(url.scheme(), "http" | "https" | "file")
            {
                self.problem(
                    source.span(),
                    key("sources"),
                    format!("{:?} is not an http(s) URL", source.get_ref()),
                );
            }
            sources.push(parsed);
        }
        let mut filter = Filter::default();
        for (list, name, into) in [
            (&raw.include, "include", &mut filter.include),
            (&raw.exclude, "exclude", &mut filter.exclude),
        ] {
            for pattern in list.iter().flatten() {
                match regex::Regex::new(pattern.get_ref()) {
                    Ok(re) => into.push(re),
                    Err(e) => self.problem(
                        pattern.span(),
                        key(name),
                        format!("bad regular expression: {e}"),
                    ),
                }
            }
        }
        for symbol in raw.tickers.iter().flatten() {
            let upper = symbol.get_ref().trim().to_ascii_uppercase();
            if !upper.contains(':') {
                self.problem(
                    symbol.span(),
                    key("tickers"),
                    format!(
                        "{:?} is not a symbol such as \"TWSE:2330\"",
                        symbol.get_ref()
                    ),
                );
            }
            filter.tickers.push(upper);
        }
        if let Some(days) = &raw.max_age_days {
            filter.max_age_days =
                Some(self.bounded(&Some(days.clone()), &key("max_age_days"), 30, 36_500) as u32);
        }
        let fetch_articles = raw.fetch_articles.unwrap_or(defaults.fetch_articles);
        let summary_chars = match &raw.summary_chars {
            Some(_) => self.positive(
                &raw.summary_chars,
                &key("summary_chars"),
                defaults.summary_chars,
            ),
            None => defaults.summary_chars,
        };

        // Each setting: the feed's own value (checked here, named by the feed's key), else the
        // checked `[defaults]` value.
        let timezone = match &raw.timezone {
            Some(v) => self
                .timezone(v, &key("timezone"))
                .unwrap_or(defaults.timezone),
            None => defaults.timezone,
        };
        let language = match &raw.language {
            Some(v) => self
                .language(v, &key("language"))
                .unwrap_or_else(|| defaults.language.clone()),
            None => defaults.language.clone(),
        };
        let max_items = match &raw.max_items {
            Some(_) => self.positive(&raw.max_items, &key("max_items"), defaults.max_items),
            None => defaults.max_items,
        };
        let max_body_bytes = match &raw.max_body_bytes {
            Some(_) => self.positive(
                &raw.max_body_bytes,
                &key("max_body_bytes"),
                defaults.max_body_bytes as usize,
            ) as u64,
            None => defaults.max_body_bytes,
        };
        let timeout = match &raw.timeout_secs {
            Some(v) => self
                .timeout(v, &key("timeout_secs"))
                .unwrap_or(defaults.timeout),
            None => defaults.timeout,
        };
        let user_agent = match &raw.user_agent {
            Some(v) => self
                .user_agent(v, &key("user_agent"))
                .unwrap_or_else(|| defaults.user_agent.clone()),
            None => defaults.user_agent.clone(),
        };
        let respect_robots = raw.respect_robots.unwrap_or(defaults.respect_robots);
        if raw.select.is_some() && raw.json.is_some() {
            self.problem(
                span.clone(),
                key("json"),
                "a feed takes [feeds.select] or [feeds.json], not both",
            );
        }
        let select = raw.select.and_then(|s| self.select(s, index));
        let json = raw.json.and_then(|j| self.json(j, index));
        if raw
            .title
            .as_ref()
            .is_some_and(|t| t.get_ref().trim().is_empty())
        {
            self.problem(span.clone(), key("title"), "must not be empty");
        }
        if self.problems.len() > problems_before {
            return None;
        }
        Some(FeedConfig {
            id,
            title: raw.title.map(Spanned::into_inner),
            url: url?,
            timezone,
            language,
            max_items,
            user_agent,
            timeout,
            max_body_bytes,
            respect_robots,
            select,
            json,
            fetch_articles,
            summary_chars,
            sources,
            filter,
            publish: true,
        })
    }

    fn json(&mut self, raw: RawJson, index: usize) -> Option<JsonConfig> {
        let key = |name: &str| format!("feeds[{index}].json.{name}");
        let before = self.problems.len();
        let source = match &raw.source {
            None => JsonSource::Body,
            Some(v) => JsonSource::parse(v.get_ref()).unwrap_or_else(|e| {
                self.problem(v.span(), key("source"), e);
                JsonSource::Body
            }),
        };
        for (value, name) in [
            (Some(&raw.items), "items"),
            (Some(&raw.title), "title"),
            (raw.date.as_ref(), "date"),
        ] {
            if let Some(v) = value
                && let Err(e) = check_pointer(v.get_ref())
            {
                self.problem(v.span(), key(name), e);
            }
        }
        let link = raw
            .link
            .as_ref()
            .and_then(|v| match LinkSpec::parse(v.get_ref()) {
                Ok(spec) => Some(spec),
                Err(e) => {
                    self.problem(v.span(), key("link"), e);
                    None
                }
            });
        if let Some(f) = &raw.date_format
            && let Err(e) = check_date_format(f.get_ref())
        {
            self.problem(f.span(), key("date_format"), e);
        }
        (self.problems.len() == before).then(|| JsonConfig {
            source,
            items: raw.items.into_inner(),
            title: raw.title.into_inner(),
            link,
            date: raw.date.map(Spanned::into_inner),
            date_format: raw.date_format.map(Spanned::into_inner),
        })
    }

    /// `key` names the setting in a problem; made only then (it was a `format!` per feed).
    fn feed_url(
        &mut self,
        raw: &Spanned<String>,
        key: impl Fn() -> String,
        base: &Path,
    ) -> Option<Url> {
        let text = raw.get_ref().trim();
        // `file:pages/x.html` (no slash) is a path relative to the config file, so that a config
        // and its sample pages can move together.
        if let Some(rel) = text.strip_prefix("file:").filter(|r| !r.starts_with('/')) {
            let path = base.join(rel);
            let absolute = std::path::absolute(&path).unwrap_or(path);
            return match Url::from_file_path(&absolute) {
                Ok(url) => Some(url),
                Err(()) => {
                    self.problem(raw.span(), key(), format!("bad file path {rel:?}"));
                    None
                }
            };
        }
        match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => {
                if url.scheme() != "file" && url.host_str().is_none_or(str::is_empty) {
                    self.problem(raw.span(), key(), format!("{text:?} has no host"));
                    return None;
                }
                Some(url)
            }
            Ok(url) => {
                self.problem(
                    raw.span(),
                    key(),
                    format!(
                        "scheme {}: is not supported (use http, https or file)",
                        url.scheme()
                    ),
                );
                None
            }
            Err(e) => {
                self.problem(raw.span(), key(), format!("bad URL {text:?}: {e}"));
                None
            }
        }
    }

    fn compile(&mut self, selector: &str) -> Result<scraper::Selector, String> {
        // Looked up by `&str` first: most lookups find it, and need no key of their own.
        if let Some(compiled) = self.compiled.get(selector) {
            return compiled.clone();
        }
        let compiled = compile(selector);
        self.compiled.insert(selector.to_string(), compiled.clone());
        compiled
    }

    fn select(&mut self, raw: RawSelect, index: usize) -> Option<SelectConfig> {
        let key = |name: &str| format!("feeds[{index}].select.{name}");
        let item = match self.compile(raw.item.get_ref()) {
            Ok(sel) => Some(sel),
            Err(e) => {
                self.problem(raw.item.span(), key("item"), e);
                None
            }
        };
        let mut spec =
            |value: Option<Spanned<String>>, name: &str| -> Result<Option<ValueSpec>, ()> {
                let Some(value) = value else { return Ok(None) };
                match ValueSpec::parse_with(value.get_ref(), |text| self.compile(text)) {
                    Ok(spec) => Ok(Some(spec)),
                    Err(e) => {
                        self.problem(value.span(), key(name), e);
                        Err(())
                    }
                }
            };
        let title = spec(raw.title, "title");
        let link = spec(raw.link, "link");
        let date = spec(raw.date, "date");
        let date_format = match raw.date_format {
            None => None,
            Some(f) => {
                if let Err(e) = check_date_format(f.get_ref()) {
                    self.problem(f.span(), key("date_format"), e);
                }
                Some(f.into_inner())
            }
        };
        Some(SelectConfig {
            item: item?,
            item_source: raw.item.into_inner(),
            title: title.ok()?,
            link: link.ok()?,
            date: date.ok()?,
            date_format,
        })
    }
}

/// A short, stable fingerprint of a text (hex of SHA-256).
fn short_hash(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A source is a URL when it has a scheme, else the id of another feed.
fn parse_source(text: &str) -> Source {
    match Url::parse(text.trim()) {
        Ok(url) if text.contains("://") => Source::Url(url),
        _ => Source::Feed(text.trim().to_string()),
    }
}

/// A chrono format must have at least one field and no unknown specifiers.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    let mut fields = 0;
    for item in StrftimeItems::new(format) {
        match item {
            Item::Error => return Err(format!("{format:?} is not a valid chrono format")),
            Item::Numeric(..) | Item::Fixed(..) => fields += 1,
            _ => {}
        }
    }
    if fields == 0 {
        return Err(format!("{format:?} has no date or time fields"));
    }
    Ok(())
}

/// Ids name output files, so they must not be able to climb out of the folder.
pub fn is_safe_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 100
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()))
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Where a section is in the document: a table, or an entry of an array of tables.
#[derive(Clone, Copy)]
enum SectionAt {
    Table(&'static str),
    Entry(&'static str, usize),
}

impl SectionAt {
    /// How messages name it: `site`, `feeds[3]`.
    fn key(self) -> String {
        match self {
            SectionAt::Table(name) => name.to_string(),
            SectionAt::Entry(name, index) => format!("{name}[{index}]"),
        }
    }

    fn find<'d>(self, root: &'d DeTable<'d>) -> Option<&'d DeValue<'d>> {
        let (name, index) = match self {
            SectionAt::Table(name) => (name, None),
            SectionAt::Entry(name, index) => (name, Some(index)),
        };
        let value = root
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == name)
            .map(|(_, value)| value.get_ref())?;
        match (value, index) {
            (DeValue::Array(array), Some(index)) => array.get(index).map(|entry| entry.get_ref()),
            (value, None) => Some(value),
            _ => None,
        }
    }
}

/// The dotted key path (`feeds[2].select.item`) of the deepest key whose text contains `offset`.
fn key_path_at(table: &DeTable<'_>, offset: usize, prefix: &str) -> String {
    for (key, value) in table.iter() {
        if !holds(key.span(), value, offset) {
            continue;
        }
        let path = format!("{prefix}.{}", key.get_ref());
        return match value.get_ref() {
            DeValue::Table(inner) => key_path_at(inner, offset, &path),
            _ => path,
        };
    }
    prefix.to_string()
}

/// Whether `offset` is in the key or value of an entry. A table under its own header
/// (`[feeds.select]`) spans only that header, so its entries are asked too.
fn holds(key: Range<usize>, value: &Spanned<DeValue<'_>>, offset: usize) -> bool {
    let span = value.span();
    (key.start.min(span.start)..=key.end.max(span.end)).contains(&offset)
        || matches!(value.get_ref(), DeValue::Table(inner)
            if inner.iter().any(|(k, v)| holds(k.span(), v, offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[site]
title = "Feeds"
base_url = "https://feeds.example.com/sub"

[defaults]
timezone = "Asia/Taipei"
max_items = 50

[[feeds]]
id = "intl"
title = "國際財經"
url = "https://www.example.com.tw/news/list?cat=intl"

[feeds.select]
item = "ul.news-list > li"
link = "a@href"
date = "span.time"
date_format = "%Y/%m/%d %H:%M"

[[feeds]]
id = "tokyo"
url = "https://example.jp/news"
timezone = "Asia/Tokyo"
language = "ja"
"#;

    fn problems(text: &str) -> Vec<Problem> {
        match Config::parse(text, Path::new("/etc/dateline/config.toml")) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid { problems, .. }) => problems,
            Err(e) => panic!("unexpected {e}"),
        }
    }

    /// Each problem's line and key, in order.
    fn lines_and_keys(found: &[Problem]) -> Vec<(usize, &str)> {
        found.iter().map(|p| (p.line, p.key.as_str())).collect()
    }

    #[test]
    fn reads_a_good_config_with_defaults_and_overrides() {
        let config = Config::parse(GOOD, Path::new("/etc/dateline/config.toml")).unwrap();
        assert_eq!(
            config.site.base_url.as_str(),
            "https://feeds.example.com/sub/"
        );
        assert_eq!(config.site.out_dir, Path::new("/etc/dateline/public"));
        assert_eq!(config.feeds.len(), 2);
        assert_eq!(config.feeds[0].max_items, 50);
        assert_eq!(config.feeds[0].timezone, chrono_tz::Asia::Taipei);
        assert!(config.feeds[0].select.is_some());
        assert_eq!(config.feeds[1].timezone, chrono_tz::Asia::Tokyo);
        assert_eq!(config.feeds[1].language, "ja");
        assert_eq!(config.feeds[1].timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn feeds_sharing_selectors_each_get_them_and_their_problems() {
        let feed = |id: &str, item: &str| {
            format!(
                "[[feeds]]\nid = \"{id}\"\nurl = \"https://example.com/{id}\"\n[feeds.select]\nitem = \"{item}\"\ntitle = \"a.t\"\n\n"
            )
        };
        let head = "[site]\nbase_url = \"https://feeds.example.com/\"\n\n";
        let good = format!("{head}{}{}", feed("a", "ul > li"), feed("b", "ul > li"));
        let config = Config::parse(&good, Path::new("/etc/dateline/config.toml")).unwrap();
        for feed in &config.feeds {
            let select = feed.select.as_ref().unwrap();
            assert_eq!(select.item_source, "ul > li");
            let title = select.title.as_ref().unwrap();
            assert!(title.selector.is_some() && title.attr.is_none());
        }
        let bad = format!("{head}{}{}", feed("a", "ul >"), feed("b", "ul >"));
        let keys: Vec<String> = problems(&bad).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["feeds[0].select.item", "feeds[1].select.item"]);
    }

    #[test]
    fn reports_every_problem_with_line_and_key() {
        let text = r#"[site]
base_url = "https://feeds.example.com/"

[[feeds]]
id = "../x"
url = "https://example.com/a"
timezone = "Asia/Taipie"

[[feeds]]
id = "b"
url = "ftp://example.com/b"
colour = "red"

[[feeds]]
id = "c"
url = "https://example.com/c"
[feeds.select]
item = "ul >"
date_format = "%Q"

[[feeds]]
id = "c"
url = "not a url"
"#;
        let found = problems(text);
        let summary = lines_and_keys(&found);
        assert_eq!(
            summary,
            vec![
                (5, "feeds[0].id"),
                (7, "feeds[0].timezone"),
                // An unknown key no longer hides the feed's other problems.
                (11, "feeds[1].url"),
                (12, "feeds[1].colour"),
                (18, "feeds[2].select.item"),
                (19, "feeds[2].select.date_format"),
                (22, "feeds[3].id"),
                (23, "feeds[3].url"),
            ],
            "{found:#?}"
        );
        assert!(
            found[0].message.contains("not a safe id"),
            "{}",
            found[0].message
        );
        assert!(
            found[1]
                .message
                .contains("unknown time zone \"Asia/Taipie\"")
        );
        assert!(
            found[2].message.contains("scheme ftp: is not supported"),
            "{}",
            found[2].message
        );
        assert!(
            found[3].message.contains("unknown key `colour`"),
            "{}",
            found[3].message
        );
        assert!(found[4].message.contains("bad selector \"ul >\""));
        assert!(found[6].message.contains("duplicate id \"c\""));
    }

    #[test]
    fn defaults_problems_are_reported_once_under_their_own_key() {
        let text = "[site]\nbase_url = \"https://x.example/\"\n[defaults]\nlanguage = \"Chinese!\"\nconcurrency = 100000\n[[feeds]]\nid = \"a\"\nurl = \"https://e.example/a\"\n[[feeds]]\nid = \"b\"\nurl = \"https://e.example/b\"\nper_host = 4\n";
        let found = problems(text);
        let summary = lines_and_keys(&found);
        assert_eq!(
            summary,
            vec![
                (4, "defaults.language"),
                (5, "defaults.concurrency"),
                (12, "feeds[1].per_host")
            ],
            "{found:#?}"
        );
        assert!(found[1].message.contains("at most 1024"));
        assert!(
            found[2]
                .message
                .contains("run-wide limit: set it in [defaults]")
        );
    }

    #[test]
    fn message_names_file_line_and_key() {
        let err = Config::parse(
            "[site]\nbase_url = \"https://x.example/\"\n[[feeds]]\nid = \"a\"\nurl = \"https://e.example/\"\nmax_items = \"ten\"\n",
            Path::new("conf/config.toml"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("conf/config.toml:6: feeds[0].max_items: invalid type"),
            "{text}"
        );
    }

    /// An unknown key is named by its table's path, which is only written out for a problem.
    #[test]
    fn unknown_keys_are_named_in_every_kind_of_table() {
        let text = r#"[site]
title = "t"
base_url = "https://feeds.example.com/"
colour = "red"

[[feeds]]
id = "a"
url = "https://example.com/a"

[[feeds]]
id = "b"
url = "https://example.com/b"
[feeds.select]
item = "li"
colour = "red"

[[feeds]]
id = "c"
url = "https://example.com/c.json"
[feeds.json]
items = "/items/data"
title = "/title"
bogus = 1

[[tickers]]
symbol = "TWSE:2330"
what = "x"
"#;
        assert_eq!(
            lines_and_keys(&problems(text)),
            vec![
                (4, "site.colour"),
                (15, "feeds[1].select.colour"),
                (23, "feeds[2].json.bogus"),
                (27, "tickers[0].what"),
            ]
        );
    }

    /// A section is deserialized from the document itself, not a copy: the key of a type error
    /// is then found in the text read again, in whichever section and table it is.
    #[test]
    fn type_errors_are_named_in_every_kind_of_section() {
        let text = r#"[site]
base_url = "https://x.example/"
title = 7

[[feeds]]
id = "a"
url = "https://e.example/a"

[[feeds]]
id = "b"
url = "https://e.example/b"
[feeds.select]
item = "li"
title = ["a"]

[[feeds]]
id = "c"
url = "https://e.example/c"
max_items = "ten"

[[tickers]]
symbol = 2330
"#;
        let found = problems(text);
        let summary = lines_and_keys(&found);
        assert_eq!(
            summary,
            vec![
                // With [site] unread, its address is missing too.
                (1, "site.base_url"),
                (3, "site.title"),
                (14, "feeds[1].select.title"),
                (19, "feeds[2].max_items"),
                (22, "tickers[0].symbol"),
            ],
            "{found:#?}"
        );
        assert!(
            found[1..]
                .iter()
                .all(|p| p.message.contains("invalid type")),
            "{found:#?}"
        );
    }

    #[test]
    fn syntax_error_has_a_line() {
        let found = problems("[site]\nbase_url = \"https://x.example/\"\n[[feeds]\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
        assert!(found[0].message.starts_with("not valid TOML"));
    }

    #[test]
    fn missing_base_url_and_feeds_are_reported() {
        let found = problems("[site]\ntitle = \"x\"\n");
        let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"site.base_url"), "{keys:?}");
        assert!(keys.contains(&"feeds"), "{keys:?}");
    }

    #[test]
    fn relative_file_urls_follow_the_config() {
        let text = "[site]\nbase_url = \"https://x.example/\"\n[[feeds]]\nid = \"a\"\nurl = \"file:pages/a.html\"\n";
        let config = Config::parse(text, Path::new("/srv/feeds/config.toml")).unwrap();
        assert_eq!(
            config.feeds[0].url.as_str(),
            "file:///srv/feeds/pages/a.html"
        );
    }

    #[test]
    fn ids_that_could_escape_the_folder_are_unsafe() {
        for bad in ["../x", "", "A", "-a", "a/b", "a.b", "_a"] {
            assert!(!is_safe_id(bad), "{bad}");
        }
        for good in ["a", "intl-finance", "0day", "tw_stocks"] {
            assert!(is_safe_id(good), "{good}");
        }
    }
}
