//! The streaming pass answers only where it agrees with the DOM path, item for item: every
//! fixture page under every selector config we can make for it (its own, and those inferred by
//! auto mode, with and without title/link/date selectors), then the same pages broken in the ways
//! real markup is broken.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use dateline::config::SelectConfig;
use dateline::dates::DateContext;
use dateline::extract::{Item, auto, select, stream};
use url::Url;

struct Page {
    name: String,
    html: String,
    encoding: &'static encoding_rs::Encoding,
    url: Url,
    ctx: DateContext,
    configs: Vec<SelectConfig>,
}

fn table_str(table: &toml::Table, key: &str) -> Option<String> {
    table.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

fn pages() -> Vec<Page> {
    let mut pages = Vec::new();
    for kind in ["select", "auto"] {
        for (name, case, body) in cases(kind) {
            let decoded = dateline::decode::decode(&body, Some(&case.content_type), None);
            let url = Url::parse(&format!("https://news.example.com{}", case.path)).unwrap();
            let ctx = DateContext {
                tz: case.timezone.parse().unwrap(),
                now: DateTime::parse_from_rfc3339(&case.now)
                    .unwrap()
                    .with_timezone(&Utc),
            };
            let mut configs = Vec::new();
            if let Some(own) = &case.select {
                let mut own_config = select_config(
                    &table_str(own, "item").unwrap(),
                    table_str(own, "title").as_deref(),
                    table_str(own, "link").as_deref(),
                    table_str(own, "date").as_deref(),
                );
                own_config.date_format = table_str(own, "date_format");
                configs.push(own_config);
            }
            let found = auto::extract(&decoded.text, &url, decoded.encoding, &ctx);
            for listing in &found.listings {
                let s = &listing.selectors;
                let link = s.title.as_ref().map(|t| format!("{t}@href"));
                configs.push(select_config(
                    &s.item,
                    s.title.as_deref(),
                    link.as_deref(),
                    s.date.as_deref(),
                ));
                // The same listing with the defaults: main link by rank, dates inside items.
                configs.push(select_config(&s.item, None, None, None));
                configs.push(select_config(&s.item, None, None, s.date.as_deref()));
            }
            pages.push(Page {
                name: format!("{kind}/{name}"),
                html: decoded.text.into_owned(),
                encoding: decoded.encoding,
                url,
                ctx,
                configs,
            });
        }
    }
    pages
}

/// `Some(answered)` when the stream agreed or declined, an error text when it disagreed.
fn compare(page: &Page, html: &str, config: &SelectConfig) -> Result<bool, String> {
    let dom: Vec<Item> = select::extract_dom(html, &page.url, page.encoding, config, &page.ctx);
    match stream::extract(html, &page.url, page.encoding, config, &page.ctx) {
        None => Ok(false),
        Some(streamed) if streamed == dom => Ok(true),
        Some(streamed) => Err(format!(
            "{}: item {:?}: the stream read {} items, the DOM {}\nfirst difference: {:#?}",
            page.name,
            config.item_source,
            streamed.len(),
            dom.len(),
            streamed
                .iter()
                .zip(&dom)
                .find(|(a, b)| a != b)
                .map(|(a, b)| (a.clone(), b.clone()))
        )),
    }
}

#[test]
fn the_stream_agrees_with_the_dom_on_every_fixture_page() {
    let pages = pages();
    assert!(pages.len() >= 30, "only {} fixture pages", pages.len());
    let mut failures = Vec::new();
    let (mut answered, mut total, mut pages_answered) = (0, 0, 0);
    for page in &pages {
        let mut any = false;
        for config in &page.configs {
            total += 1;
            match compare(page, &page.html, config) {
                Ok(true) => {
                    answered += 1;
                    any = true;
                }
                Ok(false) => {}
                Err(e) => failures.push(e),
            }
        }
        pages_answered += usize::from(any);
        if let Err(repair) = dateline::extract::wellformed::check(&page.html, &[], &[], false) {
            println!("{}: read through the DOM: {}", page.name, repair.0);
        }
    }
    println!(
        "{answered} of {total} page × config pairs answered by the stream, on {pages_answered} of {} pages",
        pages.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The fixtures are mostly well-formed portal pages: the stream must take most of them, or
    // this test proves nothing.
    assert!(
        pages_answered * 2 >= pages.len(),
        "the stream answered on only {pages_answered} of {} pages",
        pages.len()
    );
}

/// The ways real pages are broken, applied one at a time at pseudo-random places.
fn mutate(html: &str, rng: &mut fastrand::Rng) -> String {
    const INSERTS: &[&str] = &[
        "</span>",
        "</div>",
        "</li>",
        "</p>",
        "<p>",
        "<li>",
        "<b>",
        "</b>",
        "</a>",
        "<a href=\"/x\">",
        "<table><tr><td>",
        "</td></tr></table>",
        "<br/>",
        "</br>",
        "<dd>",
        "<option>",
        "<svg><path/><div>",
        "<!-- c -->",
        "&amp",
        "&copy",
        "&#x41",
        "<h2>",
        "</h3>",
        "<form>",
        "<select>",
        "</body>",
        "<body>",
        "<template>",
        "<noscript><li>",
        "<script>var a='<!--';</script>",
        "2025/08/28 09:00",
        "<time datetime=\"2025-08-27T10:00:00+08:00\">",
    ];
    let mut out = html.to_string();
    let mutations = rng.usize(1..4);
    for _ in 0..mutations {
        // Only at a char boundary after the head, where the listings are.
        let from = out.find("<body").unwrap_or(0);
        let mut at = rng.usize(from..out.len().max(from + 1));
        while !out.is_char_boundary(at) {
            at -= 1;
        }
        match rng.usize(0..3) {
            0 => {
                // Drop the next end tag.
                if let Some(i) = out[at..].find("</") {
                    let start = at + i;
                    if let Some(j) = out[start..].find('>') {
                        out.replace_range(start..start + j + 1, "");
                    }
                }
            }
            _ => {
                // Insert before the next tag, so the insert never lands inside one.
                let at = out[at..].find('<').map_or(out.len(), |i| at + i);
                out.insert_str(at, INSERTS[rng.usize(0..INSERTS.len())]);
            }
        }
    }
    out
}

#[test]
fn on_broken_markup_the_stream_declines_or_agrees() {
    let pages = pages();
    let mut rng = fastrand::Rng::with_seed(20261128);
    let mut failures = Vec::new();
    let (mut answered, mut total) = (0, 0);
    for page in &pages {
        for config in page.configs.iter().take(2) {
            for _ in 0..12 {
                let broken = mutate(&page.html, &mut rng);
                total += 1;
                match compare(page, &broken, config) {
                    Ok(true) => answered += 1,
                    Ok(false) => {}
                    Err(e) => failures.push(format!("{e}\n(page broken by mutation)")),
                }
            }
        }
    }
    println!("{answered} of {total} broken pages answered by the stream");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(answered > 0 && answered < total, "{answered} of {total}");
}

#[test]
fn a_table_without_tbody_streams_when_the_selectors_do_not_depend_on_it() {
    let rows: String = (1..=6)
        .map(|i| {
            format!(
                "<tr class=\"row\"><td class=\"time\">2025/08/28 1{i}:05</td><td class=\"t\"><a href=\"/n/{i}\">第{i}則 台股收盤加權指數上漲</a></td><td><a href=\"/n/{i}\">more</a></td></tr>\n"
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html><head><title>list</title></head><body><div class=\"headline-box\"><table class=\"list\">\n{rows}</table></div></body></html>"
    );
    let page = Page {
        name: "implied-tbody".into(),
        html: html.clone(),
        encoding: encoding_rs::UTF_8,
        url: Url::parse("https://news.example.com/list").unwrap(),
        ctx: DateContext {
            tz: chrono_tz::Asia::Taipei,
            now: DateTime::parse_from_rfc3339("2025-08-28T20:00:00+08:00")
                .unwrap()
                .with_timezone(&Utc),
        },
        configs: Vec::new(),
    };
    // Descendant selectors read the same with or without the DOM's <tbody>: the stream answers,
    // with the same items (ranking sees the implied tbody among the ancestors, as the DOM does).
    for config in [
        select_config(
            "table.list tr.row",
            Some("td.t a"),
            Some("td.t a@href"),
            Some("td.time"),
        ),
        select_config("table.list tr", None, None, Some("td.time")),
        select_config(".list tr", None, None, None),
    ] {
        assert_eq!(
            compare(&page, &html, &config),
            Ok(true),
            "{}",
            config.item_source
        );
        let items = select::extract_dom(&html, &page.url, page.encoding, &config, &page.ctx);
        assert_eq!(items.len(), 6, "{}", config.item_source);
    }
    // Child combinators and positions read through the implied tbody as the DOM does: the one
    // pass keeps it on its stack (`table > tr` finds nothing in either).
    for item in [
        "table > tr",
        "tr:first-child",
        "table.list tr:nth-child(2n)",
    ] {
        let config = select_config(item, None, None, Some("td.time"));
        assert_eq!(compare(&page, &html, &config), Ok(true), "{item}");
    }
    // A selector that could match the tbody itself is left to the DOM.
    for item in [
        "table.list > tbody > tr",
        "table.list tbody tr",
        "table.list > * > tr",
        "tbody > tr:nth-child(2n)",
        "tr:first-child:nth-of-type(1)",
    ] {
        let config = select_config(item, None, None, Some("td.time"));
        assert_eq!(compare(&page, &html, &config), Ok(false), "{item}");
    }
}
