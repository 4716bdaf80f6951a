//! Selector mode: the config says where items, titles, links and dates are.

use scraper::{ElementRef, Html};
use url::Url;

use super::flat::{Flat, combine, resolve};
use super::spec::ValueSpec;
use super::text::{Headline, LINKS, Links, element_text, headline_element, headline_rank};
use super::{Item, dedupe_by_link};
use crate::config::SelectConfig;
use crate::dates::{self, DateContext, Stamp};

/// Every item the selectors find, in page order, one per link.
///
/// Without a `date` selector, an item takes the date inside it, else the nearest date that
/// precedes it in the document (a date line above its headline, a day header above the rows). A
/// date that gives only a time of day takes its day the same way.
///
/// Read in one streaming pass where that gives the same items (`stream`), else through the DOM.
pub fn extract(
    html: &str,
    page_url: &Url,
    encoding: &'static encoding_rs::Encoding,
    select: &SelectConfig,
    ctx: &DateContext,
) -> Vec<Item> {
    super::stream::extract(html, page_url, encoding, select, ctx)
        .unwrap_or_else(|| extract_dom(html, page_url, encoding, select, ctx))
}

/// `extract` through the whole document tree.
pub fn extract_dom(
    html: &str,
    page_url: &Url,
    encoding: &'static encoding_rs::Encoding,
    select: &SelectConfig,
    ctx: &DateContext,
) -> Vec<Item> {
    let document = Html::parse_document(html);
    let links = Links::new(&document, page_url, encoding);
    let mut flat: Option<Flat> = None;
    let items = document
        .select(&select.item)
        .filter_map(|element| {
            let (title, link, title_element, title_dates) =
                title_and_link(element, &links, select, ctx)?;
            let stamp = match &select.date {
                Some(spec) => {
                    read_value(spec, element).and_then(|text| match &select.date_format {
                        Some(format) => dates::read_with_format(&text, format, ctx),
                        None => dates::read_field(&text, ctx),
                    })
                }
                None => None,
            };
            let published = match stamp {
                Some(stamp @ (Stamp::At(_) | Stamp::Day(_))) => {
                    stamp.instant(ctx.tz).map(dates::truncate_to_seconds)
                }
                // Only now is the document's reading order worth computing.
                _ => {
                    let flat = flat.get_or_insert_with(|| Flat::new(&document, ctx));
                    date_from_context(
                        flat,
                        element,
                        title_element,
                        &title_dates,
                        stamp,
                        select.date.is_none(),
                        ctx,
                    )
                }
            };
            let context = super::item_context(&element_text(element), &title);
            Some(Item {
                title,
                link,
                published,
                context,
            })
        })
        .collect();
    dedupe_by_link(items)
}

/// The item's title and link, the element the title was read from and the parts of that element
/// left out of the title as its date.
type TitleAndLink<'a> = (
    String,
    Option<Url>,
    Option<ElementRef<'a>>,
    Vec<ElementRef<'a>>,
);

fn title_and_link<'a>(
    element: ElementRef<'a>,
    links: &Links,
    select: &SelectConfig,
    ctx: &DateContext,
) -> Option<TitleAndLink<'a>> {
    // Ranking every anchor of the item is only needed where a selector leaves a value to it.
    let main_link = if select.title.is_none() || select.link.is_none() {
        main_link(element, links)
    } else {
        None
    };
    let headline = match &select.title {
        Some(_) => None,
        None => main_link.as_ref().map(|(a, _)| Headline::of(*a, ctx)),
    };
    let title_element = match &select.title {
        Some(spec) => spec.element(element),
        None => headline.as_ref().map(|h| h.element),
    };
    let title = match &select.title {
        Some(spec) => read_value(spec, element).map(|t| super::text::clean(&t)),
        None => headline.as_ref().map(Headline::text),
    }
    .filter(|t| !t.is_empty())?;
    let title_dates = headline.map(|h| h.dates).unwrap_or_default();
    let link = match &select.link {
        Some(spec) => read_value(spec, element).and_then(|href| links.resolve(&href)),
        None => main_link.map(|(_, url)| url),
    };
    Some((title, link, title_element, title_dates))
}

/// The date of an item whose own date selector gave none or only a time of day.
fn date_from_context(
    flat: &Flat,
    item: ElementRef,
    title: Option<ElementRef>,
    title_dates: &[ElementRef],
    own: Option<Stamp>,
    look_inside: bool,
    ctx: &DateContext,
) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    let (start, end) = flat.span(item);
    let title_span = title.map_or((0, 0), |t| flat.span(t));
    let kept: Vec<(usize, usize)> = title_dates.iter().map(|d| flat.span(*d)).collect();
    let own = own.or_else(|| {
        look_inside
            .then(|| {
                combine(
                    flat.dates_in_but(start, end, title_span, &kept).copied(),
                    ctx.tz,
                )
            })
            .flatten()
    });
    match own {
        Some(stamp @ (Stamp::At(_) | Stamp::Day(_))) => resolve(stamp, None, ctx),
        // The row's own day cell, or one spanning it from above, comes before any earlier date.
        Some(time @ Stamp::TimeOfDay(_)) => {
            let own_day = combine(
                flat.dates_in(start, end, (0, 0))
                    .filter(|d| !matches!(d.stamp, Stamp::TimeOfDay(_)))
                    .copied(),
                ctx.tz,
            );
            let day = own_day
                .or_else(|| flat.spanning_day(item, ctx.tz))
                .or_else(|| flat.preceding_day(start, 0).map(|d| d.stamp));
            resolve(time, day, ctx)
        }
        // A date selector that reads nothing leaves the item undated rather than guessed.
        None if look_inside => flat
            .preceding_day(start, 0)
            .and_then(|d| resolve(d.stamp, None, ctx)),
        None => None,
    }
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

/// The item's headline link: the usable link inside a heading, else with the longest text (the
/// image link beside a headline has none), or the item itself when it is a link.
fn main_link<'a>(item: ElementRef<'a>, links: &Links) -> Option<(ElementRef<'a>, Url)> {
    let own = (item.value().name() == "a").then_some(item);
    own.into_iter()
        .chain(item.select(&LINKS))
        .filter_map(|a| {
            let url = links.resolve(a.value().attr("href")?)?;
            let text = element_text(headline_element(a));
            (!text.is_empty()).then(|| (a, url, headline_rank(a, &text)))
        })
        .max_by_key(|(_, _, rank)| *rank)
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
            encoding_rs::UTF_8,
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
    fn a_card_link_holding_its_date_gives_the_title_without_it_and_the_date() {
        let html = r#"<!DOCTYPE html><html><head><title>一覧</title></head><body><ul class="list">
              <li><a href="/n/1"><div class="title">日経平均は続伸、半導体株に買い戻し</div><span class="date">08/28 15:40</span></a></li>
              <li><a href="/n/2">トヨタ自動車、国内生産計画を上方修正 <span class="date">2025/08/27 09:05</span></a></li>
              <li><a href="/n/3"><h3>台積電 8月28日法說會</h3><span>08/26</span></a></li>
              <li><a href="/n/4"><span>今日</span>焦點：外資賣超百億元<span>08/25 09:00</span></a></li>
            </ul></body></html>"#;
        let url = Url::parse("https://news.example.com/list").unwrap();
        let config = select("ul.list > li", None, None, None);
        let one_pass =
            crate::extract::stream::extract(html, &url, encoding_rs::UTF_8, &config, &ctx())
                .expect("a well-formed page is read in one pass");
        for items in [
            one_pass,
            extract_dom(html, &url, encoding_rs::UTF_8, &config, &ctx()),
        ] {
            let read: Vec<(&str, String)> = items
                .iter()
                .map(|i| (i.title.as_str(), i.published.unwrap().to_rfc3339()))
                .collect();
            assert_eq!(
                read,
                [
                    (
                        "日経平均は続伸、半導体株に買い戻し",
                        "2025-08-28T15:40:00+08:00".into()
                    ),
                    (
                        "トヨタ自動車、国内生産計画を上方修正",
                        "2025-08-27T09:05:00+08:00".into()
                    ),
                    // A heading is the headline: the date after it is the item's.
                    ("台積電 8月28日法說會", "2025-08-26T00:00:00+08:00".into()),
                    // A day word alone is a word of the title.
                    (
                        "今日焦點：外資賣超百億元",
                        "2025-08-25T09:00:00+08:00".into()
                    ),
                ]
            );
        }
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
            encoding_rs::UTF_8,
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
            encoding_rs::UTF_8,
            &select("li", None, None, Some("span")),
            &ctx(),
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].published, None);
    }
}
