//! Listing page to items. Plain synchronous functions over text: the caller runs them off the
//! async threads.

pub mod auto;
pub mod flat;
pub mod json;
pub mod select;
pub mod spec;
pub mod text;

use chrono::DateTime;
use chrono_tz::Tz;
use url::Url;

/// One dated headline as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub title: String,
    pub link: Option<Url>,
    pub published: Option<DateTime<Tz>>,
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
