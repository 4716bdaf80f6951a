//! The lol_html reader: for selectors the page scan cannot match itself, lol_html matches
//! them and its handlers build the items; the scan then checks the page.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Attribute, Element, EndTag, TextChunk, TextType};
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Selector, Settings};

use super::item::{RawItem, Seen, ascii_lowercase, attribute_value, hidden};
use super::{selector_texts, split_top_level, watched};
use crate::config::SelectConfig;
use crate::dates::DateContext;
use crate::extract::wellformed;

/// The config's selectors compiled for lol_html.
pub(super) struct Plan {
    item: Selector,
    inside_item: Selector,
    /// Title, link and date selectors, where the config gives one, and their text.
    specs: [Option<Selector>; 3],
    spec_texts: [Option<String>; 3],
    wants_atoms: bool,
    /// Attributes the selectors match on (`class`, `id`, `[name…]`).
    pub(super) watched: Vec<String>,
    /// Whether the selectors match the same with or without an implied `<tbody>`: they name
    /// no tbody and use no `*`, no child or sibling combinator and no position among siblings.
    pub(super) implied_tbody: bool,
}

impl Plan {
    pub(super) fn new(select: &SelectConfig) -> Option<Plan> {
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
        let spec = |spec: &Option<crate::extract::spec::ValueSpec>| -> Option<Option<Selector>> {
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

/// An element the stream cannot stand for: in SVG or MathML the DOM adjusts names (`clipPath`,
/// `viewBox`) that lol_html leaves lowercase.
fn foreign(el: &Element) -> bool {
    el.namespace_uri() != "http://www.w3.org/1999/xhtml"
}

/// Read the page with lol_html: the items its handlers saw, or `None` where they cannot stand
/// for the DOM (an item inside an item, an item or value in SVG or never shown). The caller
/// then checks the page's markup (`wellformed::check`).
pub(super) fn read<'a>(html: &'a str, plan: &Plan, ctx: &DateContext) -> Option<Seen<'a>> {
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

impl<'a> RawItem<'a> {
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
}
