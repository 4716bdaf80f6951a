//! `dateline preview`: fetch one page and show what the extractor finds, writing nothing.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;
use unicode_width::UnicodeWidthStr;

use crate::build::{FeedError, fetch_page, no_items, read_page};
use crate::config::FeedConfig;
use crate::dates::DateContext;
use crate::extract::Item;
use crate::extract::auto::{Listing, Placement};
use crate::extract::json::{JsonListing, LinkSpec};
use crate::fetch::Fetcher;

/// What one page gives.
#[derive(Debug, Clone)]
pub struct Preview {
    pub feed: FeedConfig,
    pub final_url: url::Url,
    pub encoding: &'static str,
    /// `selector` or `auto`.
    pub mode: &'static str,
    pub items: Vec<Item>,
    /// Auto mode: every dated listing on the page, the chosen one first.
    pub listings: Vec<Listing>,
    /// Auto mode over JSON (an API, or data in the page).
    pub json_listings: Vec<JsonListing>,
    /// The items came from the JSON listing rather than the HTML one.
    pub from_json: bool,
    /// Whether to offer a `[[feeds]]` snippet (a bare URL, not a configured feed).
    pub offer_snippet: bool,
    /// Why nothing was found, when nothing was.
    pub empty_reason: Option<String>,
}

/// Fetch and extract one feed's page.
pub async fn preview(
    fetcher: &Fetcher,
    feed: &FeedConfig,
    now: DateTime<Utc>,
    offer_snippet: bool,
) -> Result<Preview, FeedError> {
    let page = fetch_page(fetcher, feed).await?;
    let ctx = DateContext {
        tz: feed.timezone,
        now,
    };
    let feed_for_parse = feed.clone();
    tokio::task::spawn_blocking(move || {
        let reading = read_page(&page, &feed_for_parse, &ctx)?;
        Ok(Preview {
            mode: if feed_for_parse.select.is_some() {
                "selector"
            } else if feed_for_parse.json.is_some() {
                "json"
            } else {
                "auto"
            },
            empty_reason: reading
                .items
                .is_empty()
                .then(|| no_items(&page, &feed_for_parse).to_string()),
            feed: feed_for_parse,
            final_url: page.final_url,
            encoding: reading.encoding.name(),
            items: reading.items,
            listings: reading.listings,
            json_listings: reading.json_listings,
            from_json: reading.from_json,
            offer_snippet,
        })
    })
    .await
    .map_err(|e| FeedError::Extract(e.to_string()))?
}

fn placement_words(placement: Placement) -> &'static str {
    match placement {
        Placement::Inside => "inside each item",
        Placement::Before => "on the line before each headline (or a day header above)",
        Placement::After => "on the line after each headline",
    }
}

fn local_date(item: &Item) -> String {
    item.published
        .map(|at| at.format("%Y-%m-%d %H:%M %:z").to_string())
        .unwrap_or_else(|| "(undated)".to_string())
}

/// A `[[feeds]]` entry that reproduces the chosen listing in selector mode, where selector mode
/// can express it.
pub fn snippet(preview: &Preview) -> Option<String> {
    if preview.from_json {
        return json_snippet(preview);
    }
    let listing = preview.listings.first()?;
    // Selector mode takes a missing date from before an item, never after it.
    if listing.placement == Placement::After {
        return None;
    }
    let feed = &preview.feed;
    let mut text = feed_head(feed);
    let _ = writeln!(text, "[feeds.select]");
    let _ = writeln!(text, "item = {:?}", listing.selectors.item);
    if let Some(title) = &listing.selectors.title {
        let _ = writeln!(text, "title = {title:?}");
        let _ = writeln!(text, "link = {:?}", format!("{title}@href"));
    }
    match (&listing.selectors.date, listing.placement) {
        (Some(date), _) => {
            let _ = writeln!(text, "date = {date:?}");
        }
        (None, Placement::Before) => {
            let _ = writeln!(
                text,
                "# no `date`: each item takes the nearest date before it"
            );
        }
        (None, _) => {
            let _ = writeln!(
                text,
                "# no `date`: each item takes the date inside it, else the nearest before it"
            );
        }
    }
    Some(text)
}

/// The `[[feeds]]` lines every snippet starts with.
fn feed_head(feed: &FeedConfig) -> String {
    format!(
        "[[feeds]]\nid = {:?}\nurl = {:?}\ntimezone = {:?}\n",
        feed.id,
        feed.url.as_str(),
        feed.timezone.name()
    )
}

/// A `[[feeds]]` entry with the `[feeds.json]` table auto mode found.
fn json_snippet(preview: &Preview) -> Option<String> {
    let listing = preview.json_listings.first()?;
    let feed = &preview.feed;
    let config = &listing.config;
    let mut text = feed_head(feed);
    let _ = writeln!(text, "[feeds.json]");
    if let Some(source) = listing.source.config_value() {
        let _ = writeln!(text, "source = {source:?}");
    }
    let _ = writeln!(text, "items = {:?}", config.items);
    let _ = writeln!(text, "title = {:?}", config.title);
    match &config.link {
        Some(LinkSpec::Pointer(p)) | Some(LinkSpec::Template(p)) => {
            let _ = writeln!(text, "link = {p:?}");
        }
        None => {
            let _ = writeln!(
                text,
                "# no link field found: add link = \"https://…/{{id}}\" (a template over the item's fields)"
            );
        }
    }
    if let Some(date) = &config.date {
        let _ = writeln!(text, "date = {date:?}");
    }
    Some(text)
}

/// The table and explanation a person reads.
pub fn render_text(preview: &Preview) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({} mode, decoded as {})",
        preview.final_url, preview.mode, preview.encoding
    );
    if let Some(listing) = preview.json_listings.first().filter(|_| preview.from_json) {
        let _ = writeln!(
            out,
            "chosen listing: {} dated items in JSON at {} {:?} (title {:?}, date {:?})",
            listing.items.len(),
            listing.source.describe(),
            listing.config.items,
            listing.config.title,
            listing.config.date.as_deref().unwrap_or("-"),
        );
    }
    if let Some(listing) = preview.listings.first().filter(|_| !preview.from_json) {
        let _ = writeln!(
            out,
            "chosen listing: {} dated items of {} headlines, dates {}; item selector {:?}",
            listing.items.len(),
            listing.candidates,
            placement_words(listing.placement),
            listing.selectors.item
        );
    }
    let _ = writeln!(out);
    let width = preview
        .items
        .iter()
        .map(|i| i.title.width())
        .max()
        .unwrap_or(0)
        .min(60);
    for item in &preview.items {
        let title = truncate_to_width(&item.title, width);
        let pad = width.saturating_sub(title.width());
        let link = item.link.as_ref().map_or("", url::Url::as_str);
        let _ = writeln!(
            out,
            "{}  {}{}  {}",
            local_date(item),
            title,
            " ".repeat(pad),
            link
        );
    }
    let _ = writeln!(out, "\n{} items", preview.items.len());
    if preview.listings.len() > 1 {
        let _ = writeln!(out, "\nother dated listings on the page:");
        for listing in &preview.listings[1..] {
            let first = listing.items.first().map_or("", |i| i.title.as_str());
            let _ = writeln!(
                out,
                "  {} dated items of {} ({:?}), first: {}",
                listing.items.len(),
                listing.candidates,
                listing.selectors.item,
                truncate_to_width(first, 50)
            );
        }
    }
    if preview.offer_snippet {
        match snippet(preview) {
            Some(snippet) => {
                let _ = writeln!(out, "\nto reproduce it, add to config.toml:\n\n{snippet}");
            }
            // Dates after their headlines are a layout selectors cannot say: say so.
            None if !preview.listings.is_empty() => {
                let _ = writeln!(
                    out,
                    "\nthis listing prints each date after its headline, which selectors cannot say; keep the feed in auto mode:\n\n{}",
                    feed_head(&preview.feed)
                );
            }
            None => {}
        }
    }
    out
}

fn truncate_to_width(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if out.width() + c.to_string().width() + 1 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

pub fn render_json(preview: &Preview) -> serde_json::Value {
    let item_json = |item: &Item| {
        json!({
            "title": item.title,
            "link": item.link.as_ref().map(url::Url::as_str),
            "date": item.published.map(|at| at.to_rfc3339()),
        })
    };
    let json_listing_json = |listing: &JsonListing| {
        json!({
            "items": listing.items.len(),
            "source": listing.source.config_value(),
            "path": listing.config.items,
            "title": listing.config.title,
            "date": listing.config.date,
            "link": listing.config.link.as_ref().map(|l| match l {
                LinkSpec::Pointer(p) | LinkSpec::Template(p) => p.clone(),
            }),
            "score": listing.score,
        })
    };
    let listing_json = |listing: &Listing| {
        json!({
            "items": listing.items.len(),
            "candidates": listing.candidates,
            "placement": format!("{:?}", listing.placement).to_lowercase(),
            "selectors": {
                "item": listing.selectors.item,
                "title": listing.selectors.title,
                "date": listing.selectors.date,
            },
            "score": listing.score,
        })
    };
    json!({
        "url": preview.feed.url.as_str(),
        "final_url": preview.final_url.as_str(),
        "mode": preview.mode,
        "encoding": preview.encoding,
        "timezone": preview.feed.timezone.name(),
        "items": preview.items.iter().map(item_json).collect::<Vec<_>>(),
        "listing": preview.listings.first().map(listing_json),
        "alternatives": preview.listings.iter().skip(1).map(listing_json).collect::<Vec<_>>(),
        "from_json": preview.from_json,
        "json_listing": preview.json_listings.first().map(json_listing_json),
        "json_alternatives": preview.json_listings.iter().skip(1).map(json_listing_json).collect::<Vec<_>>(),
        "snippet": if preview.offer_snippet { snippet(preview) } else { None },
    })
}
