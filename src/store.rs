//! What is remembered between runs, in SQLite (`site.state`): every item each feed has seen, the
//! HTTP validators of each page, and each feed's health. The one place state is kept; a shared
//! database plugs in here later.
//!
//! Instants are stored as Unix seconds; the feed's zone is applied when items are published.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};

use crate::fetch::Validators;

/// The schema, one migration per version; `PRAGMA user_version` says how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: items and page validators.
    "CREATE TABLE items (
        feed_id    TEXT NOT NULL,
        item_id    TEXT NOT NULL,
        title      TEXT NOT NULL,
        link       TEXT,
        published  INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL,
        PRIMARY KEY (feed_id, item_id)
    );
    CREATE TABLE pages (
        url           TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT
    );",
    // 2: feed health and the content fingerprint that dates the last change.
    "CREATE TABLE feeds (
        feed_id              TEXT PRIMARY KEY,
        content_hash         TEXT,
        changed_at           INTEGER,
        last_success         INTEGER,
        last_error           TEXT,
        last_error_at        INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_count           INTEGER
    );
    CREATE INDEX items_by_date ON items (feed_id, published);",
    // 3: what enrichment adds to an item, and articles fetched once for their summaries.
    "ALTER TABLE items ADD COLUMN author TEXT;
    ALTER TABLE items ADD COLUMN source_name TEXT;
    ALTER TABLE items ADD COLUMN categories TEXT NOT NULL DEFAULT '';
    CREATE TABLE articles (
        url        TEXT PRIMARY KEY,
        fetched_at INTEGER NOT NULL,
        summary    TEXT,
        author     TEXT,
        image      TEXT,
        published  INTEGER,
        error      TEXT
    );",
    // 4: what the feed's files were rendered from, so a run that changes nothing renders nothing.
    "ALTER TABLE feeds ADD COLUMN published_key TEXT;
    ALTER TABLE feeds ADD COLUMN published_items INTEGER;
    ALTER TABLE feeds ADD COLUMN published_sizes TEXT;",
    // 5: a feed's newest items in the order they are shown, read without sorting the feed.
    "CREATE INDEX items_recent ON items (feed_id, COALESCE(published, first_seen) DESC, link, item_id);",
    // 6: what the site files were rendered from.
    "CREATE TABLE site (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        key   TEXT NOT NULL,
        files INTEGER NOT NULL,
        sizes TEXT NOT NULL
    );",
    // 7: when the file was last checked whole, and what the site's views were computed from;
    // items_recent serves every query items_by_date did, and each index costs every insert.
    "CREATE TABLE checks (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at INTEGER NOT NULL
    );
    ALTER TABLE site ADD COLUMN inputs TEXT;
    DROP INDEX items_by_date;",
    // 8: a fingerprint of each page as last read, to know the same page sent again in full.
    "ALTER TABLE pages ADD COLUMN body_hash TEXT;",
    // 9: and of the items read from it, to know a changed page with the same items.
    "ALTER TABLE pages ADD COLUMN items_hash TEXT;",
    // 10: each item's categories by category and date (`at`, the item's date as readers see
    // it), so that a ticker feed reads its own items, newest first, and no others: found with
    // LIKE in `items`, it read the whole history of every feed on every run.
    "CREATE TABLE item_categories (
        category TEXT NOT NULL,
        at       INTEGER NOT NULL,
        feed_id  TEXT NOT NULL,
        item_id  TEXT NOT NULL,
        PRIMARY KEY (category, at, feed_id, item_id)
    ) WITHOUT ROWID;
    CREATE INDEX item_categories_of_item ON item_categories (feed_id, item_id);
    WITH RECURSIVE split(feed_id, item_id, at, category, rest) AS (
        SELECT feed_id, item_id, COALESCE(published, first_seen), '', categories || char(10)
        FROM items WHERE categories != ''
        UNION ALL
        SELECT feed_id, item_id, at, substr(rest, 1, instr(rest, char(10)) - 1),
               substr(rest, instr(rest, char(10)) + 1)
        FROM split WHERE rest != ''
    )
    INSERT OR IGNORE INTO item_categories (category, at, feed_id, item_id)
    SELECT category, at, feed_id, item_id FROM split WHERE category != '';",
];

/// A whole-file check reads every page, so its cost grows with the history kept; once a day
/// finds a damaged file as surely as every run does for a cron job, and corruption met in
/// between makes the next run check.
const CHECK_EVERY_SECONDS: i64 = 24 * 60 * 60;

/// Dates `Store::counts_between` reads and places itself before it counts span by span instead.
const DATES_READ: usize = 256;

/// How long writes may wait in the open transaction while feeds finish.
pub const GROUP_COMMIT: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state file {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("state file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "state file {} has schema version {found}, newer than this dateline knows ({known}); upgrade dateline",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
}

impl StoreError {
    /// The same failure again, for each feed it fails (a SQLite error cannot be cloned).
    pub fn shared(&self) -> StoreError {
        match self {
            StoreError::Sqlite { path, source } => StoreError::Io {
                path: path.clone(),
                source: std::io::Error::other(source.to_string()),
            },
            StoreError::Io { path, source } => StoreError::Io {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            StoreError::TooNew { path, found, known } => StoreError::TooNew {
                path: path.clone(),
                found: *found,
                known: *known,
            },
        }
    }
}

/// An item as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub id: String,
    pub title: String,
    pub link: Option<String>,
    /// The date the page gave, if any.
    pub published: Option<i64>,
    pub first_seen: i64,
    pub author: Option<String>,
    pub source_name: Option<String>,
    pub categories: Vec<String>,
}

impl StoredItem {
    /// The date a reader sees: the page's, or for an undated item the moment it was first seen.
    pub fn date(&self) -> i64 {
        self.published.unwrap_or(self.first_seen)
    }
}

/// An item from this run's page, to be merged.
#[derive(Debug, Clone)]
pub struct SeenItem {
    pub id: String,
    pub title: String,
    pub link: Option<String>,
    pub published: Option<i64>,
    pub author: Option<String>,
    pub source_name: Option<String>,
    pub categories: Vec<String>,
}

/// What an article page gave, fetched once per link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    pub summary: Option<String>,
    pub author: Option<String>,
    pub image: Option<String>,
    pub published: Option<i64>,
    /// Why the fetch failed for good (a 4xx); such an article is not fetched again.
    pub error: Option<String>,
}

/// What the last successful read of a page left: its validators, for a conditional request next
/// time, and fingerprints of what came back and of the items read from it, to know the same page
/// when a server sends it again in full (most listings carry no validators), and a page that
/// changed around the same items (most print the time they were served).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastRead {
    pub validators: Validators,
    pub body_hash: Option<String>,
    pub items_hash: Option<String>,
}

/// What [`Store::starts`] reads.
#[derive(Debug, Default)]
pub struct Starts {
    /// Each stored feed's health, and whether it has items or, sparing a look in `items`,
    /// published any (a listing feed's files show its own items; `build::started` checks the
    /// files are the listing's).
    pub feeds: HashMap<String, (FeedHealth, bool)>,
    pub pages: HashMap<String, LastRead>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedHealth {
    pub content_hash: Option<String>,
    pub changed_at: Option<i64>,
    pub last_success: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub consecutive_failures: i64,
    /// Items the page gave on the last successful fetch.
    pub last_count: Option<i64>,
    /// What the published files were rendered from (see `build::published_key`), how many items
    /// they hold and their sizes in bytes.
    pub published: Option<Published>,
}

fn split_sizes(sizes: &str) -> Vec<u64> {
    sizes.split(',').filter_map(|s| s.parse().ok()).collect()
}

fn join_sizes(sizes: &[u64]) -> String {
    sizes
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Files as they were last published: a fingerprint of what they were rendered from, how many
/// entries they list (items of a feed, feeds of the site) and each file's size in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    pub key: String,
    pub items: usize,
    pub sizes: Vec<u64>,
}

/// The state file. Writes are grouped in one open transaction. Files that may show items new
/// to the store wait for the commit that makes them durable (so no item a reader has seen can
/// be missing from the state; `build::finish` stages them). It commits when several feeds
/// wait, every `GROUP_COMMIT` while feeds finish, before the site is written and when the
/// store is dropped: a run costs a few commits instead of one or more per feed. A kill loses at
/// most that window's bookkeeping (success times, validators, what files were rendered from),
/// which the next run redoes by reading those pages again.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// When the open transaction began.
    opened_at: Cell<Option<Instant>>,
    /// The open transaction holds items the store did not have before, or dates set on items:
    /// what files showing them must not be published before.
    holds_unsaved_items: Cell<bool>,
    /// Why a commit failed in this run. SQLite may have rolled back the writes before it, so no
    /// later commit can vouch for them: every commit after it fails too.
    commit_failed: RefCell<Option<String>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.commit() {
            tracing::warn!("{e}");
        }
    }
}

/// Items about one category, newest first (see `Store::with_category`).
const WITH_CATEGORY: &str =
    "SELECT i.feed_id, i.item_id, i.title, i.link, i.published, i.first_seen, i.author,
            i.source_name, i.categories
     FROM item_categories c JOIN items i ON i.feed_id = c.feed_id AND i.item_id = c.item_id
     WHERE c.category = ?1
     ORDER BY c.at DESC, i.link, i.item_id LIMIT ?2";

/// A feed's newest items (see `Store::recent`).
const RECENT: &str =
    "SELECT item_id, title, link, published, first_seen, author, source_name, categories
     FROM items WHERE feed_id = ?1
     ORDER BY COALESCE(published, first_seen) DESC, link, item_id LIMIT ?2";

/// The store shared by a run's feeds and the site's templates. A panic while holding it is a
/// bug that has already failed the run.
pub fn lock(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().expect("store lock")
}

/// How a store was opened: fine, or a corrupt file was moved aside first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Fine,
    MovedAside { to: PathBuf, reason: String },
}

impl Store {
    /// Open (creating, migrating) the state file. A file that is not a healthy SQLite database
    /// is renamed aside, never emptied in place, and a new one is started.
    pub fn open(path: &Path) -> Result<(Store, Opened), StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        }
        match Store::open_checked(path) {
            Ok(store) => Ok((store, Opened::Fine)),
            Err(CheckFailure::Corrupt(reason)) => {
                let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
                let to = path.with_file_name(format!(
                    "{}.corrupt-{stamp}",
                    path.file_name()
                        .map_or("state".into(), |n| n.to_string_lossy())
                ));
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        let dest = PathBuf::from(format!("{}{suffix}", to.display()));
                        std::fs::rename(&from, &dest).map_err(|source| StoreError::Io {
                            path: path.to_path_buf(),
                            source,
                        })?;
                    }
                }
                let store = Store::open_checked(path).map_err(|e| match e {
                    CheckFailure::Corrupt(reason) => StoreError::Io {
                        path: path.to_path_buf(),
                        source: std::io::Error::other(reason),
                    },
                    CheckFailure::Fatal(e) => e,
                })?;
                Ok((store, Opened::MovedAside { to, reason }))
            }
            Err(CheckFailure::Fatal(e)) => Err(e),
        }
    }

    fn open_checked(path: &Path) -> Result<Store, CheckFailure> {
        let sqlite = |source| {
            CheckFailure::Fatal(StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            })
        };
        let conn = Connection::open(path).map_err(sqlite)?;
        // One run at a time holds the state (the run lock sees to that), so the database lock is
        // taken once and kept: no file-lock calls per transaction, no shared-memory index. Set
        // before the first read, or WAL mode would start with shared memory anyway.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(sqlite)?;
        // Every statement a run uses stays prepared (the default keeps 16).
        conn.set_prepared_statement_cache_capacity(64);
        // SQLite plans `LIMIT ?` with the value bound, and marks the statement to be compiled
        // again whenever that parameter is bound anew: `recent` was compiled once per feed, 3 %
        // of a cold build's CPU, inside the store's lock. Plans stay as first made instead.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(sqlite)?;
        // Anything the database itself says about its health means the file cannot be trusted.
        let now = chrono::Utc::now().timestamp();
        let check_due =
            match conn.query_row("SELECT checked_at FROM checks WHERE id = 1", [], |row| {
                row.get::<_, i64>(0)
            }) {
                Ok(at) => !(0..CHECK_EVERY_SECONDS).contains(&(now - at)),
                Err(e) if is_corruption(&e) => return Err(CheckFailure::Corrupt(e.to_string())),
                // Never checked, or a file from before checks were recorded.
                Err(_) => true,
            };
        if check_due {
            let health: Result<String, rusqlite::Error> =
                conn.query_row("PRAGMA quick_check", [], |row| row.get(0));
            match health {
                Ok(ok) if ok == "ok" => {}
                Ok(problem) => return Err(CheckFailure::Corrupt(problem)),
                Err(e) if is_corruption(&e) => return Err(CheckFailure::Corrupt(e.to_string())),
                Err(e) => return Err(sqlite(e)),
            }
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        // Each feed's merge runs in a savepoint, whose journal of original pages spilled to a
        // temporary file past 64 KB: 4,300 page writes on a cold build of 500 feeds, more than
        // the WAL got. A feed's merge touches a few dozen pages; they fit in memory.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(sqlite)?;
        // A run reads and writes each feed's pages about once, in turn, and the system caches
        // the file: SQLite's own 2 MB cache (the default) mostly held pages of feeds already
        // done. At 512 KB a cold build of 500 feeds peaks 2 MB lower in the same CPU time
        // (twelve interleaved runs each), and 5,000 feeds 2 MB lower too.
        conn.pragma_update(None, "cache_size", -512)
            .map_err(sqlite)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            opened_at: Cell::new(None),
            holds_unsaved_items: Cell::new(false),
            commit_failed: RefCell::new(None),
        };
        store.migrate().map_err(CheckFailure::Fatal)?;
        if check_due {
            store
                .conn
                .execute(
                    "INSERT INTO checks (id, checked_at) VALUES (1, ?1)
                     ON CONFLICT (id) DO UPDATE SET checked_at = ?1",
                    [now],
                )
                .map_err(sqlite)?;
        }
        Ok(store)
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        if is_corruption(&source) {
            // The next run checks the whole file (and moves it aside if it is damaged).
            let _ = self.conn.execute("DELETE FROM checks", []);
            let _ = self.commit();
        }
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Start the open transaction that writes are grouped in, if none is open.
    fn write(&self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
            self.opened_at.set(Some(Instant::now()));
        }
        Ok(())
    }

    /// Whether items new to the store (or dates set on items) wait for a commit: files that
    /// may show them must wait for it too.
    pub fn holds_unsaved_items(&self) -> bool {
        self.holds_unsaved_items.get()
    }

    /// Whether the open transaction is `GROUP_COMMIT` old: feeds finishing close together share
    /// one commit, and the pages they touch are written to the log once.
    pub fn commit_due(&self) -> bool {
        self.opened_at
            .get()
            .is_some_and(|at| at.elapsed() >= GROUP_COMMIT)
    }

    /// Makes the next COMMIT fail, as a full disk would, through a deferred foreign key.
    #[cfg(test)]
    pub(crate) fn fail_next_commit_for_tests(&self) {
        self.conn
            .execute_batch(
                "PRAGMA foreign_keys = ON;
                 CREATE TABLE parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                 BEGIN;
                 INSERT INTO child VALUES (42);",
            )
            .unwrap();
        self.opened_at.set(Some(Instant::now()));
    }

    /// Make the writes so far durable.
    pub fn commit(&self) -> Result<(), StoreError> {
        if let Some(reason) = self.commit_failed.borrow().as_ref() {
            return Err(StoreError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(format!("an earlier commit failed: {reason}")),
            });
        }
        if !self.conn.is_autocommit()
            && let Err(source) = self.conn.execute_batch("COMMIT")
        {
            self.commit_failed.replace(Some(source.to_string()));
            return Err(StoreError::Sqlite {
                path: self.path.clone(),
                source,
            });
        }
        self.opened_at.set(None);
        self.holds_unsaved_items.set(false);
        Ok(())
    }

    /// Items changed: the site's views must be computed again.
    fn items_changed(&self) -> Result<(), StoreError> {
        self.cached("UPDATE site SET inputs = NULL")?
            .execute([])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if version as usize > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
            tx.execute_batch(migration)
                .and_then(|()| tx.pragma_update(None, "user_version", index as i64 + 1))
                .and_then(|()| tx.commit())
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.err(e))
    }

    /// What the last successful read of page `key` left.
    pub fn last_read(&self, key: &str) -> Result<LastRead, StoreError> {
        self.cached(
            "SELECT url, etag, last_modified, body_hash, items_hash FROM pages WHERE url = ?1",
        )?
        .query_row([key], page_read)
        .optional()
        .map(Option::unwrap_or_default)
        .map_err(|e| self.err(e))
    }

    pub fn save_last_read(&self, key: &str, read: &LastRead) -> Result<(), StoreError> {
        self.write()?;
        let validators = &read.validators;
        self.cached(
            "INSERT INTO pages (url, etag, last_modified, body_hash, items_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (url) DO UPDATE SET etag = ?2, last_modified = ?3, body_hash = ?4,
                     items_hash = ?5",
        )?
        .execute(params![
            key,
            validators.etag,
            validators.last_modified,
            read.body_hash,
            read.items_hash
        ])
        .map(drop)
        .map_err(|e| self.err(e))
    }

    pub fn has_items(&self, feed_id: &str) -> Result<bool, StoreError> {
        self.cached("SELECT EXISTS (SELECT 1 FROM items WHERE feed_id = ?1)")?
            .query_row([feed_id], |row| row.get(0))
            .map_err(|e| self.err(e))
    }

    /// Record this run's items: new ones are inserted with `now` as first seen; known ones keep
    /// their id and date (a date never jumps) and take the page's current title and link.
    /// Returns how many were new.
    pub fn merge(
        &mut self,
        feed_id: &str,
        items: &[SeenItem],
        now: i64,
    ) -> Result<usize, StoreError> {
        self.write()?;
        if !items.is_empty() {
            self.items_changed()?;
        }
        let path = self.path.clone();
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        // A savepoint inside the open transaction: a feed's items go in whole or not at all.
        let tx = self.conn.savepoint().map_err(sqlite)?;
        let mut new = 0;
        let mut dated_later = false;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO items (feed_id, item_id, title, link, published, first_seen, last_seen,
                                        author, source_name, categories)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)
                     ON CONFLICT (feed_id, item_id) DO NOTHING",
                )
                .map_err(sqlite)?;
            let mut update = tx
                .prepare_cached(
                    "UPDATE items SET title = ?3, link = ?4, last_seen = ?5,
                        author = COALESCE(?6, author), source_name = COALESCE(?7, source_name)
                     WHERE feed_id = ?1 AND item_id = ?2",
                )
                .map_err(sqlite)?;
            // An edited title may name other tickers: the categories are written, and indexed
            // again, only when they change.
            let mut recategorise = tx
                .prepare_cached(
                    "UPDATE items SET categories = ?3
                     WHERE feed_id = ?1 AND item_id = ?2 AND categories != ?3",
                )
                .map_err(sqlite)?;
            // An item first read without a date (one its page did not print, or printed in a form
            // not read) takes the date it is read with later: until then it was shown at when
            // it was first seen, a stand-in, not a date that was published and must not move.
            let mut date_found = tx
                .prepare_cached(
                    "UPDATE items SET published = ?3
                     WHERE feed_id = ?1 AND item_id = ?2 AND published IS NULL",
                )
                .map_err(sqlite)?;
            let mut redate_categories = tx
                .prepare_cached(
                    "UPDATE item_categories SET at = ?3 WHERE feed_id = ?1 AND item_id = ?2",
                )
                .map_err(sqlite)?;
            let mut uncategorise = tx
                .prepare_cached("DELETE FROM item_categories WHERE feed_id = ?1 AND item_id = ?2")
                .map_err(sqlite)?;
            let mut categorise = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO item_categories (category, at, feed_id, item_id)
                     SELECT ?3, COALESCE(published, first_seen), feed_id, item_id
                     FROM items WHERE feed_id = ?1 AND item_id = ?2",
                )
                .map_err(sqlite)?;
            for item in items {
                let categories = item.categories.join("\n");
                let inserted = insert
                    .execute(params![
                        feed_id,
                        item.id,
                        item.title,
                        item.link,
                        item.published,
                        now,
                        item.author,
                        item.source_name,
                        categories
                    ])
                    .map_err(sqlite)?;
                let categorised = if inserted == 1 {
                    new += 1;
                    true
                } else {
                    update
                        .execute(params![
                            feed_id,
                            item.id,
                            item.title,
                            item.link,
                            now,
                            item.author,
                            item.source_name
                        ])
                        .map_err(sqlite)?;
                    if let Some(published) = item.published
                        && date_found
                            .execute(params![feed_id, item.id, published])
                            .map_err(sqlite)?
                            == 1
                    {
                        redate_categories
                            .execute(params![feed_id, item.id, published])
                            .map_err(sqlite)?;
                        dated_later = true;
                    }
                    let changed = recategorise
                        .execute(params![feed_id, item.id, categories])
                        .map_err(sqlite)?
                        == 1;
                    if changed {
                        uncategorise
                            .execute(params![feed_id, item.id])
                            .map_err(sqlite)?;
                    }
                    changed
                };
                if categorised {
                    for category in item.categories.iter().filter(|c| !c.is_empty()) {
                        categorise
                            .execute(params![feed_id, item.id, category])
                            .map_err(sqlite)?;
                    }
                }
            }
        }
        tx.commit().map_err(sqlite)?;
        // Files showing a date must wait for it to be durable, as for a new item.
        if new > 0 || dated_later {
            self.holds_unsaved_items.set(true);
        }
        Ok(new)
    }

    /// The feed's newest items, newest first (undated ones by when they were first seen), ties
    /// broken by link then id.
    pub fn recent(&self, feed_id: &str, limit: usize) -> Result<Vec<StoredItem>, StoreError> {
        let mut query = self.conn.prepare_cached(RECENT).map_err(|e| self.err(e))?;
        let rows = query
            .query_map(params![feed_id, limit as i64], |row| stored_item(row, 0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// An item's publication date, set once from its article before it was first published.
    pub fn set_published(
        &self,
        feed_id: &str,
        item_id: &str,
        published: i64,
    ) -> Result<(), StoreError> {
        self.write()?;
        self.items_changed()?;
        // Files showing the date must wait for it to be durable, as for a new item: a date
        // once published never moves.
        self.holds_unsaved_items.set(true);
        self.cached("UPDATE items SET published = ?3 WHERE feed_id = ?1 AND item_id = ?2")?
            .execute(params![feed_id, item_id, published])
            .map_err(|e| self.err(e))?;
        self.cached("UPDATE item_categories SET at = ?3 WHERE feed_id = ?1 AND item_id = ?2")?
            .execute(params![feed_id, item_id, published])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The article fetched for a link, if it was.
    pub fn article(&self, url: &str) -> Result<Option<Article>, StoreError> {
        self.cached("SELECT summary, author, image, published, error FROM articles WHERE url = ?1")?
            .query_row([url], |row| {
                Ok(Article {
                    summary: row.get(0)?,
                    author: row.get(1)?,
                    image: row.get(2)?,
                    published: row.get(3)?,
                    error: row.get(4)?,
                })
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn save_article(&self, url: &str, article: &Article, now: i64) -> Result<(), StoreError> {
        self.write()?;
        self.cached(
            "INSERT INTO articles (url, fetched_at, summary, author, image, published, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (url) DO UPDATE SET fetched_at = ?2, summary = ?3, author = ?4,
                    image = ?5, published = ?6, error = ?7",
        )?
        .execute(params![
            url,
            now,
            article.summary,
            article.author,
            article.image,
            article.published,
            article.error
        ])
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// Items of every feed that carry a category, newest first (for ticker feeds), ties broken
    /// by link then id as in `recent`. Read through `item_categories` from the newest: the cost
    /// is `limit` items, however long the history.
    pub fn with_category(
        &self,
        category: &str,
        limit: usize,
    ) -> Result<Vec<(String, StoredItem)>, StoreError> {
        let mut query = self
            .conn
            .prepare_cached(WITH_CATEGORY)
            .map_err(|e| self.err(e))?;
        let rows = query
            .query_map(params![category, limit as i64], |row| {
                Ok((row.get::<_, String>(0)?, stored_item(row, 1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// How many items the feed has seen, counted up to `most`: a count of the whole history
    /// read all of it (500 feeds of 7,000 items each: a quarter of a second per site render).
    pub fn count(&self, feed_id: &str, most: usize) -> Result<usize, StoreError> {
        self.cached("SELECT COUNT(*) FROM (SELECT 1 FROM items WHERE feed_id = ?1 LIMIT ?2)")?
            .query_row(params![feed_id, most as i64], |row| row.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    /// How many of the feed's items are dated (as readers see them) in each span between two
    /// consecutive `bounds` (Unix seconds, ascending; a span includes its start). Up to
    /// `DATES_READ` dates are read and placed; beyond that each span is counted in the index:
    /// reading out every date of a 30-day window was most of a site render once feeds had a
    /// month of history (3,000 items a feed at 100 a day), and a count per span, most of one
    /// for feeds of a few dozen items.
    pub fn counts_between(&self, feed_id: &str, bounds: &[i64]) -> Result<Vec<usize>, StoreError> {
        let (Some(&from), Some(&to)) = (bounds.first(), bounds.last()) else {
            return Ok(Vec::new());
        };
        let spans = bounds.len() - 1;
        let dates: Vec<i64> = self
            .cached(
                "SELECT COALESCE(published, first_seen) FROM items WHERE feed_id = ?1
                 AND COALESCE(published, first_seen) >= ?2 AND COALESCE(published, first_seen) < ?3
                 LIMIT ?4",
            )?
            .query_map(params![feed_id, from, to, DATES_READ as i64 + 1], |row| {
                row.get(0)
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        if dates.len() <= DATES_READ {
            let mut counts = vec![0; spans];
            for at in dates {
                // The last bound at or before `at` starts its span.
                counts[bounds.partition_point(|&b| b <= at) - 1] += 1;
            }
            return Ok(counts);
        }
        let mut count = self.cached(
            "SELECT COUNT(*) FROM items WHERE feed_id = ?1
             AND COALESCE(published, first_seen) >= ?2 AND COALESCE(published, first_seen) < ?3",
        )?;
        bounds
            .windows(2)
            .map(|span| {
                count
                    .query_row(params![feed_id, span[0], span[1]], |row| {
                        row.get::<_, i64>(0)
                    })
                    .map(|n| n as usize)
                    .map_err(|e| self.err(e))
            })
            .collect()
    }

    pub fn health(&self, feed_id: &str) -> Result<FeedHealth, StoreError> {
        self.cached(
            "SELECT content_hash, changed_at, last_success, last_error, last_error_at,
                        consecutive_failures, last_count, published_key, published_items,
                        published_sizes
                 FROM feeds WHERE feed_id = ?1",
        )?
        .query_row([feed_id], feed_health)
        .optional()
        .map(Option::unwrap_or_default)
        .map_err(|e| self.err(e))
    }

    /// Every feed's health by feed id, in one query (the site shows them all); without what the
    /// feed's files were rendered from (`published`), which the site does not show and which
    /// was a fifth of decoding them.
    pub fn healths(&self) -> Result<HashMap<String, FeedHealth>, StoreError> {
        self.rows_by_key(
            "SELECT content_hash, changed_at, last_success, last_error, last_error_at,
                        consecutive_failures, last_count, NULL, NULL, NULL, feed_id
                 FROM feeds",
            10,
            |_| true,
            feed_health,
        )
    }

    /// What feeds' runs start from, read at once: each stored feed's health and whether it has
    /// items, by feed id, and pages' last reads, by key (see [`Store::last_read`]); of the feeds
    /// and pages `feed` and `page` want.
    pub fn starts(
        &self,
        feed: impl Fn(&str) -> bool,
        page: impl Fn(&str) -> bool,
    ) -> Result<Starts, StoreError> {
        // A feed that published items has them (items are never deleted, and a listing's
        // files show its own stored items), so only the others look in `items`: looking for
        // every feed was 293 of the 353 page reads of a 500-feed run whose pages all answer 304.
        let feeds = self.rows_by_key(
            "SELECT content_hash, changed_at, last_success, last_error, last_error_at,
                        consecutive_failures, last_count, published_key, published_items,
                        published_sizes, feed_id,
                        CASE WHEN published_items > 0 THEN 1
                             ELSE EXISTS (SELECT 1 FROM items WHERE items.feed_id = feeds.feed_id)
                        END
                 FROM feeds",
            10,
            feed,
            |row| Ok((feed_health(row)?, row.get(11)?)),
        )?;
        let pages = self.rows_by_key(
            "SELECT url, etag, last_modified, body_hash, items_hash FROM pages",
            0,
            page,
            page_read,
        )?;
        Ok(Starts { feeds, pages })
    }

    /// The rows of `sql` whose text column `key` is wanted, by that key: the others are not
    /// decoded.
    fn rows_by_key<T>(
        &self,
        sql: &str,
        key: usize,
        wanted: impl Fn(&str) -> bool,
        decode: impl Fn(&rusqlite::Row) -> rusqlite::Result<T>,
    ) -> Result<HashMap<String, T>, StoreError> {
        let mut query = self.cached(sql)?;
        let mut rows = query.query([]).map_err(|e| self.err(e))?;
        // Gathered first, so the map is made at its size: grown row by row, it rehashed every
        // key nine times over for 500 feeds.
        let mut found = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: String = row.get(key).map_err(|e| self.err(e))?;
            if wanted(&id) {
                let value = decode(row).map_err(|e| self.err(e))?;
                found.push((id, value));
            }
        }
        Ok(found.into_iter().collect())
    }

    /// A successful build: its content fingerprint, when that content last changed, and how many
    /// items the page gave (`None` when the page was not modified and not read).
    pub fn record_success(
        &self,
        feed_id: &str,
        now: i64,
        content_hash: &str,
        changed_at: i64,
        count: Option<usize>,
    ) -> Result<(), StoreError> {
        self.write()?;
        self.cached("INSERT INTO feeds (feed_id, content_hash, changed_at, last_success, consecutive_failures, last_count)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)
                 ON CONFLICT (feed_id) DO UPDATE SET content_hash = ?2, changed_at = ?3,
                    last_success = ?4, consecutive_failures = 0,
                    last_count = COALESCE(?5, last_count)")?
            .execute(params![feed_id, content_hash, changed_at, now, count.map(|c| c as i64)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// A success that changed nothing: the feed's content, its count and its files are as
    /// recorded. Cheaper than [`Store::record_success`]'s upsert, which a no-change rerun runs
    /// for every feed.
    pub fn record_kept(&self, feed_id: &str, now: i64) -> Result<(), StoreError> {
        self.write()?;
        self.cached(
            "UPDATE feeds SET last_success = ?2, consecutive_failures = 0,
                 changed_at = COALESCE(changed_at, ?2)
                 WHERE feed_id = ?1",
        )?
        .execute(params![feed_id, now])
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// What the feed's files were just rendered from (`None`: forget it, render next time).
    pub fn record_published(
        &self,
        feed_id: &str,
        published: Option<&Published>,
    ) -> Result<(), StoreError> {
        self.write()?;
        let sizes = published.map(|p| join_sizes(&p.sizes));
        self.cached(
            "UPDATE feeds SET published_key = ?2, published_items = ?3, published_sizes = ?4
                 WHERE feed_id = ?1",
        )?
        .execute(params![
            feed_id,
            published.map(|p| p.key.as_str()),
            published.map(|p| p.items as i64),
            sizes
        ])
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// What the site files were last rendered from, if they were rendered whole, and the
    /// fingerprint of the inputs their views were computed from (gone once items changed).
    pub fn site_published(&self) -> Result<Option<(Published, Option<String>)>, StoreError> {
        self.cached("SELECT key, files, sizes, inputs FROM site WHERE id = 1")?
            .query_row([], |row| {
                let sizes: String = row.get(2)?;
                Ok((
                    Published {
                        key: row.get(0)?,
                        items: row.get::<_, i64>(1)? as usize,
                        sizes: split_sizes(&sizes),
                    },
                    row.get(3)?,
                ))
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Record what the site files were rendered from and the inputs of their views; `None`
    /// while they are being written (committed before the first byte is).
    pub fn record_site(&self, published: Option<(&Published, &str)>) -> Result<(), StoreError> {
        self.write()?;
        match published {
            None => {
                self.cached("DELETE FROM site")?
                    .execute([])
                    .map_err(|e| self.err(e))?;
                self.commit()
            }
            Some((p, inputs)) => self
                .cached(
                    "INSERT INTO site (id, key, files, sizes, inputs) VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET key = ?1, files = ?2, sizes = ?3, inputs = ?4",
                )?
                .execute(params![p.key, p.items as i64, join_sizes(&p.sizes), inputs])
                .map(drop)
                .map_err(|e| self.err(e)),
        }
    }

    /// A statement prepared once per connection: most run once per feed per run.
    fn cached(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, StoreError> {
        self.conn.prepare_cached(sql).map_err(|e| self.err(e))
    }

    pub fn record_failure(&self, feed_id: &str, now: i64, error: &str) -> Result<(), StoreError> {
        self.write()?;
        self.cached(
            "INSERT INTO feeds (feed_id, last_error, last_error_at, consecutive_failures)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (feed_id) DO UPDATE SET last_error = ?2, last_error_at = ?3,
                    consecutive_failures = consecutive_failures + 1",
        )?
        .execute(params![feed_id, error, now])
        .map(drop)
        .map_err(|e| self.err(e))
    }
}

/// A page's last read from the columns `url, etag, last_modified, body_hash, items_hash`.
fn page_read(row: &rusqlite::Row) -> rusqlite::Result<LastRead> {
    Ok(LastRead {
        validators: Validators {
            etag: row.get(1)?,
            last_modified: row.get(2)?,
        },
        body_hash: row.get(3)?,
        items_hash: row.get(4)?,
    })
}

/// A feed's health from the columns `content_hash, changed_at, last_success, last_error,
/// last_error_at, consecutive_failures, last_count, published_key, published_items,
/// published_sizes`.
fn feed_health(row: &rusqlite::Row) -> rusqlite::Result<FeedHealth> {
    let key: Option<String> = row.get(7)?;
    let items: Option<i64> = row.get(8)?;
    let sizes: Option<String> = row.get(9)?;
    let published = match (key, items, sizes) {
        (Some(key), Some(items), Some(sizes)) => Some(Published {
            key,
            items: items as usize,
            sizes: split_sizes(&sizes),
        }),
        _ => None,
    };
    Ok(FeedHealth {
        content_hash: row.get(0)?,
        changed_at: row.get(1)?,
        last_success: row.get(2)?,
        last_error: row.get(3)?,
        last_error_at: row.get(4)?,
        consecutive_failures: row.get(5)?,
        last_count: row.get(6)?,
        published,
    })
}

/// An item from the columns `item_id, title, link, published, first_seen, author, source_name,
/// categories`, starting at column `from`.
fn stored_item(row: &rusqlite::Row, from: usize) -> rusqlite::Result<StoredItem> {
    Ok(StoredItem {
        id: row.get(from)?,
        title: row.get(from + 1)?,
        link: row.get(from + 2)?,
        published: row.get(from + 3)?,
        first_seen: row.get(from + 4)?,
        author: row.get(from + 5)?,
        source_name: row.get(from + 6)?,
        categories: row
            .get::<_, String>(from + 7)?
            .split('\n')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

enum CheckFailure {
    Corrupt(String),
    Fatal(StoreError),
}

fn is_corruption(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, title: &str, published: Option<i64>) -> SeenItem {
        SeenItem {
            id: id.into(),
            title: title.into(),
            link: Some(id.into()),
            published,
            author: None,
            source_name: None,
            categories: vec!["TWSE:2330".into()],
        }
    }

    #[test]
    fn new_items_wait_for_a_commit_and_the_rest_for_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        let items = [item("a", "A", Some(100))];
        assert_eq!(store.merge("f", &items, 1000).unwrap(), 1);
        assert!(store.holds_unsaved_items());
        store.commit().unwrap();
        assert!(!store.holds_unsaved_items(), "a commit made them durable");

        // Nothing new: the bookkeeping waits for the group commit.
        assert_eq!(store.merge("f", &items, 1100).unwrap(), 0);
        store.record_success("f", 1100, "h", 1000, Some(1)).unwrap();
        assert!(!store.holds_unsaved_items());
        assert!(!store.commit_due(), "a commit due without need");
        assert!(!store.conn.is_autocommit());
        std::thread::sleep(GROUP_COMMIT);
        assert!(store.commit_due());
        store.commit().unwrap();
        assert!(
            store.conn.is_autocommit(),
            "the commit left the transaction open"
        );
    }

    #[test]
    fn after_a_failed_commit_no_commit_vouches_for_the_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        store.fail_next_commit_for_tests();
        store
            .merge("f", &[item("a", "A", Some(100))], 1000)
            .unwrap();
        assert!(store.commit().is_err());
        assert!(store.holds_unsaved_items(), "a failed commit saved nothing");
        // Even once COMMIT could pass, the writes before the failure are not vouched for.
        store.conn.execute("DELETE FROM child", []).unwrap();
        let again = store.commit().unwrap_err().to_string();
        assert!(again.contains("an earlier commit failed"), "{again}");
        assert!(store.holds_unsaved_items());
    }

    #[test]
    fn a_limit_bound_anew_does_not_compile_the_query_again() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        store
            .merge("f", &[item("a", "A", Some(100))], 1000)
            .unwrap();
        store
            .merge("g", &[item("b", "B", Some(200))], 1000)
            .unwrap();
        for (feed, limit) in [("f", 10), ("g", 5), ("f", 100), ("g", 100)] {
            assert_eq!(store.recent(feed, limit).unwrap().len(), 1);
        }
        let recent = store.conn.prepare_cached(RECENT).unwrap();
        assert_eq!(
            recent.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "`recent` was compiled again for a new limit"
        );
    }

    #[test]
    fn items_accumulate_keep_ids_and_dates() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, opened) = Store::open(&dir.path().join("s/state.sqlite")).unwrap();
        assert_eq!(opened, Opened::Fine);
        assert_eq!(
            store
                .merge(
                    "f",
                    &[item("a", "A", Some(100)), item("b", "B", None)],
                    1000
                )
                .unwrap(),
            2
        );
        // Later: a's title edited and its date read differently, b still undated, c new.
        assert_eq!(
            store
                .merge(
                    "f",
                    &[
                        item("a", "A edited", Some(160)),
                        item("b", "B", None),
                        item("c", "C", Some(50))
                    ],
                    2000
                )
                .unwrap(),
            1
        );
        let items = store.recent("f", 10).unwrap();
        let shown: Vec<(&str, &str, i64)> = items
            .iter()
            .map(|i| (i.id.as_str(), i.title.as_str(), i.date()))
            .collect();
        assert_eq!(
            shown,
            [("b", "B", 1000), ("a", "A edited", 100), ("c", "C", 50)]
        );
        assert_eq!(store.recent("f", 2).unwrap().len(), 2);
        assert!(store.recent("other", 10).unwrap().is_empty());

        // b's date read at last (a format fixed, a page whole again): it was shown at when it
        // was first seen, a stand-in, and takes the date; a's stays as first read.
        store
            .merge(
                "f",
                &[item("a", "A", Some(90)), item("b", "B", Some(700))],
                3000,
            )
            .unwrap();
        let dates: Vec<(String, i64)> = store
            .recent("f", 10)
            .unwrap()
            .into_iter()
            .map(|i| (i.id.clone(), i.date()))
            .collect();
        assert_eq!(
            dates,
            [("b".into(), 700), ("a".into(), 100), ("c".into(), 50)]
        );
    }

    fn tagged(id: &str, link: &str, published: Option<i64>, categories: &[&str]) -> SeenItem {
        SeenItem {
            link: Some(link.into()),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            ..item(id, &format!("headline {id}"), published)
        }
    }

    /// What `with_category` must give, from each feed's items as `recent` reads them.
    fn by_category(store: &Store, feeds: &[&str], category: &str, limit: usize) -> Vec<String> {
        let mut all: Vec<(String, StoredItem)> = feeds
            .iter()
            .flat_map(|f| {
                let items = store.recent(f, 1000).unwrap();
                items.into_iter().map(move |i| (f.to_string(), i))
            })
            .filter(|(_, i)| i.categories.iter().any(|c| c == category))
            .collect();
        all.sort_by(|(_, a), (_, b)| {
            let at = |i: &StoredItem| i.published.unwrap_or(i.first_seen);
            at(b)
                .cmp(&at(a))
                .then_with(|| a.link.cmp(&b.link))
                .then_with(|| a.id.cmp(&b.id))
        });
        all.truncate(limit);
        all.into_iter()
            .map(|(f, i)| format!("{f}/{}", i.id))
            .collect()
    }

    fn read_category(store: &Store, category: &str, limit: usize) -> Vec<String> {
        let found = store.with_category(category, limit).unwrap();
        found
            .into_iter()
            .map(|(f, i)| format!("{f}/{}", i.id))
            .collect()
    }

    #[test]
    fn ticker_items_follow_edits_and_dates_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        let feeds = ["a", "b"];
        let (tsmc, nvda) = ("TWSE:2330", "NASDAQ:NVDA");
        store
            .merge(
                "a",
                &[
                    tagged("x1", "https://e.example/1", Some(100), &[tsmc]),
                    tagged("x2", "https://e.example/2", Some(200), &[tsmc, nvda]),
                    tagged("x3", "https://e.example/3", Some(300), &[]),
                ],
                1000,
            )
            .unwrap();
        store
            .merge(
                "b",
                &[
                    // Tied with x2 on the date: the link decides.
                    tagged("y1", "https://e.example/0", Some(200), &[tsmc]),
                    // Undated: dated by when it was first seen.
                    tagged("y2", "https://e.example/9", None, &[nvda]),
                ],
                1000,
            )
            .unwrap();
        let check = |store: &Store, expected_tsmc: &[&str], expected_nvda: &[&str]| {
            for (category, expected) in [(tsmc, expected_tsmc), (nvda, expected_nvda)] {
                let found = read_category(store, category, 10);
                assert_eq!(found, expected, "{category}");
                assert_eq!(
                    found,
                    by_category(store, &feeds, category, 10),
                    "{category}"
                );
                assert_eq!(
                    read_category(store, category, 1),
                    expected[..1],
                    "{category}"
                );
            }
        };
        check(&store, &["b/y1", "a/x2", "a/x1"], &["b/y2", "a/x2"]);

        // An edited headline names the other ticker; the same categories again change nothing.
        for _ in 0..2 {
            store
                .merge(
                    "a",
                    &[tagged("x1", "https://e.example/1", Some(100), &[nvda])],
                    2000,
                )
                .unwrap();
        }
        check(&store, &["b/y1", "a/x2"], &["b/y2", "a/x2", "a/x1"]);

        // A date read from the article moves the item.
        store.set_published("a", "x1", 5000).unwrap();
        check(&store, &["b/y1", "a/x2"], &["a/x1", "b/y2", "a/x2"]);
        assert!(read_category(&store, "TSE:7203", 10).is_empty());
    }

    #[test]
    fn ticker_items_are_read_from_their_index_not_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {WITH_CATEGORY}"))
            .unwrap()
            .query_map(params!["TWSE:2330", 100], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH c USING PRIMARY KEY (category=?)")),
            "{plan:?}"
        );
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN")),
            "a scan: {plan:?}"
        );
        // Sorted by date in the index; only ties are sorted after reading.
        assert!(
            plan.iter()
                .all(|step| step != "USE TEMP B-TREE FOR ORDER BY"),
            "{plan:?}"
        );
    }

    #[test]
    fn counts_stop_at_what_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        let items: Vec<SeenItem> = (0..5)
            .map(|i| item(&format!("i{i}"), "T", Some(i)))
            .collect();
        store.merge("f", &items, 1000).unwrap();
        assert_eq!(store.count("f", 3).unwrap(), 3);
        assert_eq!(store.count("f", 100).unwrap(), 5);
        assert_eq!(store.count("g", 100).unwrap(), 0);
    }

    #[test]
    fn the_categories_of_items_stored_before_their_index_are_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        {
            // A state file as version 9 left it.
            let conn = Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..9] {
                conn.execute_batch(migration).unwrap();
            }
            conn.pragma_update(None, "user_version", 9).unwrap();
            conn.execute_batch(
                "INSERT INTO items (feed_id, item_id, title, link, published, first_seen, last_seen, categories) VALUES
                    ('a', 'x1', 'T', 'https://e.example/1', 100, 90, 95, 'TWSE:2330' || char(10) || 'NASDAQ:NVDA'),
                    ('a', 'x2', 'T', 'https://e.example/2', NULL, 300, 300, 'NASDAQ:NVDA'),
                    ('b', 'y1', 'T', 'https://e.example/3', 200, 90, 95, ''),
                    ('b', 'y2', 'T', 'https://e.example/4', 50, 40, 95, 'TWSE:2330');",
            )
            .unwrap();
        }
        let (store, _) = Store::open(&path).unwrap();
        assert_eq!(read_category(&store, "TWSE:2330", 10), ["a/x1", "b/y2"]);
        assert_eq!(read_category(&store, "NASDAQ:NVDA", 10), ["a/x2", "a/x1"]);
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM item_categories", [], |row| row.get(0))
            .unwrap();
        assert_eq!(
            rows, 4,
            "one row per item and category, none for no category"
        );
    }

    #[test]
    fn an_older_schema_is_migrated_without_losing_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        {
            // A state file as version 1 left it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO items VALUES ('f', 'a', 'Kept', 'https://e.example/a', 100, 90, 95)",
                [],
            )
            .unwrap();
        }
        let (store, _) = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(store.recent("f", 10).unwrap()[0].title, "Kept");
        store.record_failure("f", 200, "boom").unwrap();
        assert_eq!(store.health("f").unwrap().consecutive_failures, 1);
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_not_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        std::fs::write(
            &path,
            b"this is not a database, but somebody's data".repeat(200),
        )
        .unwrap();
        let (store, opened) = Store::open(&path).unwrap();
        let Opened::MovedAside { to, reason } = opened else {
            panic!("not moved aside")
        };
        assert!(reason.contains("not a database"), "{reason}");
        assert!(
            std::fs::read(&to)
                .unwrap()
                .starts_with(b"this is not a database")
        );
        assert!(!store.has_items("f").unwrap());
    }

    #[test]
    fn the_whole_file_is_checked_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let checked_at = |path: &Path| -> i64 {
            Connection::open(path)
                .unwrap()
                .query_row("SELECT checked_at FROM checks", [], |row| row.get(0))
                .unwrap()
        };
        let set_checked_at = |path: &Path, at: i64| {
            Connection::open(path)
                .unwrap()
                .execute("UPDATE checks SET checked_at = ?1", [at])
                .unwrap();
        };
        drop(Store::open(&path).unwrap());
        let now = chrono::Utc::now().timestamp();
        assert!(
            (now - checked_at(&path)).abs() < 60,
            "a new file is checked"
        );

        set_checked_at(&path, now - 3600);
        drop(Store::open(&path).unwrap());
        assert_eq!(
            checked_at(&path),
            now - 3600,
            "checked again within the day"
        );

        set_checked_at(&path, now - CHECK_EVERY_SECONDS - 1);
        drop(Store::open(&path).unwrap());
        assert!((now - checked_at(&path)).abs() < 60, "a day later, checked");

        // A clock set back must not put the next check off for ever.
        set_checked_at(&path, now + 10 * CHECK_EVERY_SECONDS);
        drop(Store::open(&path).unwrap());
        assert!((now - checked_at(&path)).abs() < 60, "a check dated ahead");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(
            err.to_string().contains("newer than this dateline knows"),
            "{err}"
        );
    }

    #[test]
    fn validators_and_health_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        assert_eq!(store.last_read("u").unwrap(), LastRead::default());
        let read = LastRead {
            validators: Validators {
                etag: Some("\"abc\"".into()),
                last_modified: None,
            },
            body_hash: Some("0123abcd".into()),
            items_hash: Some("4567ef".into()),
        };
        store.save_last_read("u", &read).unwrap();
        assert_eq!(store.last_read("u").unwrap(), read);
        store.record_failure("f", 10, "HTTP 500").unwrap();
        store.record_failure("f", 20, "HTTP 500").unwrap();
        store.record_success("f", 30, "h", 30, Some(12)).unwrap();
        let health = store.health("f").unwrap();
        assert_eq!(
            (
                health.consecutive_failures,
                health.last_count,
                health.last_success
            ),
            (0, Some(12), Some(30))
        );
        store.record_success("f", 40, "h", 30, None).unwrap();
        assert_eq!(store.health("f").unwrap().last_count, Some(12));
    }

    #[test]
    fn a_kept_feed_records_only_its_success() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        store.record_success("f", 30, "h", 20, Some(12)).unwrap();
        store.record_failure("f", 40, "HTTP 500").unwrap();
        let before = store.health("f").unwrap();
        store.record_kept("f", 50).unwrap();
        let after = store.health("f").unwrap();
        assert_eq!(
            (after.last_success, after.consecutive_failures),
            (Some(50), 0)
        );
        assert_eq!(
            (&after.content_hash, after.changed_at, after.last_count),
            (&before.content_hash, Some(20), Some(12))
        );
        // The same result as the upsert a changed feed records.
        store.record_success("g", 30, "h", 20, Some(12)).unwrap();
        store.record_failure("g", 40, "HTTP 500").unwrap();
        store.record_success("g", 50, "h", 20, None).unwrap();
        assert_eq!(store.health("g").unwrap(), after);
    }

    #[test]
    fn starts_read_at_once_are_what_each_feed_would_read() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("state.sqlite")).unwrap();
        assert!(store.starts(|_| true, |_| true).unwrap().feeds.is_empty());
        // "f" has items and a page read; "g" failed before it ever had items.
        store
            .merge("f", &[item("a", "A", Some(100))], 1000)
            .unwrap();
        store.record_success("f", 1000, "h", 1000, Some(1)).unwrap();
        store.record_failure("g", 1000, "HTTP 500").unwrap();
        // "f" published its item; "e" published none and has none; "m" published items that
        // are not its own, as a merged feed does (its sources' items).
        let published = |items| Published {
            key: "k".into(),
            items,
            sizes: vec![1, 2, 3],
        };
        store.record_published("f", Some(&published(1))).unwrap();
        store.record_success("e", 1000, "h", 1000, Some(0)).unwrap();
        store.record_published("e", Some(&published(0))).unwrap();
        store.record_success("m", 1000, "h", 1000, None).unwrap();
        store.record_published("m", Some(&published(2))).unwrap();
        let read = LastRead {
            validators: Validators {
                etag: Some("\"e\"".into()),
                last_modified: Some("Thu, 28 Aug 2025 08:00:00 GMT".into()),
            },
            body_hash: Some("b".into()),
            items_hash: None,
        };
        store.save_last_read("f page", &read).unwrap();
        store.commit().unwrap();

        let starts = store.starts(|_| true, |_| true).unwrap();
        for id in ["f", "g", "e"] {
            let (health, has_items) = &starts.feeds[id];
            assert_eq!(*health, store.health(id).unwrap(), "{id}");
            assert_eq!(*has_items, store.has_items(id).unwrap(), "{id}");
        }
        assert!(starts.feeds["f"].1 && !starts.feeds["g"].1 && !starts.feeds["e"].1);
        // Taken at its files' word, without a look in `items`: `build::started` checks whose
        // files they are.
        assert!(starts.feeds["m"].1 && !store.has_items("m").unwrap());
        assert_eq!(starts.feeds["m"].0, store.health("m").unwrap());
        assert_eq!(starts.pages.len(), 1);
        assert_eq!(starts.pages["f page"], store.last_read("f page").unwrap());

        // Only what the run wants is kept.
        let only_f = store.starts(|id| id == "f", |key| key != "f page").unwrap();
        assert_eq!(only_f.feeds.keys().collect::<Vec<_>>(), ["f"]);
        assert!(only_f.pages.is_empty());
    }
}
