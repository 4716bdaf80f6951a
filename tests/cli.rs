//! The command line as operators use it: exit codes, what goes to stderr, and that a failing
//! feed never costs the files already published.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const NOW: &str = "2025-08-28T16:00:00+08:00";

fn listing(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let items: String = rows
        .iter()
        .map(|(date, href, title)| {
            format!("<li><span class=\"t\">{date}</span> <a href=\"{href}\">{title}</a></li>\n")
        })
        .collect();
    format!("<!doctype html><html><head><meta charset=\"utf-8\"><title>即時新聞</title></head><body><nav><a href=\"/\">首頁</a></nav><ul class=\"news\">{items}</ul></body></html>").into_bytes()
}

fn feed(id: &str, url: &str) -> String {
    format!(
        "[[feeds]]\nid = \"{id}\"\nurl = \"{url}\"\n[feeds.select]\nitem = \"ul.news > li\"\ndate = \"span.t\"\n\n"
    )
}

fn run(config: &Path, args: &[&str]) -> std::process::Output {
    dateline()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn good_page() -> Vec<u8> {
    listing(&[
        ("2025/8/28 15:48", "/n/1", "英特爾獲美資挹注仍難提振信評"),
        ("2025/8/28 14:30", "/n/2", "台積電法說會前夕外資連三買"),
    ])
}

/// A server with the good page and a config of one feed reading it, built once.
fn built_good_feed() -> (TestServer, tempfile::TempDir, PathBuf) {
    let server = TestServer::start();
    server.route("/good", Route::page("text/html", good_page()));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feed("good", &server.url("/good")));
    let first = run(&config, &["build", "--now", NOW]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    (server, dir, config)
}

#[test]
fn check_reports_every_problem_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[feeds]]\nid = \"../x\"\nurl = \"https://example.com/a\"\ntimezone = \"Mars/Olympus\"\n\n[[feeds]]\nid = \"b\"\nurl = \"https://example.com/b\"\nselectors = 1\n[feeds.select]\nitem = \"ul >\"\n",
    );
    let output = run(&config, &["check"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = config.display().to_string();
    for expected in [
        format!("{shown}:11: feeds[0].id: \"../x\" is not a safe id"),
        format!("{shown}:13: feeds[0].timezone: unknown time zone \"Mars/Olympus\""),
        format!("{shown}:18: feeds[1].selectors: unknown key `selectors`"),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(stderr.contains(&format!("{shown}:20: feeds[1].select.item: bad selector \"ul >\": not valid CSS (DanglingCombinator)")), "{stderr}");
    assert!(stderr.contains("4 problems"), "{stderr}");
}

#[test]
fn check_accepts_the_shipped_configs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for config in ["config.toml", "examples/offline.toml"] {
        let output = run(&root.join(config), &["check"]);
        assert!(
            output.status.success(),
            "{config}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("ok"));
    }
}

#[test]
fn a_failing_feed_keeps_its_files_and_the_others_are_written() {
    let server = TestServer::start();
    server.route(
        "/good",
        Route::page("text/html; charset=utf-8", good_page()),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            feed("good", &server.url("/good")),
            feed("broken", &server.url("/gone"))
        ),
    );
    let out = dir.path().join("public");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("broken.xml"), b"<rss>earlier</rss>").unwrap();
    std::fs::write(out.join("broken.atom"), b"<feed>earlier</feed>").unwrap();

    let output = run(&config, &["build", "--now", NOW]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line per failed feed: {stderr}");
    assert!(
        lines[0].starts_with("error: feed broken: fetching http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(lines[0].contains("HTTP 404 Not Found"), "{stderr}");
    assert_eq!(
        std::fs::read(out.join("broken.xml")).unwrap(),
        b"<rss>earlier</rss>"
    );
    assert_eq!(
        std::fs::read(out.join("broken.atom")).unwrap(),
        b"<feed>earlier</feed>"
    );
    let (_, items) = read_feed(&out.join("good.xml"));
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].title, "英特爾獲美資挹注仍難提振信評");
}

#[test]
fn same_pages_and_clock_give_the_same_bytes_and_leave_files_alone() {
    let (_server, dir, config) = built_good_feed();
    let out = dir.path().join("public");
    let first: Vec<(Vec<u8>, std::time::SystemTime)> = ["good.xml", "good.atom"]
        .iter()
        .map(|f| {
            (
                std::fs::read(out.join(f)).unwrap(),
                std::fs::metadata(out.join(f)).unwrap().modified().unwrap(),
            )
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(run(&config, &["build", "--now", NOW]).status.success());
    for (f, (bytes, mtime)) in ["good.xml", "good.atom"].iter().zip(first) {
        assert_eq!(std::fs::read(out.join(f)).unwrap(), bytes, "{f} changed");
        assert_eq!(
            std::fs::metadata(out.join(f)).unwrap().modified().unwrap(),
            mtime,
            "{f} rewritten"
        );
    }
}

#[test]
fn an_edited_config_takes_effect_at_the_next_run() {
    let (_server, dir, config) = built_good_feed();
    let out = dir.path().join("public");
    // The run kept its checked config; the next run with the same text takes it.
    assert!(dir.path().join(".dateline/config.toml.checked").is_file());
    assert!(run(&config, &["build", "--now", NOW]).status.success());

    let text = std::fs::read_to_string(&config).unwrap();
    let titled = text.replace("id = \"good\"\n", "id = \"good\"\ntitle = \"改過的標題\"\n");
    std::fs::write(&config, &titled).unwrap();
    assert!(run(&config, &["build", "--now", NOW]).status.success());
    let (feed, _) = read_feed(&out.join("good.atom"));
    assert_eq!(feed.title.unwrap().content, "改過的標題");

    // A broken edit is reported as such, not hidden behind the config checked before it.
    std::fs::write(
        &config,
        titled.replace("timeout_secs = 5", "timeout_secs = \"5\""),
    )
    .unwrap();
    let broken = run(&config, &["build", "--now", NOW]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("timeout_secs"), "{stderr}");
    let (feed, _) = read_feed(&out.join("good.atom"));
    assert_eq!(
        feed.title.unwrap().content,
        "改過的標題",
        "published files stay"
    );
}

#[test]
fn a_page_without_items_is_an_error_not_an_empty_feed() {
    let server = TestServer::start();
    server.route(
        "/empty",
        Route::page(
            "text/html",
            b"<html><body><ul class=\"other\"><li>nothing</li></ul></body></html>".to_vec(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feed("empty", &server.url("/empty")));
    let output = run(&config, &["build", "--now", NOW]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: feed empty: no dated headlines found on http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ul.news > li"),
        "the message names the selector: {stderr}"
    );
    assert!(!dir.path().join("public/empty.xml").exists());
}

#[test]
fn non_html_and_oversized_bodies_are_refused() {
    let server = TestServer::start();
    server.route("/pdf", Route::page("application/pdf", b"%PDF-1.7".to_vec()));
    let mut big = good_page();
    big.extend(std::iter::repeat_n(b' ', 200_000));
    server.route("/big", Route::page("text/html", big));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            feed("pdf", &server.url("/pdf")),
            feed("big", &server.url("/big"))
                .replace("[feeds.select]", "max_body_bytes = 100000\n[feeds.select]")
        ),
    );
    let output = run(&config, &["build", "--now", NOW]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: feed pdf: fetching")
            && stderr.contains("not a web page: content type \"application/pdf\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: feed big: fetching")
            && stderr.contains("larger than the 100000-byte cap"),
        "{stderr}"
    );
}

#[test]
fn an_unwritable_output_folder_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feed("good", "https://example.invalid/"));
    std::fs::write(dir.path().join("blocker"), b"a file").unwrap();
    let output = run(
        &config,
        &[
            "build",
            "--out",
            dir.path().join("blocker/public").to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("output folder"), "{stderr}");
    // The cause is said once.
    assert_eq!(stderr.matches("Not a directory").count(), 1, "{stderr}");
}

#[test]
fn only_builds_the_named_feeds_and_rejects_unknown_ids() {
    let server = TestServer::start();
    server.route("/good", Route::page("text/html", good_page()));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            feed("good", &server.url("/good")),
            feed("other", &server.url("/other"))
        ),
    );
    let output = run(&config, &["build", "--only", "good", "--now", NOW]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("public/good.xml").exists());
    assert!(!dir.path().join("public/other.xml").exists());
    let output = run(&config, &["build", "--only", "nope"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no feed with id \"nope\""));
}

#[test]
fn requests_carry_a_versioned_user_agent() {
    let (server, _dir, _config) = built_good_feed();
    let seen = server.seen();
    let agent = seen[0].headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(
        agent.starts_with(&format!("dateline/{}", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
    let encodings = seen[0]
        .headers
        .get("accept-encoding")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        encodings.contains("gzip") && encodings.contains("br"),
        "{encodings}"
    );
}

#[test]
fn the_offline_example_builds_without_network() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        &root.join("examples/offline.toml"),
        &["build", "--out", dir.path().to_str().unwrap(), "--now", NOW],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let feeds: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
        .collect();
    assert!(feeds.len() >= 3, "{} feeds", feeds.len());
    for feed in feeds {
        let (_, items) = read_feed(&feed.path());
        assert!(
            items.len() >= 5,
            "{}: {} items",
            feed.path().display(),
            items.len()
        );
        assert!(items.iter().all(|i| i.date.is_some()));
    }
}

#[test]
fn auto_mode_that_finds_nothing_fails_the_feed_with_a_reason() {
    let server = TestServer::start();
    server.route(
        "/about",
        Route::page(
            "text/html",
            "<html><body><nav><a href=\"/\">首頁</a><a href=\"/tw\">台股</a></nav><article><h1>關於我們</h1><p>本站成立於2001年8月28日。</p></article></body></html>".as_bytes().to_vec(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[feeds]]\nid = \"about\"\nurl = \"{}\"\n",
            server.url("/about")
        ),
    );
    let output = run(&config, &["build", "--now", NOW]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: feed about: no dated headlines found on http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("public/about.xml").exists(),
        "no empty feed is written"
    );
}

#[test]
fn a_date_format_that_fits_no_item_is_said_and_a_date_read_later_replaces_the_stand_in() {
    let server = TestServer::start();
    server.route("/list", Route::page("text/html", good_page()));
    let dir = tempfile::tempdir().unwrap();
    let wrong = format!(
        "{}date_format = \"%Y-%m-%d %H:%M\"\n",
        feed("f", &server.url("/list"))
    );
    let config = write_config(dir.path(), &wrong);
    let first = run(&config, &["build", "--now", NOW]);
    assert_eq!(first.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("feed f") && stderr.contains("read no date in any of the 2 items"),
        "{stderr}"
    );
    let (_, items) = read_feed(&dir.path().join("public/f.atom"));
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    assert!(items.iter().all(|i| i.date == Some(now)), "{items:?}");

    // The format fixed: the items take their dates, and nothing is said.
    let config = write_config(dir.path(), &feed("f", &server.url("/list")));
    let second = run(&config, &["build", "--now", "2025-08-28T16:05:00+08:00"]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        second.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let (_, items) = read_feed(&dir.path().join("public/f.atom"));
    let dates: Vec<String> = items
        .iter()
        .map(|i| i.written_date.unwrap().to_rfc3339())
        .collect();
    assert_eq!(
        dates,
        ["2025-08-28T15:48:00+08:00", "2025-08-28T14:30:00+08:00"]
    );
}
