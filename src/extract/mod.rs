//! Listing page to items. Plain synchronous functions over text: the caller runs them off the
//! async threads.

pub mod auto;
pub mod charref;
pub mod flat;
pub mod json;
pub mod select;
pub mod spec;
pub mod stream;
pub mod text;
pub mod wellformed;

use chrono::DateTime;
use chrono_tz::Tz;
use url::Url;

/// One dated headline as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub title: String,
    pub link: Option<Url>,
    pub published: Option<DateTime<Tz>>,
    /// The item's other text (byline, source, time), where a byline may be found.
    pub context: Option<String>,
}

/// At most this much of an item's other text is kept for byline detection.
const CONTEXT_CHARS: usize = 200;

/// The text of an item element without its headline, shortened.
pub fn item_context(item_text: &str, title: &str) -> Option<String> {
    let mut rest = text::clean(&item_text.replacen(title, " ", 1));
    if let Some((cut, _)) = rest.char_indices().nth(CONTEXT_CHARS) {
        rest.truncate(cut);
    }
    (!rest.is_empty()).then_some(rest)
}

/// Keep the first item for each link; a later duplicate may still supply a missing date.
/// Items without a link are kept as they are.
pub fn dedupe_by_link(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for item in items {
        let Some(link) = &item.link else {
            out.push(item);
            continue;
        };
        let key = text::link_key(link);
        match seen.get(&key) {
            Some(&i) => {
                if out[i].published.is_none() {
                    out[i].published = item.published;
                }
            }
            None => {
                seen.insert(key, out.len());
                out.push(item);
            }
        }
    }
    out
}

#[cfg(test)]
mod context_tests {
    use super::*;

    #[test]
    fn item_context_is_the_cleaned_text_around_the_headline() {
        let long = "記者 王小明\u{3000}報導 ".repeat(40);
        let cases = [
            (
                "  台積電法說會  2025/8/28 15:48 【財訊快報/陳孟朔】",
                "台積電法說會",
            ),
            ("headline only", "headline only"),
            ("no title here\n\t by X", "missing"),
            ("\u{200B} 8/28\u{A0}\u{A0}Reuters • By Jane Doe", ""),
            (long.as_str(), "王小明"),
        ];
        for (text, title) in cases {
            let old: String = text::clean(&text.replacen(title, " ", 1))
                .chars()
                .take(CONTEXT_CHARS)
                .collect();
            let want = (!old.is_empty()).then_some(old);
            assert_eq!(item_context(text, title), want, "{text:?} / {title:?}");
        }
    }
}
