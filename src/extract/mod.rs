//! Listing page to items. Plain synchronous functions over text: the caller runs them off the
//! async threads.

pub mod auto;
pub mod charref;
pub mod flat;
pub mod json;
mod matcher;
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
    // `item_text.replacen(title, " ", 1)`.
    let mut rest = match find_in_item(item_text, title) {
        Some(at) => text::clean(&[&item_text[..at], " ", &item_text[at + title.len()..]].concat()),
        None => text::clean(item_text),
    };
    if let Some((cut, _)) = rest.char_indices().nth(CONTEXT_CHARS) {
        rest.truncate(cut);
    }
    (!rest.is_empty()).then_some(rest)
}

/// `hay.find(needle)` for an item's text: `str::find` first sets up a two-way searcher, which
/// on a few hundred bytes costs more than scanning from each occurrence of the needle's first
/// byte. Long texts, where a plain scan could take quadratic time, still get the searcher.
fn find_in_item(hay: &str, needle: &str) -> Option<usize> {
    let (Some((&first, rest)), true) = (needle.as_bytes().split_first(), hay.len() <= 4096) else {
        return hay.find(needle);
    };
    let bytes = hay.as_bytes();
    // A match starts with the needle's first byte, which begins a character: it is a boundary.
    memchr::memchr_iter(first, bytes).find(|&at| bytes[at + 1..].starts_with(rest))
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

    #[test]
    fn find_in_item_finds_what_str_find_finds() {
        // Few characters, so that partial matches are common; and now and then a text past
        // the length where the two-way searcher takes over.
        const ALPHABET: [char; 7] = ['台', '積', 'a', 'b', ' ', '電', 'é'];
        fn next(seed: &mut u64) -> u64 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        }
        fn random(seed: &mut u64, len: u64) -> String {
            (0..len)
                .map(|_| ALPHABET[(next(seed) % ALPHABET.len() as u64) as usize])
                .collect()
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..20_000 {
            let len = if round % 1000 == 0 {
                2000
            } else {
                next(&mut seed) % 24
            };
            let hay = random(&mut seed, len);
            let needle = if round % 2 == 0 && !hay.is_empty() {
                // A piece of the text itself, cut at character boundaries.
                let chars: Vec<char> = hay.chars().collect();
                let from = (next(&mut seed) as usize) % chars.len();
                let to = from + (next(&mut seed) as usize) % (chars.len() - from + 1);
                chars[from..to].iter().collect()
            } else {
                let len = next(&mut seed) % 4;
                random(&mut seed, len)
            };
            assert_eq!(
                find_in_item(&hay, &needle),
                hay.find(&needle),
                "{hay:?} / {needle:?}"
            );
        }
    }
}
