//! An item as either reader saw it, and how the DOM path would read it from there.

use std::borrow::Cow;

use url::Url;

use super::Outside;
use crate::config::SelectConfig;
use crate::dates::{self, DateContext, Stamp};
use crate::extract::flat::{DateAtom, attribute_date, combine, resolve, text_date};
use crate::extract::text::{Links, RankFacts, clean, is_date_part, is_heading, is_inline};
use crate::extract::{Item, charref, item_context};

/// An element inside an item (the item itself first). Names and attribute values are borrowed
/// from the page where it spells them as the DOM has them (lowercase, no character reference
/// or carriage return): taken as lol_html hands them out, three strings were allocated per
/// attribute (see also `lol::page_attribute`).
pub(super) struct El<'a> {
    name: Cow<'a, str>,
    attrs: Vec<Attr<'a>>,
    parent: Option<usize>,
    /// Where its start tag begins in the page.
    pub(super) start: usize,
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
pub(super) struct RawItem<'a> {
    pub(super) start: usize,
    pub(super) els: Vec<El<'a>>,
    /// The visible text of the whole item, with spaces where blocks begin and end.
    text: String,
    /// Open elements, innermost last (indices into `els`).
    pub(super) open: Vec<usize>,
    /// Date atoms in reading order.
    atoms: Vec<DateAtom>,
    /// Where the first match of the title, link and date selectors begins.
    pub(super) spec_starts: [Option<usize>; 3],
    pub(super) pending_text: String,
    /// Whether the pending text's references are decoded: not in raw text elements (script,
    /// style, xmp, iframe, noembed, noframes, noscript), where the tokenizer leaves them.
    pub(super) pending_decoded: bool,
    /// Whether dates are read from the item's text and attributes (no `date` selector).
    wants_atoms: bool,
}

/// What one pass over the page collected.
#[derive(Default)]
pub(super) struct Seen<'a> {
    pub(super) base_href: Option<String>,
    pub(super) items: Vec<RawItem<'a>>,
    /// The item being read.
    pub(super) current: Option<RawItem<'a>>,
    /// Reading-order counter (elements and text nodes).
    pub(super) pos: u32,
    /// The stream cannot answer (items in items).
    pub(super) refused: bool,
}

impl Seen<'_> {
    /// The item being read ends (its end tag, or the end of the page).
    pub(super) fn finish_item(&mut self) {
        let pos = self.pos;
        if let Some(mut item) = self.current.take() {
            item.close_all(pos);
            self.items.push(item);
        }
    }
}

/// Elements whose content is not part of an element's text.
pub(super) fn hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "noscript" | "template")
}

/// Elements under which the DOM path reads no dates (`flat`): the hidden ones and `head`.
pub(super) fn dateless(name: &str) -> bool {
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
pub(super) fn ascii_lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// An attribute's value as the DOM has it: line breaks normalised, references decoded.
pub(super) fn attribute_value(raw: &str) -> Cow<'_, str> {
    match newlines(raw) {
        Cow::Borrowed(raw) => charref::decode(raw, true),
        Cow::Owned(text) => Cow::Owned(charref::decode(&text, true).into_owned()),
    }
}

impl<'a> RawItem<'a> {
    pub(super) fn new(start: usize, wants_atoms: bool) -> RawItem<'a> {
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

    /// An element opens: its name (ASCII-lowercased), where its tag begins, its attributes as
    /// the DOM has them (names lowercased, values decoded), whether it is in SVG.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open_parts(
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
    pub(super) fn close(&mut self, index: usize, pos: u32) {
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

    pub(super) fn close_all(&mut self, pos: u32) {
        self.close(0, pos);
    }

    pub(super) fn text_node(&mut self, pos: u32, ctx: &DateContext) {
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
    fn value(
        &self,
        which: usize,
        spec: &crate::extract::spec::ValueSpec,
    ) -> Option<(String, usize)> {
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

    /// `text::Headline::of` for link `link`: the headline part, the parts of it that are its
    /// date, and its text without them.
    fn headline(&self, link: usize, ctx: &DateContext) -> (usize, Vec<usize>, String) {
        let element = self.headline_element(link);
        let mut dates: Vec<usize> = Vec::new();
        for i in (element + 1..self.els.len()).filter(|&i| self.within(i, element)) {
            if dates.iter().any(|&d| self.within(i, d)) {
                continue;
            }
            if is_date_part(&self.element_text(i), ctx) {
                dates.push(i);
            }
        }
        // The text between the date parts, with the breaks around them.
        let el = &self.els[element];
        let mut raw = String::new();
        let mut from = el.text_from;
        for &d in &dates {
            raw.push_str(&self.text[from..self.els[d].text_from]);
            from = self.els[d].text_to;
        }
        raw.push_str(&self.text[from..el.text_to]);
        let text = clean(&raw);
        if !dates.is_empty() && text.is_empty() {
            return (element, Vec::new(), self.element_text(element));
        }
        (element, dates, text)
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
    pub(super) fn finish(
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
        let (title, title_element, title_dates) = match &select.title {
            Some(spec) => match self.value(0, spec) {
                Some((text, element)) => (clean(&text), Some(element), Vec::new()),
                None => (String::new(), None, Vec::new()),
            },
            None => match &main_link {
                Some((a, _)) => {
                    let (headline, dates, text) = self.headline(*a, ctx);
                    (text, Some(headline), dates)
                }
                None => (String::new(), None, Vec::new()),
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
                        None => dates::read_field(&text, ctx),
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
                let span =
                    |el: usize| (self.els[el].pos_from as usize, self.els[el].pos_to as usize);
                let except = title_element.map_or((0, 0), span);
                let kept: Vec<(usize, usize)> = title_dates.iter().map(|&d| span(d)).collect();
                let own = combine(
                    self.atoms
                        .iter()
                        .filter(|a| {
                            a.in_attribute()
                                || !(except.0..except.1).contains(&a.pos)
                                || kept.iter().any(|k| (k.0..k.1).contains(&a.pos))
                        })
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
