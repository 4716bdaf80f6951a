//! Selector mode: the config says where items, titles, links and dates are.

use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;
use url::Url;

use super::spec::ValueSpec;
use super::text::{base_url, element_text, resolve_link};
use super::{Item, dedupe_by_link};
use crate::config::SelectConfig;
use crate::dates::{self, DateContext, Stamp};

static LINKS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("link selector"));

/// Every item the selectors find, in page order, one per link.
pub fn extract(html: &str, page_url: &Url, select: &SelectConfig, ctx: &DateContext) -> Vec<Item> {
    let document = Html::parse_document(html);
    let base = base_url(&document, page_url);
    let items = document
        .select(&select.item)
        .filter_map(|element| item_from(element, &base, select, ctx))
        .collect();
    dedupe_by_link(items)
}

fn item_from(
    element: ElementRef,
    base: &Url,
    select: &SelectConfig,
    ctx: &DateContext,
) -> Option<Item> {
    let main_link = main_link(element, base);
    let title = match &select.title {
        Some(spec) => read_value(spec, element).map(|t| super::text::clean(&t)),
        None => main_link.as_ref().map(|(a, _)| element_text(*a)),
    }
    .filter(|t| !t.is_empty())?;
    let link = match &select.link {
        Some(spec) => read_value(spec, element).and_then(|href| resolve_link(&href, base)),
        None => main_link.map(|(_, url)| url),
    };
    let published = select
        .date
        .as_ref()
        .and_then(|spec| read_value(spec, element))
        .and_then(|text| match &select.date_format {
            Some(format) => dates::read_with_format(&text, format, ctx),
            None => dates::read(&text, ctx),
        })
        .and_then(|stamp: Stamp| stamp.instant(ctx.tz))
        .map(dates::truncate_to_seconds);
    Some(Item {
        title,
        link,
        published,
    })
}

/// The text of the matched element, or the named attribute (its text when it has none).
pub fn read_value(spec: &ValueSpec, item: ElementRef) -> Option<String> {
    let element = spec.element(item)?;
    if let Some(attr) = &spec.attr
        && let Some(value) = element.value().attr(attr)
    {
        return Some(value.to_string());
    }
    Some(element_text(element))
}

/// The item's headline link: the usable link with the longest text (the image link beside a
/// headline has none), or the item itself when it is a link.
fn main_link<'a>(item: ElementRef<'a>, base: &Url) -> Option<(ElementRef<'a>, Url)> {
    let own = (item.value().name() == "a").then_some(item);
    own.into_iter()
        .chain(item.select(&LINKS))
        .filter_map(|a| {
            let url = resolve_link(a.value().attr("href")?, base)?;
            let text = element_text(a);
            (!text.is_empty()).then_some((a, url, text.chars().count()))
        })
        .max_by_key(|(_, _, len)| *len)
        .map(|(a, url, _)| (a, url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::spec::compile;
    use chrono::{TimeZone, Utc};

    fn select(
        item: &str,
        title: Option<&str>,
        link: Option<&str>,
        date: Option<&str>,
    ) -> SelectConfig {
        SelectConfig {
            item: compile(item).unwrap(),
            item_source: item.into(),
            title: title.map(|t| ValueSpec::parse(t).unwrap()),
            link: link.map(|t| ValueSpec::parse(t).unwrap()),
            date: date.map(|t| ValueSpec::parse(t).unwrap()),
            date_format: None,
        }
    }

    fn ctx() -> DateContext {
        DateContext {
            tz: chrono_tz::Asia::Taipei,
            now: Utc.with_ymd_and_hms(2025, 8, 28, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn reads_titles_links_and_dates_with_defaults() {
        let html = r#"<html><head><base href="https://news.example.com/tw/"></head><body>
            <ul class="list">
              <li><a href="a/1.html"><img src="x.jpg"></a><a href="a/1.html">英特爾獲美資挹注&amp;仍難提振信評</a><span class="t">2025/8/28 15:48</span></li>
              <li><a href="a/2.html?x=1&amp;y=2">台積電　法說會
                 <b>前夕</b></a><span class="t">2025/8/28 14:05</span></li>
              <li><a href="a/1.html">英特爾獲美資挹注&amp;仍難提振信評</a><span class="t">2025/8/28 15:48</span></li>
              <li><a href="a/3.html"></a><span class="t">2025/8/28 13:00</span></li>
            </ul></body></html>"#;
        let items = extract(
            html,
            &Url::parse("https://news.example.com/list").unwrap(),
            &select("ul.list > li", None, None, Some("span.t")),
            &ctx(),
        );
        assert_eq!(items.len(), 2, "{items:#?}");
        assert_eq!(items[0].title, "英特爾獲美資挹注&仍難提振信評");
        assert_eq!(
            items[0].link.as_ref().unwrap().as_str(),
            "https://news.example.com/tw/a/1.html"
        );
        assert_eq!(
            items[0].published.unwrap().to_rfc3339(),
            "2025-08-28T15:48:00+08:00"
        );
        assert_eq!(items[1].title, "台積電 法說會 前夕");
        assert_eq!(
            items[1].link.as_ref().unwrap().as_str(),
            "https://news.example.com/tw/a/2.html?x=1&y=2"
        );
    }

    #[test]
    fn attribute_values_and_own_attributes() {
        let html = r#"<div class="card" data-ts="1756367280000"><h3><a title="Fed holds rates steady" href="https://e.example/fed">Fed holds…</a></h3></div>"#;
        let config = select(
            "div.card",
            Some("h3 a@title"),
            Some("h3 a@href"),
            Some("@data-ts"),
        );
        let items = extract(
            html,
            &Url::parse("https://e.example/").unwrap(),
            &config,
            &ctx(),
        );
        assert_eq!(items[0].title, "Fed holds rates steady");
        assert_eq!(
            items[0].published.unwrap().to_rfc3339(),
            "2025-08-28T15:48:00+08:00"
        );
    }

    #[test]
    fn unreadable_date_leaves_the_item_undated() {
        let html = r#"<ul><li><a href="/a">Headline one</a><span>soon</span></li></ul>"#;
        let items = extract(
            html,
            &Url::parse("https://e.example/").unwrap(),
            &select("li", None, None, Some("span")),
            &ctx(),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].published, None);
    }
}
