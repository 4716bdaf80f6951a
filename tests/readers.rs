//! The feeds as real clients see them, served by `dateline serve`: newsboat reloads them and
//! its cache must hold every item with its title and date; headless Chromium renders the index
//! and the XSLT feed view, and leaves screenshots under target/screenshots.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use scraper::{Html, Selector};

const FIXTURES: [&str; 3] = ["cnyes-time-attr", "reuters-et", "kabutan-sjis"];

#[test]
fn newsboat_reads_every_item_with_its_title_and_date() {
    let Some(newsboat) = required_program("newsboat") else {
        return;
    };
    let (server, dir, picked) = build_fixture_site(&FIXTURES);
    let (serve, port) = start_serve(&dir.path().join("public"));
    for (name, case) in &picked {
        // One cache per feed: newsboat merges items with equal guids across feeds.
        let home = dir.path().join(format!("newsboat-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("urls"),
            format!("http://127.0.0.1:{port}/{name}.xml\n"),
        )
        .unwrap();
        std::fs::write(home.join("config"), "download-timeout 20\n").unwrap();
        let output = Command::new(&newsboat)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("XDG_DATA_HOME", &home)
            .args(["-x", "reload", "-u"])
            .arg(home.join("urls"))
            .arg("-c")
            .arg(home.join("cache.db"))
            .arg("-C")
            .arg(home.join("config"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: newsboat: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let cache = rusqlite::Connection::open(home.join("cache.db")).unwrap();
        let mut query = cache
            .prepare("SELECT title, url, pubDate FROM rss_item")
            .unwrap();
        let rows: Vec<(String, String, i64)> = query
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), case.expect.len(), "{name}: {rows:#?}");
        for want in &case.expect {
            let link = want.link.replace("{origin}", &server.origin);
            let got = rows
                .iter()
                .find(|(_, url, _)| *url == link)
                .unwrap_or_else(|| panic!("{name}: newsboat lacks {link}"));
            assert_eq!(got.0, want.title, "{name}: title");
            let date = chrono::DateTime::parse_from_rfc3339(want.date.as_deref().unwrap()).unwrap();
            assert_eq!(got.2, date.timestamp(), "{name}: {link} date");
        }
    }
    drop(serve);
}

/// Run headless Chromium on a URL: the DOM after scripts and XSLT, and what it logged.
fn chromium(
    program: &Path,
    profile: &Path,
    url: &str,
    screenshot: Option<&Path>,
) -> (String, String) {
    let mut command = Command::new(program);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    match screenshot {
        Some(path) => command
            .arg(format!("--screenshot={}", path.display()))
            .arg("--window-size=1280,1600"),
        None => command.arg("--dump-dom"),
    };
    let output = command.arg(url).output().unwrap();
    assert!(
        output.status.success(),
        "chromium {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("CONSOLE")
                && (l.contains("ERROR") || l.contains("Uncaught") || l.contains("Refused"))
        })
        .collect()
}

#[test]
fn chromium_shows_the_index_and_the_styled_feed() {
    let Some(program) = required_program("chromium") else {
        return;
    };
    let (_server, dir, picked) = build_fixture_site(&FIXTURES);
    let (serve, port) = start_serve(&dir.path().join("public"));
    let profile = dir.path().join("chromium-profile");
    let sel = |css: &str| Selector::parse(css).unwrap();

    let (dom, log) = chromium(
        &program,
        &profile,
        &format!("http://127.0.0.1:{port}/"),
        None,
    );
    let index = Html::parse_document(&dom);
    assert_eq!(
        index.select(&sel("section.feed")).count(),
        picked.len(),
        "{dom}"
    );
    for (name, case) in &picked {
        let section = index
            .select(&sel(&format!("#feed-{name}")))
            .next()
            .unwrap_or_else(|| panic!("{name} listed"));
        let headlines: Vec<String> = section
            .select(&sel("ol.latest a"))
            .map(|a| a.text().collect())
            .collect();
        assert_eq!(headlines.len(), 5, "{name}");
        assert!(
            headlines
                .iter()
                .all(|h| case.expect.iter().any(|e| &e.title == h)),
            "{name}: {headlines:?}"
        );
    }
    assert!(
        console_errors(&log).is_empty(),
        "console errors on the index: {:?}",
        console_errors(&log)
    );

    let (name, case) = &picked[0];
    let (dom, log) = chromium(
        &program,
        &profile,
        &format!("http://127.0.0.1:{port}/{name}.xml"),
        None,
    );
    let view = Html::parse_document(&dom);
    let hint: String = view
        .select(&sel("#feed-url"))
        .next()
        .expect("the XSLT view ran")
        .text()
        .collect();
    assert_eq!(hint, format!("https://feeds.example.com/sub/{name}.xml"));
    let titles: Vec<String> = view
        .select(&sel("ol.latest a"))
        .map(|a| a.text().collect())
        .collect();
    assert_eq!(titles.len(), case.expect.len());
    assert!(
        console_errors(&log).is_empty(),
        "console errors on the feed view: {:?}",
        console_errors(&log)
    );

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (page, file) in [
        (String::new(), "index.png"),
        (format!("{name}.atom"), "feed-view.png"),
    ] {
        let path = shots.join(file);
        let _ = std::fs::remove_file(&path);
        chromium(
            &program,
            &profile,
            &format!("http://127.0.0.1:{port}/{page}"),
            Some(&path),
        );
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{file}: {size} bytes");
    }
    drop(serve);
    std::thread::sleep(Duration::from_millis(10));
}
