//! Every selector-mode fixture page, served over HTTP and built by the real binary: the feeds
//! must hold exactly the expected items, read back by feed-rs from both RSS and Atom.

mod common;

use chrono::DateTime;
use common::*;

#[test]
fn every_selector_fixture_gives_its_expected_items() {
    let server = TestServer::start();
    let cases = cases("select");
    assert!(
        cases.len() >= 8,
        "expected at least 8 selector fixtures, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut checked_items = 0;
    for (name, case, page) in &cases {
        server.route(&case.path, Route::page(&case.content_type, page.clone()));
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), &feed_entry("case", &server, case));
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
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            failures.push(format!(
                "{name}: build failed ({}): {stderr}",
                output.status
            ));
            continue;
        }
        assert!(
            output.stdout.is_empty(),
            "{name}: a successful build prints nothing on stdout"
        );
        let out = dir.path().join("public");
        // An undated headline takes the moment it was first seen: this run's clock.
        let expected: Vec<Expected> = case
            .expect
            .iter()
            .map(|e| Expected {
                link: e.link.replace("{origin}", &server.origin),
                date: Some(e.date.clone().unwrap_or_else(|| case.now.clone())),
                ..e.clone()
            })
            .collect();
        for file in ["case.xml", "case.atom"] {
            let (_, items) = read_feed(&out.join(file));
            failures.extend(compare(&format!("{name}/{file}"), &expected, &items));
        }
        checked_items += expected.len();
        keep_for_ci(
            &format!("select-{name}"),
            &out,
            &serde_json::json!({
                "items": expected.iter().map(|e| serde_json::json!({
                    "title": e.title, "link": e.link, "date": e.date,
                })).collect::<Vec<_>>(),
            }),
        );
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked_items >= 100, "only {checked_items} items checked");
}

/// Differences between what a page must give and what a feed holds, as readable lines.
fn compare(label: &str, expected: &[Expected], items: &[ReadItem]) -> Vec<String> {
    let mut problems = Vec::new();
    if expected.len() != items.len() {
        problems.push(format!(
            "{label}: {} items, expected {}",
            items.len(),
            expected.len()
        ));
    }
    for want in expected {
        let Some(got) = items
            .iter()
            .find(|i| i.link.as_deref() == Some(want.link.as_str()))
        else {
            problems.push(format!("{label}: missing {} ({})", want.link, want.title));
            continue;
        };
        if got.title != want.title {
            problems.push(format!(
                "{label}: {}: title {:?}, expected {:?}",
                want.link, got.title, want.title
            ));
        }
        let want_date = want
            .date
            .as_deref()
            .map(|d| DateTime::parse_from_rfc3339(d).unwrap());
        if got.date != want_date {
            problems.push(format!(
                "{label}: {}: date {:?}, expected {:?}",
                want.link,
                got.date.map(|d| d.to_rfc3339()),
                want.date
            ));
        } else if let (Some(got), Some(want)) = (got.written_date, want_date)
            && got.offset() != want.offset()
        {
            problems.push(format!(
                "{label}: {}: offset {}, expected {}",
                want.to_rfc3339(),
                got.offset(),
                want.offset()
            ));
        }
    }
    for got in items {
        if !expected
            .iter()
            .any(|w| Some(w.link.as_str()) == got.link.as_deref())
        {
            problems.push(format!(
                "{label}: unexpected item {:?} {:?}",
                got.link, got.title
            ));
        }
    }
    problems
}
