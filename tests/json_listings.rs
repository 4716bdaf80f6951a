//! Listings that arrive as JSON — an API response, `__NEXT_DATA__`, `window.__INITIAL_STATE__`,
//! an `ld+json` ItemList — served locally, read in `[feeds.json]` mode and in auto mode; and bad
//! JSON, wrong paths, wrong shapes and oversized bodies failing the feed with a clear line while
//! its published files stay.

mod common;

use chrono::DateTime;
use common::*;

const NOW: &str = "2025-08-28T16:00:00+08:00";

fn expected(case: &Case, server: &TestServer) -> Vec<(String, String, i64)> {
    case.expect
        .iter()
        .map(|e| {
            let date = DateTime::parse_from_rfc3339(e.date.as_deref().unwrap()).unwrap();
            (
                e.link.replace("{origin}", &server.origin),
                e.title.clone(),
                date.timestamp(),
            )
        })
        .collect()
}

fn built(dir: &std::path::Path, id: &str) -> Vec<(String, String, i64)> {
    let (_, items) = read_feed(&dir.join(format!("public/{id}.atom")));
    items
        .into_iter()
        .map(|i| {
            (
                i.link.unwrap_or_default(),
                i.title,
                i.date.unwrap().timestamp(),
            )
        })
        .collect()
}

fn build(config: &std::path::Path, now: &str) -> std::process::Output {
    dateline()
        .args(["--config", config.to_str().unwrap(), "build", "--now", now])
        .output()
        .unwrap()
}

#[test]
fn json_listings_in_configured_and_auto_mode() {
    let server = TestServer::start();
    let cases = cases("json");
    assert!(cases.len() >= 4, "{} JSON cases", cases.len());
    for (name, case, page) in &cases {
        server.route(&case.path, Route::page(&case.content_type, page.clone()));
        let want = {
            let mut w = expected(case, &server);
            w.sort();
            w
        };
        for mode in ["json", "auto"] {
            let dir = tempfile::tempdir().unwrap();
            let mut entry = feed_entry(name, &server, case);
            if mode == "auto" {
                entry = entry.split("\n[feeds.json]").next().unwrap().to_string();
            }
            let config = write_config(dir.path(), &entry);
            let output = build(&config, &case.now);
            assert!(
                output.status.success(),
                "{name} ({mode}): {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let mut got = built(dir.path(), name);
            got.sort();
            // An API that gives ids but no URLs needs a link template; auto mode cannot invent
            // one, so its items come without links (and say so in preview).
            let templated = case
                .json
                .as_ref()
                .and_then(|j| j.get("link"))
                .and_then(|v| v.as_str())
                .is_some_and(|l| l.contains('{'));
            if mode == "auto" && templated {
                let strip = |v: &[(String, String, i64)]| {
                    let mut v: Vec<(String, i64)> =
                        v.iter().map(|(_, t, d)| (t.clone(), *d)).collect();
                    v.sort();
                    v
                };
                assert_eq!(strip(&got), strip(&want), "{name} in auto mode");
                assert!(got.iter().all(|(link, _, _)| link.is_empty()));
                continue;
            }
            // A page that shows its listing in HTML as well is read from the HTML in auto mode
            // (JSON is the fallback); the cards carry shorter titles and only the day.
            let visible_too = case
                .json
                .as_ref()
                .and_then(|j| j.get("source"))
                .and_then(|v| v.as_str())
                == Some("ld+json");
            if mode == "auto" && visible_too {
                let links = |v: &[(String, String, i64)]| {
                    let mut l: Vec<String> = v.iter().map(|(l, _, _)| l.clone()).collect();
                    l.sort();
                    l
                };
                assert_eq!(
                    links(&got),
                    links(&want),
                    "{name} in auto mode: same articles"
                );
                continue;
            }
            assert_eq!(got, want, "{name} in {mode} mode");
            keep_for_ci(
                &format!("json-{mode}-{name}"),
                &dir.path().join("public"),
                &serde_json::json!({
                    "items": case.expect.iter().map(|e| serde_json::json!({
                        "title": e.title, "link": e.link.replace("{origin}", &server.origin), "date": e.date,
                    })).collect::<Vec<_>>(),
                }),
            );
        }

        // preview names the JSON path and offers a [feeds.json] that reproduces the items.
        let output = dateline()
            .args([
                "preview",
                &server.url(&case.path),
                "--json",
                "--now",
                &case.now,
                "--timezone",
                &case.timezone,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let path = shown["json_listing"]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {shown:#}"));
        if let Some(configured) = case
            .json
            .as_ref()
            .and_then(|j| j.get("items"))
            .and_then(|v| v.as_str())
        {
            assert_eq!(path, configured, "{name}: the path preview found");
        }
        let snippet = shown["snippet"].as_str().unwrap();
        assert!(snippet.contains("[feeds.json]"), "{snippet}");
        if snippet.contains("\nlink = ") {
            let dir = tempfile::tempdir().unwrap();
            let config = write_config(dir.path(), snippet);
            let output = build(&config, &case.now);
            assert!(
                output.status.success(),
                "{name}: snippet:\n{snippet}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let id = snippet
                .lines()
                .find_map(|l| l.strip_prefix("id = "))
                .unwrap()
                .trim_matches('"');
            let mut got = built(dir.path(), id);
            got.sort();
            assert_eq!(got, want, "{name}: snippet gives other items\n{snippet}");
        }
    }
}

const API: &str = r#"{"data":{"items":[
  {"id":1,"title":"台積電法說會前夕外資連三買","time":1756367280},
  {"id":2,"title":"鴻海八月營收年增一成二","time":1756363680},
  {"id":3,"title":"聯發科新晶片量產法人上修","time":1756360080}]}}"#;

fn json_feed(server: &TestServer, items: &str) -> String {
    format!(
        "[[feeds]]\nid = \"api\"\nurl = \"{}\"\nmax_body_bytes = 100000\n\n[feeds.json]\nitems = \"{items}\"\ntitle = \"/title\"\nlink = \"https://news.example.com/n/{{id}}\"\ndate = \"/time\"\n",
        server.url("/api")
    )
}

#[test]
fn bad_json_wrong_paths_and_big_bodies_fail_the_feed_and_keep_its_files() {
    let server = TestServer::start();
    server.route(
        "/api",
        Route::page("application/json", API.as_bytes().to_vec()),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &json_feed(&server, "/data/items"));
    let output = build(&config, NOW);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let before = built(dir.path(), "api");
    assert_eq!(before.len(), 3);
    assert_eq!(before[0].0, "https://news.example.com/n/1");

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "/data/items",
            b"{\"data\": {\"items\": [1, 2,".to_vec(),
            "bad JSON in the response: EOF while parsing a value at line 1 column 25",
        ),
        (
            "/data/list",
            API.as_bytes().to_vec(),
            "items path \"/data/list\" matches nothing in the response: /data is an object with keys [items]",
        ),
        (
            "/data",
            API.as_bytes().to_vec(),
            "items path \"/data\" in the response is an object with keys [items], not an array of items",
        ),
        (
            "/data/items",
            format!(
                "{{\"data\":{{\"items\":[{}]}}}}",
                vec!["{\"id\":1,\"title\":\"x\",\"time\":1}"; 5000].join(",")
            )
            .into_bytes(),
            "body larger than the 100000-byte cap",
        ),
    ];
    for (path, body, cause) in cases {
        server.route("/api", Route::page("application/json", body));
        std::fs::write(
            &config,
            std::fs::read_to_string(&config)
                .unwrap()
                .split("[[feeds]]")
                .next()
                .unwrap()
                .to_string()
                + &json_feed(&server, path),
        )
        .unwrap();
        let output = build(&config, "2025-08-28T17:00:00+08:00");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{path}: {stderr}");
        assert!(stderr.starts_with("error: feed api: "), "{stderr}");
        assert!(stderr.contains(cause), "expected {cause:?} in {stderr}");
        assert_eq!(built(dir.path(), "api"), before, "published items changed");
    }
}

#[test]
fn json_config_problems_are_reported_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[feeds]]\nid = \"a\"\nurl = \"https://e.example/api\"\n[feeds.json]\nsource = \"xpath\"\nitems = \"data/items\"\ntitle = \"/title\"\nlink = \"url\"\n[feeds.select]\nitem = \"li\"\n",
    );
    let output = dateline()
        .args(["--config", config.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for want in [
        "feeds[0].json: a feed takes [feeds.select] or [feeds.json], not both",
        "feeds[0].json.source: unknown source \"xpath\"",
        "feeds[0].json.items: \"data/items\" is not a JSON Pointer",
        "feeds[0].json.link: \"url\" is not a JSON Pointer",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in {stderr}");
    }
}
