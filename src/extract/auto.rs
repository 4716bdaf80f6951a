//! Auto mode: find the page's listing of dated headlines without selectors.
//!
//! A headline is a link whose text reads as a headline, inside an element that repeats among its
//! siblings (an `li` of a `ul`, a `tr` of a table, a card of a grid), with a date that belongs to
//! it: inside the item, or in the gap before it (a date line above the headline, a day header
//! above time-only rows), or after it. Items are grouped into listings by where their container
//! sits in the page; the listing with the most dated items, most consistently dated, wins.
//! Nothing here knows a site's class names.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::Item;
use super::flat::{DateAtom, Flat, combine, merge, resolve};
use super::text::{Headline, LINKS, Links, element_text, link_key};
use crate::dates::{DateContext, Stamp};

/// A listing found on the page, with what a person needs to judge it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub items: Vec<Item>,
    /// Headline links in the listing before undated ones were dropped.
    pub candidates: usize,
    pub placement: Placement,
    /// A `[feeds.select]` that reproduces this listing in selector mode.
    pub selectors: InferredSelectors,
    pub score: f64,
    /// Where the listing starts in the document, to break ties the same way every run.
    pub position: usize,
}

/// Where a listing's dates sit relative to its headlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Inside,
    Before,
    After,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferredSelectors {
    pub item: String,
    pub title: Option<String>,
    pub date: Option<String>,
}

/// The listings of a page, best first.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub listings: Vec<Listing>,
}

impl Found {
    pub fn best(&self) -> Option<&Listing> {
        self.listings.first()
    }
}

/// Repeated siblings below this count are not a listing.
const MIN_REPEAT: usize = 3;
/// A listing needs this many dated items.
const MIN_DATED: usize = 2;
/// How far above the first item a day header may sit (in document nodes).
const HEADER_LOOKBACK: usize = 40;

/// Find every dated listing on a page.
pub fn extract(
    html: &str,
    page_url: &Url,
    encoding: &'static encoding_rs::Encoding,
    ctx: &DateContext,
) -> Found {
    let document = Html::parse_document(html);
    let links = Links::new(&document, page_url, encoding);
    let flat = Flat::new(&document, ctx);
    let page_key = link_key(page_url);

    // Headline links and every element that contains one.
    let mut candidates: Vec<(ElementRef, Url, String, Headline)> = Vec::new();
    for a in document.select(&LINKS) {
        let Some(url) = a.value().attr("href").and_then(|h| links.resolve(h)) else {
            continue;
        };
        if link_key(&url) == page_key {
            continue;
        }
        let headline = Headline::of(a, ctx);
        let text = headline.text();
        if is_headline(&text) {
            candidates.push((a, url, text, headline));
        }
    }
    // Every headline link in page order, with where it leads.
    let headline_links: Vec<(usize, ElementRef, String)> = candidates
        .iter()
        .map(|(a, url, ..)| (flat.pos(*a), *a, link_key(url)))
        .collect();
    let mut holds_headline: HashSet<NodeId> = HashSet::new();
    for (a, ..) in &candidates {
        holds_headline.insert(a.id());
        for ancestor in a.ancestors() {
            holds_headline.insert(ancestor.id());
        }
    }

    // Each headline's repeated item element, grouped by the container's place in the page.
    let mut groups: HashMap<(String, String), Vec<Candidate>> = HashMap::new();
    for (a, url, text, headline) in candidates {
        let Some((item, container)) = repeated_item(a, &holds_headline) else {
            continue;
        };
        let key = (signature(container), item.value().name().to_string());
        groups.entry(key).or_default().push(Candidate {
            item,
            container,
            link: a,
            url,
            title: text,
            headline,
        });
    }

    let mut groups: Vec<Vec<Candidate>> = groups.into_values().collect();
    groups.sort_by_key(|group| flat.pos(group[0].item));
    let mut listings: Vec<(Listing, Narrowing)> = join_continued(groups)
        .into_iter()
        .filter_map(|group| listing(group, &flat, &headline_links, ctx))
        .collect();
    listings.sort_by(|(a, _), (b, _)| {
        b.score
            .total_cmp(&a.score)
            .then(a.position.cmp(&b.position))
    });
    // Matching a selector over the page is worth it for the listing a snippet is made of.
    if let Some((best, narrowing)) = listings.first_mut() {
        best.selectors.item = narrowing.narrowed(&document);
    }
    Found {
        listings: listings.into_iter().map(|(listing, _)| listing).collect(),
    }
}

struct Candidate<'a> {
    item: ElementRef<'a>,
    container: ElementRef<'a>,
    link: ElementRef<'a>,
    url: Url,
    title: String,
    /// The part of the link that is its headline, and the parts of that which are its date.
    headline: Headline<'a>,
}

/// Words that label navigation, not news.
const NOT_HEADLINES: &[&str] = &[
    "more",
    "read more",
    "more news",
    "see more",
    "see all",
    "view all",
    "next",
    "previous",
    "prev",
    "next page",
    "home",
    "login",
    "sign in",
    "subscribe",
    "更多",
    "看更多",
    "更多新聞",
    "更多新闻",
    "下一頁",
    "上一頁",
    "下一页",
    "上一页",
    "首頁",
    "首页",
    "詳全文",
    "详全文",
    "閱讀全文",
    "阅读全文",
    "全文",
    "繼續閱讀",
    "继续阅读",
    "もっと見る",
    "次へ",
    "前へ",
    "一覧",
    "more »",
    "›",
    "»",
];

/// Text that reads as a headline: long enough in its script, not a label, a number or a symbol.
pub fn is_headline(text: &str) -> bool {
    let chars = text.chars().count();
    // Labels are short: only those are lowercased and compared (every link of a page comes here).
    if chars <= 20 {
        let lower = text.trim().to_lowercase();
        if NOT_HEADLINES.contains(&lower.as_str()) {
            return false;
        }
        // "更多8/27新聞 >>", "More market news »": a label with a little more on it.
        if [
            "更多",
            "看更多",
            "查看更多",
            "閱讀更多",
            "more ",
            "read more",
            "see more",
            "view more",
            "もっと",
        ]
        .iter()
        .any(|w| lower.starts_with(w))
        {
            return false;
        }
    }
    if chars > 300 {
        return false;
    }
    // CJK ideographs and hangul syllables are letters: told apart first, they skip Unicode's
    // slow table lookup.
    let is_letter = |c: char| {
        c.is_ascii_alphabetic()
            || matches!(c as u32, 0x4E00..=0x9FFF | 0xAC00..=0xD7A3)
            || (!c.is_ascii() && c.is_alphabetic())
    };
    let wide = text.chars().filter(|c| is_wide(*c)).count();
    let letters = text.chars().filter(|c| is_letter(*c)).count();
    let words = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric())))
        .filter(|w| w.chars().any(is_letter) && !w.chars().all(is_wide))
        .count();
    // A CJK character carries about a word's meaning.
    let weight = wide + words;
    // Finance headlines carry many figures (`00940除息 配發0.05元 殖利率約5.2%`), but a text
    // of mostly digits is a price or a code.
    let non_space = chars.saturating_sub(text.matches(' ').count());
    // English headlines can be three words ("Fed holds rates"); CJK ones are longer in characters.
    let long_enough = weight >= 5 || (wide == 0 && words >= 3 && letters >= 12);
    long_enough && letters * 10 >= non_space * 3
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // kana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified
        | 0xAC00..=0xD7AF // hangul
        | 0xF900..=0xFAFF)
}

/// The element that repeats among its siblings and holds this headline: the lowest ancestor
/// whose parent has at least [`MIN_REPEAT`] children of its tag that hold headlines.
fn repeated_item<'a>(
    link: ElementRef<'a>,
    holds_headline: &HashSet<NodeId>,
) -> Option<(ElementRef<'a>, ElementRef<'a>)> {
    let mut current = link;
    for _ in 0..10 {
        let parent = current.parent().and_then(ElementRef::wrap)?;
        if matches!(parent.value().name(), "html" | "body") {
            return None;
        }
        let tag = current.value().name();
        let repeats = parent
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|sibling| {
                sibling.value().name() == tag && holds_headline.contains(&sibling.id())
            })
            .count();
        if repeats >= MIN_REPEAT {
            return Some((current, parent));
        }
        current = parent;
    }
    None
}

/// Groups whose containers are siblings of one tag, one holding the other's classes and more
/// (`div.collection`, then the batch a "load more" button appended, `div.collection.more`),
/// with items of one kind, are one listing. Groups come in page order.
fn join_continued(groups: Vec<Vec<Candidate>>) -> Vec<Vec<Candidate>> {
    let classes =
        |el: ElementRef| -> HashSet<String> { el.value().classes().map(str::to_string).collect() };
    let continues = |first: &Candidate, next: &Candidate| {
        let (a, b) = (first.container, next.container);
        let (a_classes, b_classes) = (classes(a), classes(b));
        a.id() != b.id()
            && a.parent().map(|p| p.id()) == b.parent().map(|p| p.id())
            && a.value().name() == b.value().name()
            && !a_classes.is_disjoint(&b_classes)
            && (a_classes.is_subset(&b_classes) || b_classes.is_subset(&a_classes))
            && first.item.value().name() == next.item.value().name()
            && classes(first.item) == classes(next.item)
    };
    let mut joined: Vec<Vec<Candidate>> = Vec::new();
    for group in groups {
        match joined
            .iter()
            .position(|listing| continues(&listing[0], &group[0]))
        {
            Some(i) => joined[i].extend(group),
            None => joined.push(group),
        }
    }
    joined
}

/// Where an element sits: the tags, ids and classes of its ancestors and itself. Listings split
/// over several containers of one kind (a `ul` per day) share it.
fn signature(element: ElementRef) -> String {
    let mut steps: Vec<String> = element
        .ancestors()
        .filter_map(ElementRef::wrap)
        .map(|el| css_step(el, false))
        .collect();
    steps.reverse();
    steps.push(css_step(element, false));
    steps.join(">")
}

/// `tag#id.class1.class2` for an element (`with_id` false leaves ids out, since ids often count).
fn css_step(el: ElementRef, with_id: bool) -> String {
    let mut step = el.value().name().to_string();
    if with_id
        && let Some(id) = el.value().id()
        && is_css_ident(id)
    {
        step.push('#');
        step.push_str(id);
    }
    let mut classes: Vec<&str> = el.value().classes().filter(|c| is_css_ident(c)).collect();
    classes.sort_unstable();
    for class in classes {
        step.push('.');
        step.push_str(class);
    }
    step
}

fn is_css_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.chars().any(|c| c.is_ascii_digit() && name.len() > 12)
}

/// Labels that mark an item as paid placement.
const SPONSORED: &[&str] = &[
    "廣告",
    "广告",
    "贊助",
    "赞助",
    "sponsored",
    "advertisement",
    "promoted",
    "pr",
    "ad",
    "廣編",
    "特企",
];

fn listing(
    group: Vec<Candidate>,
    flat: &Flat,
    headline_links: &[(usize, ElementRef, String)],
    ctx: &DateContext,
) -> Option<(Listing, Narrowing)> {
    // One candidate per item element: the headline is the longest link text, preferring links
    // inside a heading.
    let mut by_item: Vec<Candidate> = Vec::new();
    let mut index: HashMap<NodeId, usize> = HashMap::new();
    for candidate in group {
        match index.get(&candidate.item.id()) {
            Some(&i) if headline_rank(&by_item[i]) >= headline_rank(&candidate) => {}
            Some(&i) => by_item[i] = candidate,
            None => {
                index.insert(candidate.item.id(), by_item.len());
                by_item.push(candidate);
            }
        }
    }
    by_item.sort_by_key(|c| flat.pos(c.item));
    if by_item.len() < MIN_REPEAT {
        return None;
    }

    let spans: Vec<(usize, usize)> = by_item.iter().map(|c| flat.span(c.item)).collect();
    let title_spans: Vec<(usize, usize)> = by_item
        .iter()
        .map(|c| flat.span(c.headline.element))
        .collect();
    let date_parts: Vec<Vec<(usize, usize)>> = by_item
        .iter()
        .map(|c| c.headline.dates.iter().map(|d| flat.span(*d)).collect())
        .collect();
    let containers: Vec<(usize, usize)> = by_item.iter().map(|c| flat.span(c.container)).collect();
    let n = by_item.len();
    let gather = |start: usize, end: usize, except: (usize, usize)| -> Vec<DateAtom> {
        flat.dates_in(start, end, except).copied().collect()
    };
    let inside: Vec<Vec<DateAtom>> = (0..n)
        .map(|k| {
            let all: Vec<DateAtom> = flat
                .dates_in_but(spans[k].0, spans[k].1, title_spans[k], &date_parts[k])
                .copied()
                .collect();
            // Dates of other headlines inside the item (a 延伸閱讀 block of dated related
            // links) are theirs; the item's own date is outside them, where it has one.
            let theirs = others_in(&by_item[k], spans[k], flat, headline_links);
            let own: Vec<DateAtom> = all
                .iter()
                .filter(|atom| !theirs.iter().any(|t| (t.0..t.1).contains(&atom.pos)))
                .copied()
                .collect();
            if own.is_empty() { all } else { own }
        })
        .collect();
    // The gap before an item runs back to the previous item, across containers, so that a day
    // header between two lists (`<h3>8月28日</h3><ul>…`) falls into it.
    let before: Vec<Vec<DateAtom>> = (0..n)
        .map(|k| {
            let from = if k > 0 {
                spans[k - 1].1
            } else {
                spans[0].0.saturating_sub(HEADER_LOOKBACK)
            };
            gather(from, spans[k].0, (0, 0))
        })
        .collect();
    let after: Vec<Vec<DateAtom>> = (0..n)
        .map(|k| {
            let to = if k + 1 < n && containers[k + 1] == containers[k] {
                spans[k + 1].0
            } else {
                containers[k].1
            };
            gather(spans[k].1, to, (0, 0))
        })
        .collect();
    let full = |atoms: &Vec<DateAtom>| {
        matches!(
            combine(atoms.iter().copied(), ctx.tz),
            Some(Stamp::At(_) | Stamp::Day(_))
        )
    };
    let count = |gaps: &Vec<Vec<DateAtom>>| gaps.iter().filter(|g| full(g)).count();
    let (n_inside, n_before, n_after) = (count(&inside), count(&before), count(&after));
    // Dates that follow their headlines tie with dates before them when a date sits above the
    // list (`更新时间：2025-08-28 16:05` over `<a>…</a><span>(08-28 15:48)</span>` rows): each
    // gap before an item then holds the previous item's date. The first item's gap tells them
    // apart: a date line that belongs to it sits in the list, a header above the list does not.
    let header_above = || {
        let first: Vec<&DateAtom> = before[0].iter().collect();
        !first.is_empty() && first.iter().all(|atom| atom.pos < containers[0].0)
    };
    let placement = if n_inside > 0 && n_inside >= n_before.max(n_after) {
        Placement::Inside
    } else if n_after > n_before || (n_after > 0 && n_after == n_before && header_above()) {
        Placement::After
    } else {
        Placement::Before
    };

    let rows_have_own_dates = inside.iter().filter(|atoms| !atoms.is_empty()).count() * 2 > n;
    // Walk the items in order, carrying the last day named (a day header) for time-only rows.
    let mut carry: Option<Stamp> = None;
    let mut items = Vec::new();
    let mut kept: Vec<usize> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut headlines = 0;
    // Times of day with no day anywhere near them, of the items kept.
    let mut bare_times: Vec<chrono::NaiveTime> = Vec::new();
    for k in 0..n {
        let own = combine(inside[k].iter().copied(), ctx.tz);
        let gap_before = combine(before[k].iter().copied(), ctx.tz);
        // A gap that names only a day is a day header: it holds for the rows below it.
        if let Some(day @ Stamp::Day(_)) = gap_before {
            carry = Some(day);
        }
        let stamp = match placement {
            Placement::Inside => own,
            Placement::Before => merge(own, gap_before, ctx.tz),
            Placement::After => merge(own, combine(after[k].iter().copied(), ctx.tz), ctx.tz),
        };
        // A time's day: a cell spanning the row from above, else the day header carried down.
        let day = match stamp {
            Some(Stamp::TimeOfDay(_)) => flat.spanning_day(by_item[k].item, ctx.tz).or(carry),
            _ => None,
        };
        let bare_time = match stamp {
            Some(Stamp::TimeOfDay(time)) if day.is_none() => Some(time),
            _ => None,
        };
        let published = match stamp {
            Some(time @ Stamp::TimeOfDay(_)) => resolve(time, day, ctx),
            Some(stamp) => resolve(stamp, None, ctx),
            // A row under a day header that prints no time of its own is from that day, in
            // listings whose rows print no times; where the others do, a row without one is a
            // "more" link or a paid slot, not news.
            None if !rows_have_own_dates => carry.and_then(|day| resolve(day, None, ctx)),
            None => None,
        };
        let candidate = &by_item[k];
        if is_sponsored(candidate.item, candidate.link) {
            continue;
        }
        headlines += 1;
        // A headline without a date that belongs to it is not an item; the same link twice is one.
        if published.is_some() && seen.insert(link_key(&candidate.url)) {
            bare_times.extend(bare_time);
            kept.push(k);
            items.push(Item {
                title: candidate.title.clone(),
                link: Some(candidate.url.clone()),
                published,
                context: super::item_context(&element_text(candidate.item), &candidate.title),
            });
        }
    }
    let dated = items.len();
    if dated < MIN_DATED {
        return None;
    }
    if bare_times.len() == dated && !in_clock_order(&bare_times) {
        return None;
    }
    // Table rows all stamped with one minute are quotes as of a moment (peers' prices at the
    // 13:30 close), not news published over time. (A list of stories all "1 day ago" is news.)
    let first = items[0].published;
    if dated >= MIN_REPEAT
        && by_item[0].item.value().name() == "tr"
        && first.is_some_and(|at| at.time() != chrono::NaiveTime::MIN)
        && items.iter().all(|item| item.published == first)
    {
        return None;
    }
    let share = dated as f64 / headlines.max(1) as f64;
    let mean_title =
        items.iter().map(|i| i.title.chars().count()).sum::<usize>() as f64 / dated as f64;
    let title_factor = (mean_title / 12.0).min(1.0);
    let chosen: Vec<&Candidate> = kept.iter().map(|&k| &by_item[k]).collect();
    let furniture = page_furniture(by_item[0].container);
    // A ranking beside the page's content ranks by readers, not by time: never the feed, even
    // where the listing itself is drawn by a script and the ranking is all there is.
    if let Some(furniture) = furniture
        && is_ranking(&chosen, furniture, flat)
    {
        return None;
    }
    let region = if furniture.is_some() { 0.3 } else { 1.0 };
    let score = dated as f64 * share * share * title_factor * region;
    let dropped: Vec<&Candidate> = (0..n)
        .filter(|k| !kept.contains(k))
        .map(|k| &by_item[k])
        .collect();
    let chosen_inside: Vec<&Vec<DateAtom>> = kept.iter().map(|&k| &inside[k]).collect();
    let (selectors, narrowing) =
        infer_selectors(&chosen, &dropped, placement, flat, &chosen_inside, ctx.tz);
    let listing = Listing {
        selectors,
        items,
        candidates: headlines,
        placement,
        score,
        position: spans[0].0,
    };
    Some((listing, narrowing))
}

/// Whether times of day read down a list fit in one day read one way: newest first or oldest
/// first, across midnight at most once and not back past the first. A day's news is listed in
/// order of time; the lengths of a rail of videos (`4:12`, `2:47`, `6:05`) read as times of day
/// are in no order.
fn in_clock_order(times: &[chrono::NaiveTime]) -> bool {
    use chrono::Timelike;
    const DAY: u32 = 24 * 60;
    let minutes: Vec<u32> = times.iter().map(|t| t.hour() * 60 + t.minute()).collect();
    // The minutes from each time to the next, going back (or forward) round the clock; a step
    // of up to half an hour the other way (a story pinned, or updated and moved) counts as none.
    let span = |step: fn(u32, u32) -> u32| -> u32 {
        minutes
            .windows(2)
            .map(|w| step(w[0], w[1]) % DAY)
            .map(|minutes| if minutes > DAY - 30 { 0 } else { minutes })
            .sum()
    };
    span(|a, b| a + DAY - b) < DAY || span(|a, b| b + DAY - a) < DAY
}

/// The spans of what other headlines (links elsewhere than the item's own) hold inside an item
/// (at `span`): for each, its largest ancestor inside the item that does not hold the item's
/// headline.
fn others_in(
    candidate: &Candidate,
    span: (usize, usize),
    flat: &Flat,
    headline_links: &[(usize, ElementRef, String)],
) -> Vec<(usize, usize)> {
    let from = headline_links.partition_point(|(pos, ..)| *pos < span.0);
    let to = headline_links.partition_point(|(pos, ..)| *pos < span.1);
    let own = link_key(&candidate.url);
    let mut others = headline_links[from..to]
        .iter()
        .filter(|(.., key)| *key != own)
        .peekable();
    if others.peek().is_none() {
        return Vec::new();
    }
    let holds_own: HashSet<NodeId> = candidate.link.ancestors().map(|a| a.id()).collect();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (pos, link, _) in others {
        if spans.iter().any(|s| (s.0..s.1).contains(pos)) {
            continue;
        }
        let mut region = *link;
        while let Some(parent) = region.parent().and_then(ElementRef::wrap) {
            if parent.id() == candidate.item.id() || holds_own.contains(&parent.id()) {
                break;
            }
            region = parent;
        }
        spans.push(flat.span(region));
    }
    spans
}

fn headline_rank(candidate: &Candidate) -> (i32, usize) {
    super::text::headline_rank(candidate.link, &candidate.title)
}

/// An item labelled as paid placement by a short text of its own.
fn is_sponsored(item: ElementRef, link: ElementRef) -> bool {
    let link_id = link.id();
    // Labels are short: longer texts are not lowercased, nor is their place looked up.
    item.descendants()
        .filter_map(|n| n.value().as_text().map(|t| (n, t.trim())))
        .filter(|(_, t)| !t.is_empty() && t.len() <= 40)
        .filter(|(n, _)| !n.ancestors().any(|a| a.id() == link_id))
        .map(|(_, t)| t.to_lowercase())
        .any(|t| SPONSORED.contains(&t.trim_matches(|c: char| !c.is_alphanumeric())))
        // rel="sponsored" is how the web itself labels paid links.
        || link
            .value()
            .attr("rel")
            .is_some_and(|rel| rel.split_whitespace().any(|r| r.eq_ignore_ascii_case("sponsored")))
        || item.value().classes().any(|c| {
            matches!(
                c.to_ascii_lowercase().as_str(),
                "ad" | "ads" | "sponsored" | "advert" | "advertisement"
            )
        })
}

/// Navigation, headers, footers and asides hold lists of links that are rarely the news.
fn page_furniture(element: ElementRef) -> Option<ElementRef> {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .find(|el| {
            matches!(el.value().name(), "nav" | "header" | "footer" | "aside")
                || el.value().attr("role").is_some_and(|r| {
                    matches!(r, "navigation" | "banner" | "contentinfo" | "complementary")
                })
        })
}

/// Words that title a ranking of stories by readers.
const RANKING_WORDS: &[&str] = &[
    "熱門",
    "热门",
    "排行",
    "人氣",
    "人气",
    "熱讀",
    "热读",
    "最多人",
    "ランキング",
    "よく読まれ",
    "most read",
    "most popular",
    "most viewed",
    "popular",
    "trending",
];

/// Whether a listing in `furniture` is a ranking: titled as one by the last heading before it
/// there, or numbered 1, 2, 3… down its items.
fn is_ranking(items: &[&Candidate], furniture: ElementRef, flat: &Flat) -> bool {
    let Some(first) = items.first() else {
        return false;
    };
    let start = flat.pos(first.container);
    let titled = furniture
        .select(&super::text::HEADINGS)
        .take_while(|heading| flat.pos(*heading) < start)
        .last()
        .is_some_and(|heading| {
            let text = element_text(heading).to_lowercase();
            RANKING_WORDS.iter().any(|word| text.contains(word))
        });
    let numbered = items
        .iter()
        .enumerate()
        .filter(|(k, c)| {
            let text = element_text(c.item);
            let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok() == Some(k + 1)
        })
        .count();
    titled || (items.len() >= MIN_REPEAT && numbered * 5 >= items.len() * 4)
}

/// Selectors that give the same items in selector mode: the container's path, the items'
/// shared class (or a `:not()` for a class only the dropped ones have), the date's element.
fn infer_selectors(
    items: &[&Candidate],
    dropped: &[&Candidate],
    placement: Placement,
    flat: &Flat,
    inside: &[&Vec<DateAtom>],
    tz: chrono_tz::Tz,
) -> (InferredSelectors, Narrowing) {
    let container = items[0].container;
    let item_tag = items[0].item.value().name();
    // A listing split over several containers (a list per day) is named by what they share, so
    // no container's own id.
    let one_container = items.iter().all(|c| c.container.id() == container.id());
    // Anchor the container at the nearest ancestor with an id, for a selector that survives
    // unrelated changes elsewhere on the page.
    // Containers that continue one another share some classes (see `join_continued`).
    let container_step = if one_container {
        css_step(container, true)
    } else {
        let mut shared: Vec<&str> = container.value().classes().collect();
        shared.retain(|class| {
            items
                .iter()
                .all(|c| c.container.value().classes().any(|other| other == *class))
        });
        let mut step = container.value().name().to_string();
        shared.sort_unstable();
        for class in shared.into_iter().filter(|c| is_css_ident(c)) {
            step.push('.');
            step.push_str(class);
        }
        step
    };
    let mut path = vec![(container.id(), container_step)];
    if !(one_container && container.value().id().is_some()) {
        for ancestor in container.ancestors().filter_map(ElementRef::wrap).take(4) {
            path.push((ancestor.id(), css_step(ancestor, true)));
            if ancestor.value().id().is_some() {
                break;
            }
        }
    }
    let shared = common_class(items.iter().map(|c| c.item));
    let refinement = match shared {
        Some(class) => format!(".{class}"),
        None => {
            let kept_classes: HashSet<&str> = items
                .iter()
                .flat_map(|c| c.item.value().classes())
                .collect();
            let mut only_dropped: Vec<&str> = dropped
                .iter()
                .flat_map(|c| c.item.value().classes())
                .filter(|c| !kept_classes.contains(c) && is_css_ident(c))
                .collect();
            only_dropped.sort_unstable();
            only_dropped.dedup();
            only_dropped.iter().map(|c| format!(":not(.{c})")).collect()
        }
    };
    let tail = format!("{item_tag}{refinement}");
    let narrowing = Narrowing {
        path,
        tail,
        kept: items.iter().map(|c| c.item.id()).collect(),
        containers: items.iter().map(|c| c.container.id()).collect(),
    };
    let item = narrowing.plain();
    // Selector mode's default title is the item's main link, chosen by the same ranking as
    // here, so a title selector would only add a way to go wrong.
    let title = None;
    let date = (placement == Placement::Inside)
        .then(|| date_selector(items, flat, inside, tz))
        .flatten();
    (InferredSelectors { item, title, date }, narrowing)
}

/// The item selector of a listing, `path > tail` (the path from the container outwards), with
/// what narrowing it takes: its items and their containers.
struct Narrowing {
    path: Vec<(NodeId, String)>,
    tail: String,
    kept: HashSet<NodeId>,
    containers: HashSet<NodeId>,
}

impl Narrowing {
    fn join(&self, steps: &[String]) -> String {
        let mut parts: Vec<&str> = steps.iter().rev().map(String::as_str).collect();
        parts.push(&self.tail);
        parts.join(" > ")
    }

    fn plain(&self) -> String {
        let steps: Vec<String> = self.path.iter().map(|(_, step)| step.clone()).collect();
        self.join(&steps)
    }

    /// The selector, narrowed where it would also match rows of another list (pages laid out
    /// in bare tables, a "most read" table beside the news table, often differ only in their
    /// attributes): the first attribute of a step, from the container outwards, that leaves
    /// out every other list, else the first step's position among its siblings.
    fn narrowed(&self, document: &Html) -> String {
        let steps: Vec<String> = self.path.iter().map(|(_, step)| step.clone()).collect();
        let plain = self.join(&steps);
        let root = document.root_element();
        // Every item of the listing and nothing outside its containers (a header row or an
        // undated one in them is selector mode's to take or leave), as selector mode's DOM path
        // would match them.
        let exact = |selector: &str| {
            Selector::parse(selector).is_ok_and(|compiled| {
                let mut found = 0;
                for el in root.select(&compiled) {
                    let in_listing = el
                        .parent()
                        .is_some_and(|parent| self.containers.contains(&parent.id()));
                    if !in_listing {
                        return false;
                    }
                    found += usize::from(self.kept.contains(&el.id()));
                }
                found == self.kept.len()
            })
        };
        if exact(&plain) {
            return plain;
        }
        let elements: Vec<ElementRef> = self
            .path
            .iter()
            .filter_map(|(id, _)| document.tree.get(*id).and_then(ElementRef::wrap))
            .collect();
        if elements.len() != steps.len() {
            return plain;
        }
        for (i, element) in elements.iter().enumerate() {
            let mut narrower = steps.clone();
            for (name, value) in element.value().attrs() {
                if matches!(name, "id" | "class" | "style" | "href" | "src")
                    || !is_css_ident(name)
                    || value.chars().any(char::is_control)
                {
                    continue;
                }
                // Single quotes read plainly inside the TOML string of the snippet.
                let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
                narrower[i] = format!("{}[{name}='{escaped}']", steps[i]);
                let selector = self.join(&narrower);
                if exact(&selector) {
                    return selector;
                }
            }
        }
        for (i, element) in elements.iter().enumerate() {
            let position = element
                .prev_siblings()
                .filter(|n| n.value().is_element())
                .count()
                + 1;
            let mut narrower = steps.clone();
            narrower[i] = format!("{}:nth-child({position})", steps[i]);
            let selector = self.join(&narrower);
            if exact(&selector) {
                return selector;
            }
        }
        plain
    }
}

fn common_class<'a>(elements: impl Iterator<Item = ElementRef<'a>>) -> Option<String> {
    let mut shared: Option<Vec<String>> = None;
    for el in elements {
        let classes: Vec<String> = el
            .value()
            .classes()
            .filter(|c| is_css_ident(c))
            .map(str::to_string)
            .collect();
        shared = Some(match shared {
            None => classes,
            Some(prev) => prev.into_iter().filter(|c| classes.contains(c)).collect(),
        });
    }
    shared.and_then(|s| s.into_iter().next())
}

/// The element (or attribute) that holds the date inside the items, as a selector relative to
/// the item, when one selector finds it in every item. Without one, selector mode looks inside
/// the item by itself, which is what auto mode did.
fn date_selector(
    items: &[&Candidate],
    flat: &Flat,
    inside: &[&Vec<DateAtom>],
    tz: chrono_tz::Tz,
) -> Option<String> {
    let (first, atom) = items
        .iter()
        .zip(inside)
        .find_map(|(c, atoms)| Some((c, atoms.first()?)))?;
    let (element, from_attribute) = date_element(first.item, flat, atom)?;
    let step = if element.id() == first.item.id() {
        String::new()
    } else {
        unique_path(first.item, element)?
    };
    let attr = from_attribute
        .and_then(|index| element.value().attrs().nth(usize::from(index)))
        .map(|(name, _)| name.to_string());
    let selector = match (step.is_empty(), attr) {
        (true, Some(attr)) => format!("@{attr}"),
        (false, Some(attr)) => format!("{step}@{attr}"),
        (true, None) => return None,
        (false, None) => step,
    };
    // The selector must find each item's own date element, not only the first item's, and that
    // element must say all of the item's date: a day marked up alone with the time beside it
    // (`<time datetime="2025-08-28">` then `<span>15:48</span>`) is read whole only without one.
    let spec = super::spec::ValueSpec::parse(&selector).ok()?;
    let everywhere = items.iter().zip(inside).all(|(c, atoms)| {
        let Some(atom) = atoms.first() else {
            return true;
        };
        if combine(atoms.iter().copied(), tz) != Some(atom.stamp) {
            return false;
        }
        match (date_element(c.item, flat, atom), spec.element(c.item)) {
            (Some((want, _)), Some(found)) => want.id() == found.id(),
            _ => false,
        }
    });
    everywhere.then_some(selector)
}

/// The element a date atom was read from, and which of its attributes, if one.
fn date_element<'a>(
    item: ElementRef<'a>,
    flat: &Flat,
    atom: &DateAtom,
) -> Option<(ElementRef<'a>, Option<u16>)> {
    let node = item
        .descendants()
        .find(|n| flat.node_pos(n.id()) == Some(atom.pos))?;
    match node.value() {
        scraper::node::Node::Text(_) => Some((node.parent().and_then(ElementRef::wrap)?, None)),
        _ => Some((ElementRef::wrap(node)?, atom.attribute)),
    }
}

/// A selector that finds `target` first inside `item`: its own step, narrowed by position among
/// its siblings and by its parent's step until the first match is the target.
fn unique_path(item: ElementRef, target: ElementRef) -> Option<String> {
    let finds_target = |selector: &str| {
        Selector::parse(selector)
            .ok()
            .and_then(|sel| item.select(&sel).next())
            .is_some_and(|found| found.id() == target.id())
    };
    let own = css_step(target, false);
    if finds_target(&own) {
        return Some(own);
    }
    let tag = target.value().name();
    let position = target
        .prev_siblings()
        .filter_map(ElementRef::wrap)
        .filter(|s| s.value().name() == tag)
        .count()
        + 1;
    let positioned = format!("{own}:nth-of-type({position})");
    if finds_target(&positioned) {
        return Some(positioned);
    }
    let parent = target.parent().and_then(ElementRef::wrap)?;
    if parent.id() == item.id() {
        return None;
    }
    let scoped = format!("{} > {positioned}", unique_path(item, parent)?);
    finds_target(&scoped).then_some(scoped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    /// Items of the best listing as (title, RFC 3339 date).
    fn found(html: &str, tz: chrono_tz::Tz, now: &str) -> Vec<(String, String)> {
        let ctx = DateContext {
            tz,
            now: DateTime::parse_from_rfc3339(now)
                .unwrap()
                .with_timezone(&Utc),
        };
        let url = Url::parse("https://news.example.com/list").unwrap();
        extract(html, &url, encoding_rs::UTF_8, &ctx)
            .best()
            .map(|l| {
                l.items
                    .iter()
                    .map(|i| (i.title.clone(), i.published.unwrap().to_rfc3339()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn dates_after_headlines_are_not_shifted_by_a_date_above_the_list() {
        let html = format!(
            "<html><body><div class=box><div class=tit><h2>滚动新闻</h2>\
             <span>更新时间：2025-08-28 16:05</span></div><div class=list>{}</div></div>\
             </body></html>",
            rows(
                "<a href=\"/n/{i}\">{t}</a><span>(08-28 15:4{i})</span><br>",
                &[
                    "沪指站上3800点 三大指数集体收涨",
                    "北向资金午后加速流入超百亿元",
                    "央行今日开展逆回购操作"
                ]
            )
        );
        let items = found(
            &html,
            chrono_tz::Asia::Shanghai,
            "2025-08-28T16:10:00+08:00",
        );
        assert_eq!(
            items.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>(),
            [
                "2025-08-28T15:40:00+08:00",
                "2025-08-28T15:41:00+08:00",
                "2025-08-28T15:42:00+08:00"
            ]
        );
    }

    #[test]
    fn lengths_of_videos_are_not_times_of_day() {
        let video = "<li><a href=\"/v/{i}\">{t}</a><span class=duration>{d}</span></li>";
        let titles = [
            "Nvidia CEO on the outlook for AI demand",
            "Stocks hit record as traders look past Nvidia",
            "Fed's Waller explains why he backs a cut",
            "Why China stocks are on a tear this summer",
        ];
        let list = |lengths: &[&str]| {
            let rows: String = titles
                .iter()
                .zip(lengths)
                .enumerate()
                .map(|(i, (t, d))| {
                    video
                        .replace("{i}", &i.to_string())
                        .replace("{t}", t)
                        .replace("{d}", d)
                })
                .collect();
            format!("<html><body><ul>{rows}</ul></body></html>")
        };
        let now = "2025-08-28T18:00:00-04:00";
        let tz = chrono_tz::America::New_York;
        assert!(found(&list(&["4:12", "2:47", "6:05", "3:31"]), tz, now).is_empty());
        // A day's list of times, newest first across midnight, is one.
        assert_eq!(
            found(&list(&["17:40", "09:15", "00:20", "23:55"]), tz, now).len(),
            4
        );
        assert!(in_clock_order(
            &["08:00", "09:30", "11:00"].map(|t| t.parse().unwrap())
        ));
        // A story a few minutes out of place (pinned, or updated and moved) is not disorder.
        assert!(in_clock_order(
            &["10:05", "10:07", "10:00", "09:55"].map(|t| t.parse().unwrap())
        ));
        assert!(!in_clock_order(
            &["04:12", "02:47", "06:05", "03:31"].map(|t| t.parse().unwrap())
        ));
    }

    #[test]
    fn the_item_selector_leaves_out_a_table_beside_the_listing_that_differs_only_in_attributes() {
        let news = rows(
            "<tr><td><font>2025/08/28 1{i}:48</font></td><td><a href=\"/n/{i}\">{t}</a></td></tr>",
            &TW,
        );
        let hot = rows("<tr><td>{i}. <a href=\"/hot/{i}\">{t}</a></td></tr>", &TW);
        let html = format!(
            "<html><body><table><tr><td><table cellspacing=1 bgcolor='#CCCCCC'>{news}</table></td>\
             <td><table cellpadding=3>{hot}</table></td></tr></table></body></html>"
        );
        let ctx = DateContext {
            tz: chrono_tz::Asia::Taipei,
            now: DateTime::parse_from_rfc3339("2025-08-28T20:00:00+08:00")
                .unwrap()
                .with_timezone(&Utc),
        };
        let url = Url::parse("https://news.example.com/list").unwrap();
        let found = extract(&html, &url, encoding_rs::UTF_8, &ctx);
        let listing = found.best().unwrap();
        assert_eq!(listing.items.len(), 3);
        let item = Selector::parse(&listing.selectors.item).unwrap();
        let document = Html::parse_document(&html);
        let matched: Vec<String> = document
            .select(&item)
            .map(|row| {
                row.select(&LINKS)
                    .next()
                    .unwrap()
                    .attr("href")
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            matched,
            ["/n/0", "/n/1", "/n/2"],
            "{}",
            listing.selectors.item
        );
    }

    #[test]
    fn a_listing_continued_in_a_container_with_one_more_class_is_one_listing() {
        let row = "<div class=el><a href=\"/{i}\">{t}</a><span>2025/08/28 1{i}:00</span></div>";
        let more =
            "<div class=el><a href=\"/more/{i}\">{t}</a><span>2025/08/27 1{i}:30</span></div>";
        let now = "2025-08-28T20:00:00+08:00";
        let tz = chrono_tz::Asia::Taipei;
        let joined = format!(
            "<html><body><main><div class=\"list scroll\">{}</div><div class=ad>ad</div>\
             <div class=\"list scroll more\">{}</div></main></body></html>",
            rows(row, &TW),
            rows(more, &TW)
        );
        assert_eq!(found(&joined, tz, now).len(), 6);
        // Sibling lists of other kinds stay apart.
        let apart = format!(
            "<html><body><main><div class=\"list latest\">{}</div>\
             <div class=\"list hot\">{}</div></main></body></html>",
            rows(row, &TW),
            rows(more, &TW)
        );
        assert_eq!(found(&apart, tz, now).len(), 3);
    }

    fn rows(template: &str, titles: &[&str]) -> String {
        titles
            .iter()
            .enumerate()
            .map(|(i, t)| template.replace("{i}", &i.to_string()).replace("{t}", t))
            .collect()
    }

    const TW: [&str; 3] = [
        "台積電法說會前夕外資連三買",
        "鴻海八月營收年增一成二",
        "聯發科新晶片量產法人上修",
    ];

    #[test]
    fn day_headers_and_relative_dates_across_zones() {
        struct Case {
            what: &'static str,
            html: String,
            tz: chrono_tz::Tz,
            now: &'static str,
            want: Vec<(&'static str, &'static str)>,
        }
        let cases = [
            Case {
                // Just after midnight in Taipei, while UTC is still on the 28th: the header
                // names the 29th and the rows below belong to it.
                what: "day header table, run clock just after midnight in Taipei",
                html: format!(
                    "<table><tr><td colspan=2>2025/08/29 (五)</td></tr><tr><td>00:05</td><td><a href=/a/0>{}</a></td></tr><tr><td colspan=2>2025/08/28 (四)</td></tr><tr><td>23:50</td><td><a href=/a/1>{}</a></td></tr><tr><td>21:10</td><td><a href=/a/2>{}</a></td></tr></table>",
                    TW[0], TW[1], TW[2]
                ),
                tz: chrono_tz::Asia::Taipei,
                now: "2025-08-29T00:10:00+08:00",
                want: vec![(TW[0], "2025-08-29T00:05:00+08:00"), (TW[1], "2025-08-28T23:50:00+08:00"), (TW[2], "2025-08-28T21:10:00+08:00")],
            },
            Case {
                what: "relative dates just after midnight in Taipei",
                html: format!("<ul>{}</ul>", rows("<li><a href=/r/{i}>{t}</a><span>{i}</span></li>", &TW))
                    .replace("<span>0</span>", "<span>剛剛</span>")
                    .replace("<span>1</span>", "<span>昨天 23:50</span>")
                    .replace("<span>2</span>", "<span>2小時前</span>"),
                tz: chrono_tz::Asia::Taipei,
                now: "2025-08-29T00:10:00+08:00",
                want: vec![(TW[0], "2025-08-29T00:10:00+08:00"), (TW[1], "2025-08-28T23:50:00+08:00"), (TW[2], "2025-08-28T22:10:00+08:00")],
            },
            Case {
                what: "English day headers in New York, rows with a 12-hour time",
                html: "<div class=list><h4>Thursday, August 28</h4><div class=row><span>3:48 PM</span><a href=/s/1>Stocks close higher as Nvidia recovers</a></div><div class=row><span>9:05 AM</span><a href=/s/2>Jobless claims fall to 229,000 in latest week</a></div><h4>Wednesday, August 27</h4><div class=row><span>11:58 PM</span><a href=/s/3>Nvidia shares slip after record quarter results</a></div></div>".into(),
                tz: chrono_tz::America::New_York,
                now: "2025-08-28T18:00:00-04:00",
                want: vec![
                    ("Stocks close higher as Nvidia recovers", "2025-08-28T15:48:00-04:00"),
                    ("Jobless claims fall to 229,000 in latest week", "2025-08-28T09:05:00-04:00"),
                    ("Nvidia shares slip after record quarter results", "2025-08-27T23:58:00-04:00"),
                ],
            },
            Case {
                what: "a date line before each headline, as related-news blocks print",
                html: format!("<div class=rel>{}</div>", rows("<div class=d>2025/8/2{i} 10:0{i}</div><div class=t><a href=/n/{i}>{t}</a></div>", &TW)),
                tz: chrono_tz::Asia::Taipei,
                now: "2025-08-28T16:00:00+08:00",
                want: vec![(TW[0], "2025-08-20T10:00:00+08:00"), (TW[1], "2025-08-21T10:01:00+08:00"), (TW[2], "2025-08-22T10:02:00+08:00")],
            },
            Case {
                what: "a date line after each headline",
                html: format!("<div class=rel><p>說明文字</p>{}</div>", rows("<div class=t><a href=/n/{i}>{t}</a></div><div class=d>2025/8/2{i} 10:0{i}</div>", &TW)),
                tz: chrono_tz::Asia::Taipei,
                now: "2025-08-28T16:00:00+08:00",
                want: vec![(TW[0], "2025-08-20T10:00:00+08:00"), (TW[1], "2025-08-21T10:01:00+08:00"), (TW[2], "2025-08-22T10:02:00+08:00")],
            },
            Case {
                // Time-only rows with no day anywhere are today's, or yesterday's when the time
                // is still ahead of the clock.
                what: "time-only rows without a header in Tokyo",
                html: format!("<ul>{}</ul>", rows("<li><span>1{i}:30</span><a href=/j/{i}>{t}</a></li>", &["トヨタ、通期予想を上方修正", "日銀、追加利上げを検討", "日経平均が続伸し最高値"])),
                tz: chrono_tz::Asia::Tokyo,
                now: "2025-08-28T11:00:00+09:00",
                want: vec![
                    ("トヨタ、通期予想を上方修正", "2025-08-28T10:30:00+09:00"),
                    ("日銀、追加利上げを検討", "2025-08-27T11:30:00+09:00"),
                    ("日経平均が続伸し最高値", "2025-08-27T12:30:00+09:00"),
                ],
            },
        ];
        for case in cases {
            let got = found(&case.html, case.tz, case.now);
            let want: Vec<(String, String)> = case
                .want
                .iter()
                .map(|(t, d)| (t.to_string(), d.to_string()))
                .collect();
            assert_eq!(got, want, "{}", case.what);
        }
    }

    #[test]
    fn equal_listings_are_chosen_the_same_way_every_run() {
        // Two lists of equal weight: the first in the page wins, every time (no hash order).
        let list = |prefix: &str| {
            format!(
                "<div class={prefix}><ul>{}</ul></div>",
                rows(
                    &format!(
                        "<li><a href=/{prefix}/{{i}}>{prefix}{{t}}</a><span>2025/8/2{{i}} 10:00</span></li>"
                    ),
                    &TW
                )
            )
        };
        let html = format!("{}{}", list("tw"), list("us"));
        for _ in 0..8 {
            let got = found(&html, chrono_tz::Asia::Taipei, "2025-08-28T16:00:00+08:00");
            assert!(got[0].0.starts_with("tw"), "{got:?}");
        }
    }

    #[test]
    fn a_pinned_row_without_a_date_does_not_take_the_page_date() {
        let html = format!(
            "<p class=today>2025年8月28日 星期四</p><ul><li><a href=/pin>【置頂】本站徵才啟事歡迎加入編輯團隊</a></li>{}</ul>",
            rows(
                "<li><a href=/n/{i}>{t}</a><span>2025/8/2{i} 10:00</span></li>",
                &TW
            )
        );
        let got = found(&html, chrono_tz::Asia::Taipei, "2025-08-28T16:00:00+08:00");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|(t, _)| !t.contains("置頂")));
    }

    #[test]
    fn a_dated_ranking_beside_the_content_is_never_the_feed() {
        let now = "2025-08-28T16:00:00+08:00";
        let tz = chrono_tz::Asia::Taipei;
        let ranked = "<li><span>{n}</span><a href=/h/{i}>{t}</a><time>08/2{i} 09:00</time></li>";
        let titled = format!(
            "<html><body><main><div id=app></div></main><aside><h2>熱門排行</h2><ol>{}</ol>\
             </aside></body></html>",
            rows(
                "<li><a href=/h/{i}>{t}</a><time>08/2{i} 09:00</time></li>",
                &TW
            )
        );
        assert!(found(&titled, tz, now).is_empty());
        let numbered = format!(
            "<html><body><aside><h2>News</h2><ol>{}</ol></aside></body></html>",
            rows(ranked, &TW)
                .replacen("{n}", "1", 1)
                .replacen("{n}", "2", 1)
                .replacen("{n}", "3", 1)
        );
        assert!(found(&numbered, tz, now).is_empty());
        // The same list in the page's content is a listing.
        let content = format!(
            "<html><body><main><h2>熱門排行</h2><ol>{}</ol></main></body></html>",
            rows(
                "<li><a href=/h/{i}>{t}</a><time>08/2{i} 09:00</time></li>",
                &TW
            )
        );
        assert_eq!(found(&content, tz, now).len(), 3);
    }

    #[test]
    fn rows_all_stamped_with_one_minute_are_quotes_not_news() {
        let now = "2025-08-28T16:00:00+08:00";
        let tz = chrono_tz::Asia::Taipei;
        let quotes = rows(
            "<tr><td><a href=/quote/{i}>{t}股份有限公司</a></td><td>1,200</td><td>2025/08/28 13:30</td></tr>",
            &TW,
        );
        let news = rows(
            "<li><a href=/news/{i}>{t}</a><span>2025/08/2{i} 10:00</span></li>",
            &TW,
        );
        let html = format!("<html><body><table>{quotes}</table><ul>{news}</ul></body></html>");
        let got = found(&html, tz, now);
        assert_eq!(got.len(), 3);
        assert!(
            got.iter().all(|(_, d)| d.ends_with("T10:00:00+08:00")),
            "{got:?}"
        );
        // Days without a time are many items' dates at once, and so is "1 day ago".
        for date in ["2025.08.28", "1天前"] {
            let days = rows(
                &format!("<li><a href=/d/{{i}}>{{t}}</a><span>{date}</span></li>"),
                &TW,
            );
            let html = format!("<html><body><ul>{days}</ul></body></html>");
            assert_eq!(found(&html, tz, now).len(), 3, "{date}");
        }
    }

    #[test]
    fn undated_link_lists_are_not_listings() {
        let html = format!(
            "<ol class=rank>{}</ol>",
            rows("<li><a href=/h/{i}>{t}</a> <span>{i}</span></li>", &TW)
        );
        assert!(found(&html, chrono_tz::Asia::Taipei, "2025-08-28T16:00:00+08:00").is_empty());
    }

    #[test]
    fn headline_text_is_told_from_labels_numbers_and_symbols() {
        for yes in [
            "英特爾獲美資挹注仍難提振信評",
            "台積電法說會前夕外資連三買",
            "Fed holds rates steady as inflation cools",
            "トヨタ、通期予想を上方修正",
            "삼성전자 2분기 영업이익 급증",
        ] {
            assert!(is_headline(yes), "{yes}");
        }
        for no in [
            "更多",
            "下一頁",
            "more",
            "Read more",
            "2330",
            "1,170 ▲15",
            "NVDA",
            "台股",
            "AAPL 227.5",
            "»",
            "12345",
        ] {
            assert!(!is_headline(no), "{no}");
        }
    }
}
