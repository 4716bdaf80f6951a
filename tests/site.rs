//! What lands on the static host: JSON Feed, index.html, feeds.opml, the styled feed view, and
//! `dateline serve` with its types, ETags and refusal to leave the folder.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use scraper::{Html, Selector};

fn built_site() -> (TestServer, tempfile::TempDir, Vec<(String, Case)>) {
    build_fixture_site(&["cnyes-time-attr", "reuters-et", "kabutan-sjis"])
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

#[test]
fn json_feed_index_and_opml_describe_every_feed() {
    let (server, dir, picked) = built_site();
    let out = dir.path().join("public");

    for (name, case) in &picked {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(format!("{name}.json"))).unwrap())
                .unwrap();
        assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(
            json["feed_url"],
            format!("https://feeds.example.com/sub/{name}.json")
        );
        assert_eq!(json["home_page_url"], server.url(&case.path));
        let items = json["items"].as_array().unwrap();
        assert_eq!(items.len(), case.expect.len(), "{name}");
        for want in &case.expect {
            let link = want.link.replace("{origin}", &server.origin);
            let got = items
                .iter()
                .find(|i| i["url"] == link.as_str())
                .unwrap_or_else(|| panic!("{name}: {link}"));
            assert_eq!(got["title"], want.title.as_str());
            let got_date =
                chrono::DateTime::parse_from_rfc3339(got["date_published"].as_str().unwrap())
                    .unwrap();
            let want_date =
                chrono::DateTime::parse_from_rfc3339(want.date.as_deref().unwrap()).unwrap();
            assert_eq!(got_date, want_date);
            assert_eq!(got_date.offset(), want_date.offset(), "the zone's offset");
        }
    }

    let index = Html::parse_document(&std::fs::read_to_string(out.join("index.html")).unwrap());
    let sections: Vec<_> = index.select(&sel("section.feed")).collect();
    assert_eq!(sections.len(), picked.len());
    for (name, case) in &picked {
        let section = index
            .select(&sel(&format!("section#feed-{name}")))
            .next()
            .unwrap_or_else(|| panic!("{name} listed"));
        let links: Vec<&str> = section
            .select(&sel(".subscribe a"))
            .filter_map(|a| a.value().attr("href"))
            .collect();
        assert_eq!(
            links,
            [
                format!("{name}.xml"),
                format!("{name}.atom"),
                format!("{name}.json")
            ],
            "relative subscribe links"
        );
        let latest: Vec<String> = section
            .select(&sel("ol.latest li a"))
            .map(|a| a.text().collect())
            .collect();
        assert_eq!(latest.len(), 5);
        assert!(
            case.expect.iter().any(|e| e.title == latest[0]),
            "{name}: {latest:?}"
        );
        assert!(
            section.select(&sel("svg rect")).count() >= 1,
            "{name}: chart has bars"
        );
        assert!(section.select(&sel(".health .ok")).next().is_some());
        // A healthy feed shows OK; it does not claim it never succeeded.
        let text: String = section.text().collect();
        assert!(!text.contains("never"), "{name}: {text}");
        let source = section.select(&sel(".source a")).next().unwrap();
        assert_eq!(
            source.value().attr("href"),
            Some(server.url(&case.path).as_str())
        );
    }
    let alternates = index
        .select(&sel("link[rel=alternate][type='application/rss+xml']"))
        .count();
    assert_eq!(alternates, picked.len());
    // No external assets, no inline styles or scripts: works offline and under a strict CSP.
    assert_eq!(index.select(&sel("script, [style], style, img")).count(), 0);
    for el in index.select(&sel("link[href]")) {
        assert!(
            !el.value().attr("href").unwrap().contains("://"),
            "external asset {:?}",
            el.value()
        );
    }
    assert!(out.join("dateline.css").exists() && out.join("feed.xsl").exists());

    let opml_text = std::fs::read_to_string(out.join("feeds.opml")).unwrap();
    let opml = roxmltree::Document::parse(&opml_text).unwrap();
    assert_eq!(opml.root_element().attribute("version"), Some("2.0"));
    let outlines: Vec<_> = opml
        .descendants()
        .filter(|n| n.has_tag_name("outline"))
        .collect();
    assert_eq!(outlines.len(), picked.len());
    for ((name, case), outline) in picked.iter().zip(&outlines) {
        assert_eq!(
            outline.attribute("xmlUrl"),
            Some(format!("https://feeds.example.com/sub/{name}.xml").as_str())
        );
        assert_eq!(
            outline.attribute("htmlUrl"),
            Some(server.url(&case.path).as_str())
        );
        assert_eq!(outline.attribute("type"), Some("rss"));
    }
}

#[test]
fn feeds_reference_the_stylesheet_and_it_is_valid_xslt() {
    let (_server, dir, picked) = built_site();
    let out = dir.path().join("public");
    for (name, _) in &picked {
        for ext in ["xml", "atom"] {
            let text = std::fs::read_to_string(out.join(format!("{name}.{ext}"))).unwrap();
            assert!(
                text.contains("<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>"),
                "{name}.{ext}"
            );
        }
    }
    let xsl = std::fs::read_to_string(out.join("feed.xsl")).unwrap();
    let doc = roxmltree::Document::parse(&xsl).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "stylesheet");
    assert!(xsl.contains("copy this URL into your feed reader"));
}

#[test]
fn templates_next_to_the_config_override_the_defaults() {
    let server = TestServer::start();
    let (_, case, page) = cases("select")
        .into_iter()
        .find(|(n, _, _)| n == "reuters-et")
        .unwrap();
    server.route(&case.path, Route::page(&case.content_type, page));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feed_entry("reuters", &server, &case));
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/index.html"),
        "<!doctype html><title>{{ site.title }}</title>{% for feed in feeds %}<p class=mine>{{ feed.title }}: {{ feed.item_count }}</p>{% endfor %}",
    )
    .unwrap();
    let output = dateline()
        .args([
            "--config",
            config.to_str().unwrap(),
            "build",
            "--now",
            &case.now,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let index = std::fs::read_to_string(dir.path().join("public/index.html")).unwrap();
    assert!(index.contains("<p class=mine>reuters: 15</p>"), "{index}");
    // The others keep their defaults.
    assert!(
        std::fs::read_to_string(dir.path().join("public/feeds.opml"))
            .unwrap()
            .contains("<opml version=\"2.0\">")
    );

    // A broken template is reported, and the feeds are still written.
    std::fs::write(dir.path().join("templates/index.html"), "{% for x in %}").unwrap();
    let output = dateline()
        .args([
            "--config",
            config.to_str().unwrap(),
            "build",
            "--now",
            &case.now,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("error: site files: template index.html")
    );
}

/// One raw HTTP/1.1 exchange, so that paths reach the server exactly as written.
fn raw_get(port: u16, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

#[test]
fn serve_gives_types_etags_and_nothing_outside_the_folder() {
    let (_server, dir, picked) = built_site();
    let out = dir.path().join("public");
    std::fs::write(dir.path().join("secret.txt"), "do not serve").unwrap();
    let (child, port) = start_serve(&out);
    let name = &picked[0].0;
    for (path, kind) in [
        ("/".to_string(), "text/html"),
        ("/index.html".to_string(), "text/html"),
        (format!("/{name}.xml"), "application/rss+xml"),
        (format!("/{name}.atom"), "application/atom+xml"),
        (format!("/{name}.json"), "application/feed+json"),
        ("/feeds.opml".to_string(), "text/x-opml"),
        ("/feed.xsl".to_string(), "text/xsl"),
        ("/dateline.css".to_string(), "text/css"),
    ] {
        let (status, head, body) = raw_get(port, &path, "");
        assert_eq!(status, 200, "{path}");
        assert!(
            header(&head, "content-type").unwrap().starts_with(kind),
            "{path}: {head}"
        );
        assert!(!body.is_empty());
        let etag = header(&head, "etag").unwrap().to_string();
        let (again, head, body) = raw_get(port, &path, &format!("If-None-Match: {etag}\r\n"));
        assert_eq!(again, 304, "{path}: {head}");
        assert!(body.is_empty());
    }
    for escape in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/etc/passwd",
        "/missing.xml",
    ] {
        let (status, _, body) = raw_get(port, escape, "");
        assert_eq!(status, 404, "{escape}");
        assert!(!String::from_utf8_lossy(&body).contains("do not serve"));
    }
    drop(child);
}

/// The index is rendered beside the feeds when it will be rendered at all (a first run, or from
/// the first feed that changes), each feed's part once that feed is done. Rendered after the
/// feeds instead, from the same state, it is the same file.
#[test]
fn the_index_rendered_beside_the_feeds_is_the_one_rendered_after_them() {
    let (server, dir, picked) = built_site();
    let out = dir.path().join("public");
    let config = dir.path().join("config.toml");
    let build = |now: &str| {
        let output = dateline()
            .args([
                "-vv",
                "--config",
                config.to_str().unwrap(),
                "build",
                "--now",
                now,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    const BESIDE: &str = "site files rendered beside the feeds";

    // A headline of one feed is retitled: that feed changes, the others are as they were.
    let (name, case) = picked
        .iter()
        .find(|(_, case)| case.content_type.contains("utf-8"))
        .expect("a UTF-8 fixture");
    let page = std::fs::read_to_string(fixtures_dir().join("select").join(name).join("page.html"))
        .unwrap();
    let old_title = &case.expect[0].title;
    assert!(
        page.contains(old_title.as_str()),
        "{name}: the title as written"
    );
    let new_title = format!("{old_title}（更新）");
    server.route(
        &case.path,
        Route::page(
            &case.content_type,
            page.replace(old_title.as_str(), &new_title).into_bytes(),
        ),
    );
    let later = "2025-08-28T16:10:00+08:00";
    let log = build(later);
    assert!(log.contains(BESIDE), "the change started the render: {log}");
    let beside = std::fs::read(out.join("index.html")).unwrap();
    let shown = String::from_utf8_lossy(&beside);
    assert!(
        shown.contains(&new_title),
        "{name}: the retitled headline is on the index"
    );

    // The same state again, with the index gone: nothing changes, so it is rendered at the end.
    std::fs::remove_file(out.join("index.html")).unwrap();
    let log = build(later);
    assert!(!log.contains(BESIDE), "no feed changed: {log}");
    let after = std::fs::read(out.join("index.html")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&beside),
        String::from_utf8_lossy(&after),
        "the same index either way"
    );
}

#[test]
fn a_feed_never_built_is_listed_with_its_health_but_offers_no_subscription() {
    let server = TestServer::start();
    let (name, case, page) = cases("select")
        .into_iter()
        .find(|(name, ..)| name == "reuters-et")
        .unwrap();
    server.route(&case.path, Route::page(&case.content_type, page));
    server.route("/gone", Route::status(404));
    let dead = format!(
        "[[feeds]]\nid = \"dead\"\ntitle = \"dead\"\nurl = \"{}\"\n",
        server.url("/gone")
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("{}\n{dead}", feed_entry(&name, &server, &case)),
    );
    let output = dateline()
        .args(["--config", config.to_str().unwrap(), "build"])
        .args(["--now", "2025-08-28T16:00:00+08:00"])
        .output()
        .unwrap();
    // The dead feed fails the run's status, the other one is built.
    assert_eq!(output.status.code(), Some(2));
    let out = dir.path().join("public");
    assert!(out.join("reuters-et.xml").exists() && !out.join("dead.xml").exists());

    let opml_text = std::fs::read_to_string(out.join("feeds.opml")).unwrap();
    let opml = roxmltree::Document::parse(&opml_text).unwrap();
    let listed: Vec<&str> = opml
        .descendants()
        .filter(|n| n.has_tag_name("outline"))
        .filter_map(|n| n.attribute("xmlUrl"))
        .collect();
    assert_eq!(listed, ["https://feeds.example.com/sub/reuters-et.xml"]);

    let index = Html::parse_document(&std::fs::read_to_string(out.join("index.html")).unwrap());
    let buttons: Vec<&str> = index
        .select(&sel(".subscribe a"))
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(
        buttons,
        ["reuters-et.xml", "reuters-et.atom", "reuters-et.json"]
    );
    // Its health is still shown.
    assert!(index.root_element().text().any(|t| t.contains("dead")));
}
