//! The document in reading order, with every string that reads as a date marked: text nodes and
//! date-bearing attributes (`<time datetime>`, `data-*` epochs, `title=`). Both modes use it to
//! find dates that are not inside an item: a date line before its headline, or a day header
//! above time-only rows.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use chrono::{DateTime, Duration, NaiveTime};
use chrono_tz::Tz;
use ego_tree::NodeId;
use scraper::node::Node;
use scraper::{ElementRef, Html};

use crate::dates::{self, DateContext, Stamp};

/// A date found in the document, at a position in reading order.
#[derive(Debug, Clone, Copy)]
pub struct DateAtom {
    pub pos: usize,
    pub stamp: Stamp,
    /// Which of its element's attributes it was read from (`datetime`, `title`…), by index;
    /// `None` for shown text.
    pub attribute: Option<u16>,
    /// Marked up as a date (`<time>`, a `datetime` or named `data-*` attribute): preferred over
    /// a bare `4:12` that may be a video's length.
    pub semantic: bool,
}

impl DateAtom {
    pub fn in_attribute(&self) -> bool {
        self.attribute.is_some()
    }
}

/// The document's nodes numbered in reading order, and its date atoms.
pub struct Flat {
    /// Pre-order position of every node.
    order: HashMap<NodeId, usize, BuildHasherDefault<NodeIdHasher>>,
    /// The date atoms, in reading order.
    pub dates: Vec<DateAtom>,
}

/// Node ids are small distinct integers (indexes into the tree), so they need no SipHash: every
/// node of a page goes into `order`, and the default hasher was a tenth of building it.
#[derive(Default)]
struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        // Multiplicative hashing spreads consecutive ids over the table's top bits.
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// How much of a text must be date for the text to count as a date line.
pub const DATE_LINE_COVERAGE: f32 = 0.5;
/// Longer texts are prose or headlines, never date lines.
const MAX_DATE_TEXT_CHARS: usize = 64;

impl Flat {
    pub fn new(document: &Html, ctx: &DateContext) -> Flat {
        let mut order = HashMap::default();
        let mut dates = Vec::new();
        let mut skip_until: Option<usize> = None;
        for (pos, node) in document.tree.root().descendants().enumerate() {
            order.insert(node.id(), pos);
            if skip_until.is_some_and(|end| pos < end) {
                continue;
            }
            match node.value() {
                Node::Element(el) => {
                    if matches!(
                        el.name(),
                        "script" | "style" | "noscript" | "template" | "head"
                    ) {
                        // Nothing inside is shown on the page.
                        skip_until = Some(pos + node.descendants().count());
                        continue;
                    }
                    for (index, (name, value)) in el.attrs().enumerate() {
                        if let Some(stamp) = attribute_date(name, value, ctx) {
                            dates.push(DateAtom {
                                pos,
                                stamp,
                                attribute: u16::try_from(index).ok(),
                                semantic: name != "title" && name != "content",
                            });
                        }
                    }
                }
                Node::Text(text) => {
                    if let Some(stamp) = text_date(text, ctx) {
                        let in_time = node
                            .parent()
                            .and_then(|p| p.value().as_element().map(|e| e.name() == "time"))
                            .unwrap_or(false);
                        dates.push(DateAtom {
                            pos,
                            stamp,
                            attribute: None,
                            semantic: in_time,
                        });
                    }
                }
                _ => {}
            }
        }
        Flat { order, dates }
    }

    /// The position of any node (element or text).
    pub fn node_pos(&self, node: NodeId) -> Option<usize> {
        self.order.get(&node).copied()
    }

    pub fn pos(&self, element: ElementRef) -> usize {
        self.order[&element.id()]
    }

    /// Positions `[start, end)` covered by an element and everything inside it.
    pub fn span(&self, element: ElementRef) -> (usize, usize) {
        let start = self.pos(element);
        // The last node in pre-order inside an element is its last child's last child's…: a
        // walk down its depth, not across everything it holds.
        let mut last = *element;
        while let Some(child) = last.last_child() {
            last = child;
        }
        (start, self.order[&last.id()] + 1)
    }

    /// Date atoms inside `[start, end)`, skipping text inside `except` (the headline's own text,
    /// which may mention a date; its attributes, such as `title=`, still count).
    pub fn dates_in(
        &self,
        start: usize,
        end: usize,
        except: (usize, usize),
    ) -> impl Iterator<Item = &DateAtom> {
        self.dates_in_but(start, end, except, &[])
    }

    /// [`Flat::dates_in`], where the spans `kept` inside `except` still count (the date parts
    /// of a headline link, see [`super::text::Headline`]).
    pub fn dates_in_but<'s>(
        &'s self,
        start: usize,
        end: usize,
        except: (usize, usize),
        kept: &'s [(usize, usize)],
    ) -> impl Iterator<Item = &'s DateAtom> {
        let first = self.dates.partition_point(|d| d.pos < start);
        self.dates[first..]
            .iter()
            .take_while(move |d| d.pos < end)
            .filter(move |d| {
                d.in_attribute()
                    || !(except.0..except.1).contains(&d.pos)
                    || kept.iter().any(|k| (k.0..k.1).contains(&d.pos))
            })
    }

    /// The day a table row takes from a cell above it that spans it (`<td rowspan="3">
    /// 2025/08/27</td>` beside the first of the day's rows), for a row that prints only times.
    pub fn spanning_day(&self, row: ElementRef, tz: Tz) -> Option<Stamp> {
        if row.value().name() != "tr" {
            return None;
        }
        let above = row
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .filter(|el| el.value().name() == "tr");
        for (distance, earlier) in above.enumerate().take(50) {
            for cell in earlier.children().filter_map(ElementRef::wrap) {
                let spans = cell
                    .value()
                    .attr("rowspan")
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or(1);
                if spans > distance + 1 {
                    let (start, end) = self.span(cell);
                    let day = combine(self.dates_in(start, end, (0, 0)).copied(), tz)
                        .and_then(|stamp| dates::day_of(stamp, tz));
                    if let Some(day) = day {
                        return Some(Stamp::Day(day));
                    }
                }
            }
        }
        None
    }

    /// The nearest date before `pos` that names a day (a time-only atom names none), not looking
    /// further back than `floor`.
    pub fn preceding_day(&self, pos: usize, floor: usize) -> Option<DateAtom> {
        let end = self.dates.partition_point(|d| d.pos < pos);
        self.dates[..end]
            .iter()
            .rev()
            .take_while(|d| d.pos >= floor)
            .find(|d| !matches!(d.stamp, Stamp::TimeOfDay(_)))
            .copied()
    }
}

/// The one stamp a group of atoms (an item's, or a gap's) stands for: the first full instant,
/// else a day with the first time of day after it, else the day, else the time. Atoms marked up
/// as dates speak first; the rest only when those say nothing, or to give a day marked up
/// alone its time (`<time datetime="2025-08-28">2025.08.28</time> <span>15:48</span>`, as
/// 工商時報 prints it).
pub fn combine(atoms: impl IntoIterator<Item = DateAtom>, tz: Tz) -> Option<Stamp> {
    let atoms: Vec<DateAtom> = atoms.into_iter().collect();
    if atoms.iter().any(|a| a.semantic) {
        let marked = combine_in_order(atoms.iter().filter(|a| a.semantic).copied(), tz);
        if let Some(Stamp::Day(day)) = marked {
            let shown = combine_in_order(atoms.iter().filter(|a| !a.semantic).copied(), tz);
            return Some(match shown {
                Some(Stamp::TimeOfDay(time)) => Stamp::At(dates::on_day(day, time, tz)),
                // The same day shown with its time.
                Some(Stamp::At(at)) if dates::day_of(Stamp::At(at), tz) == Some(day) => {
                    Stamp::At(at)
                }
                _ => Stamp::Day(day),
            });
        }
        if marked.is_some() {
            return marked;
        }
    }
    combine_in_order(atoms, tz)
}

fn combine_in_order(atoms: impl IntoIterator<Item = DateAtom>, tz: Tz) -> Option<Stamp> {
    let mut day = None;
    let mut time = None;
    for atom in atoms {
        match atom.stamp {
            Stamp::At(_) => return Some(atom.stamp),
            Stamp::Day(d) => {
                if day.is_none() {
                    day = Some(d);
                }
            }
            Stamp::TimeOfDay(t) => {
                if time.is_none() {
                    time = Some(t);
                }
            }
        }
    }
    match (day, time) {
        (Some(day), Some(time)) => Some(Stamp::At(dates::on_day(day, time, tz))),
        (Some(day), None) => Some(Stamp::Day(day)),
        (None, Some(time)) => Some(Stamp::TimeOfDay(time)),
        (None, None) => None,
    }
}

/// An item's own stamp completed by the stamp of the line beside it (a date line above, a day
/// header): the item's own time wins over a time in the gap, the gap's day fills a missing day.
pub fn merge(own: Option<Stamp>, beside: Option<Stamp>, tz: Tz) -> Option<Stamp> {
    let day_of_beside = beside.and_then(|b| dates::day_of(b, tz));
    match (own, beside) {
        (Some(Stamp::At(at)), _) => Some(Stamp::At(at)),
        (Some(Stamp::TimeOfDay(time)), Some(_)) if day_of_beside.is_some() => {
            day_of_beside.map(|day| Stamp::At(dates::on_day(day, time, tz)))
        }
        (Some(Stamp::Day(day)), Some(Stamp::TimeOfDay(time))) => {
            Some(Stamp::At(dates::on_day(day, time, tz)))
        }
        (Some(own), _) => Some(own),
        (None, beside) => beside,
    }
}

/// A stamp made an instant: a time of day takes the day of `day_from` (a preceding date), or,
/// with no day anywhere, the latest such time not after the run's clock ("today's" list).
pub fn resolve(stamp: Stamp, day_from: Option<Stamp>, ctx: &DateContext) -> Option<DateTime<Tz>> {
    match stamp {
        Stamp::TimeOfDay(time) => {
            let day = day_from.and_then(|s| dates::day_of(s, ctx.tz));
            match day {
                Some(day) => Some(dates::on_day(day, time, ctx.tz)),
                None => Some(latest_at_or_before(time, ctx)),
            }
        }
        other => other.instant(ctx.tz),
    }
    .map(dates::truncate_to_seconds)
}

fn latest_at_or_before(time: NaiveTime, ctx: &DateContext) -> DateTime<Tz> {
    let now = ctx.now.with_timezone(&ctx.tz);
    let today = dates::on_day(now.date_naive(), time, ctx.tz);
    // A few minutes ahead is a clock difference with the site, not yesterday's news.
    if today <= now + Duration::minutes(10) {
        today
    } else {
        dates::on_day(now.date_naive() - Duration::days(1), time, ctx.tz)
    }
}

/// A text node that is mostly a date: `2025/8/28 15:48`, `(08月28日 15:48)`, `3小時前`.
pub(crate) fn text_date(text: &str, ctx: &DateContext) -> Option<Stamp> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_DATE_TEXT_CHARS || !may_be_date(trimmed)
    {
        return None;
    }
    // A bare number in text is a count, a price or a code; epochs live in attributes.
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let found = dates::read_match(trimmed, ctx)?;
    (found.coverage >= DATE_LINE_COVERAGE).then_some(found.stamp)
}

/// Attributes that carry dates by name (`datetime`, `data-time`, `data-published-at`, `data-ts`),
/// and `title`/`content` when their whole value is a date.
pub(crate) fn attribute_date(name: &str, value: &str, ctx: &DateContext) -> Option<Stamp> {
    let name = name.to_ascii_lowercase();
    let named = name == "datetime"
        || (name.starts_with("data-")
            && ["time", "date", "publish", "-ts", "stamp", "pub"]
                .iter()
                .any(|k| name.contains(k)));
    if !(named || name == "title" || name == "content") {
        return None;
    }
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_DATE_TEXT_CHARS || !may_be_date(value) {
        return None;
    }
    if !named && value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let found = dates::read_match(value, ctx)?;
    let needed = if named { DATE_LINE_COVERAGE } else { 0.8 };
    (found.coverage >= needed).then_some(found.stamp)
}

/// Words of relative dates that carry no digit.
const RELATIVE_WORDS: &[&str] = &[
    "剛剛",
    "刚刚",
    "剛才",
    "刚才",
    "たった今",
    "昨天",
    "今天",
    "前天",
    "昨日",
    "今日",
    "一昨日",
    // Counts written in Chinese numerals, and halves: 半小时前, 一小時前, 兩個鐘頭前, 三天前.
    "半小",
    "半個",
    "半个",
    "小時前",
    "小时前",
    "鐘頭前",
    "钟头前",
    "分鐘前",
    "分钟前",
    "天前",
    "週前",
    "周前",
    "just now",
    " ago",
    "yesterday",
    "today",
];

/// Whether a text has a digit, ASCII or full-width.
pub(crate) fn has_figures(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
}

/// A cheap test before the date reader: digits, or a word of a relative date.
fn may_be_date(text: &str) -> bool {
    if has_figures(text) {
        return true;
    }
    // One case-insensitive search for all the words: lowercasing every digitless text node of a
    // page and scanning it once per word was a fifth of auto mode's time.
    static RELATIVE: LazyLock<regex::Regex> = LazyLock::new(|| {
        let words: Vec<String> = RELATIVE_WORDS.iter().map(|w| regex::escape(w)).collect();
        regex::Regex::new(&format!("(?i){}", words.join("|"))).expect("relative words compile")
    });
    RELATIVE.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::{DateAtom, combine, may_be_date};
    use crate::dates::Stamp;
    use chrono::{NaiveDate, NaiveTime, TimeZone};
    use chrono_tz::Asia::Taipei;

    fn atom(pos: usize, stamp: Stamp, semantic: bool) -> DateAtom {
        DateAtom {
            pos,
            stamp,
            attribute: semantic.then_some(0),
            semantic,
        }
    }

    #[test]
    fn a_day_marked_up_alone_takes_the_time_shown_beside_it() {
        let day = Stamp::Day(NaiveDate::from_ymd_opt(2025, 8, 28).unwrap());
        let time = |h, m| Stamp::TimeOfDay(NaiveTime::from_hms_opt(h, m, 0).unwrap());
        let at = |d, h, m| Stamp::At(Taipei.with_ymd_and_hms(2025, 8, d, h, m, 0).unwrap());
        // <time datetime="2025-08-28">2025.08.28</time> <span>15:48</span>
        let atoms = [
            atom(1, day, true),
            atom(2, day, false),
            atom(3, time(15, 48), false),
        ];
        assert_eq!(combine(atoms, Taipei), Some(at(28, 15, 48)));
        // The shown text dates the same day with its time.
        let atoms = [atom(1, day, true), atom(2, at(28, 9, 5), false)];
        assert_eq!(combine(atoms, Taipei), Some(at(28, 9, 5)));
        // Shown text naming another day does not move the marked-up one.
        let atoms = [atom(1, day, true), atom(2, at(27, 9, 5), false)];
        assert_eq!(combine(atoms, Taipei), Some(day));
        // A marked-up instant is never changed by what is shown.
        let atoms = [atom(1, at(28, 7, 0), true), atom(2, time(15, 48), false)];
        assert_eq!(combine(atoms, Taipei), Some(at(28, 7, 0)));
    }

    #[test]
    fn relative_words_are_found_in_any_case_and_headlines_are_not() {
        for text in [
            "JUST NOW",
            "Updated Today",
            "yesterday",
            "an hour ago",
            "剛剛",
            "たった今",
            "半小时前",
            "兩個鐘頭前",
            "三天前",
            "昨日",
            "8/28",
            "２０２５年",
        ] {
            assert!(may_be_date(text), "{text}");
        }
        for text in [
            "台積電法說會前夕外資連三買",
            "Chicago Fed",
            "Agoda shares",
            "",
        ] {
            assert!(!may_be_date(text), "{text}");
        }
    }
}
