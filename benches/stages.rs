//! The CPU stages over a large synthetic portal page (~200 KB, 40 dated CJK headlines):
//! decoding, a bare HTML parse, selector-mode and auto-mode extraction, the date reader and the
//! writers. `cargo bench --bench stages`.

#[path = "support/synthetic.rs"]
mod synthetic;

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dateline::config::SelectConfig;
use dateline::dates::{self, DateContext};
use dateline::extract::spec::{ValueSpec, compile};
use dateline::write::{self, Entry, FeedMeta};
use url::Url;

fn ctx() -> DateContext {
    DateContext {
        tz: chrono_tz::Asia::Taipei,
        now: DateTime::parse_from_rfc3339("2025-08-28T16:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc),
    }
}

fn select() -> SelectConfig {
    SelectConfig {
        item: compile("ul.news > li").unwrap(),
        item_source: "ul.news > li".into(),
        title: Some(ValueSpec::parse("a.title").unwrap()),
        link: Some(ValueSpec::parse("a.title@href").unwrap()),
        date: Some(ValueSpec::parse("span.time").unwrap()),
        date_format: None,
    }
}

fn stages(c: &mut Criterion) {
    let page = synthetic::page(7, 40, 200);
    let bytes = page.as_bytes();
    let big5_page = page.replace("charset=\"utf-8\"", "charset=\"big5\"");
    let (big5, _, _) = encoding_rs::BIG5.encode(&big5_page);
    let url = Url::parse("https://news.example.com.tw/list").unwrap();
    let ctx = ctx();
    let select = select();

    let mut group = c.benchmark_group("page");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode utf-8", |b| {
        b.iter(|| {
            dateline::decode::decode(black_box(bytes), Some("text/html; charset=utf-8"), None)
        })
    });
    group.bench_function("decode big5 (meta)", |b| {
        b.iter(|| dateline::decode::decode(black_box(&big5), Some("text/html"), Some("tw")))
    });
    let undeclared = page.replace("<meta charset=\"utf-8\">", "");
    group.bench_function("decode undeclared (detect)", |b| {
        b.iter(|| {
            dateline::decode::decode(
                black_box(undeclared.as_bytes()),
                Some("text/html"),
                Some("tw"),
            )
        })
    });
    group.bench_function("bare parse (html5ever)", |b| {
        b.iter(|| scraper::Html::parse_document(black_box(&page)))
    });
    // The streaming ceiling: lol_html finding the items and nothing else.
    group.bench_function("bare parse (lol_html, item selector)", |b| {
        let item: lol_html::Selector = "ul.news > li".parse().unwrap();
        b.iter(|| {
            let mut found = 0usize;
            let mut rewriter = lol_html::HtmlRewriter::new(
                lol_html::Settings::new().append_element_content_handler((
                    std::borrow::Cow::Borrowed(&item),
                    lol_html::ElementContentHandlers::default().element(
                        |_: &mut lol_html::html_content::Element| {
                            found += 1;
                            Ok(())
                        },
                    ),
                )),
                |_: &[u8]| {},
            );
            rewriter.write(black_box(bytes)).unwrap();
            rewriter.end().unwrap();
            found
        })
    });
    // lol_html's share of the streaming extraction for selectors the scan does not match itself:
    // the handlers `stream::lol::read` registers for this config (the items with their text and end
    // tags, every element inside them with its end tag, the title and date selectors scoped
    // under the item, `<base href>`), doing nothing. The rest of "extract selector mode (stream,
    // lol_html)" is the well-formedness scan and our own work.
    group.bench_function("bare parse (lol_html, the stream's handlers)", |b| {
        use lol_html::ElementContentHandlers as Handlers;
        use lol_html::html_content::{Element, EndTag, TextChunk};
        let parse = |text: &str| -> lol_html::Selector { text.parse().unwrap() };
        let selectors = [
            parse("ul.news > li"),
            parse("ul.news > li *"),
            parse("ul.news > li a.title"),
            parse("ul.news > li span.time"),
            parse("base[href]"),
        ];
        b.iter(|| {
            let seen = std::cell::Cell::new(0usize);
            let with_end = |el: &mut Element| {
                seen.set(seen.get() + el.attributes().len());
                if let Some(handlers) = el.end_tag_handlers() {
                    handlers.push(Box::new(|_: &mut EndTag| Ok(())));
                }
                Ok(())
            };
            let located = |el: &mut Element| {
                seen.set(seen.get() + el.source_location().bytes().start);
                Ok(())
            };
            let settings = lol_html::Settings::new()
                .append_element_content_handler((
                    std::borrow::Cow::Borrowed(&selectors[4]),
                    Handlers::default().element(located),
                ))
                .append_element_content_handler((
                    std::borrow::Cow::Borrowed(&selectors[0]),
                    Handlers::default()
                        .element(with_end)
                        .text(|chunk: &mut TextChunk| {
                            seen.set(seen.get() + chunk.as_str().len());
                            Ok(())
                        }),
                ))
                .append_element_content_handler((
                    std::borrow::Cow::Borrowed(&selectors[1]),
                    Handlers::default().element(with_end),
                ))
                .append_element_content_handler((
                    std::borrow::Cow::Borrowed(&selectors[2]),
                    Handlers::default().element(located),
                ))
                .append_element_content_handler((
                    std::borrow::Cow::Borrowed(&selectors[3]),
                    Handlers::default().element(located),
                ));
            let mut rewriter = lol_html::HtmlRewriter::new(settings, |_: &[u8]| {});
            rewriter.write(black_box(bytes)).unwrap();
            rewriter.end().unwrap();
            seen.get()
        })
    });
    // A bare parse in the usual sense: every tag and every piece of text handed out once, with
    // nothing done with them (what the DOM parser's tree holds, without the tree).
    group.bench_function("bare parse (lol_html, every token)", |b| {
        let every: lol_html::Selector = "*".parse().unwrap();
        b.iter(|| {
            let mut tokens = 0usize;
            let mut texts = 0usize;
            let mut rewriter = lol_html::HtmlRewriter::new(
                lol_html::Settings::new()
                    .append_element_content_handler((
                        std::borrow::Cow::Borrowed(&every),
                        lol_html::ElementContentHandlers::default().element(
                            |_: &mut lol_html::html_content::Element| {
                                tokens += 1;
                                Ok(())
                            },
                        ),
                    ))
                    .append_document_content_handler(
                        lol_html::DocumentContentHandlers::default().text(
                            |chunk: &mut lol_html::html_content::TextChunk| {
                                texts += chunk.as_str().len();
                                Ok(())
                            },
                        ),
                    ),
                |_: &[u8]| {},
            );
            rewriter.write(black_box(bytes)).unwrap();
            rewriter.end().unwrap();
            (tokens, texts)
        })
    });
    group.bench_function("well-formedness scan", |b| {
        b.iter(|| dateline::extract::wellformed::check(black_box(&page), &[], &[], false))
    });
    let streamed = |config: &SelectConfig| {
        dateline::extract::stream::extract(black_box(&page), &url, encoding_rs::UTF_8, config, &ctx)
    };
    group.bench_function("extract selector mode (stream)", |b| {
        b.iter(|| streamed(&select).expect("the synthetic page streams"))
    });
    // The same items through lol_html: `:nth-of-type(n)` matches every `li` but is not one of
    // the selectors the scan matches itself.
    let via_lol_html = SelectConfig {
        item: compile("ul.news > li:nth-of-type(n)").unwrap(),
        item_source: "ul.news > li:nth-of-type(n)".into(),
        ..select.clone()
    };
    let one_pass = streamed(&select);
    assert!(one_pass.is_some() && one_pass == streamed(&via_lol_html));
    group.bench_function("extract selector mode (stream, lol_html)", |b| {
        b.iter(|| streamed(&via_lol_html).expect("the synthetic page streams"))
    });
    group.bench_function("extract selector mode (DOM)", |b| {
        b.iter(|| {
            dateline::extract::select::extract_dom(
                black_box(&page),
                &url,
                encoding_rs::UTF_8,
                &select,
                &ctx,
            )
        })
    });
    group.bench_function("extract auto mode", |b| {
        b.iter(|| {
            dateline::extract::auto::extract(black_box(&page), &url, encoding_rs::UTF_8, &ctx)
        })
    });
    group.finish();

    let strings = [
        "2025/8/28 15:48",
        "2025-08-28 15:48:00",
        "08/28 15:48",
        "2025年8月28日 15時48分",
        "114/08/28",
        "Aug 28, 2025 3:48 PM ET",
        "2025-08-28T07:48:00Z",
        "3小時前",
        "昨天 21:30",
        "台積電法說會前夕外資連三買",
    ];
    let mut group = c.benchmark_group("dates");
    group.throughput(Throughput::Elements(strings.len() as u64));
    group.bench_function("read 10 real strings", |b| {
        b.iter(|| {
            strings
                .iter()
                .filter_map(|s| dates::read(black_box(s), &ctx))
                .count()
        })
    });
    group.finish();

    let items = dateline::extract::select::extract(&page, &url, encoding_rs::UTF_8, &select, &ctx);
    let entries: Vec<Entry> = items
        .iter()
        .map(|i| Entry {
            id: i.link.as_ref().unwrap().to_string(),
            title: i.title.clone(),
            link: i.link.as_ref().map(|l| l.to_string()),
            published: i.published,
            categories: vec!["TWSE:2330".into()],
            ..Default::default()
        })
        .collect();
    let tz = chrono_tz::Asia::Taipei;
    let meta = FeedMeta {
        id: "bench".into(),
        title: "即時新聞".into(),
        description: "Headlines".into(),
        source_url: url.clone(),
        language: "zh-TW".into(),
        rss_url: Url::parse("https://feeds.example.com/bench.xml").unwrap(),
        atom_url: Url::parse("https://feeds.example.com/bench.atom").unwrap(),
        json_url: Url::parse("https://feeds.example.com/bench.json").unwrap(),
        updated: entries[0]
            .published
            .unwrap_or_else(|| chrono::TimeZone::timestamp_opt(&tz, 0, 0).unwrap()),
        author: "news.example.com.tw".into(),
    };
    let mut group = c.benchmark_group("write 40 items");
    group.bench_function("rss", |b| b.iter(|| write::rss(black_box(&meta), &entries)));
    group.bench_function("atom", |b| {
        b.iter(|| write::atom(black_box(&meta), &entries))
    });
    group.bench_function("json feed", |b| {
        b.iter(|| write::json_feed(black_box(&meta), &entries))
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
