//! Selector mode in one streaming pass, for pages and configs where it gives exactly what the
//! DOM path gives, at a fraction of the cost: only the items' own markup is looked at closely,
//! the rest of the page is skimmed.
//!
//! Where every selector is one `matcher` takes, the scan that checks the page (`wellformed`)
//! matches them on its own stack and `scan::ScanReader` builds the items as it goes: one pass.
//! Other selectors are matched by lol_html (`lol::read`), and the scan then checks the page.
//!
//! It answers `None`, and the DOM path reads the page, when:
//! - the markup needs repair by the HTML tree builder (see `wellformed`), so the stream's idea
//!   of nesting is not the DOM's;
//! - a selector is one neither `matcher` nor lol_html takes; for lol_html, also one that names
//!   `html`/`head`/`body`/`:root`, uses `:not` or a CSS escape;
//! - items nest in items, an item or value is an SVG element or a script, style, noscript or
//!   template, or (one pass) a selector could match in SVG or an implied `<tbody>`;
//! - an item needs a date from outside itself (a date line before it, a day header above a
//!   time-only row), which takes the document's reading order.
//!
//! `tests/stream_identity.rs` and `tests/stream_adversarial.rs` hold it to that.
//!
//! The two readers (`lol` and `scan`) build the same `item::RawItem`s, which `extract` turns
//! into items as the DOM path would.

mod item;
mod lol;
mod scan;

use url::Url;

use super::spec::split_top_level;
use super::text::Links;
use super::{Item, dedupe_by_link, wellformed};
use crate::config::SelectConfig;
use crate::dates::DateContext;
use lol::{Plan, read};
use scan::{ScanPlan, scan_read};

/// The items of the page as `select::extract_dom` would find them, or `None` where only the DOM
/// path can say.
pub fn extract(
    html: &str,
    page_url: &Url,
    encoding: &'static encoding_rs::Encoding,
    select: &SelectConfig,
    ctx: &DateContext,
) -> Option<Vec<Item>> {
    let read = match ScanPlan::new(select) {
        Some(plan) => scan_read(html, &plan, ctx),
        None => {
            let plan = Plan::new(select)?;
            let seen = read(html, &plan, ctx)?;
            let starts: Vec<usize> = seen.items.iter().map(|i| i.start).collect();
            wellformed::check(html, &starts, &plan.watched, plan.implied_tbody)
                .map(|ancestors| (seen, ancestors))
        }
    };
    let (seen, outside) = match read {
        Ok(read) => read,
        Err(repair) => {
            tracing::debug!("{page_url}: read through the DOM: {}", repair.0);
            return None;
        }
    };
    let links = Links::with_base_href(seen.base_href.as_deref(), page_url, encoding);
    // Ancestors only rank an item's links, when the config does not name its title and link.
    let ranks_links = select.title.is_none() || select.link.is_none();
    let mut items = Vec::with_capacity(seen.items.len());
    for (raw, ancestors) in seen.items.iter().zip(&outside) {
        let ancestors: Vec<Outside> = if ranks_links {
            ancestors
                .iter()
                .map(|(name, start)| Outside {
                    name: name.clone(),
                    class: wellformed::attribute_at(html, *start, "class"),
                })
                .collect()
        } else {
            Vec::new()
        };
        if let Some(item) = raw.finish(&ancestors, &links, select, ctx)? {
            items.push(item);
        }
    }
    Some(dedupe_by_link(items))
}

/// The attributes the config's selectors match on (`class`, `id`, `[name…]`).
fn watched(select: &SelectConfig) -> Vec<String> {
    let mut watched = vec!["class".to_string(), "id".to_string()];
    watched.extend(selector_texts(select).flat_map(attribute_names));
    watched
}

/// The attribute names a selector tests (`[data-k="v"]`, `[href^=…]`).
fn attribute_names(selector: &str) -> Vec<String> {
    selector
        .split('[')
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| {
                    c.is_ascii_alphanumeric() || !c.is_ascii() || matches!(c, '-' | '_' | ':' | '.')
                })
                .collect();
            (!name.is_empty()).then(|| name.to_ascii_lowercase())
        })
        .collect()
}

/// The item selector, and the title, link and date selectors the config gives.
fn selector_texts(select: &SelectConfig) -> impl Iterator<Item = &str> {
    std::iter::once(select.item_source.trim()).chain(
        [&select.title, &select.link, &select.date]
            .into_iter()
            .flatten()
            .map(|spec| spec.selector_text.as_str()),
    )
}

/// An ancestor of an item, outside it.
struct Outside {
    name: String,
    class: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_lists_split_at_top_level_commas() {
        assert_eq!(
            split_top_level(r#"ul > li, div[data-x="a,b"]:not(.ad, .x)"#).unwrap(),
            vec!["ul > li", r#"div[data-x="a,b"]:not(.ad, .x)"#]
        );
        assert!(split_top_level("li[").is_none());
    }
}
