//! Made for financial news: tickers and bylines in every format, article pages (Big5 and UTF-8)
//! read once for summaries, a merged feed over three portals with overlapping stories, filters,
//! and a ticker feed — all read back as readers parse them.

mod common;

use std::path::Path;

use common::*;

const NOW: &str = "2025-08-28T16:00:00+08:00";

/// A listing page: (time, href, headline, byline) rows.
fn listing(rows: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    let items: String = rows
        .iter()
        .map(|(time, href, title, byline)| {
            format!("<li><span class=\"t\">2025/8/28 {time}</span> <a href=\"{href}\">{title}</a> <em class=\"by\">{byline}</em></li>\n")
        })
        .collect();
    format!("<!doctype html><html><head><meta charset=\"utf-8\"></head><body><ul class=\"news\">{items}</ul></body></html>").into_bytes()
}

fn article_utf8(description: &str, author: &str, image: &str) -> Vec<u8> {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta property=\"og:description\" content=\"{description}\"><meta name=\"author\" content=\"{author}\"><meta property=\"og:image\" content=\"{image}\"></head><body><article><p>正文。</p></article></body></html>"
    )
    .into_bytes()
}

fn article_big5() -> Vec<u8> {
    // No description meta: the summary comes from the first paragraphs, the author from the
    // wire byline in them.
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\"><meta property=\"article:published_time\" content=\"2025-08-28T11:20:00+08:00\"></head><body><article><p>（中央社記者吳家豪台北28日電）聯發科（2454）今天宣布新一代旗艦晶片提前量產，法人預估第四季營收將季增個位數百分比。</p><p>第二段說明供應鏈與客戶需求的最新變化，市場持續關注。</p></article></body></html>";
    encoding_rs::BIG5.encode(html).0.into_owned()
}

fn feed(id: &str, url: &str, extra: &str) -> String {
    format!(
        "[[feeds]]\nid = \"{id}\"\ntitle = \"{id}\"\nurl = \"{url}\"\n{extra}\n[feeds.select]\nitem = \"ul.news > li\"\ndate = \"span.t\"\n\n"
    )
}

fn run(config: &Path, now: &str) {
    let output = dateline()
        .args(["--config", config.to_str().unwrap(), "build", "--now", now])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn tickers_bylines_and_article_summaries_reach_every_format() {
    let server = TestServer::start();
    server.route(
        "/list",
        Route::page(
            "text/html; charset=utf-8",
            listing(&[
                (
                    "15:48",
                    "/a/1",
                    "【財訊快報/陳孟朔】台積電(2330)法說會前夕外資連三買",
                    "",
                ),
                (
                    "14:30",
                    "/a/2",
                    "Nvidia (NASDAQ: NVDA) 財報優於預期 盤後走低",
                    "Reuters • 2 hours ago",
                ),
                ("00:00", "/a/3", "聯發科新晶片量產 法人上修目標價", ""),
                (
                    "13:05",
                    "/a/4",
                    "鴻海8月營收年增一成二",
                    "經濟日報／編譯葉亭均",
                ),
            ]),
        ),
    );
    server.route(
        "/a/1",
        Route::page(
            "text/html; charset=utf-8",
            article_utf8(
                "台積電今天召開法說會，外資連三買超。",
                "陳孟朔",
                "/img/tsmc.jpg",
            ),
        ),
    );
    server.route(
        "/a/2",
        Route::page(
            "text/html",
            article_utf8(
                "Nvidia beat estimates, shares slipped after hours.",
                "Jane Doe",
                "https://cdn.example.com/nvda.png",
            ),
        ),
    );
    server.route("/a/3", Route::page("text/html", article_big5()));
    // /a/4 is missing: its article fetch fails, and the feed does not.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &feed(
            "tw",
            &server.url("/list"),
            "fetch_articles = true\nsummary_chars = 60",
        ),
    );
    run(&config, NOW);

    let out = dir.path().join("public");
    let rss = std::fs::read_to_string(out.join("tw.xml")).unwrap();
    let (_, atom_items) = read_feed(&out.join("tw.atom"));
    let (rss_feed, _) = read_feed(&out.join("tw.xml"));
    assert_eq!(atom_items.len(), 4);
    let by_link = |feed: &feed_rs::model::Feed, path: &str| {
        feed.entries
            .iter()
            .find(|e| e.links.first().is_some_and(|l| l.href.ends_with(path)))
            .cloned()
            .unwrap_or_else(|| panic!("no {path}"))
    };
    let (atom_feed, _) = read_feed(&out.join("tw.atom"));
    for feed in [&rss_feed, &atom_feed] {
        let tsmc = by_link(feed, "/a/1");
        assert!(
            tsmc.categories.iter().any(|c| c.term == "TWSE:2330"),
            "{:?}",
            tsmc.categories
        );
        assert_eq!(
            tsmc.authors.first().and_then(|a| a.name.as_deref()),
            Some("陳孟朔 (財訊快報)")
        );
        assert_eq!(
            tsmc.summary.as_ref().map(|s| s.content.as_str()),
            Some("台積電今天召開法說會，外資連三買超。")
        );
        let nvda = by_link(feed, "/a/2");
        assert!(nvda.categories.iter().any(|c| c.term == "NASDAQ:NVDA"));
        assert_eq!(
            nvda.authors.first().and_then(|a| a.name.as_deref()),
            Some("Jane Doe (Reuters)")
        );
        // The Big5 article: summary from its paragraphs (cut to 60 characters), the author from
        // the wire byline, the ticker from the summary, and its exact time instead of midnight.
        let mtk = by_link(feed, "/a/3");
        let summary = mtk.summary.as_ref().unwrap().content.clone();
        assert!(
            summary.starts_with("（中央社記者吳家豪台北28日電）聯發科（2454）")
                && summary.ends_with('…'),
            "{summary}"
        );
        assert_eq!(
            mtk.authors.first().and_then(|a| a.name.as_deref()),
            Some("吳家豪")
        );
        assert!(mtk.categories.iter().any(|c| c.term == "TWSE:2454"));
        assert_eq!(
            mtk.published.unwrap().to_rfc3339(),
            "2025-08-28T03:20:00+00:00"
        );
        let foxconn = by_link(feed, "/a/4");
        assert_eq!(
            foxconn.authors.first().and_then(|a| a.name.as_deref()),
            Some("葉亭均 (經濟日報)")
        );
        assert!(foxconn.summary.is_none());
    }
    assert!(
        rss.contains("<dc:creator>陳孟朔 (財訊快報)</dc:creator>"),
        "{rss}"
    );
    assert!(
        rss.contains(&format!(
            "<enclosure url=\"{}/img/tsmc.jpg\"",
            server.origin
        )),
        "{rss}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("tw.json")).unwrap()).unwrap();
    let first = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"].as_str().unwrap().ends_with("/a/1"))
        .unwrap();
    assert_eq!(first["tags"][0], "TWSE:2330");
    assert_eq!(first["authors"][0]["name"], "陳孟朔 (財訊快報)");
    assert_eq!(first["summary"], "台積電今天召開法說會，外資連三買超。");
    assert_eq!(first["image"], format!("{}/img/tsmc.jpg", server.origin));

    // An article is fetched once, not on every run.
    let fetched = |path: &str| server.seen().iter().filter(|s| s.path == path).count();
    let before = (fetched("/a/1"), fetched("/a/4"));
    run(&config, "2025-08-28T16:10:00+08:00");
    assert_eq!((fetched("/a/1"), fetched("/a/4")), before);
    assert_eq!(before, (1, 1));

    keep_for_ci(
        "finance-enriched",
        &out,
        &serde_json::json!({
            "items": [{"title": "【財訊快報/陳孟朔】台積電(2330)法說會前夕外資連三買", "link": server.url("/a/1"), "date": "2025-08-28T15:48:00+08:00",
                       "categories": ["TWSE:2330"], "author": "陳孟朔 (財訊快報)", "summary": "台積電今天召開法說會，外資連三買超。"}],
        }),
    );
}

#[test]
fn a_merged_feed_shows_a_syndicated_story_once_with_every_source() {
    let server = TestServer::start();
    // The same 中央社 wire copy on three portals: A and C link the same article, B has its own
    // link and prints the title with different punctuation, an hour earlier.
    server.route(
        "/a",
        Route::page(
            "text/html",
            listing(&[
                (
                    "15:48",
                    "https://www.cna.example/news/1.aspx",
                    "台積電(2330)法說會前夕 外資連三買",
                    "中央社",
                ),
                ("14:00", "/a/only", "A 獨家：半導體設備股受惠擴產", ""),
                ("11:00", "/a/more", "A 另一則：金管會擬放寬投資限制", ""),
            ]),
        ),
    );
    server.route(
        "/b",
        Route::page(
            "text/html",
            listing(&[
                (
                    "14:48",
                    "/b/wire-1",
                    "台積電（2330）法說會前夕，外資連三買",
                    "",
                ),
                ("13:00", "/b/only", "B 獨家：航運股集體走揚長榮大漲", ""),
                ("10:00", "/b/more", "B 另一則：新台幣盤中升破三十元", ""),
            ]),
        ),
    );
    server.route(
        "/c",
        Route::page(
            "text/html",
            listing(&[
                (
                    "16:00",
                    "https://www.cna.example/news/1.aspx",
                    "台積電(2330)法說會前夕 外資連三買",
                    "",
                ),
                ("12:00", "/c/only", "C 獨家：央行理監事會維持利率不變", ""),
                ("09:00", "/c/more", "C 另一則：美債殖利率走低壽險受惠", ""),
            ]),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}{}[[feeds]]\nid = \"all\"\ntitle = \"三家合併\"\nsources = [\"a\", \"b\", \"{}\"]\n\n[[feeds]]\nid = \"chips\"\ntitle = \"只看半導體\"\nsources = [\"a\", \"b\"]\ninclude = [\"半導體|台積電\"]\nexclude = [\"設備\"]\n\n[[feeds]]\nid = \"tsmc-only\"\nsources = [\"a\", \"b\"]\ntickers = [\"TWSE:2330\"]\n\n[[tickers]]\nsymbol = \"TWSE:2330\"\ntitle = \"台積電\"\n",
        feed("a", &server.url("/a"), ""),
        feed("b", &server.url("/b"), ""),
        server.url("/c"),
    );
    let config = write_config(dir.path(), &text);
    run(&config, NOW);
    let out = dir.path().join("public");

    let (merged, items) = read_feed(&out.join("all.atom"));
    assert_eq!(items.len(), 7, "{items:#?}");
    let wire: Vec<_> = merged
        .entries
        .iter()
        .filter(|e| e.title.as_ref().unwrap().content.contains("外資連三買"))
        .collect();
    assert_eq!(wire.len(), 1, "the wire story appears once");
    assert_eq!(
        wire[0].published.unwrap().to_rfc3339(),
        "2025-08-28T06:48:00+00:00",
        "with its earliest date (B's)"
    );
    let sources: Vec<&str> = wire[0]
        .categories
        .iter()
        .filter_map(|c| c.term.strip_prefix("source:"))
        .collect();
    // A URL source is named by its host, not by the merged feed.
    assert_eq!(sources, ["a", "b", "127.0.0.1"], "every source listed");
    assert!(
        !out.join("all.src2.xml").exists(),
        "a URL source is not published on its own"
    );

    let (_, chips) = read_feed(&out.join("chips.atom"));
    let titles: Vec<&str> = chips.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles.len(), 1, "{titles:?}");
    assert!(titles[0].contains("台積電"));

    let (_, tsmc) = read_feed(&out.join("tsmc-only.atom"));
    assert_eq!(tsmc.len(), 1);

    let (_, ticker) = read_feed(&out.join("ticker-twse-2330.xml"));
    assert_eq!(
        ticker.len(),
        1,
        "the ticker feed merges the copies too: {ticker:#?}"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("ticker-twse-2330.xml") && index.contains("all.xml"));
    assert!(!index.contains("all.src2"), "hidden sources are not listed");
}

#[test]
fn merged_feed_config_problems_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[feeds]]\nid = \"a\"\nurl = \"https://e.example/a\"\nmax_age_days = 100000000\n\n[[feeds]]\nid = \"m\"\nsources = [\"a\", \"nope\"]\ninclude = [\"(\"]\n\n[[feeds]]\nid = \"n\"\nsources = [\"m\"]\n\n[[tickers]]\nsymbol = \"2330\"\n\n[[tickers]]\nsymbol = \"TWSE:2330\"\n\n[[tickers]]\nsymbol = \"twse:2330\"\n",
    );
    let output = dateline()
        .args(["--config", config.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for want in [
        "tickers[2].symbol: TWSE:2330 is listed twice",
        "feeds[0].max_age_days: must be at most 36500",
        "feeds[1].sources: no feed with id \"nope\"",
        "feeds[1].include: bad regular expression",
        "feeds[2].sources: \"m\" is itself a merged feed",
        "tickers[0].symbol: \"2330\" is not a symbol",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in {stderr}");
    }
}

#[test]
fn an_article_that_failed_for_a_while_is_read_on_a_later_run() {
    let server = TestServer::start();
    server.route(
        "/list",
        Route::page(
            "text/html",
            listing(&[
                ("15:48", "/a/1", "台積電法說會前夕外資連三買", ""),
                ("14:48", "/a/2", "鴻海八月營收年增一成二", ""),
                ("13:48", "/a/3", "聯發科新晶片量產法人上修", ""),
            ]),
        ),
    );
    let ok = Route::page(
        "text/html",
        article_utf8("第二次才讀到的摘要。", "記者甲", "/img/a.jpg"),
    );
    // Three 503s: the first run's try and two retries.
    server.sequence(
        "/a/1",
        vec![
            Route::status(503),
            Route::status(503),
            Route::status(503),
            ok,
        ],
    );
    for path in ["/a/2", "/a/3"] {
        server.route(path, Route::status(404));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &feed("tw", &server.url("/list"), "fetch_articles = true"),
    );
    run(&config, NOW);
    let summary = |dir: &Path| {
        let (feed, _) = read_feed(&dir.join("public/tw.atom"));
        feed.entries
            .iter()
            .find(|e| e.links[0].href.ends_with("/a/1"))
            .and_then(|e| e.summary.as_ref().map(|s| s.content.clone()))
    };
    assert_eq!(summary(dir.path()), None);
    run(&config, "2025-08-28T16:10:00+08:00");
    assert_eq!(summary(dir.path()).as_deref(), Some("第二次才讀到的摘要。"));
    // A 404 is final: read once, not again.
    assert_eq!(server.seen().iter().filter(|s| s.path == "/a/2").count(), 1);
}

/// Every file under `from`, copied to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_merged_feed_turned_listing_starts_alike_in_a_whole_run_and_alone() {
    let server = TestServer::start();
    for (path, prefix) in [("/a", "A"), ("/b", "B"), ("/d", "D")] {
        server.route(
            path,
            Route::page(
                "text/html",
                listing(&[
                    (
                        "15:00",
                        &format!("{path}/1"),
                        &format!("{prefix} 第一則：台股收盤"),
                        "",
                    ),
                    (
                        "11:00",
                        &format!("{path}/2"),
                        &format!("{prefix} 第二則：匯市午盤"),
                        "",
                    ),
                ]),
            ),
        );
    }
    let sources = format!(
        "{}{}",
        feed("a", &server.url("/a"), ""),
        feed("b", &server.url("/b"), "")
    );
    let first = tempfile::tempdir().unwrap();
    let config = write_config(
        first.path(),
        &format!("{sources}[[feeds]]\nid = \"digest\"\nsources = [\"a\", \"b\"]\n"),
    );
    run(&config, NOW);
    let (_, merged) = read_feed(&first.path().join("public/digest.atom"));
    assert_eq!(merged.len(), 4);

    // The same id, now a listing of its own: what a whole run and `--only digest` make of its
    // start (the files it published as a merged feed, no items of its own) must agree.
    let alone = tempfile::tempdir().unwrap();
    copy_tree(first.path(), alone.path());
    let listing_digest = format!("{sources}{}", feed("digest", &server.url("/d"), ""));
    let mut links = Vec::new();
    for (dir, only) in [(first.path(), None), (alone.path(), Some("digest"))] {
        let config = write_config(dir, &listing_digest);
        let mut args = vec!["--config", config.to_str().unwrap(), "build", "--now", NOW];
        args.extend(only.map(|id| ["--only", id]).into_iter().flatten());
        let output = dateline().args(&args).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (_, items) = read_feed(&dir.join("public/digest.atom"));
        let mut these: Vec<String> = items.into_iter().filter_map(|item| item.link).collect();
        these.sort();
        assert!(these.iter().any(|link| link.ends_with("/d/1")), "{these:?}");
        links.push(these);
    }
    assert_eq!(links[0], links[1]);
}
