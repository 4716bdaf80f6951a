//! The checked config, kept beside `config.toml` so that a run whose config has not changed
//! neither reads TOML nor checks it again.
//!
//! Reading and checking a config of 500 feeds was a quarter of the instructions of a run whose
//! pages all answer 304 (17.8 of 73.8 million), and TOML's parser held about 2.9 MB at once for
//! it, all of it touched fresh (`dateline check`: 11 MB peak for 500 feeds, 31 MB for 5,000).
//!
//! The copy is `.dateline/config.toml.checked` in the config's folder, where the state lives by
//! default: the key it was made under, then the [`Config`], both in postcard (serde's compact
//! binary form: 500 feeds read back in 7.4 million instructions, the same copy in JSON in 13.7).
//! It is taken only under the same key: the same config text (by XXH3-128), the same path as
//! given, the same working folder (relative `file:` URLs are made absolute against it) and the
//! same dateline (its build, a hash of its sources, and the executable's size and modification
//! time, so a rebuilt or upgraded dateline never takes what another one checked); and only a
//! copy this user owns and no one else may write, since a copy skips the checks. Anything else
//! (no copy, another key, a copy that does not decode) reads and checks the config as ever,
//! then keeps a new copy, if the copy reads back as the config it was made of; a folder that
//! cannot be written only means no copy. A copy is written beside and renamed into place, so
//! overlapping or killed runs never leave half of one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use regex::Regex;
use scraper::Selector;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Config, ConfigError, SelectConfig};
use crate::extract::spec::{ValueSpec, compile};

/// Bumped when what a copy holds changes shape or meaning within one executable's lifetime
/// (never, so far): a copy of another format is not taken.
const FORMAT: u32 = 1;

/// What a checked copy was made under; it is taken only under an equal key.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    format: u32,
    /// The version and the build (a hash of the sources, `DATELINE_BUILD`).
    dateline: String,
    /// The executable's size in bytes and modification time in nanoseconds: what the build
    /// does not name (dependencies, compiler), and builds from unchanged sources.
    executable: (u64, u128),
    working_folder: PathBuf,
    path: PathBuf,
    /// XXH3-128 of the config text, in hex.
    text: String,
}

impl Key {
    /// `None` when something it needs cannot be known: then nothing is kept or taken.
    fn of(path: &Path, text: &str) -> Option<Key> {
        let executable = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
        let modified = executable
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?;
        Some(Key {
            format: FORMAT,
            dateline: env!("DATELINE_BUILD").to_string(),
            executable: (executable.len(), modified.as_nanos()),
            working_folder: std::env::current_dir().ok()?,
            path: path.to_path_buf(),
            text: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes())),
        })
    }
}

/// [`Config::load`], through the checked copy: the copy when it was made from this very config
/// by this very dateline, otherwise the config read and checked (and a copy kept of it).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = super::read(path)?;
    // Only a file has a folder to keep a copy in (not `/dev/stdin`, not a pipe).
    let kept = std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file())
        .then(|| kept_at(path))
        .flatten();
    let key = Key::of(path, &text);
    if let (Some(kept), Some(key)) = (&kept, &key)
        && let Some(config) = take(kept, key)
    {
        return Ok(config);
    }
    let config = Config::parse(&text, path)?;
    if let (Some(kept), Some(key)) = (kept, key)
        && let Err(error) = keep(&kept, &key, &config)
    {
        tracing::debug!(
            "config {}: no checked copy kept at {}: {error}",
            path.display(),
            kept.display()
        );
    }
    Ok(config)
}

/// Where the checked copy of the config at `path` is kept.
fn kept_at(path: &Path) -> Option<PathBuf> {
    let mut name = path.file_name()?.to_os_string();
    name.push(".checked");
    Some(super::base_dir_of(path).join(".dateline").join(name))
}

fn take(kept: &Path, key: &Key) -> Option<Config> {
    let bytes = read_own(kept)?;
    let (found, body) = postcard::take_from_bytes::<Key>(&bytes).ok()?;
    if found != *key {
        return None;
    }
    match decode(body) {
        // Ids name files: checked again, as cheap insurance against a copy someone else made.
        Ok(config) if safe_ids(&config) => Some(config),
        Ok(_) => None,
        Err(error) => {
            tracing::debug!("checked config {}: {error}", kept.display());
            None
        }
    }
}

/// Every id is one the checker could have made: a feed's or a ticker's, or a merged feed's
/// with `.src-` and a hash for a hidden feed of a URL source.
fn safe_ids(config: &Config) -> bool {
    let feed = |id: &str| match id.split_once(".src-") {
        Some((merged, hash)) => {
            super::is_safe_id(merged) && hash.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => super::is_safe_id(id),
    };
    config.feeds.iter().all(|f| feed(&f.id))
        && config.tickers.iter().all(|t| super::is_safe_id(&t.id))
}

fn decode(body: &[u8]) -> postcard::Result<Config> {
    let config = postcard::from_bytes(body);
    SHARED.with_borrow_mut(HashMap::clear);
    config
}

/// The copy's bytes, if this user wrote it and no one else may: a copy skips every check a
/// config gets, so one another user could have written is not taken.
fn read_own(kept: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(kept).ok()?;
    let meta = file.metadata().ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me || meta.mode() & 0o022 != 0 {
            return None;
        }
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn keep(kept: &Path, key: &Key, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let body = postcard::to_stdvec(config)?;
    // What does not read back as written is not kept: a `file:` URL with `..` in it, as
    // `file:../pages/x.html` makes, is parsed without the `..` when read back.
    if postcard::to_stdvec(&decode(&body)?)? != body {
        return Err("it does not read back as written".into());
    }
    let mut bytes = postcard::to_stdvec(key)?;
    bytes.extend(body);
    let folder = kept.parent().ok_or("no folder")?;
    std::fs::create_dir_all(folder)?;
    // Named after the copy, so a run killed in this instant leaves a stray file that says
    // what it is (it is not published, and the next copy does not need it gone).
    let mut prefix = kept.file_name().ok_or("no name")?.to_os_string();
    prefix.push(".");
    let mut file = tempfile::Builder::new()
        .prefix(&prefix)
        .tempfile_in(folder)?;
    file.write_all(&bytes)?;
    file.persist(kept)?;
    Ok(())
}

thread_local! {
    /// Selectors compiled while a copy decodes, by their text: feeds of one portal share them
    /// (as in [`super::Checker`]'s own).
    static SHARED: RefCell<HashMap<String, Selector>> = RefCell::new(HashMap::new());
}

fn compile_shared(text: &str) -> Result<Selector, String> {
    if let Some(selector) = SHARED.with_borrow(|shared| shared.get(text).cloned()) {
        return Ok(selector);
    }
    let selector = compile(text)?;
    SHARED.with_borrow_mut(|shared| shared.insert(text.to_string(), selector.clone()));
    Ok(selector)
}

/// A [`SelectConfig`] as written: its selectors are compiled again when it is read.
#[derive(Clone, Serialize, Deserialize)]
pub struct SelectSource {
    item: String,
    title: Option<String>,
    link: Option<String>,
    date: Option<String>,
    date_format: Option<String>,
}

impl From<SelectConfig> for SelectSource {
    fn from(select: SelectConfig) -> Self {
        let source = |spec: Option<ValueSpec>| spec.map(|spec| spec.source);
        SelectSource {
            item: select.item_source,
            title: source(select.title),
            link: source(select.link),
            date: source(select.date),
            date_format: select.date_format,
        }
    }
}

impl TryFrom<SelectSource> for SelectConfig {
    type Error = String;

    fn try_from(source: SelectSource) -> Result<Self, String> {
        let spec = |text: Option<String>| {
            text.map(|text| ValueSpec::parse_with(&text, compile_shared))
                .transpose()
        };
        Ok(SelectConfig {
            item: compile_shared(&source.item)?,
            item_source: source.item,
            title: spec(source.title)?,
            link: spec(source.link)?,
            date: spec(source.date)?,
            date_format: source.date_format,
        })
    }
}

/// Regexes as their patterns.
pub mod regexes {
    use super::*;

    pub fn serialize<S: Serializer>(regexes: &[Regex], to: S) -> Result<S::Ok, S::Error> {
        to.collect_seq(regexes.iter().map(Regex::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Vec<Regex>, D::Error> {
        Vec::<String>::deserialize(from)?
            .iter()
            .map(|pattern| Regex::new(pattern).map_err(D::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Every kind of key a config can hold, so that a field the copy drops or changes fails.
    const EVERY_KEY: &str = r#"
[site]
title = "財經"
base_url = "https://feeds.example.com/sub"
out_dir = "www"
state = "var/state.sqlite"

[defaults]
timezone = "Asia/Tokyo"
language = "ja"
max_items = 30
user_agent = "ops (+https://ops.example/)"
timeout_secs = 7.5
max_body_bytes = 1000000
respect_robots = true
fetch_articles = true
summary_chars = 90
concurrency = 12
per_host = 3

[[feeds]]
id = "intl"
title = "國際財經"
url = "https://www.example.com.tw/news/list?cat=intl"
timezone = "Asia/Taipei"
language = "zh-TW"
max_items = 40
max_age_days = 3

[feeds.select]
item = "ul.news-list > li, div.row"
title = "a.title"
link = "a.title@href"
date = "@data-time"
date_format = "%Y/%m/%d %H:%M"

[[feeds]]
id = "api"
url = "file:pages/api.json"
fetch_articles = false

[feeds.json]
source = "script#initial-state"
items = "/data/list"
title = "/headline"
link = "https://news.example.com/{id}"
date = "/publishAt"
date_format = "%s"

[[feeds]]
id = "ld"
url = "https://ld.example/list"
[feeds.json]
source = "ld+json"
items = "/itemListElement"
title = "/name"
link = "/url"

[[feeds]]
id = "chips"
title = "半導體"
sources = ["intl", "https://auto.example/list"]
include = ["半導體|台積電"]
exclude = ["(?i)ad"]
tickers = ["TWSE:2330"]

[[tickers]]
symbol = "TWSE:2330"
title = "台積電"
"#;

    /// `text` as `config.toml` in a folder of its own.
    fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn parsed(text: &str) -> Config {
        Config::parse(text, Path::new("/srv/feeds/config.toml")).unwrap()
    }

    fn copied(config: &Config) -> Config {
        let bytes = postcard::to_stdvec(config).unwrap();
        let copy = postcard::from_bytes(&bytes).unwrap();
        SHARED.with_borrow_mut(HashMap::clear);
        copy
    }

    #[test]
    fn a_copy_reads_back_as_the_config_it_was_made_of() {
        let config = parsed(EVERY_KEY);
        // The checker's own view of every field, compiled selectors and regexes included.
        assert_eq!(format!("{:?}", copied(&config)), format!("{config:?}"));
        let intl = &config.feeds[0];
        assert_eq!(intl.filter.max_age_days, Some(3));
        assert!(config.feeds[3].filter.include[0].is_match("台積電法說"));
        assert_eq!(config.tickers.len(), 1);
    }

    #[test]
    fn a_copy_is_taken_only_under_the_same_key() {
        let (dir, path) = config_file(EVERY_KEY);
        let first = load(&path).unwrap();
        let kept = kept_at(&path).unwrap();
        assert_eq!(kept, dir.path().join(".dateline/config.toml.checked"));
        assert!(kept.is_file());

        // A copy under this key is what the next load returns, without the text being read as
        // TOML: a copy made of another config under this config's key shows through.
        let key = Key::of(&path, EVERY_KEY).unwrap();
        let mut other = first.clone();
        other.site.title = "from the copy".into();
        keep(&kept, &key, &other).unwrap();
        assert_eq!(load(&path).unwrap().site.title, "from the copy");

        // Another text is another key: the config is read again, and its copy replaces the old.
        let edited = EVERY_KEY.replace("title = \"財經\"", "title = \"edited\"");
        std::fs::write(&path, &edited).unwrap();
        assert_eq!(load(&path).unwrap().site.title, "edited");
        let key = Key::of(&path, &edited).unwrap();
        assert_eq!(take(&kept, &key).unwrap().site.title, "edited");

        // Every part of the key counts.
        let differs = [
            Key {
                format: FORMAT + 1,
                ..Key::of(&path, &edited).unwrap()
            },
            Key {
                dateline: "0.0.0".into(),
                ..Key::of(&path, &edited).unwrap()
            },
            Key {
                executable: (1, 1),
                ..Key::of(&path, &edited).unwrap()
            },
            Key {
                working_folder: "/elsewhere".into(),
                ..Key::of(&path, &edited).unwrap()
            },
            Key {
                path: "config.toml".into(),
                ..Key::of(&path, &edited).unwrap()
            },
        ];
        for key in differs {
            assert!(take(&kept, &key).is_none(), "{key:?}");
        }
    }

    #[test]
    fn a_damaged_copy_or_an_unwritable_folder_only_costs_the_reading() {
        let (_dir, path) = config_file(EVERY_KEY);
        load(&path).unwrap();
        let kept = kept_at(&path).unwrap();
        let whole = std::fs::read(&kept).unwrap();
        // Cut short (as by a full disk), then not a copy at all.
        std::fs::write(&kept, &whole[..whole.len() / 2]).unwrap();
        assert_eq!(load(&path).unwrap().feeds.len(), 5);
        assert_eq!(std::fs::read(&kept).unwrap(), whole, "made again");
        std::fs::write(&kept, b"not a copy").unwrap();
        assert_eq!(load(&path).unwrap().feeds.len(), 5);
        assert_eq!(std::fs::read(&kept).unwrap(), whole, "made again");

        // `.dateline` taken by a file: no copy can be kept, and the config still loads.
        let (blocked, path) = config_file(EVERY_KEY);
        std::fs::write(blocked.path().join(".dateline"), b"").unwrap();
        assert_eq!(load(&path).unwrap().feeds.len(), 5);
    }

    #[test]
    fn a_config_that_would_not_read_back_as_written_is_read_every_time() {
        // `..` in a `file:` URL, from the URL itself or from the config's path, stays in the
        // checked URL but not in one parsed again.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let through_parent = dir.path().join("sub/../config.toml");
        let up = EVERY_KEY.replace("file:pages/api.json", "file:../pages/api.json");
        for (path, text) in [
            (dir.path().join("config.toml"), up.as_str()),
            (through_parent, EVERY_KEY),
        ] {
            std::fs::write(&path, text).unwrap();
            let parsed = Config::parse(text, &path).unwrap();
            assert!(
                parsed.feeds[1].url.path().contains("/../"),
                "{}",
                parsed.feeds[1].url
            );
            for _ in 0..2 {
                assert_eq!(format!("{:?}", load(&path).unwrap()), format!("{parsed:?}"));
            }
            assert!(!kept_at(&path).unwrap().exists(), "{}", path.display());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_copy_others_may_write_is_not_taken() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = config_file(EVERY_KEY);
        let config = load(&path).unwrap();
        let kept = kept_at(&path).unwrap();
        let key = Key::of(&path, EVERY_KEY).unwrap();
        let mut planted = config.clone();
        planted.site.title = "planted".into();
        keep(&kept, &key, &planted).unwrap();
        assert_eq!(take(&kept, &key).unwrap().site.title, "planted");
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(take(&kept, &key).is_none());
        assert_eq!(load(&path).unwrap().site.title, "財經");
        // An unsafe id in a copy is not taken either.
        let mut unsafe_id = config.clone();
        Arc::make_mut(&mut unsafe_id.feeds[0]).id = "../../etc".into();
        keep(&kept, &key, &unsafe_id).unwrap();
        assert!(take(&kept, &key).is_none());
    }

    #[test]
    fn a_config_with_problems_is_never_kept() {
        let (_dir, path) = config_file(&EVERY_KEY.replace("Asia/Taipei", "Mars/Olympus"));
        assert!(matches!(load(&path), Err(ConfigError::Invalid { .. })));
        assert!(!kept_at(&path).unwrap().exists());
    }
}
