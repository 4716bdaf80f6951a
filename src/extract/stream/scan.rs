//! The one-pass reader: the scan that checks the page (`wellformed`) matches the selectors on
//! its own stack (`matcher`), and `ScanReader` builds the items as it goes.

use super::item::{RawItem, Seen, ascii_lowercase, attribute_value, dateless, hidden};
use super::{split_top_level, watched};
use crate::config::SelectConfig;
use crate::dates::DateContext;
use crate::extract::matcher::{Complex, Compounds, Marks};
use crate::extract::wellformed::{self, Open, Repair, Start};

/// The config's selectors as the page scan matches them itself (`matcher`), when it can match
/// them all: the page is then read in that one pass, without lol_html.
pub(super) struct ScanPlan {
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
    pub(super) fn new(select: &SelectConfig) -> Option<ScanPlan> {
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

/// Read the page in the scan that checks it (`wellformed::scan`), matching the selectors there:
/// the items, and each one's three nearest ancestors.
pub(super) fn scan_read<'a>(
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

/// Builds the items as `lol::read` does, from what the scan reports.
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
