//! Auto mode against pages whose main listing is known: no selectors, only the URL. Each page is
//! scored by precision and recall, where an item counts as right only with the right link, title
//! and instant. The table is printed (`cargo test --test auto_fixtures -- --nocapture`).

mod common;

use chrono::DateTime;
use common::*;

struct Score {
    name: String,
    expected: usize,
    found: usize,
    right: usize,
    problems: Vec<String>,
}

fn score_case(kind: &str, server: &TestServer, name: &str, case: &Case, page: &[u8]) -> Score {
    let path = case.path.clone();
    server.route(&path, Route::page(&case.content_type, page.to_vec()));
    let dir = tempfile::tempdir().unwrap();
    let feed = format!(
        "[[feeds]]\nid = \"case\"\nurl = \"{}\"\ntimezone = \"{}\"\n",
        server.url(&path),
        case.timezone
    );
    let config = write_config(dir.path(), &feed);
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
    // Auto mode takes a headline only with a date that belongs to it.
    let expected: Vec<Expected> = case
        .expect
        .iter()
        .filter(|e| e.date.is_some())
        .map(|e| Expected {
            link: e.link.replace("{origin}", &server.origin),
            ..e.clone()
        })
        .collect();
    let mut score = Score {
        name: format!("{kind}/{name}"),
        expected: expected.len(),
        found: 0,
        right: 0,
        problems: Vec::new(),
    };
    if !output.status.success() {
        score.problems.push(format!(
            "build failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
        return score;
    }
    let out = dir.path().join("public");
    let (_, items) = read_feed(&out.join("case.atom"));
    let (_, rss_items) = read_feed(&out.join("case.xml"));
    assert_eq!(items.len(), rss_items.len());
    score.found = items.len();
    for got in &items {
        let want = expected
            .iter()
            .find(|w| Some(w.link.as_str()) == got.link.as_deref());
        match want {
            None => score
                .problems
                .push(format!("extra {:?} {:?}", got.link, got.title)),
            Some(want) => {
                let want_date = want
                    .date
                    .as_deref()
                    .map(|d| DateTime::parse_from_rfc3339(d).unwrap());
                if got.title != want.title {
                    score.problems.push(format!(
                        "{}: title {:?} != {:?}",
                        want.link, got.title, want.title
                    ));
                } else if got.date != want_date {
                    score.problems.push(format!(
                        "{}: date {:?} != {:?}",
                        want.link,
                        got.written_date.map(|d| d.to_rfc3339()),
                        want.date
                    ));
                } else {
                    score.right += 1;
                }
            }
        }
    }
    for want in &expected {
        if !items
            .iter()
            .any(|g| g.link.as_deref() == Some(want.link.as_str()))
        {
            score
                .problems
                .push(format!("missing {} {:?}", want.link, want.title));
        }
    }
    keep_for_ci(
        &format!("auto-{kind}-{name}"),
        &out,
        &serde_json::json!({ "items": [] }),
    );
    score
}

fn run_kind(kind: &str, min_cases: usize) -> Vec<Score> {
    let server = TestServer::start();
    let cases = cases(kind);
    assert!(cases.len() >= min_cases, "{kind}: {} cases", cases.len());
    cases
        .iter()
        .map(|(name, case, page)| score_case(kind, &server, name, case, page))
        .collect()
}

fn report(scores: &[Score]) -> (f64, f64) {
    let (mut expected, mut found, mut right) = (0, 0, 0);
    println!(
        "{:<40} {:>5} {:>5} {:>5} {:>9} {:>7}",
        "page", "want", "got", "right", "precision", "recall"
    );
    for s in scores {
        let precision = if s.found == 0 {
            0.0
        } else {
            s.right as f64 / s.found as f64
        };
        let recall = s.right as f64 / s.expected.max(1) as f64;
        println!(
            "{:<40} {:>5} {:>5} {:>5} {:>9.3} {:>7.3}",
            s.name, s.expected, s.found, s.right, precision, recall
        );
        for p in s.problems.iter().take(5) {
            println!("    {p}");
        }
        expected += s.expected;
        found += s.found;
        right += s.right;
    }
    let precision = right as f64 / found.max(1) as f64;
    let recall = right as f64 / expected.max(1) as f64;
    println!(
        "{:<40} {:>5} {:>5} {:>5} {:>9.3} {:>7.3}",
        "all", expected, found, right, precision, recall
    );
    (precision, recall)
}

#[test]
fn auto_mode_finds_the_main_listing_of_the_auto_fixtures() {
    let scores = run_kind("auto", 10);
    let (precision, recall) = report(&scores);
    for s in &scores {
        assert!(
            s.right * 10 >= s.expected * 9,
            "{}: only {}/{} right: {:#?}",
            s.name,
            s.right,
            s.expected,
            s.problems
        );
        assert!(
            s.found - s.right <= s.found / 10,
            "{}: {} wrong of {}: {:#?}",
            s.name,
            s.found - s.right,
            s.found,
            s.problems
        );
    }
    assert!(
        precision >= 0.97 && recall >= 0.97,
        "precision {precision:.3}, recall {recall:.3}"
    );
}

#[test]
fn auto_mode_does_as_well_as_the_selectors_on_the_selector_fixtures() {
    let scores = run_kind("select", 8);
    let (precision, recall) = report(&scores);
    assert!(
        precision >= 0.95 && recall >= 0.90,
        "precision {precision:.3}, recall {recall:.3}"
    );
}
