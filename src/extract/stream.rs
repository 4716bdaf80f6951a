//! Selector mode in one streaming pass, for pages and configs where it gives exactly what the
//! DOM path gives, at a fraction of the cost: only the items' own markup is looked at closely,
//! the rest of the page is skimmed.
//!
//! Where every selector is one `matcher` takes, the scan that checks the page (`wellformed`)
//! matches them on its own stack and `ScanReader` builds the items as it goes: one pass. Other
//! selectors are matched by lol_html (`read`), and the scan then checks the page.
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

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Attribute, Element, EndTag, TextChunk, TextType};
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Selector, Settings};
use url::Url;

use super::flat::{DateAtom, attribute_date, combine, resolve, text_date};
use super::matcher::{Complex, Compounds, Marks};
use super::text::{Links, RankFacts, clean, is_heading, is_inline};
use super::wellformed::{Open, Repair, Start};
use super::{Item, charref, dedupe_by_link, item_context, wellformed};
use crate::config::SelectConfig;
use crate::dates::{self, DateContext, Stamp};

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

/// The config's selectors compiled for lol_html.
struct Plan {
    item: Selector,
    inside_item: Selector,
    /// Title, link and date selectors, where the config gives one, and their text.
    specs: [Option<Selector>; 3],
    spec_texts: [Option<String>; 3],
    wants_atoms: bool,
    /// Attributes the selectors match on (`class`, `id`, `[name…]`).
    watched: Vec<String>,
    /// Whether the selectors match the same with or without an implied `<tbody>`: they name
    /// no tbody and use no `*`, no child or sibling combinator and no position among siblings.
    implied_tbody: bool,
}

impl Plan {
    fn new(select: &SelectConfig) -> Option<Plan> {
        let item_source = select.item_source.trim();
        let parts = split_top_level(item_source)?;
        let inside = parts
            .iter()
            .map(|p| format!("{p} *"))
            .collect::<Vec<_>>()
            .join(", ");
        // A value selector of one compound (`a.title`, `span.time`) only counts inside an item:
        // written under the item selector, lol_html tries it only there, instead of reading
        // the attributes of every such tag on the page (11 % fewer lol_html instructions on
        // the synthetic portal pages). One with a combinator may look above the item, as the
        // DOM path's does, and stays as written.
        let scoped = |text: &str| -> String {
            let one_compound =
                !text.contains(|c: char| c.is_whitespace() || matches!(c, '>' | '+' | '~' | ','));
            if one_compound {
                parts
                    .iter()
                    .map(|p| format!("{p} {text}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                text.to_string()
            }
        };
        let spec = |spec: &Option<super::spec::ValueSpec>| -> Option<Option<Selector>> {
            match spec {
                None => Some(None),
                Some(spec) if spec.selector_text.is_empty() => Some(None),
                Some(spec) => compile(&scoped(&spec.selector_text)).map(Some),
            }
        };
        // lol_html never sees the `<tbody>` the DOM implies: only selectors that cannot tell
        // (no tbody, no `*` that would match it, no child or sibling combinator, no position
        // among siblings; `compile` takes no `:not`, which could tell too) read a page that
        // leaves it out.
        let implied_tbody = selector_texts(select).all(|text| {
            let lower = text.to_ascii_lowercase();
            !lower.contains("tbody")
                && !lower.contains(['>', '+', '~', '*'])
                && ![":nth", ":first", ":last", ":only", ":empty"]
                    .iter()
                    .any(|p| lower.contains(p))
        });
        Some(Plan {
            item: compile(item_source)?,
            inside_item: compile(&inside)?,
            specs: [
                spec(&select.title)?,
                spec(&select.link)?,
                spec(&select.date)?,
            ],
            spec_texts: [&select.title, &select.link, &select.date].map(|spec| {
                spec.as_ref()
                    .filter(|s| !s.selector_text.is_empty())
                    .map(|s| s.selector_text.clone())
            }),
            wants_atoms: select.date.is_none(),
            watched: watched(select),
            implied_tbody,
        })
    }
}

/// The attributes the config's selectors match on (`class`, `id`, `[name…]`).
fn watched(select: &SelectConfig) -> Vec<String> {
    let mut watched = vec!["class".to_string(), "id".to_string()];
    watched.extend(selector_texts(select).flat_map(attribute_names));
    watched
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

/// The config's selectors as the page scan matches them itself (`matcher`), when it can match
/// them all: the page is then read in that one pass, without lol_html.
struct ScanPlan {
    compounds: Compounds,
    item: Vec<Complex>,
    /// Marks of the item selectors' rightmost compounds: an element with none is no item.
    item_rightmost: Marks,
    /// Title, link and date selectors, matched on the elements inside an item; one of several
    /// compounds may look above the item, as in the DOM path.
    specs: [Option<Vec<Complex>>; 3],
    watched: Vec<String>,
    wants_atoms: bool,
}

impl ScanPlan {
    /// Unlike lol_html's, these selectors may name `html`, `head` and `body`: the scan reads
    /// only pages that spell out all three tags, so its stack holds them as the DOM does.
    fn new(select: &SelectConfig) -> Option<ScanPlan> {
        let item_source = select.item_source.trim();
        let mut compounds = Compounds::default();
        let item = compounds.list(&split_top_level(item_source)?)?;
        let mut specs = [None, None, None];
        for (slot, spec) in specs
            .iter_mut()
            .zip([&select.title, &select.link, &select.date])
        {
            let Some(spec) = spec.as_ref().filter(|s| !s.selector_text.is_empty()) else {
                continue;
            };
            *slot = Some(compounds.list(&split_top_level(spec.selector_text.trim())?)?);
        }
        Some(ScanPlan {
            item_rightmost: item.iter().fold(0, |marks, c| marks | c.subject_mark()),
            compounds,
            item,
            specs,
            watched: watched(select),
            wants_atoms: select.date.is_none(),
        })
    }
}

fn compile(selector: &str) -> Option<Selector> {
    // CSS escapes (`\68 ead`, `li.x\)`) could hide a document element or a comma from the
    // checks here. lol_html reads `:not(li.ad)` as `:not(li):not(.ad)`, and matches names in
    // SVG without the DOM's case (`:not([viewbox])`).
    if names_document_element(selector)
        || selector.contains('\\')
        || selector.to_ascii_lowercase().contains(":not(")
    {
        return None;
    }
    selector.parse().ok()
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

/// Whether a selector names `html`, `head`, `body` or `:root`, whose presence the stream only
/// sees where the page spells the tags out.
fn names_document_element(selector: &str) -> bool {
    let lower = selector.to_ascii_lowercase();
    if lower.contains(":root") {
        return true;
    }
    ["html", "head", "body"].iter().any(|word| {
        lower.match_indices(word).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + word.len()..].chars().next();
            before.is_none_or(|c| c.is_whitespace() || matches!(c, '>' | '+' | '~' | ',' | '('))
                && after.is_none_or(|c| {
                    c.is_whitespace()
                        || matches!(c, '.' | '#' | '[' | ':' | '>' | '+' | '~' | ',' | ')')
                })
        })
    })
}

/// A selector list split at its top-level commas; `None` when brackets or quotes don't balance.
fn split_top_level(list: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut from = 0;
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(list[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    parts.push(list[from..].trim());
    Some(parts)
}

/// An ancestor of an item, outside it.
struct Outside {
    name: String,
    class: Option<String>,
}

/// An element inside an item (the item itself first). Names and attribute values are borrowed
/// from the page where it spells them as the DOM has them (lowercase, no character reference
/// or carriage return): taken as lol_html hands them out, three strings were allocated per
/// attribute (see also `page_attribute`).
struct El<'a> {
    name: Cow<'a, str>,
    attrs: Vec<Attr<'a>>,
    parent: Option<usize>,
    /// Where its start tag begins in the page.
    start: usize,
    /// Its text: `RawItem::text[text_from..text_to]`.
    text_from: usize,
    text_to: usize,
    /// Reading-order positions it covers (itself, then everything inside).
    pos_from: u32,
    pos_to: u32,
    closed: bool,
}

/// An attribute as the DOM keeps it.
struct Attr<'a> {
    /// Its local name, ASCII-lowercased.
    name: Cow<'a, str>,
    value: Cow<'a, str>,
    /// For the SVG attributes the DOM puts in a namespace (`xlink:href`, `xml:lang`, `xmlns`):
    /// the prefix it keeps (`None` for `xmlns`). The DOM's lookup by plain name does not see
    /// them.
    namespace: Option<Option<&'static str>>,
}

/// SVG attributes the tree builder moves into a namespace ("adjust foreign attributes"): the
/// name as written, the prefix kept and the local name.
const NAMESPACED: &[(&str, Option<&str>, &str)] = &[
    ("xlink:actuate", Some("xlink"), "actuate"),
    ("xlink:arcrole", Some("xlink"), "arcrole"),
    ("xlink:href", Some("xlink"), "href"),
    ("xlink:role", Some("xlink"), "role"),
    ("xlink:show", Some("xlink"), "show"),
    ("xlink:title", Some("xlink"), "title"),
    ("xlink:type", Some("xlink"), "type"),
    ("xml:lang", Some("xml"), "lang"),
    ("xml:space", Some("xml"), "space"),
    ("xmlns", None, "xmlns"),
    ("xmlns:xlink", Some("xmlns"), "xlink"),
];

impl Attr<'_> {
    /// Where the DOM puts it among its element's attributes: by prefix, namespace, then name.
    fn dom_order(&self) -> (Option<&'static str>, bool, &str) {
        (
            self.namespace.flatten(),
            self.namespace.is_some(),
            &self.name,
        )
    }
}

impl El<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.namespace.is_none() && a.name == name)
            .map(|a| a.value.as_ref())
    }
}

/// One item as the stream saw it.
struct RawItem<'a> {
    start: usize,
    els: Vec<El<'a>>,
    /// The visible text of the whole item, with spaces where blocks begin and end.
    text: String,
    /// Open elements, innermost last (indices into `els`).
    open: Vec<usize>,
    /// Date atoms in reading order.
    atoms: Vec<DateAtom>,
    /// Where the first match of the title, link and date selectors begins.
    spec_starts: [Option<usize>; 3],
    pending_text: String,
    /// Whether the pending text's references are decoded: not in raw text elements (script,
    /// style, xmp, iframe, noembed, noframes, noscript), where the tokenizer leaves them.
    pending_decoded: bool,
    /// Whether dates are read from the item's text and attributes (no `date` selector).
    wants_atoms: bool,
}

/// What one pass over the page collected.
#[derive(Default)]
struct Seen<'a> {
    base_href: Option<String>,
    items: Vec<RawItem<'a>>,
    /// The item being read.
    current: Option<RawItem<'a>>,
    /// Reading-order counter (elements and text nodes).
    pos: u32,
    /// The stream cannot answer (items in items).
    refused: bool,
}

/// An end tag lol_html reported. Its handlers must be `'static`, and the items borrow from the
/// page, so they only note it here; the next handler, or the end of the document, applies it
/// (nothing reads what an end tag changes before then, and the reading-order counter has not
/// moved since).
#[derive(Clone, Copy)]
enum Ended {
    Item,
    Element(usize),
}

impl Seen<'_> {
    /// Apply the end tags noted since the last handler.
    fn catch_up(&mut self, ended: &RefCell<Vec<Ended>>) {
        for end in ended.borrow_mut().drain(..) {
            match end {
                Ended::Item => self.finish_item(),
                Ended::Element(index) => {
                    let pos = self.pos;
                    if let Some(item) = self.current.as_mut() {
                        item.close(index, pos);
                    }
                }
            }
        }
    }

    /// The item being read ends (its end tag, or the end of the page).
    fn finish_item(&mut self) {
        let pos = self.pos;
        if let Some(mut item) = self.current.take() {
            item.close_all(pos);
            self.items.push(item);
        }
    }
}

/// Elements whose content is not part of an element's text.
fn hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "noscript" | "template")
}

/// Elements under which the DOM path reads no dates (`flat`): the hidden ones and `head`.
fn dateless(name: &str) -> bool {
    hidden(name) || name == "head"
}

/// Line breaks as the HTML parser leaves them: CR LF and lone CR become LF.
fn newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// ASCII letters lowercased, borrowed when there are none to lower.
fn ascii_lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// An attribute's name, ASCII-lowercased, and its value as the DOM has it, read from the page.
/// lol_html's `name()` and `value()` decode the bytes again, which drops a leading U+FEFF (as
/// if it were a byte-order mark) that the DOM keeps.
fn page_attribute<'a>(html: &'a str, attribute: &Attribute) -> (Cow<'a, str>, Cow<'a, str>) {
    let name = match attribute.name_source_location() {
        Some(at) => ascii_lowercase(&html[at.bytes()]),
        None => Cow::Owned(attribute.name()),
    };
    let value = match attribute.value_source_location() {
        Some(at) => attribute_value(&html[at.bytes()]),
        None => Cow::Owned(attribute_value(&attribute.value()).into_owned()),
    };
    (name, value)
}

/// An attribute's value as the DOM has it: line breaks normalised, references decoded.
fn attribute_value(raw: &str) -> Cow<'_, str> {
    match newlines(raw) {
        Cow::Borrowed(raw) => charref::decode(raw, true),
        Cow::Owned(text) => Cow::Owned(charref::decode(&text, true).into_owned()),
    }
}

/// An element the stream cannot stand for: in SVG or MathML the DOM adjusts names (`clipPath`,
/// `viewBox`) that lol_html leaves lowercase.
fn foreign(el: &Element) -> bool {
    el.namespace_uri() != "http://www.w3.org/1999/xhtml"
}

fn read<'a>(html: &'a str, plan: &Plan, ctx: &DateContext) -> Option<Seen<'a>> {
    let seen = Rc::new(RefCell::new(Seen::default()));
    let ended: Rc<RefCell<Vec<Ended>>> = Rc::default();
    let mut settings = Settings::new();

    let (state, ended_here) = (seen.clone(), ended.clone());
    settings = settings.append_element_content_handler((
        std::borrow::Cow::Owned("base[href]".parse().ok()?),
        ElementContentHandlers::default().element(move |el: &mut Element| {
            let mut seen = state.borrow_mut();
            seen.catch_up(&ended_here);
            if seen.base_href.is_none() {
                seen.base_href = el
                    .attributes()
                    .iter()
                    .map(|attribute| page_attribute(html, attribute))
                    .find(|(name, _)| name == "href")
                    .map(|(_, href)| href.into_owned());
            }
            Ok(())
        }),
    ));

    let (state, ended_here) = (seen.clone(), ended.clone());
    let (text_state, text_ended) = (seen.clone(), ended.clone());
    settings = settings.append_element_content_handler((
        std::borrow::Cow::Borrowed(&plan.item),
        ElementContentHandlers::default()
            .element(move |el: &mut Element| {
                let mut seen = state.borrow_mut();
                seen.catch_up(&ended_here);
                if seen.current.is_some() || foreign(el) || hidden(&el.tag_name()) {
                    seen.refused = true;
                    return Ok(());
                }
                let start = el.source_location().bytes().start;
                let pos = seen.pos;
                let mut item = RawItem::new(start, plan.wants_atoms);
                item.open_element(html, el, None, pos, ctx);
                seen.pos += 1;
                if el.can_have_content() {
                    seen.current = Some(item);
                    drop(seen);
                    let ended = ended_here.clone();
                    if let Some(handlers) = el.end_tag_handlers() {
                        handlers.push(Box::new(move |_end: &mut EndTag| {
                            ended.borrow_mut().push(Ended::Item);
                            Ok(())
                        }));
                    }
                } else {
                    item.close_all(pos + 1);
                    seen.items.push(item);
                }
                Ok(())
            })
            .text(move |chunk: &mut TextChunk| {
                let mut seen = text_state.borrow_mut();
                seen.catch_up(&text_ended);
                let pos = seen.pos;
                let Some(item) = seen.current.as_mut() else {
                    return Ok(());
                };
                item.pending_text.push_str(chunk.as_str());
                item.pending_decoded =
                    matches!(chunk.text_type(), TextType::Data | TextType::RCData);
                if chunk.last_in_text_node() {
                    item.text_node(pos, ctx);
                    seen.pos += 1;
                }
                Ok(())
            }),
    ));

    let (state, ended_here) = (seen.clone(), ended.clone());
    settings = settings.append_element_content_handler((
        std::borrow::Cow::Borrowed(&plan.inside_item),
        ElementContentHandlers::default().element(move |el: &mut Element| {
            let mut seen = state.borrow_mut();
            seen.catch_up(&ended_here);
            let pos = seen.pos;
            seen.pos += 1;
            let Some(item) = seen.current.as_mut() else {
                return Ok(());
            };
            let parent = item.open.last().copied();
            let index = item.open_element(html, el, parent, pos, ctx);
            if el.can_have_content() {
                drop(seen);
                let ended = ended_here.clone();
                if let Some(handlers) = el.end_tag_handlers() {
                    handlers.push(Box::new(move |_end: &mut EndTag| {
                        ended.borrow_mut().push(Ended::Element(index));
                        Ok(())
                    }));
                }
            } else {
                item.close(index, pos + 1);
            }
            Ok(())
        }),
    ));

    // One handler per distinct selector (title and link are often the same `a.title`): each
    // selector costs lol_html work on every tag of the page.
    let texts = plan.spec_texts.clone();
    for (which, selector) in plan.specs.iter().enumerate() {
        let Some(selector) = selector else { continue };
        if texts[..which].contains(&texts[which]) {
            continue;
        }
        let same: Vec<usize> = (which..3).filter(|&w| texts[w] == texts[which]).collect();
        let (state, ended_here) = (seen.clone(), ended.clone());
        settings = settings.append_element_content_handler((
            std::borrow::Cow::Borrowed(selector),
            ElementContentHandlers::default().element(move |el: &mut Element| {
                let mut seen = state.borrow_mut();
                seen.catch_up(&ended_here);
                if seen.current.is_some() && (foreign(el) || hidden(&el.tag_name())) {
                    seen.refused = true;
                    return Ok(());
                }
                if let Some(item) = seen.current.as_mut() {
                    let start = el.source_location().bytes().start;
                    // A value is looked for inside the item, never in the item itself.
                    for &w in &same {
                        if start != item.start && item.spec_starts[w].is_none() {
                            item.spec_starts[w] = Some(start);
                        }
                    }
                }
                Ok(())
            }),
        ));
    }

    let (state, ended_here) = (seen.clone(), ended.clone());
    settings = settings.append_document_content_handler(DocumentContentHandlers::default().end(
        move |_end: &mut lol_html::html_content::DocumentEnd| {
            let mut seen = state.borrow_mut();
            seen.catch_up(&ended_here);
            seen.finish_item();
            Ok(())
        },
    ));

    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(html.as_bytes()).ok()?;
    rewriter.end().ok()?;
    let seen = Rc::try_unwrap(seen).ok()?.into_inner();
    (!seen.refused).then_some(seen)
}

/// Read the page in the scan that checks it (`wellformed::scan`), matching the selectors there:
/// the items, and each one's three nearest ancestors.
fn scan_read<'a>(
    html: &'a str,
    plan: &ScanPlan,
    ctx: &DateContext,
) -> Result<(Seen<'a>, Vec<wellformed::Ancestors>), Repair> {
    let mut reader = ScanReader {
        html,
        plan,
        ctx,
        seen: Seen::default(),
        ancestors: Vec::new(),
    };
    // The implied `<tbody>` always: it is on the scan's stack as it is in the DOM, so child
    // combinators and positions read through it alike, and one a selector could match sends
    // the page to the DOM (`ScanReader::implied_tbody`).
    wellformed::scan(html, &plan.watched, true, &mut reader)?;
    reader.seen.finish_item();
    Ok((reader.seen, reader.ancestors))
}

/// Builds the items as `read` does, from what the scan reports.
struct ScanReader<'a, 'p> {
    html: &'a str,
    plan: &'p ScanPlan,
    ctx: &'p DateContext,
    seen: Seen<'a>,
    ancestors: Vec<wellformed::Ancestors>,
}

impl ScanReader<'_, '_> {
    /// The text gathered since the last tag or comment is one text node of the item.
    fn flush_text(&mut self) {
        let pos = self.seen.pos;
        let Some(item) = self.seen.current.as_mut() else {
            return;
        };
        if item.pending_text.is_empty() {
            return;
        }
        item.text_node(pos, self.ctx);
        self.seen.pos += 1;
    }
}

impl<'a> wellformed::Events<'a> for ScanReader<'a, '_> {
    fn start(&mut self, element: &Start<'a, '_>, open: &[Open<'a>]) -> Result<Marks, Repair> {
        self.flush_text();
        let marks = self
            .plan
            .compounds
            .marks(element.name, element.attributes, element.position);
        // The DOM keeps SVG names and attributes in their own case, which the scan does not
        // know: a page where a selector might match in SVG is left to the DOM.
        if element.svg && marks != 0 {
            return wellformed::repair("a selector matches in SVG");
        }
        let attributes = || {
            element
                .attributes
                .iter()
                .map(|(name, value)| (ascii_lowercase(name), attribute_value(value)))
        };
        if self.seen.base_href.is_none() && element.name == "base" {
            self.seen.base_href = attributes()
                .find(|(name, _)| name == "href")
                .map(|(_, href)| href.into_owned());
        }
        let of = |o: &Open| o.marks;
        let pos = self.seen.pos;
        if marks & self.plan.item_rightmost != 0
            && self.plan.item.iter().any(|c| c.matches(marks, open, of))
        {
            if self.seen.current.is_some() {
                return wellformed::repair("an item inside an item");
            }
            if hidden(element.name) {
                return wellformed::repair("an item that is never shown");
            }
            if open.iter().any(|o| dateless(&o.name)) {
                return wellformed::repair("an item inside an element that is never shown");
            }
            self.ancestors.push(
                open.iter()
                    .rev()
                    .take(3)
                    .map(|o| (o.name.to_string(), o.start))
                    .collect(),
            );
            let mut item = RawItem::new(element.start, self.plan.wants_atoms);
            item.open_parts(
                element.name.clone(),
                element.start,
                attributes(),
                element.svg,
                None,
                pos,
                self.ctx,
            );
            self.seen.pos += 1;
            if element.can_have_content {
                self.seen.current = Some(item);
            } else {
                item.close_all(pos + 1);
                self.seen.items.push(item);
            }
            return Ok(marks);
        }
        let Some(item) = self.seen.current.as_mut() else {
            return Ok(marks);
        };
        self.seen.pos += 1;
        let parent = item.open.last().copied();
        let index = item.open_parts(
            element.name.clone(),
            element.start,
            attributes(),
            element.svg,
            parent,
            pos,
            self.ctx,
        );
        for (which, spec) in self.plan.specs.iter().enumerate() {
            let Some(spec) = spec else { continue };
            if spec.iter().any(|c| c.matches(marks, open, of)) {
                if hidden(element.name) {
                    return wellformed::repair("a value that is never shown");
                }
                item.spec_starts[which].get_or_insert(element.start);
            }
        }
        if !element.can_have_content {
            item.close(index, pos + 1);
        }
        Ok(marks)
    }

    fn implied_tbody(&mut self, position: u32) -> Result<Marks, Repair> {
        // An element the stream never had: a page where a selector could match it is left
        // to the DOM.
        if self.plan.compounds.marks("tbody", &[], position) != 0 || self.seen.current.is_some() {
            return wellformed::repair("an implied <tbody> the selectors could see");
        }
        Ok(0)
    }

    fn text(&mut self, from: usize, to: usize, decoded: bool) {
        if let Some(item) = self.seen.current.as_mut() {
            item.pending_text.push_str(&self.html[from..to]);
            item.pending_decoded = decoded;
        }
    }

    fn end_text(&mut self) {
        self.flush_text();
    }

    fn end(&mut self, open: &Open<'a>) {
        self.flush_text();
        let pos = self.seen.pos;
        let Some(item) = self.seen.current.as_mut() else {
            return;
        };
        if open.start == item.start {
            self.seen.finish_item();
        } else if let Some(&index) = item
            .open
            .iter()
            .rev()
            .find(|&&i| item.els[i].start == open.start)
        {
            item.close(index, pos);
        }
    }
}

impl<'a> RawItem<'a> {
    fn new(start: usize, wants_atoms: bool) -> RawItem<'a> {
        RawItem {
            start,
            els: Vec::with_capacity(16),
            text: String::with_capacity(256),
            open: Vec::with_capacity(8),
            atoms: Vec::new(),
            spec_starts: [None; 3],
            pending_text: String::new(),
            pending_decoded: true,
            wants_atoms,
        }
    }

    fn open_element(
        &mut self,
        html: &'a str,
        el: &Element,
        parent: Option<usize>,
        pos: u32,
        ctx: &DateContext,
    ) -> usize {
        let start = el.source_location().bytes().start;
        let name = html.get(start + 1..).map_or_else(
            || Cow::Owned(el.tag_name()),
            |rest| wellformed::tag_name(rest).0,
        );
        let attributes = el
            .attributes()
            .iter()
            .map(|attribute| page_attribute(html, attribute));
        self.open_parts(name, start, attributes, foreign(el), parent, pos, ctx)
    }

    /// An element opens: its name (ASCII-lowercased), where its tag begins, its attributes as
    /// the DOM has them (names lowercased, values decoded), whether it is in SVG.
    #[allow(clippy::too_many_arguments)]
    fn open_parts(
        &mut self,
        name: Cow<'a, str>,
        start: usize,
        attributes: impl ExactSizeIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
        svg: bool,
        parent: Option<usize>,
        pos: u32,
        ctx: &DateContext,
    ) -> usize {
        let mut attrs: Vec<Attr<'a>> = Vec::with_capacity(attributes.len());
        let mut written: Vec<Cow<'a, str>> = Vec::new();
        for (name, value) in attributes {
            // A repeated attribute counts once, as its first occurrence, as in the DOM.
            if attrs
                .iter()
                .any(|a| a.namespace.is_none() && a.name == name)
                || written.contains(&name)
            {
                continue;
            }
            let namespaced = svg
                .then(|| {
                    NAMESPACED
                        .iter()
                        .find(|(as_written, ..)| *as_written == name)
                })
                .flatten();
            match namespaced {
                Some(&(_, prefix, local)) => {
                    written.push(name);
                    attrs.push(Attr {
                        name: Cow::Borrowed(local),
                        value,
                        namespace: Some(prefix),
                    });
                }
                _ => attrs.push(Attr {
                    name,
                    value,
                    namespace: None,
                }),
            }
        }
        let in_hidden = self.under(hidden);
        let dateless_here = self.under(dateless);
        if self.wants_atoms && !dateless_here && !dateless(&name) {
            // In the DOM's order, which sorts an element's attributes by prefix, namespace and
            // name (an element seldom has two dates, so only those found are sorted).
            let mut found: Vec<(usize, Stamp, bool)> = Vec::new();
            for attr in &attrs {
                if let Some(stamp) = attribute_date(&attr.name, &attr.value, ctx) {
                    let order = attrs
                        .iter()
                        .filter(|other| other.dom_order() < attr.dom_order())
                        .count();
                    found.push((order, stamp, attr.name != "title" && attr.name != "content"));
                }
            }
            found.sort_by_key(|&(order, ..)| order);
            for (order, stamp, semantic) in found {
                self.atoms.push(DateAtom {
                    pos: pos as usize,
                    stamp,
                    attribute: u16::try_from(order).ok(),
                    semantic,
                });
            }
        }
        // Text of a block starts and ends with a break; hidden elements add nothing at all.
        if !in_hidden && !hidden(&name) && !is_inline(&name) && parent.is_some() {
            self.text.push(' ');
        }
        let index = self.els.len();
        self.els.push(El {
            name,
            attrs,
            parent,
            start,
            text_from: self.text.len(),
            text_to: self.text.len(),
            pos_from: pos,
            pos_to: pos + 1,
            closed: false,
        });
        self.open.push(index);
        index
    }

    /// Whether any open element is of a kind (`hidden`, `dateless`).
    fn under(&self, kind: fn(&str) -> bool) -> bool {
        self.open.iter().any(|&i| kind(&self.els[i].name))
    }

    /// Close element `index` and anything still open inside it.
    fn close(&mut self, index: usize, pos: u32) {
        if self.els[index].closed {
            return;
        }
        while let Some(top) = self.open.pop() {
            let in_hidden = self.under(hidden);
            let el = &mut self.els[top];
            el.closed = true;
            el.text_to = self.text.len();
            el.pos_to = pos.max(el.pos_from + 1);
            if !in_hidden && !hidden(&el.name) && !is_inline(&el.name) && el.parent.is_some() {
                self.text.push(' ');
            }
            if top == index {
                break;
            }
        }
    }

    fn close_all(&mut self, pos: u32) {
        self.close(0, pos);
    }

    fn text_node(&mut self, pos: u32, ctx: &DateContext) {
        let raw = std::mem::take(&mut self.pending_text);
        if self.under(hidden) {
            return;
        }
        let raw = newlines(&raw);
        let text = if self.pending_decoded {
            charref::decode(&raw, false)
        } else {
            std::borrow::Cow::Borrowed(&*raw)
        };
        let dateless_here = self.under(dateless);
        if self.wants_atoms
            && !dateless_here
            && let Some(stamp) = text_date(&text, ctx)
        {
            let in_time = self
                .open
                .last()
                .is_some_and(|&i| self.els[i].name == "time");
            self.atoms.push(DateAtom {
                pos: pos as usize,
                stamp,
                attribute: None,
                semantic: in_time,
            });
        }
        self.text.push_str(&text);
    }

    fn element_text(&self, index: usize) -> String {
        let el = &self.els[index];
        clean(&self.text[el.text_from..el.text_to])
    }

    fn by_start(&self, start: Option<usize>) -> Option<usize> {
        let start = start?;
        self.els.iter().position(|el| el.start == start)
    }

    /// Whether `el` is `ancestor` or inside it.
    fn within(&self, mut el: usize, ancestor: usize) -> bool {
        loop {
            if el == ancestor {
                return true;
            }
            match self.els[el].parent {
                Some(parent) => el = parent,
                None => return false,
            }
        }
    }

    /// `read_value` of the DOM path: the first match inside the item (or the item itself for
    /// `@attr`), its attribute or its text.
    fn value(&self, which: usize, spec: &super::spec::ValueSpec) -> Option<(String, usize)> {
        let element = if spec.selector_text.is_empty() {
            0
        } else {
            self.by_start(self.spec_starts[which])?
        };
        if let Some(attr) = &spec.attr
            && let Some(value) = self.els[element].attr(attr)
        {
            return Some((value.to_string(), element));
        }
        Some((self.element_text(element), element))
    }

    /// Rank facts of element `index`: its name and its ancestors', inside the item and beyond.
    fn rank_facts<'r>(&'r self, index: usize, outside: &'r [Outside]) -> RankFacts<'r> {
        let mut names = Vec::with_capacity(4);
        let mut classes = Vec::with_capacity(3);
        let mut at = Some(index);
        while let Some(i) = at {
            if names.len() == 4 {
                break;
            }
            let el = &self.els[i];
            names.push(el.name.as_ref());
            classes.push(
                el.attr("class")
                    .map_or_else(Vec::new, |c| c.split_ascii_whitespace().collect()),
            );
            at = el.parent;
        }
        for ancestor in outside {
            if names.len() == 4 {
                break;
            }
            names.push(ancestor.name.as_str());
            classes.push(
                ancestor
                    .class
                    .as_deref()
                    .map_or_else(Vec::new, |c| c.split_ascii_whitespace().collect()),
            );
        }
        let link = &self.els[index];
        RankFacts {
            names,
            classes,
            tabindex: link.attr("tabindex"),
            aria_hidden: link.attr("aria-hidden"),
        }
    }

    /// The headline part of a link: its first heading with text, else the link.
    fn headline_element(&self, link: usize) -> usize {
        (link + 1..self.els.len())
            .filter(|&i| self.within(i, link))
            .find(|&i| is_heading(&self.els[i].name) && !self.element_text(i).is_empty())
            .unwrap_or(link)
    }

    /// The item's headline link as `select::main_link` picks it.
    fn main_link(&self, outside: &[Outside], links: &Links) -> Option<(usize, Url)> {
        let own = (self.els[0].name == "a").then_some(0);
        own.into_iter()
            .chain((1..self.els.len()).filter(|&i| self.els[i].name == "a"))
            .filter_map(|a| {
                let url = links.resolve(self.els[a].attr("href")?)?;
                let text = self.element_text(self.headline_element(a));
                (!text.is_empty()).then(|| (a, url, self.rank_facts(a, outside).rank(&text)))
            })
            .max_by_key(|(_, _, rank)| *rank)
            .map(|(a, url, _)| (a, url))
    }

    /// The item as the DOM path reads it: `Ok(None)` when it has no title, `None` when its date
    /// lies outside it.
    fn finish(
        &self,
        outside: &[Outside],
        links: &Links,
        select: &SelectConfig,
        ctx: &DateContext,
    ) -> Option<Option<Item>> {
        let main_link = if select.title.is_none() || select.link.is_none() {
            self.main_link(outside, links)
        } else {
            None
        };
        let (title, title_element) = match &select.title {
            Some(spec) => match self.value(0, spec) {
                Some((text, element)) => (clean(&text), Some(element)),
                None => (String::new(), None),
            },
            None => match &main_link {
                Some((a, _)) => {
                    let headline = self.headline_element(*a);
                    (self.element_text(headline), Some(headline))
                }
                None => (String::new(), None),
            },
        };
        if title.is_empty() {
            return Some(None);
        }
        let link = match &select.link {
            Some(spec) => self
                .value(1, spec)
                .and_then(|(href, _)| links.resolve(&href)),
            None => main_link.map(|(_, url)| url),
        };
        let published = match &select.date {
            Some(spec) => {
                let stamp = self
                    .value(2, spec)
                    .and_then(|(text, _)| match &select.date_format {
                        Some(format) => dates::read_with_format(&text, format, ctx),
                        None => dates::read(&text, ctx),
                    });
                match stamp {
                    Some(stamp @ (Stamp::At(_) | Stamp::Day(_))) => {
                        stamp.instant(ctx.tz).map(dates::truncate_to_seconds)
                    }
                    // A time of day takes its day from before the item.
                    Some(Stamp::TimeOfDay(_)) => return None,
                    None => None,
                }
            }
            None => {
                let except = title_element.map_or((0, 0), |t| {
                    (self.els[t].pos_from as usize, self.els[t].pos_to as usize)
                });
                let own = combine(
                    self.atoms
                        .iter()
                        .filter(|a| a.in_attribute() || !(except.0..except.1).contains(&a.pos))
                        .copied(),
                    ctx.tz,
                );
                match own {
                    Some(stamp @ (Stamp::At(_) | Stamp::Day(_))) => resolve(stamp, None, ctx),
                    _ => return None,
                }
            }
        };
        let context = item_context(&self.element_text(0), &title);
        Some(Some(Item {
            title,
            link,
            published,
            context,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_naming_the_document_elements_are_left_to_the_dom() {
        assert!(names_document_element("body > ul li"));
        assert!(names_document_element("html.js .list"));
        assert!(names_document_element(":root li"));
        assert!(!names_document_element("header .title"));
        assert!(!names_document_element("div.body-text li"));
        assert!(!names_document_element("ul.news > li"));
    }

    #[test]
    fn selector_lists_split_at_top_level_commas() {
        assert_eq!(
            split_top_level(r#"ul > li, div[data-x="a,b"]:not(.ad, .x)"#).unwrap(),
            vec!["ul > li", r#"div[data-x="a,b"]:not(.ad, .x)"#]
        );
        assert!(split_top_level("li[").is_none());
    }
}
