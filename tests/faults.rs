//! Cron-grade behaviour against a misbehaving local server: every fault gives its exit code and
//! stderr line, and no previously published item is lost. Then history across runs: items
//! accumulate, an edited title keeps its id, an undated item keeps its first-seen date, and a run
//! with nothing new leaves every file's bytes and mtime alone.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

use common::*;

const NOW: &str = "2025-08-28T16:00:00+08:00";

/// A listing page with these (day-of-month hour, id, title) rows; no date when hour is None.
fn page(rows: &[(Option<u32>, u32, &str)]) -> Vec<u8> {
    let items: String = rows
        .iter()
        .map(|(hour, id, title)| {
            let date = hour
                .map(|h| format!("2025/8/28 {h:02}:00"))
                .unwrap_or_default();
            format!("<li><a href=\"/news/{id}\">{title}</a><span class=\"t\">{date}</span></li>\n")
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>財經</title></head><body><nav><a href=\"/\">首頁</a></nav><ul class=\"news\">{items}</ul><footer>版權所有</footer></body></html>"
    )
    .into_bytes()
}

fn ten_items() -> Vec<u8> {
    page(&ten_rows())
}

fn ten_rows() -> Vec<(Option<u32>, u32, &'static str)> {
    let titles = [
        "台積電法說會前夕外資連三買",
        "鴻海八月營收年增一成二",
        "聯發科新晶片量產法人上修",
        "央行理監事會維持利率不變",
        "新台幣盤中升破三十元",
        "美債殖利率走低壽險受惠",
        "航運股集體走揚長榮大漲",
        "金管會擬放寬投資限制",
        "半導體設備股受惠擴產",
        "生技股法說會後股價分歧",
    ];
    titles
        .iter()
        .enumerate()
        .map(|(i, t)| (Some(15 - i as u32), i as u32 + 1, *t))
        .collect()
}

struct Site {
    server: TestServer,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Site {
    /// One feed `news` (selector mode) over `/list`, with a short timeout.
    fn new(extra: &str) -> Site {
        let server = TestServer::start();
        let dir = tempfile::tempdir().unwrap();
        let timeout = if extra.contains("timeout_secs") {
            ""
        } else {
            "timeout_secs = 1\n"
        };
        let feed = format!(
            "[[feeds]]\nid = \"news\"\nurl = \"{}\"\n{timeout}{extra}\n[feeds.select]\nitem = \"ul.news > li\"\ndate = \"span.t\"\n",
            server.url("/list")
        );
        let config = write_config(dir.path(), &feed);
        Site {
            server,
            dir,
            config,
        }
    }

    fn build(&self, now: &str) -> Output {
        self.build_with(now, &[])
    }

    /// A build at `now` with more arguments for `build` (`--out DIR`).
    fn build_with(&self, now: &str, args: &[&str]) -> Output {
        dateline()
            .arg("--config")
            .arg(&self.config)
            .args(["build", "--now", now])
            .args(args)
            .output()
            .unwrap()
    }

    /// A build at `now` that must succeed, with debug logging: its log.
    fn logged_build(&self, now: &str) -> String {
        let output = dateline()
            .arg("-vv")
            .arg("--config")
            .arg(&self.config)
            .args(["build", "--now", now])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stderr(&output)
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join("public").join(name)
    }

    /// The bytes and last-write time of each published file named.
    fn published(&self, files: &[&str]) -> Vec<(Vec<u8>, SystemTime)> {
        files
            .iter()
            .map(|f| (std::fs::read(self.out(f)).unwrap(), modified(&self.out(f))))
            .collect()
    }

    /// The files still hold what `published` saw, and were not written since.
    fn assert_untouched(&self, files: &[&str], before: &[(Vec<u8>, SystemTime)]) {
        for (f, (bytes, mtime)) in files.iter().zip(before) {
            assert_eq!(&std::fs::read(self.out(f)).unwrap(), bytes, "{f} rewritten");
            assert_eq!(&modified(&self.out(f)), mtime, "{f} touched");
        }
    }

    fn items(&self) -> Vec<ReadItem> {
        let (_, rss) = read_feed(&self.out("news.xml"));
        let (_, atom) = read_feed(&self.out("news.atom"));
        assert_eq!(rss.len(), atom.len());
        atom
    }

    /// A first good build of ten items, the baseline every fault must not lose.
    fn baseline(&self) -> Vec<ReadItem> {
        self.server.route(
            "/list",
            Route::page("text/html; charset=utf-8", ten_items()),
        );
        let output = self.build(NOW);
        assert!(output.status.success(), "{}", stderr(&output));
        let items = self.items();
        assert_eq!(items.len(), 10);
        items
    }

    fn requests(&self) -> usize {
        self.server
            .seen()
            .iter()
            .filter(|s| s.path == "/list")
            .count()
    }
}

/// When a file was last written.
fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit 2, one stderr line naming the feed and containing `cause`, and the baseline intact.
fn assert_feed_failed(site: &Site, output: &Output, cause: &str, baseline: &[ReadItem]) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("error: feed news: "), "{text}");
    assert!(lines[0].contains(cause), "expected {cause:?} in {text}");
    assert_eq!(site.items(), baseline, "published items changed");
    // The index tells the operator: failures in a row, when it last worked, and why not now.
    let index = std::fs::read_to_string(site.out("index.html")).unwrap();
    let section = &index[index.find("id=\"feed-news\"").unwrap()..];
    assert!(section.contains(" in a row</span>"), "{section}");
    assert!(
        section.contains("<dt>Last success</dt><dd><time"),
        "{section}"
    );
    assert!(section.contains("Last error"), "{section}");
}

#[test]
fn slow_response_past_the_timeout() {
    let site = Site::new("");
    let baseline = site.baseline();
    let mut slow = Route::page("text/html", ten_items());
    slow.delay = Duration::from_secs(3);
    site.server.route("/list", slow);
    let output = site.build(NOW);
    assert_feed_failed(&site, &output, "timed out after 1s", &baseline);
}

#[test]
fn not_found_is_not_retried() {
    let site = Site::new("");
    let baseline = site.baseline();
    let before = site.requests();
    site.server.route("/list", Route::status(404));
    let output = site.build(NOW);
    assert_feed_failed(&site, &output, "HTTP 404 Not Found", &baseline);
    assert_eq!(site.requests() - before, 1);
}

#[test]
fn server_error_is_retried_then_reported() {
    let site = Site::new("");
    let baseline = site.baseline();
    let before = site.requests();
    site.server.route("/list", Route::status(500));
    let output = site.build(NOW);
    assert_feed_failed(&site, &output, "HTTP 500 Internal Server Error", &baseline);
    assert_eq!(site.requests() - before, 3, "one try and two retries");
}

#[test]
fn server_error_then_success_is_a_success() {
    let site = Site::new("");
    site.server.sequence(
        "/list",
        vec![Route::status(500), Route::page("text/html", ten_items())],
    );
    let output = site.build(NOW);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        output.stderr.is_empty(),
        "a recovered retry is not a problem: {}",
        stderr(&output)
    );
    assert_eq!(site.items().len(), 10);
    assert_eq!(site.requests(), 2);
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let site = Site::new("timeout_secs = 5");
    site.server.sequence(
        "/list",
        vec![
            Route::status(429).header("retry-after", "1"),
            Route::page("text/html", ten_items()),
        ],
    );
    let output = site.build(NOW);
    assert!(output.status.success(), "{}", stderr(&output));
    let seen: Vec<_> = site
        .server
        .seen()
        .into_iter()
        .filter(|s| s.path == "/list")
        .collect();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}"
    );
}

#[test]
fn retry_after_longer_than_the_cap_fails_the_feed_now() {
    let site = Site::new("");
    let baseline = site.baseline();
    site.server
        .route("/list", Route::status(429).header("retry-after", "3600"));
    let output = site.build(NOW);
    assert_feed_failed(
        &site,
        &output,
        "HTTP 429 Too Many Requests (asked to retry after 3600s)",
        &baseline,
    );
}

#[test]
fn redirect_loop() {
    let site = Site::new("");
    let baseline = site.baseline();
    site.server
        .route("/list", Route::status(302).header("location", "/list"));
    let output = site.build(NOW);
    assert_feed_failed(&site, &output, "too many redirects", &baseline);
}

#[test]
fn fifty_megabyte_body_is_cut_off_while_streaming() {
    let site = Site::new("");
    let baseline = site.baseline();
    let mut huge = ten_items();
    huge.resize(50 * 1024 * 1024, b' ');
    let mut route = Route::page("text/html", huge);
    route.chunked = true;
    site.server.route("/list", route);
    let output = site.build(NOW);
    assert_feed_failed(
        &site,
        &output,
        "body larger than the 8388608-byte cap",
        &baseline,
    );
}

#[test]
fn binary_bodies_are_refused() {
    let site = Site::new("");
    let baseline = site.baseline();
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    site.server.route(
        "/list",
        Route::page("application/octet-stream", noise.clone()),
    );
    let output = site.build(NOW);
    assert_feed_failed(
        &site,
        &output,
        "not a web page: content type \"application/octet-stream\"",
        &baseline,
    );
    // The same bytes labelled as HTML give nothing to read, and say so.
    site.server.route("/list", Route::page("text/html", noise));
    let output = site.build(NOW);
    assert_feed_failed(&site, &output, "no dated headlines found", &baseline);
}

#[test]
fn a_wrong_charset_header_still_gives_the_right_titles() {
    let site = Site::new("");
    let html = String::from_utf8(ten_items())
        .unwrap()
        .replace("charset=\"utf-8\"", "charset=\"big5\"");
    let (big5, _, _) = encoding_rs::BIG5.encode(&html);
    site.server.route(
        "/list",
        Route::page("text/html; charset=utf-8", big5.into_owned()),
    );
    let output = site.build(NOW);
    assert!(output.status.success(), "{}", stderr(&output));
    let items = site.items();
    assert!(
        items
            .iter()
            .any(|i| i.title == "台積電法說會前夕外資連三買"),
        "{items:?}"
    );
}

#[test]
fn a_layout_change_to_zero_items_keeps_the_feed() {
    let site = Site::new("");
    let baseline = site.baseline();
    let redesigned = "<html><body><div class=\"cards\"><div class=\"card\"><a href=\"/n/1\">台積電法說會前夕外資連三買</a></div></div></body></html>";
    site.server.route(
        "/list",
        Route::page("text/html", redesigned.as_bytes().to_vec()),
    );
    let output = site.build("2025-08-28T17:00:00+08:00");
    assert_feed_failed(&site, &output, "no dated headlines found", &baseline);
}

#[test]
fn a_file_that_cannot_be_put_in_place_fails_its_feed_until_it_can() {
    let site = Site::new("");
    site.server.route(
        "/list",
        Route::page("text/html; charset=utf-8", ten_items()),
    );
    // A folder where the JSON feed goes: the new file cannot be renamed over it. On a first
    // run every item is new, so the files wait for the commit that stores them.
    std::fs::create_dir_all(site.out("news.json").join("keep")).unwrap();
    let output = site.build(NOW);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].starts_with("error: feed news: writing") && errors[0].contains("news.json"),
        "{text}"
    );
    let index = std::fs::read_to_string(site.out("index.html")).unwrap();
    let section = &index[index.find("id=\"feed-news\"").unwrap()..];
    assert!(section.contains("Last error"), "{section}");
    // Nothing staged for the failed files, nor by the site render it threw away, is left.
    let hidden: Vec<_> = std::fs::read_dir(site.out(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");

    // Once the folder is gone, the same page is rendered again and every file written.
    std::fs::remove_dir_all(site.out("news.json")).unwrap();
    let output = site.build("2025-08-28T16:10:00+08:00");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(site.items().len(), 10);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.out("news.json")).unwrap()).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 10);
}

#[test]
fn a_slow_feed_does_not_hold_back_the_files_of_feeds_done_before_it() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    for id in ["fast", "fast2", "fast3"] {
        server.route(
            &format!("/{id}"),
            Route::page("text/html; charset=utf-8", ten_items()),
        );
    }
    let mut slow = Route::page("text/html; charset=utf-8", ten_items());
    slow.delay = Duration::from_secs(3);
    server.route("/slow", slow);
    let feeds: String = ["fast", "fast2", "fast3", "slow"]
        .iter()
        .map(|id| format!("[[feeds]]\nid = \"{id}\"\nurl = \"{}\"\n[feeds.select]\nitem = \"ul.news > li\"\ndate = \"span.t\"\n\n", server.url(&format!("/{id}"))))
        .collect();
    let config = write_config(dir.path(), &feeds);
    let started = std::time::Instant::now();
    let mut build = std::process::Command::new(assert_cmd::cargo::cargo_bin("dateline"))
        .arg("--config")
        .arg(&config)
        .args(["build", "--now", NOW])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The fast feeds' items wait for a commit shared with other feeds, but not for the slow
    // one: their files go up within two commit windows while the slow page is still coming.
    let fast = dir.path().join("public/fast.atom");
    while !fast.exists() && started.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (appeared, seen_at) = (fast.exists(), started.elapsed());
    let still_running = build.try_wait().unwrap().is_none();
    assert!(build.wait().unwrap().success());
    assert!(
        appeared && still_running,
        "fast.atom there: {appeared} after {seen_at:?}, the build still running: {still_running}"
    );
    assert_eq!(read_feed(&fast).1.len(), 10);
}

#[test]
fn a_page_with_far_fewer_items_than_before_keeps_the_feed() {
    let site = Site::new("");
    let baseline = site.baseline();
    site.server.route(
        "/list",
        Route::page(
            "text/html",
            page(&[(Some(16), 99, "只剩一則新聞的頁面標題")]),
        ),
    );
    let output = site.build("2025-08-28T17:00:00+08:00");
    assert_feed_failed(
        &site,
        &output,
        "gave 1 items where it gave 10 last time",
        &baseline,
    );
}

#[test]
fn a_corrupt_state_file_is_moved_aside_and_history_recovered() {
    let site = Site::new("");
    let baseline = site.baseline();
    let state = site.dir.path().join("state/state.sqlite");
    std::fs::write(&state, b"garbage, not SQLite ".repeat(500)).unwrap();
    let _ = std::fs::remove_file(site.dir.path().join("state/state.sqlite-wal"));
    // Only three of the ten are still on the page; the other seven must stay in the feed.
    site.server.route(
        "/list",
        Route::page(
            "text/html",
            page(&[
                (Some(16), 11, "新進一則財經快訊標題"),
                (Some(15), 1, "台積電法說會前夕外資連三買"),
                (Some(14), 2, "鴻海八月營收年增一成二"),
            ]),
        ),
    );
    let output = site.build("2025-08-28T16:30:00+08:00");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("was unreadable") && text.contains("moved aside"),
        "{text}"
    );
    let moved: Vec<_> = std::fs::read_dir(site.dir.path().join("state"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert!(!moved.is_empty(), "the corrupt file is kept for inspection");
    let items = site.items();
    assert_eq!(items.len(), 11);
    for old in &baseline {
        let now = items
            .iter()
            .find(|i| i.id == old.id)
            .expect("previously published item kept");
        assert_eq!(now.date, old.date, "{} changed its date", old.title);
    }
}

#[test]
fn two_builds_at_once_the_second_stops() {
    let site = Site::new("timeout_secs = 10");
    site.baseline();
    let mut slow = Route::page("text/html", ten_items());
    slow.delay = Duration::from_secs(3);
    site.server.route("/list", slow);
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("dateline"))
        .arg("--config")
        .arg(&site.config)
        .args(["build", "--now", NOW])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first run is fetching (it holds the lock by then).
    let started = std::time::Instant::now();
    while site.requests() < 2 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = site.build(NOW);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another dateline build is running"),
        "{}",
        stderr(&second)
    );
    assert!(first.wait().unwrap().success());
}

/// Every file in the folder, by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// A complete file of the second version: feeds with its three items, whole site files.
fn assert_whole_new_file(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    match path.extension().and_then(|e| e.to_str()) {
        Some("xml" | "atom") => {
            assert_eq!(read_feed(path).1.len(), 3, "{name} is neither old nor new")
        }
        Some("json") => {
            let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap())
                .unwrap_or_else(|e| panic!("{name} is half-written: {e}"));
            assert_eq!(json["items"].as_array().unwrap().len(), 3, "{name}");
        }
        Some("html") => assert!(
            std::fs::read_to_string(path)
                .unwrap()
                .trim_end()
                .ends_with("</html>"),
            "{name} is half-written"
        ),
        Some("opml" | "xsl") => {
            roxmltree::Document::parse(&std::fs::read_to_string(path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        _ => assert!(!std::fs::read(path).unwrap().is_empty(), "{name} is empty"),
    }
}

#[test]
fn the_folder_is_read_for_leftovers_unless_the_last_run_finished_it() {
    let site = Site::new("");
    site.server
        .route("/list", Route::page("text/html", ten_items()));
    let build = |args: &[&str]| {
        let output = site.build_with(NOW, args);
        assert!(output.status.success(), "{}", stderr(&output));
    };
    // What a killed run leaves: a hidden temporary file beside a published one.
    let leftover = site.out(".news.xml.k1Ll3d.tmp");
    let plant = || std::fs::write(&leftover, "<rss").unwrap();
    let lock_file = site.dir.path().join("state/state.sqlite.lock");
    build(&[]);

    // Put there behind a run that finished, it is not looked for (nothing else leaves one).
    plant();
    build(&[]);
    assert!(
        leftover.exists(),
        "the folder was read after a finished run"
    );

    // After a run that took the lock and never finished, it is.
    std::fs::write(&lock_file, "pid 4242").unwrap();
    build(&[]);
    assert!(!leftover.exists(), "a killed run's leftover stayed");

    // After a run that finished another folder, it is.
    plant();
    let other = site.dir.path().join("other");
    build(&["--out", other.to_str().unwrap()]);
    build(&[]);
    assert!(!leftover.exists(), "the last finished run wrote elsewhere");
}

/// The folder a run finished is known by where it really is: an output folder that is a
/// symlink switched to another folder (a release flip) is read for that folder's leftovers.
#[cfg(unix)]
#[test]
fn a_switched_symlink_is_another_folder() {
    let site = Site::new("");
    site.server
        .route("/list", Route::page("text/html", ten_items()));
    let (a, b) = (site.dir.path().join("a"), site.dir.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let public = site.dir.path().join("public");
    std::os::unix::fs::symlink(&a, &public).unwrap();
    let output = site.build(NOW);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(a.join("news.xml").exists());

    let leftover = b.join(".news.xml.k1Ll3d.tmp");
    std::fs::write(&leftover, "<rss").unwrap();
    std::fs::remove_file(&public).unwrap();
    std::os::unix::fs::symlink(&b, &public).unwrap();
    let output = site.build(NOW);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(b.join("news.xml").exists());
    assert!(!leftover.exists(), "the other folder's leftover stayed");
}

#[test]
fn a_build_killed_mid_write_leaves_every_file_old_or_new() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds: String = (0..40)
        .map(|i| format!("[[feeds]]\nid = \"f{i}\"\nurl = \"{}\"\n[feeds.select]\nitem = \"ul.news > li\"\ndate = \"span.t\"\n\n", server.url(&format!("/p{i}"))))
        .collect();
    let config = write_config(dir.path(), &feeds);
    let out = dir.path().join("public");
    let serve = |rows: &[(Option<u32>, u32, &str)]| {
        for i in 0..40 {
            server.route(&format!("/p{i}"), Route::page("text/html", page(rows)));
        }
    };
    let build = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("dateline"))
            .arg("--config")
            .arg(&config)
            .args(["build", "--now", NOW])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    serve(&[
        (Some(15), 1, "舊版本的第一則財經新聞"),
        (Some(14), 2, "舊版本的第二則財經新聞"),
    ]);
    assert!(build().wait().unwrap().success());
    let old = snapshot(&out);
    let new_rows = [
        (Some(16), 3, "新版本多出來的財經新聞"),
        (Some(15), 1, "舊版本的第一則財經新聞"),
        (Some(14), 2, "舊版本的第二則財經新聞"),
    ];
    serve(&new_rows);
    let mut killed_midway = 0;
    for delay_ms in [5, 20, 40, 60, 90, 130, 200] {
        let mut child = build();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let now = snapshot(&out);
        let mut changed = 0;
        // A kill can leave a hidden temporary file; the published names are never half-written.
        for (name, bytes) in now.iter().filter(|(name, _)| !name.starts_with('.')) {
            let before = old.iter().find(|(n, _)| n == name).map(|(_, b)| b);
            if before != Some(bytes) {
                changed += 1;
                // Not the old file: it must be a whole, valid new one.
                assert_whole_new_file(&out.join(name));
            }
        }
        if changed > 0 && changed < old.len() {
            killed_midway += 1;
        }
        // Leftovers of the kill are cleaned by the next run, which must succeed.
        assert!(build().wait().unwrap().success());
        let healed = snapshot(&out);
        assert!(healed.iter().all(|(name, _)| !name.starts_with('.')));
        for (name, _) in &healed {
            assert_whole_new_file(&out.join(name));
        }
        // Back to the old files for the next kill.
        for (name, bytes) in &old {
            std::fs::write(out.join(name), bytes).unwrap();
        }
        std::fs::remove_dir_all(dir.path().join("state")).unwrap();
        serve(&[
            (Some(15), 1, "舊版本的第一則財經新聞"),
            (Some(14), 2, "舊版本的第二則財經新聞"),
        ]);
        assert!(build().wait().unwrap().success());
        serve(&new_rows);
    }
    eprintln!("kills that landed mid-run: {killed_midway} of 7");
}

#[test]
fn history_accumulates_titles_update_in_place_and_undated_items_keep_their_first_seen_date() {
    let site = Site::new("");
    let run = |rows: &[(Option<u32>, u32, &str)], now: &str| {
        site.server
            .route("/list", Route::page("text/html", page(rows)));
        let output = site.build(now);
        assert!(output.status.success(), "{}", stderr(&output));
        site.items()
    };
    // Run 1: three items, one of them undated.
    let first = run(
        &[
            (Some(10), 1, "第一則：台積電法說會前夕外資連三買"),
            (Some(9), 2, "第二則：鴻海八月營收年增一成二"),
            (None, 3, "第三則：沒有日期的公告"),
        ],
        "2025-08-28T11:00:00+08:00",
    );
    assert_eq!(first.len(), 3);
    let undated = first
        .iter()
        .find(|i| i.title.starts_with("第三則"))
        .unwrap()
        .clone();
    assert_eq!(
        undated.written_date.unwrap().to_rfc3339(),
        "2025-08-28T11:00:00+08:00"
    );

    // Run 2: item 1 scrolled off, item 2's title edited, two new items.
    let second = run(
        &[
            (Some(13), 4, "第四則：央行理監事會維持利率不變"),
            (Some(12), 5, "第五則：新台幣盤中升破三十元"),
            (Some(9), 2, "第二則（更新）：鴻海八月營收年增一成二"),
            (None, 3, "第三則：沒有日期的公告"),
        ],
        "2025-08-28T13:30:00+08:00",
    );
    assert_eq!(second.len(), 5, "items that scrolled off stay: {second:#?}");
    let edited: Vec<_> = second.iter().filter(|i| i.title.contains("鴻海")).collect();
    assert_eq!(edited.len(), 1, "an edited title is the same item");
    assert_eq!(edited[0].title, "第二則（更新）：鴻海八月營收年增一成二");
    assert_eq!(
        edited[0].id,
        first.iter().find(|i| i.title.contains("鴻海")).unwrap().id
    );
    let still_undated = second
        .iter()
        .find(|i| i.title.starts_with("第三則"))
        .unwrap();
    assert_eq!(
        still_undated.date, undated.date,
        "the first-seen date sticks"
    );

    // Run 3: a new item, the rest gone from the page.
    let third = run(
        &[(Some(15), 6, "第六則：航運股集體走揚長榮大漲")],
        "2025-08-28T15:10:00+08:00",
    );
    assert_eq!(third.len(), 6);
    let titles: Vec<&str> = third.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles[0], "第六則：航運股集體走揚長榮大漲",
        "newest first: {titles:?}"
    );
}

#[test]
fn a_run_with_nothing_new_touches_nothing_and_uses_conditional_get() {
    let site = Site::new("");
    site.server.route(
        "/list",
        Route::page("text/html", ten_items()).etag("\"v1\""),
    );
    assert!(site.build("2025-08-28T16:00:00+08:00").status.success());
    let files = [
        "news.xml",
        "news.atom",
        "news.json",
        "index.html",
        "feeds.opml",
    ];
    let before = site.published(&files);
    std::thread::sleep(Duration::from_millis(50));
    // A later run (a different clock) where the server answers 304.
    let output = site.build("2025-08-28T16:20:00+08:00");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    let last = site
        .server
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/list")
        .unwrap();
    assert_eq!(last.headers.get("if-none-match").unwrap(), "\"v1\"");
    site.assert_untouched(&files, &before);
    // Unchanged content served again in full (no ETag): still no rewrite; lastBuildDate is the
    // time of the last change, not of the run.
    site.server
        .route("/list", Route::page("text/html", ten_items()));
    assert!(site.build("2025-08-28T16:40:00+08:00").status.success());
    let rss = std::fs::read_to_string(site.out("news.xml")).unwrap();
    assert!(
        rss.contains("<lastBuildDate>Thu, 28 Aug 2025 16:00:00 +0800</lastBuildDate>"),
        "{rss}"
    );
    assert_eq!(std::fs::read(site.out("news.xml")).unwrap(), before[0].0);
}

#[test]
fn the_same_page_sent_again_in_full_is_not_read_again() {
    let site = Site::new("");
    site.baseline();
    const KEPT: &str = "feed news: the page as last read; its files stay";
    let files = ["news.xml", "news.atom", "news.json"];
    let before = site.published(&files);
    std::thread::sleep(Duration::from_millis(50));

    // The same bytes again (no validators): the page is fetched, not read.
    assert!(
        site.logged_build("2025-08-28T16:20:00+08:00")
            .contains(KEPT)
    );
    assert_eq!(site.requests(), 2);
    site.assert_untouched(&files, &before);

    // A published file gone: the same page is read again and the file comes back as it was.
    std::fs::remove_file(site.out("news.atom")).unwrap();
    assert!(
        !site
            .logged_build("2025-08-28T16:30:00+08:00")
            .contains(KEPT)
    );
    assert_eq!(std::fs::read(site.out("news.atom")).unwrap(), before[1].0);

    // The same bytes under another content type may decode differently: they are read (and
    // give the same items).
    site.server
        .route("/list", Route::page("text/html", ten_items()));
    let log = site.logged_build("2025-08-28T16:40:00+08:00");
    assert!(!log.contains(KEPT), "{log}");
    assert!(log.contains("the page's items as last read"), "{log}");

    // A changed page is read: its new item is published.
    let mut rows = vec![(Some(16), 11, "第十一則：電子股午後翻紅")];
    rows.extend(ten_rows());
    site.server.route(
        "/list",
        Route::page("text/html; charset=utf-8", page(&rows)),
    );
    assert!(
        !site
            .logged_build("2025-08-28T16:50:00+08:00")
            .contains(KEPT)
    );
    let items = site.items();
    assert_eq!(items.len(), 11);
    assert_eq!(items[0].title, "第十一則：電子股午後翻紅");
}

#[test]
fn a_page_that_changed_around_the_same_items_keeps_its_files() {
    let site = Site::new("");
    site.baseline();
    const KEPT: &str = "feed news: the page's items as last read; its files stay";
    // Dynamic pages print when they were served.
    let served_at = |time: &str, rows: &[(Option<u32>, u32, &str)]| {
        let html = String::from_utf8(page(rows)).unwrap();
        let html = html.replace("版權所有", &format!("版權所有 {time}"));
        site.server.route(
            "/list",
            Route::page("text/html; charset=utf-8", html.into_bytes()),
        );
    };
    let files = ["news.xml", "news.atom", "news.json"];
    let before = site.published(&files);
    std::thread::sleep(Duration::from_millis(50));

    for (run, time) in ["16:20", "16:30"].iter().enumerate() {
        served_at(time, &ten_rows());
        let log = site.logged_build(&format!("2025-08-28T{time}:00+08:00"));
        assert!(log.contains(KEPT), "run {run}: {log}");
        site.assert_untouched(&files, &before);
    }

    // An edited headline around the page's new time is read and published.
    let mut rows = ten_rows();
    rows[3].2 = "央行理監事會維持利率不變（更新）";
    served_at("16:40", &rows);
    assert!(
        !site
            .logged_build("2025-08-28T16:40:00+08:00")
            .contains(KEPT)
    );
    let items = site.items();
    assert_eq!(items.len(), 10);
    assert!(
        items
            .iter()
            .any(|i| i.title == "央行理監事會維持利率不變（更新）"),
        "{items:?}"
    );
}

#[test]
fn a_selector_changed_and_changed_back_is_read_again_each_time() {
    let site = Site::new("");
    site.baseline();
    let config = std::fs::read_to_string(&site.config).unwrap();
    let title = |site: &Site| site.items()[0].title.clone();
    assert_eq!(title(&site), "台積電法說會前夕外資連三買");
    // The same page, read with another title selector, then with the first one again.
    let by_href = config.replace(
        "item = \"ul.news > li\"",
        "item = \"ul.news > li\"\ntitle = \"a@href\"",
    );
    assert_ne!(by_href, config);
    std::fs::write(&site.config, &by_href).unwrap();
    assert!(site.build("2025-08-28T16:10:00+08:00").status.success());
    assert_eq!(title(&site), "/news/1");
    std::fs::write(&site.config, &config).unwrap();
    assert!(site.build("2025-08-28T16:20:00+08:00").status.success());
    assert_eq!(title(&site), "台積電法說會前夕外資連三買");
}

#[test]
fn a_build_into_another_folder_does_not_stand_for_the_usual_one() {
    let site = Site::new("");
    site.baseline();
    // A headline edited to one of the same length, previewed in another folder first.
    let mut rows = ten_rows();
    rows[0].2 = "台積電法說會前夕外資連四買";
    assert_eq!(rows[0].2.len(), ten_rows()[0].2.len());
    site.server.route(
        "/list",
        Route::page("text/html; charset=utf-8", page(&rows)),
    );
    let preview = site.dir.path().join("preview");
    let output = dateline()
        .arg("--config")
        .arg(&site.config)
        .args(["build", "--now", "2025-08-28T16:10:00+08:00", "--out"])
        .arg(&preview)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        read_feed(&preview.join("news.atom")).1[0].title,
        "台積電法說會前夕外資連四買"
    );
    // The usual build of the same page brings the usual folder up to date.
    assert!(site.build("2025-08-28T16:20:00+08:00").status.success());
    assert_eq!(site.items()[0].title, "台積電法說會前夕外資連四買");
}

#[test]
fn relative_dates_read_again_later_are_the_same_items() {
    let site = Site::new("");
    let rows = |ago: [&str; 3]| {
        let items: String = ago
            .iter()
            .enumerate()
            .map(|(i, ago)| {
                format!(
                    "<li><a href=\"/news/{i}\">第{i}則：盤中快訊標題</a><span class=\"t\">{ago}</span></li>"
                )
            })
            .collect();
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>即時</title></head><body><ul class=\"news\">{items}</ul></body></html>"
        )
        .into_bytes()
    };
    site.server.route(
        "/list",
        Route::page(
            "text/html; charset=utf-8",
            rows(["5分鐘前", "1小時前", "3小時前"]),
        ),
    );
    let first = site.build("2025-08-28T16:00:00+08:00");
    assert!(first.status.success(), "{}", stderr(&first));
    let published = std::fs::read(site.out("news.atom")).unwrap();
    let (_, items) = read_feed(&site.out("news.atom"));
    assert_eq!(items.len(), 3);
    // Ten minutes later the page says the same of the same items, in other words.
    site.server.route(
        "/list",
        Route::page(
            "text/html; charset=utf-8",
            rows(["15分鐘前", "1小時前", "3小時前"]),
        ),
    );
    assert!(
        site.logged_build("2025-08-28T16:10:00+08:00")
            .contains("the page's items as last read")
    );
    assert_eq!(std::fs::read(site.out("news.atom")).unwrap(), published);
}

#[test]
fn a_page_that_stays_smaller_is_accepted_after_three_runs() {
    let site = Site::new("");
    site.baseline();
    site.server.route(
        "/list",
        Route::page(
            "text/html",
            page(&[
                (Some(16), 99, "只剩一則新聞的頁面標題"),
                (Some(15), 98, "只剩兩則新聞的頁面標題"),
            ]),
        ),
    );
    for minute in [10, 20, 30] {
        let output = site.build(&format!("2025-08-28T17:{minute}:00+08:00"));
        assert_eq!(output.status.code(), Some(2), "run at :{minute}");
        assert!(stderr(&output).contains("after 3 such runs the smaller page is accepted"));
    }
    let output = site.build("2025-08-28T17:40:00+08:00");
    assert!(
        output.status.success(),
        "the fourth run accepts it: {}",
        stderr(&output)
    );
    assert_eq!(site.items().len(), 12, "history kept, two new items added");
}

#[test]
fn two_feeds_on_one_page_each_read_a_new_version() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds: String = ["first", "second"]
        .iter()
        .map(|id| format!("[[feeds]]\nid = \"{id}\"\nurl = \"{}\"\n[feeds.select]\nitem = \"ul.news > li\"\ndate = \"span.t\"\n\n", server.url("/shared")))
        .collect();
    let config = write_config(dir.path(), &feeds);
    let serve = |rows: &[(Option<u32>, u32, &str)], etag: &str| {
        server.route("/shared", Route::page("text/html", page(rows)).etag(etag));
    };
    let rows = [
        (Some(10), 1, "第一則財經新聞標題文字"),
        (Some(9), 2, "第二則財經新聞標題文字"),
    ];
    serve(&rows, "\"v1\"");
    let build = |args: &[&str]| {
        dateline()
            .arg("--config")
            .arg(&config)
            .args(["build", "--now", NOW])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(build(&[]).status.success());
    serve(
        &[(Some(11), 3, "第三則新出現的新聞標題"), rows[0], rows[1]],
        "\"v2\"",
    );
    assert!(build(&["--only", "first"]).status.success());
    assert!(build(&[]).status.success());
    for id in ["first", "second"] {
        let (_, items) = read_feed(&dir.path().join(format!("public/{id}.atom")));
        assert_eq!(items.len(), 3, "{id} saw the new version");
    }
}

#[test]
fn removing_a_url_source_keeps_the_others_history() {
    let server = TestServer::start();
    let rows = |prefix: &str| -> Vec<(Option<u32>, u32, String)> {
        (0..4)
            .map(|i| (Some(10 + i), i, format!("{prefix} 第{i}則財經新聞標題文字")))
            .collect()
    };
    for name in ["a", "b"] {
        let list = rows(name);
        let borrowed: Vec<(Option<u32>, u32, &str)> = list
            .iter()
            .map(|(h, i, t)| (*h, *i + if name == "a" { 0 } else { 100 }, t.as_str()))
            .collect();
        server.route(
            &format!("/{name}"),
            Route::page("text/html", page(&borrowed)),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let merged = |sources: &[&str]| {
        let list: Vec<String> = sources
            .iter()
            .map(|s| format!("\"{}\"", server.url(&format!("/{s}"))))
            .collect();
        write_config(
            dir.path(),
            &format!("[[feeds]]\nid = \"all\"\nsources = [{}]\n", list.join(", ")),
        )
    };
    let config = merged(&["a", "b"]);
    let run = |now: &str| {
        dateline()
            .arg("--config")
            .arg(&config)
            .args(["build", "--now", now])
            .output()
            .unwrap()
    };
    assert!(run(NOW).status.success());
    let config = merged(&["b"]);
    let output = dateline()
        .arg("--config")
        .arg(&config)
        .args(["build", "--now", "2025-08-28T16:10:00+08:00"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let (_, items) = read_feed(&dir.path().join("public/all.atom"));
    assert_eq!(items.len(), 4, "only b's items, all of them: {items:#?}");
    assert!(items.iter().all(|i| i.title.starts_with('b')));
}

#[test]
fn a_run_with_nothing_new_still_repairs_files_and_follows_config_edits() {
    let site = Site::new("");
    site.server.route(
        "/list",
        Route::page("text/html", ten_items()).etag("\"v1\""),
    );
    assert!(site.build("2025-08-28T16:00:00+08:00").status.success());
    let rss = std::fs::read(site.out("news.xml")).unwrap();
    let atom = std::fs::read(site.out("news.atom")).unwrap();

    // An operator deletes one file and a power cut truncates another: the next run, although
    // the page answers 304, puts both back as they were.
    std::fs::remove_file(site.out("news.xml")).unwrap();
    std::fs::write(site.out("news.atom"), &atom[..atom.len() / 2]).unwrap();
    std::fs::remove_file(site.out("index.html")).unwrap();
    let output = site.build("2025-08-28T16:10:00+08:00");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(site.out("news.xml")).unwrap(), rss);
    assert_eq!(std::fs::read(site.out("news.atom")).unwrap(), atom);
    assert!(site.out("index.html").exists(), "index.html not restored");
    assert_eq!(site.items().len(), 10);

    // A new feed title in the config reaches the files on a 304 run too.
    let text = std::fs::read_to_string(&site.config).unwrap();
    std::fs::write(
        &site.config,
        text.replacen(
            "id = \"news\"\n",
            "id = \"news\"\ntitle = \"財經即時\"\n",
            1,
        ),
    )
    .unwrap();
    let output = site.build("2025-08-28T16:20:00+08:00");
    assert!(output.status.success(), "{}", stderr(&output));
    let (feed, items) = read_feed(&site.out("news.atom"));
    assert_eq!(feed.title.map(|t| t.content).as_deref(), Some("財經即時"));
    assert_eq!(items.len(), 10);
    let index = std::fs::read_to_string(site.out("index.html")).unwrap();
    assert!(index.contains("財經即時"), "index keeps the old title");
    let last = site
        .server
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/list")
        .unwrap();
    assert_eq!(
        last.headers.get("if-none-match").unwrap(),
        "\"v1\"",
        "the page itself was not re-read"
    );
}

#[test]
fn the_index_follows_items_the_feed_filters_out_and_the_days_its_chart_covers() {
    // Headlines the filter drops leave the feed's files as they were, but the index counts
    // and lists every item stored: a run that stores one must still update the index.
    let site = Site::new("exclude = [\"停牌\"]");
    site.server.route(
        "/list",
        Route::page("text/html", ten_items()).etag("\"v1\""),
    );
    assert!(site.build("2025-08-28T16:00:00+08:00").status.success());
    let atom = std::fs::read(site.out("news.atom")).unwrap();
    let first = std::fs::read_to_string(site.out("index.html")).unwrap();
    assert!(first.contains("2025-08-28: 10"), "{first}");

    // Ten on the page as before (the oldest gone, still stored and shown in the feed).
    let with_halt = String::from_utf8(ten_items()).unwrap().replacen(
        "<a href=\"/news/10\">生技股法說會後股價分歧</a>",
        "<a href=\"/news/11\">某生技股今日停牌</a>",
        1,
    );
    site.server.route(
        "/list",
        Route::page("text/html", with_halt.into_bytes()).etag("\"v2\""),
    );
    let output = site.build("2025-08-28T16:30:00+08:00");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(site.out("news.atom")).unwrap(),
        atom,
        "the filtered headline changed the feed"
    );
    let second = std::fs::read_to_string(site.out("index.html")).unwrap();
    assert!(
        second.contains("2025-08-28: 11"),
        "the index missed a stored item: {second}"
    );

    // Nothing new (304), the same day: the index is left alone.
    let written_at = modified(&site.out("index.html"));
    assert!(site.build("2025-08-28T16:40:00+08:00").status.success());
    assert_eq!(modified(&site.out("index.html")), written_at);

    // Nothing new, a month later: the chart's days moved on, and with them the index.
    assert!(site.build("2025-09-30T09:00:00+08:00").status.success());
    let later = std::fs::read_to_string(site.out("index.html")).unwrap();
    assert!(!later.contains("2025-08-28:"), "the chart kept last month");
}

/// Pages whose size is only known once read (chunked, compressed, or both) are read whole:
/// a large page with a sidebar of "most read" links, served in 64 KB chunks and gzip or
/// brotli encoded as portals send it, gives the same ten items as the plain page.
#[test]
fn chunked_and_compressed_pages_are_read_whole() {
    use std::io::Write;
    let plain = String::from_utf8(ten_items()).unwrap();
    let sidebar: String = (0..6000)
        .map(|i| format!("<li><a href=\"/hot/{i}\">熱門排行 第{i}名 財經快訊</a></li>"))
        .collect();
    let page = plain
        .replace(
            "<footer>",
            &format!("<aside><ol class=\"hot\">{sidebar}</ol></aside><footer>"),
        )
        .into_bytes();
    assert!(page.len() > 300 * 1024, "{} bytes", page.len());
    let gzip = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        encoder.write_all(&page).unwrap();
        encoder.finish().unwrap()
    };
    let brotli = {
        let mut out = Vec::new();
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        encoder.write_all(&page).unwrap();
        drop(encoder);
        out
    };
    for (name, body, encoding, chunked) in [
        ("plain, chunked", page.clone(), None, true),
        ("gzip", gzip.clone(), Some("gzip"), false),
        ("gzip, chunked", gzip, Some("gzip"), true),
        ("brotli, chunked", brotli, Some("br"), true),
    ] {
        let site = Site::new("");
        let mut route = Route::page("text/html; charset=utf-8", body);
        route.chunked = chunked;
        if let Some(encoding) = encoding {
            route
                .headers
                .push(("content-encoding".into(), encoding.into()));
        }
        site.server.route("/list", route);
        let output = site.build(NOW);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let titles: Vec<String> = site.items().into_iter().map(|i| i.title).collect();
        assert_eq!(titles.len(), 10, "{name}: {titles:?}");
        assert!(
            titles.iter().any(|t| t == "台積電法說會前夕外資連三買"),
            "{name}: {titles:?}"
        );
    }
}
