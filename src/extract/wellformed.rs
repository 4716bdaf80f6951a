//! Whether a streaming pass sees the tree the DOM parser builds.
//!
//! A streaming parser (lol_html) keeps a plain stack of open elements: an end tag closes the
//! nearest open element of its name, and nothing is ever closed or opened implicitly. The HTML
//! tree builder (html5ever) repairs markup: a `<div>` closes an open `<p>`, a second `<li>`
//! closes the first, a table gains a `<tbody>`, misnested formatting tags are re-opened. On
//! markup where no repair happens the two agree. This module scans the page once, cheaply,
//! simulating the tree builder's stack just far enough to notice any repair; the first one means
//! the page goes to the DOM path. It errs on the side of refusing: a refused page is only slower.
//!
//! `scan` also tells a reader (`Events`) what it builds as it goes, so that `stream` can read
//! the items in the same pass.

use std::borrow::Cow;
use std::ops::Range;

use super::matcher::Marks;
use super::text::is_heading;

/// Why a page must be read through the DOM, for tests and `-vv` logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair(pub String);

/// The nearest ancestors of an element, nearest first: each one's name and where its start tag
/// begins in the page.
pub type Ancestors = Vec<(String, usize)>;

/// `Ok` when the tree builder would build exactly the nesting the tags spell out, with the three
/// nearest ancestors of each element whose start tag begins at one of `starts` (ascending).
///
/// `watched` names the attributes selectors look at (`class`, `id` and any in `[…]`): lol_html
/// and `matcher` match their raw text, so a value with a character reference or a carriage
/// return (which the DOM decodes or normalises) is refused.
///
/// `implied_tbody`: whether the selectors read the same with and without the `<tbody>` the DOM
/// puts between a `<table>` and its rows when the page leaves it out (lol_html does not).
pub fn check(
    html: &str,
    starts: &[usize],
    watched: &[String],
    implied_tbody: bool,
) -> Result<Vec<Ancestors>, Repair> {
    let mut scanner = Scanner::new(html, starts, watched);
    scanner.implied_tbody = implied_tbody;
    scanner.run_document()?;
    if scanner.ancestors.len() != starts.len() {
        return Err(Repair("the streaming pass saw other start tags".into()));
    }
    Ok(scanner.ancestors)
}

/// An element as the scan meets its start tag.
pub(crate) struct Start<'a, 'b> {
    /// ASCII-lowercased.
    pub name: &'b Cow<'a, str>,
    /// Where its tag begins in the page.
    pub start: usize,
    /// Its attributes as written: raw names and values (the first of a repeated name is the
    /// DOM's).
    pub attributes: &'b [(&'a str, &'a str)],
    /// In SVG content.
    pub svg: bool,
    /// Its place among its parent's child elements, from 1 (`:nth-child`).
    pub position: u32,
    /// Whether it holds content and ends at an end tag; a void element (`<br>`, `<img>`) or a
    /// self-closed SVG element ends at once, with no `end` call.
    pub can_have_content: bool,
}

/// A reader of the page told, in document order, what the tree builder would build, while the
/// scan checks that it builds exactly that (see `scan`).
pub(crate) trait Events<'a> {
    /// An element starts inside the elements `open` (outermost first). Returns its marks, kept
    /// with it on the stack for the starts after it; `Err` refuses the page.
    fn start(&mut self, element: &Start<'a, '_>, open: &[Open<'a>]) -> Result<Marks, Repair>;
    /// The `<tbody>` the tree builder puts between a `<table>` and a row (see `check`), child
    /// element `position` of the table; it has no tag, attributes or content of its own.
    fn implied_tbody(&mut self, position: u32) -> Result<Marks, Repair>;
    /// Text from `from` to `to` in the page, as written. Consecutive calls are one text node
    /// until `end_text` or an element's start or end. `decoded`: whether the DOM decodes its
    /// references (not in raw text elements: script, style, xmp, iframe, noembed, noframes,
    /// noscript).
    fn text(&mut self, from: usize, to: usize, decoded: bool);
    /// A comment or other markup ends the text node.
    fn end_text(&mut self);
    /// The innermost open element `open` ends.
    fn end(&mut self, open: &Open<'a>);
}

/// Scan the page as `check` does, telling `events` what the tree builder would build.
pub(crate) fn scan<'a, 'e>(
    html: &'a str,
    watched: &'e [String],
    implied_tbody: bool,
    events: &'e mut dyn Events<'a>,
) -> Result<(), Repair> {
    let mut scanner = Scanner::new(html, &[], watched);
    scanner.implied_tbody = implied_tbody;
    scanner.events = Some(events);
    scanner.run_document()
}

/// Where an element the tree builder implies (a `<tbody>`) "begins": it has no tag of its own.
pub const IMPLIED: usize = usize::MAX;

/// The value of attribute `name` in the start tag that begins at `start` (its first occurrence,
/// as the DOM keeps it), entities decoded; `None` for an implied element.
pub fn attribute_at(html: &str, start: usize, name: &str) -> Option<String> {
    if start == IMPLIED {
        return None;
    }
    let bytes = html.as_bytes();
    // `start` is a `<`, so the next byte begins a character.
    let (_, name_len) = tag_name(html.get(start + 1..)?);
    let mut found: Option<&[u8]> = None;
    scan_attributes(bytes, start + 1 + name_len, |attr, value| {
        if found.is_none() && bytes[attr].eq_ignore_ascii_case(name.as_bytes()) {
            found = Some(&bytes[value]);
        }
    })?;
    let value = String::from_utf8_lossy(found?);
    Some(super::charref::decode(&value, true).into_owned())
}

/// A start or end tag's attributes from `at` (just after its name) to its `>`, read with the
/// tokenizer's own states, so that `a=""=">"` or `href=/x/>` end where the DOM's tokenizer
/// ends them. Calls `each` with where every name and raw value lie; returns the position after
/// the `>` and whether the tag closed with `/>`, or `None` when the page ends inside the tag.
fn scan_attributes(
    bytes: &[u8],
    mut at: usize,
    mut each: impl FnMut(Range<usize>, Range<usize>),
) -> Option<(usize, bool)> {
    #[derive(Clone, Copy)]
    enum State {
        BeforeName,
        Name(usize),
        AfterName(usize, usize),
        BeforeValue(usize, usize),
        Unquoted(usize, usize, usize),
        AfterQuoted,
        SelfClosing,
    }
    let mut state = State::BeforeName;
    while at < bytes.len() {
        let b = bytes[at];
        let space = matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ');
        state = match state {
            State::BeforeName => match b {
                _ if space => State::BeforeName,
                b'/' => State::SelfClosing,
                b'>' => return Some((at + 1, false)),
                // `=` here starts a name (a parse error the tokenizer recovers from).
                _ => State::Name(at),
            },
            State::Name(from) => match b {
                _ if space => State::AfterName(from, at),
                b'/' => {
                    each(from..at, at..at);
                    State::SelfClosing
                }
                b'>' => {
                    each(from..at, at..at);
                    return Some((at + 1, false));
                }
                b'=' => State::BeforeValue(from, at),
                _ => State::Name(from),
            },
            State::AfterName(from, to) => match b {
                _ if space => State::AfterName(from, to),
                b'=' => State::BeforeValue(from, to),
                _ => {
                    each(from..to, at..at);
                    match b {
                        b'/' => State::SelfClosing,
                        b'>' => return Some((at + 1, false)),
                        _ => State::Name(at),
                    }
                }
            },
            State::BeforeValue(from, to) => match b {
                _ if space => State::BeforeValue(from, to),
                b'"' | b'\'' => {
                    let close = at + 1 + memchr::memchr(b, &bytes[at + 1..])?;
                    each(from..to, at + 1..close);
                    at = close;
                    State::AfterQuoted
                }
                b'>' => {
                    each(from..to, at..at);
                    return Some((at + 1, false));
                }
                _ => State::Unquoted(from, to, at),
            },
            State::Unquoted(from, to, value) => match b {
                _ if space => {
                    each(from..to, value..at);
                    State::BeforeName
                }
                b'>' => {
                    each(from..to, value..at);
                    return Some((at + 1, false));
                }
                _ => State::Unquoted(from, to, value),
            },
            State::AfterQuoted => match b {
                _ if space => State::BeforeName,
                b'/' => State::SelfClosing,
                b'>' => return Some((at + 1, false)),
                _ => State::Name(at),
            },
            State::SelfClosing => match b {
                b'>' => return Some((at + 1, true)),
                _ if space => State::BeforeName,
                _ => State::Name(at),
            },
        };
        at += 1;
    }
    None
}

pub(crate) fn repair<T>(what: impl Into<String>) -> Result<T, Repair> {
    Err(Repair(what.into()))
}

// What the tree builder does with a tag, as bits of one lookup per tag.
/// Elements without content or end tag.
const F_VOID: u16 = 1 << 0;
/// The tree builder's "special" elements (stop points when it looks for a tag to close).
const F_SPECIAL: u16 = 1 << 1;
/// Formatting elements: closed early, the tree builder re-opens them.
const F_FORMATTING: u16 = 1 << 2;
/// Start tags that close an open `<p>`.
const F_CLOSES_P: u16 = 1 << 3;
/// Elements the tree builder closes silently when another end tag needs them closed.
const F_IMPLIED_END: u16 = 1 << 4;
/// Boundaries of the default scope; button scope adds `button`, list item scope `ol` and `ul`.
const F_SCOPE: u16 = 1 << 5;
/// Elements allowed before the body; anything else starts it.
const F_HEAD_CONTENT: u16 = 1 << 6;
/// Elements whose content is text up to their end tag (with scripting on, as both parsers run).
const F_RAW_TEXT: u16 = 1 << 7;
/// Tags the tree builder never nests as written, or treats in ways not worth simulating.
const F_REFUSED: u16 = 1 << 8;
/// HTML start tags that end SVG content early.
const F_BREAKS_FOREIGN: u16 = 1 << 9;

/// The bits of a lowercase tag name.
fn class(name: &str) -> u16 {
    match name {
        "a" => F_FORMATTING,
        "address" => F_SPECIAL | F_CLOSES_P,
        "applet" => F_SPECIAL | F_SCOPE,
        "area" => F_VOID | F_SPECIAL,
        "article" => F_SPECIAL | F_CLOSES_P,
        "aside" => F_SPECIAL | F_CLOSES_P,
        "b" => F_FORMATTING | F_BREAKS_FOREIGN,
        "base" => F_VOID | F_SPECIAL | F_HEAD_CONTENT,
        "basefont" => F_VOID | F_SPECIAL | F_HEAD_CONTENT,
        "bgsound" => F_VOID | F_SPECIAL | F_HEAD_CONTENT,
        "big" => F_FORMATTING | F_BREAKS_FOREIGN,
        "blockquote" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "body" => F_SPECIAL | F_BREAKS_FOREIGN,
        "br" => F_VOID | F_SPECIAL | F_BREAKS_FOREIGN,
        "button" => F_SPECIAL,
        "caption" => F_SPECIAL | F_SCOPE | F_REFUSED,
        "center" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "code" => F_FORMATTING | F_BREAKS_FOREIGN,
        "col" => F_VOID | F_SPECIAL | F_REFUSED,
        "colgroup" => F_SPECIAL | F_REFUSED,
        "dd" => F_SPECIAL | F_IMPLIED_END | F_BREAKS_FOREIGN,
        "details" => F_SPECIAL | F_CLOSES_P,
        "dialog" => F_CLOSES_P,
        "dir" => F_SPECIAL | F_CLOSES_P,
        "div" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "dl" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "dt" => F_SPECIAL | F_IMPLIED_END | F_BREAKS_FOREIGN,
        "em" => F_FORMATTING | F_BREAKS_FOREIGN,
        "embed" => F_VOID | F_SPECIAL | F_BREAKS_FOREIGN,
        "fieldset" => F_SPECIAL | F_CLOSES_P,
        "figcaption" => F_SPECIAL | F_CLOSES_P,
        "figure" => F_SPECIAL | F_CLOSES_P,
        "font" => F_FORMATTING | F_BREAKS_FOREIGN,
        "footer" => F_SPECIAL | F_CLOSES_P,
        "form" => F_SPECIAL | F_CLOSES_P,
        "frame" => F_SPECIAL | F_REFUSED,
        "frameset" => F_SPECIAL | F_REFUSED,
        "h1" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "h2" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "h3" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "h4" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "h5" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "h6" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "head" => F_SPECIAL | F_BREAKS_FOREIGN,
        "header" => F_SPECIAL | F_CLOSES_P,
        "hgroup" => F_SPECIAL | F_CLOSES_P,
        "hr" => F_VOID | F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "html" => F_SPECIAL | F_SCOPE,
        "i" => F_FORMATTING | F_BREAKS_FOREIGN,
        "iframe" => F_SPECIAL | F_RAW_TEXT,
        "image" => F_REFUSED,
        "img" => F_VOID | F_SPECIAL | F_BREAKS_FOREIGN,
        "input" => F_VOID | F_SPECIAL,
        "isindex" => F_SPECIAL | F_REFUSED,
        "keygen" => F_VOID | F_SPECIAL,
        "li" => F_SPECIAL | F_IMPLIED_END | F_BREAKS_FOREIGN,
        "link" => F_VOID | F_SPECIAL | F_HEAD_CONTENT,
        "listing" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "main" => F_SPECIAL | F_CLOSES_P,
        "marquee" => F_SPECIAL | F_SCOPE,
        "math" => F_REFUSED,
        "menu" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "meta" => F_VOID | F_SPECIAL | F_HEAD_CONTENT | F_BREAKS_FOREIGN,
        "nav" => F_SPECIAL | F_CLOSES_P,
        "nobr" => F_FORMATTING | F_BREAKS_FOREIGN,
        "noembed" => F_SPECIAL | F_RAW_TEXT,
        "noframes" => F_SPECIAL | F_HEAD_CONTENT | F_RAW_TEXT,
        "noscript" => F_SPECIAL | F_HEAD_CONTENT | F_RAW_TEXT,
        "object" => F_SPECIAL | F_SCOPE,
        "ol" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "optgroup" => F_IMPLIED_END,
        "option" => F_IMPLIED_END,
        "p" => F_SPECIAL | F_CLOSES_P | F_IMPLIED_END | F_BREAKS_FOREIGN,
        "param" => F_VOID | F_SPECIAL,
        "plaintext" => F_SPECIAL | F_REFUSED,
        "pre" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "rb" => F_IMPLIED_END | F_REFUSED,
        "rp" => F_IMPLIED_END | F_REFUSED,
        "rt" => F_IMPLIED_END | F_REFUSED,
        "rtc" => F_IMPLIED_END | F_REFUSED,
        "ruby" => F_BREAKS_FOREIGN,
        "s" => F_FORMATTING | F_BREAKS_FOREIGN,
        "script" => F_SPECIAL | F_HEAD_CONTENT | F_RAW_TEXT,
        "search" => F_CLOSES_P,
        "section" => F_SPECIAL | F_CLOSES_P,
        "select" => F_SPECIAL | F_SCOPE,
        "small" => F_FORMATTING | F_BREAKS_FOREIGN,
        "source" => F_VOID | F_SPECIAL,
        "span" => F_BREAKS_FOREIGN,
        "strike" => F_FORMATTING | F_BREAKS_FOREIGN,
        "strong" => F_FORMATTING | F_BREAKS_FOREIGN,
        "style" => F_SPECIAL | F_HEAD_CONTENT | F_RAW_TEXT,
        "sub" => F_BREAKS_FOREIGN,
        "summary" => F_SPECIAL | F_CLOSES_P,
        "sup" => F_BREAKS_FOREIGN,
        "table" => F_SPECIAL | F_CLOSES_P | F_SCOPE | F_BREAKS_FOREIGN,
        "tbody" => F_SPECIAL,
        "td" => F_SPECIAL | F_SCOPE,
        "template" => F_SPECIAL | F_SCOPE | F_HEAD_CONTENT | F_REFUSED,
        "textarea" => F_SPECIAL | F_RAW_TEXT,
        "tfoot" => F_SPECIAL,
        "th" => F_SPECIAL | F_SCOPE,
        "thead" => F_SPECIAL,
        "title" => F_SPECIAL | F_HEAD_CONTENT | F_RAW_TEXT,
        "tr" => F_SPECIAL,
        "track" => F_VOID | F_SPECIAL,
        "tt" => F_FORMATTING | F_BREAKS_FOREIGN,
        "u" => F_FORMATTING | F_BREAKS_FOREIGN,
        "ul" => F_SPECIAL | F_CLOSES_P | F_BREAKS_FOREIGN,
        "var" => F_BREAKS_FOREIGN,
        "wbr" => F_VOID | F_SPECIAL,
        "xmp" => F_SPECIAL | F_CLOSES_P | F_RAW_TEXT,
        _ => 0,
    }
}

/// SVG elements whose content is parsed as HTML again.
const SVG_HTML_POINTS: &[&str] = &["foreignobject", "desc", "title"];

#[derive(PartialEq, Eq, Clone, Copy)]
enum Phase {
    Head,
    Body,
    AfterBody,
}

/// An open element on the scan's stack.
pub(crate) struct Open<'a> {
    /// ASCII-lowercased.
    pub name: Cow<'a, str>,
    class: u16,
    pub svg: bool,
    /// Where its start tag begins (`IMPLIED` for an implied `<tbody>`).
    pub start: usize,
    /// What `Events::start` returned for it.
    pub marks: Marks,
    /// Child elements so far.
    children: u32,
}

struct Scanner<'a, 'e> {
    html: &'a str,
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Open<'a>>,
    phase: Phase,
    seen_html: bool,
    seen_head: bool,
    seen_body: bool,
    /// A stray end tag was just ignored after text: text right after it would join that text
    /// into one node in the DOM and stay two nodes in the stream.
    stray_after_text: bool,
    last_was_text: bool,
    /// Start tags whose ancestors are wanted, and the ancestors found so far.
    starts: &'e [usize],
    ancestors: Vec<Ancestors>,
    /// Where the tag being handled begins.
    tag_start: usize,
    /// Open `<p>` and `<a>` elements, so the common tags skip the walks that look for them.
    open_p: usize,
    open_a: usize,
    open_select: usize,
    /// Attributes whose raw text selectors match (see `check`).
    watched: &'e [String],
    /// `</head>` was seen: only the body may follow.
    after_head: bool,
    /// See `check`.
    implied_tbody: bool,
    /// Told what is built, when the page is read in the same pass (`scan`).
    events: Option<&'e mut dyn Events<'a>>,
    /// The attributes of the start tag being handled, for `events`.
    attributes: Vec<(&'a str, &'a str)>,
    /// Elements with no parent (the `<html>`), counted as `Open::children` are.
    root_children: u32,
}

impl<'a, 'e> Scanner<'a, 'e> {
    fn new(html: &'a str, starts: &'e [usize], watched: &'e [String]) -> Self {
        Scanner {
            html,
            bytes: html.as_bytes(),
            pos: 0,
            stack: Vec::with_capacity(32),
            phase: Phase::Head,
            seen_html: false,
            seen_head: false,
            seen_body: false,
            stray_after_text: false,
            last_was_text: false,
            starts,
            ancestors: Vec::with_capacity(starts.len()),
            tag_start: 0,
            open_p: 0,
            open_a: 0,
            open_select: 0,
            watched,
            after_head: false,
            implied_tbody: false,
            events: None,
            attributes: Vec::new(),
            root_children: 0,
        }
    }

    /// The whole page, which must spell out `<html>`, `<head>` and `<body>`: the stream sees
    /// only the elements written.
    fn run_document(&mut self) -> Result<(), Repair> {
        self.run()?;
        if !(self.seen_html && self.seen_head && self.seen_body) {
            return repair("no <html>, <head> and <body> tags");
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), Repair> {
        // memchr's vector search: `[u8]::contains` goes a word at a time.
        if memchr::memchr(0, self.bytes).is_some() {
            return repair("NUL character");
        }
        self.doctype()?;
        while self.pos < self.bytes.len() {
            let next = memchr::memchr(b'<', &self.bytes[self.pos..])
                .map_or(self.bytes.len(), |i| self.pos + i);
            if next > self.pos {
                self.text(self.pos, next)?;
            }
            self.pos = next;
            if self.pos >= self.bytes.len() {
                break;
            }
            self.markup()?;
        }
        // The page's last text ends with it.
        self.end_text();
        Ok(())
    }

    /// Only a no-quirks page is read in a stream: in quirks mode class and id selectors match
    /// without regard to case in the DOM, and tables nest differently.
    fn doctype(&mut self) -> Result<(), Repair> {
        let start = self
            .bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        // A byte-order mark was removed by the decoder; a comment before the doctype is fine.
        let mut at = start;
        while self.html[at..].starts_with("<!--") {
            match self.html[at + 4..].find("-->") {
                Some(end) => at = at + 4 + end + 3,
                None => return repair("unterminated comment before the doctype"),
            }
            at += self.bytes[at..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        }
        let head = &self.bytes[at..];
        if head.len() < 9 || !head[..9].eq_ignore_ascii_case(b"<!doctype") {
            return repair("no doctype (quirks mode)");
        }
        let end = match memchr::memchr(b'>', &head[..head.len().min(1000)]) {
            Some(end) => end,
            None => return repair("unterminated doctype"),
        };
        let body = String::from_utf8_lossy(&head[9..end])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        let no_quirks = body == "html"
            || body == "html system \"about:legacy-compat\""
            || body == "html system 'about:legacy-compat'"
            || [
                "-//w3c//dtd html 4.01//en",
                "-//w3c//dtd xhtml 1.0 strict//en",
                "-//w3c//dtd xhtml 1.0 transitional//en",
                "-//w3c//dtd xhtml 1.1//en",
            ]
            .iter()
            .any(|id| body.starts_with("html public") && body.contains(&format!("\"{id}\"")));
        // HTML 4.01 Transitional and Frameset with a system identifier are limited-quirks:
        // parsing and selectors as in standards mode (without one they are quirks).
        let limited_quirks = body.starts_with("html public")
            && body.matches('"').count() >= 4
            && [
                "\"-//w3c//dtd html 4.01 transitional//",
                "\"-//w3c//dtd html 4.01 frameset//",
            ]
            .iter()
            .any(|id| body.contains(id));
        if !(no_quirks || limited_quirks) {
            return repair(format!("doctype {body:?} is not a standards-mode doctype"));
        }
        self.pos = at + end + 1;
        Ok(())
    }

    fn current(&self) -> Option<&Open<'a>> {
        self.stack.last()
    }

    fn current_name(&self) -> &str {
        self.stack.last().map_or("", |o| &o.name)
    }

    fn in_svg(&self) -> bool {
        self.current().is_some_and(|open| open.svg)
    }

    fn text(&mut self, from: usize, to: usize) -> Result<(), Repair> {
        if let Some(events) = self.events.as_deref_mut() {
            events.text(from, to, true);
        }
        let text = &self.bytes[from..to];
        let blank = text.iter().all(|b| b.is_ascii_whitespace());
        if blank {
            // Whitespace is a text node too; it joins with neighbours in both parsers alike.
            if !text.is_empty() {
                self.last_was_text = true;
            }
            return Ok(());
        }
        if self.stray_after_text {
            return repair("a stray end tag between two texts");
        }
        match self.phase {
            Phase::AfterBody => return repair("text after </body>"),
            Phase::Head => return repair("text outside <head> and <body>"),
            Phase::Body => {}
        }
        if !self.in_svg()
            && matches!(
                self.current_name(),
                "table" | "tbody" | "thead" | "tfoot" | "tr"
            )
        {
            return repair(format!("text directly inside <{}>", self.current_name()));
        }
        self.last_was_text = true;
        Ok(())
    }

    /// The body begins without a `<body>` tag; an explicit `<head>` left open would stay open
    /// in the stream.
    fn start_body(&mut self) -> Result<(), Repair> {
        if self.stack.iter().any(|o| o.name == "head") {
            return repair("<head> left open");
        }
        self.phase = Phase::Body;
        Ok(())
    }

    /// A comment or tag ends the text before it (`</>`, which the tokenizer drops, and a `<`
    /// that starts nothing do not).
    fn end_text(&mut self) {
        if let Some(events) = self.events.as_deref_mut() {
            events.end_text();
        }
    }

    fn markup(&mut self) -> Result<(), Repair> {
        let rest = &self.html[self.pos..];
        let bytes = rest.as_bytes();
        let ends_text = match bytes.get(1) {
            Some(b'!' | b'?') => true,
            // `</` at the end of the page is text; `</>` is dropped.
            Some(b'/') => !matches!(bytes.get(2), Some(b'>') | None),
            Some(c) => c.is_ascii_alphabetic(),
            None => false,
        };
        if ends_text {
            self.end_text();
        }
        if bytes == b"</" {
            let from = self.pos;
            self.pos += 2;
            return self.text(from, self.pos);
        }
        if let Some(body) = rest.strip_prefix("<!--") {
            // `<!-->` and `<!--->` are empty comments; otherwise up to `-->` or `--!>`.
            let len = if body.starts_with('>') {
                5
            } else if body.starts_with("->") {
                6
            } else {
                let close = body.find("-->").map(|i| i + 3);
                let bang = body.find("--!>").map(|i| i + 4);
                match (close, bang) {
                    (Some(c), Some(b)) if b < c => return repair("a comment ends with --!>"),
                    (Some(c), _) => 4 + c,
                    (None, Some(_)) => return repair("a comment ends with --!>"),
                    (None, None) => rest.len(),
                }
            };
            self.pos += len;
            return Ok(());
        }
        match bytes.get(1) {
            Some(b'!' | b'?') => {
                if self.in_svg() && rest.starts_with("<![CDATA[") {
                    return repair("CDATA section in SVG");
                }
                if bytes.len() >= 9 && bytes[2..9].eq_ignore_ascii_case(b"doctype") {
                    return repair("a second doctype");
                }
                // A bogus comment up to the next `>`.
                self.pos += rest.find('>').map_or(rest.len(), |i| i + 1);
                Ok(())
            }
            Some(b'/') => match bytes.get(2) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, len) = tag_name(&rest[2..]);
                    let (end, _) = scan_attributes(self.bytes, self.pos + 2 + len, |_, _| {})
                        .ok_or_else(|| Repair("unterminated tag".into()))?;
                    self.pos = end;
                    self.end_tag(name)
                }
                Some(b'>') => {
                    // Dropped by the tokenizer: the texts on either side are one node, but a
                    // reference or a CR LF cannot span it as it does once they are joined.
                    self.stray_after_text = self.last_was_text;
                    self.pos += 3;
                    Ok(())
                }
                _ => {
                    self.pos += rest.find('>').map_or(rest.len(), |i| i + 1);
                    Ok(())
                }
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, len) = tag_name(&rest[1..]);
                let after_name = self.pos + 1 + len;
                let (end, self_closing) = self.tag_end(after_name)?;
                self.tag_start = self.pos;
                if self.starts.get(self.ancestors.len()) == Some(&self.pos) {
                    // Nothing under head, script, style, noscript or template is shown, so
                    // the DOM path reads no dates there; the stream does not know that.
                    if self.stack.iter().any(|o| {
                        matches!(
                            &*o.name,
                            "head" | "script" | "style" | "noscript" | "template"
                        )
                    }) {
                        return repair("an item inside an element that is never shown");
                    }
                    let nearest = self
                        .stack
                        .iter()
                        .rev()
                        .take(3)
                        .map(|o| (o.name.to_string(), o.start))
                        .collect();
                    self.ancestors.push(nearest);
                }
                self.pos = end;
                self.start_tag(name, self_closing)
            }
            _ => {
                // A `<` that starts no tag is text.
                let from = self.pos;
                self.pos += 1;
                self.text(from, self.pos)
            }
        }
    }

    /// The position after the `>` that ends a start tag and whether it ends with `/>`; refused
    /// when a watched attribute's raw text differs from its value. (A repeated attribute is
    /// fine: the DOM and lol_html's matching both take the first.)
    fn tag_end(&mut self, at: usize) -> Result<(usize, bool), Repair> {
        let mut problem: Option<&'static str> = None;
        let collect = self.events.is_some();
        let mut attributes = std::mem::take(&mut self.attributes);
        attributes.clear();
        let (html, bytes) = (self.html, self.bytes);
        let end = scan_attributes(bytes, at, |name, value| {
            let raw = &bytes[value.clone()];
            if (raw.contains(&b'&') || raw.contains(&b'\r'))
                && self
                    .watched
                    .iter()
                    .any(|w| w.as_bytes().eq_ignore_ascii_case(&bytes[name.clone()]))
            {
                problem = Some("a selector's attribute with a character reference");
            }
            if collect {
                // Both begin and end next to ASCII bytes, so on character boundaries.
                attributes.push((&html[name], &html[value]));
            }
        });
        self.attributes = attributes;
        match (end, problem) {
            (_, Some(problem)) => Err(Repair(problem.into())),
            (Some(end), None) => Ok(end),
            (None, None) => Err(Repair("unterminated tag".into())),
        }
    }

    /// Close everything from `len` up, innermost first.
    fn pop_to(&mut self, len: usize) {
        while self.stack.len() > len {
            let Some(open) = self.stack.pop() else { break };
            if !open.svg {
                match &*open.name {
                    "p" => self.open_p -= 1,
                    "a" => self.open_a -= 1,
                    "select" => self.open_select -= 1,
                    _ => {}
                }
            }
            if let Some(events) = self.events.as_deref_mut() {
                events.end(&open);
            }
        }
    }

    fn has_in_scope(&self, name: &str, extra: &[&str]) -> bool {
        for open in self.stack.iter().rev() {
            if open.name == name && !open.svg {
                return true;
            }
            if open.svg || open.class & F_SCOPE != 0 || extra.contains(&&*open.name) {
                return false;
            }
        }
        false
    }

    fn start_tag(&mut self, tag: Cow<'a, str>, self_closing: bool) -> Result<(), Repair> {
        self.stray_after_text = false;
        self.last_was_text = false;
        let name: &str = &tag;
        let flags = class(name);
        if self.in_svg() {
            if flags & F_BREAKS_FOREIGN != 0 {
                return repair(format!("<{name}> inside SVG"));
            }
            if SVG_HTML_POINTS.contains(&self.current_name()) {
                return repair(format!("<{name}> inside an SVG text point"));
            }
            if name == "svg" && self_closing {
                return repair("<svg/>");
            }
            return self.push_svg(tag, self_closing);
        }
        if flags & F_REFUSED != 0 {
            return repair(format!("<{name}>"));
        }
        match name {
            "html" => {
                if self.seen_html || !self.stack.is_empty() {
                    return repair("a second <html>");
                }
                self.seen_html = true;
                return self.push(tag);
            }
            "head" => {
                if self.seen_head || self.phase != Phase::Head || self.stack.len() > 1 {
                    return repair("<head> out of place");
                }
                self.seen_head = true;
                return self.push(tag);
            }
            "body" => {
                if self.seen_body || self.phase != Phase::Head || !self.after_head {
                    return repair("<body> out of place");
                }
                self.start_body()?;
                self.seen_body = true;
                return self.push(tag);
            }
            _ => {}
        }
        // The head as written: `<head>` first, its content, `</head>`, then `<body>`. Anything
        // else the tree builder moves (into the head, or into an implied body).
        match self.phase {
            Phase::AfterBody => return repair(format!("<{name}> after </body>")),
            Phase::Head if self.seen_head && !self.after_head && flags & F_HEAD_CONTENT != 0 => {
                return self.push(tag);
            }
            Phase::Head => return repair(format!("<{name}> outside <head> and <body>")),
            Phase::Body => {}
        }
        if name == "tr" && self.current_name() == "table" && self.implied_tbody {
            // The DOM's tbody, on the scanner's stack only (for the ancestors it reports and
            // the selectors matched over it).
            let position = self.child_index();
            let marks = match self.events.as_deref_mut() {
                Some(events) => events.implied_tbody(position)?,
                None => 0,
            };
            self.stack.push(Open {
                class: class("tbody"),
                name: Cow::Borrowed("tbody"),
                svg: false,
                start: IMPLIED,
                marks,
                children: 0,
            });
        }
        let parent = self.current_name();
        let table_child = match name {
            "tbody" | "thead" | "tfoot" => Some(parent == "table"),
            "tr" => Some(matches!(parent, "tbody" | "thead" | "tfoot")),
            "td" | "th" => Some(parent == "tr"),
            _ => None,
        };
        match table_child {
            Some(true) => return self.push(tag),
            Some(false) => return repair(format!("<{name}> inside <{parent}>")),
            None => {}
        }
        if matches!(parent, "table" | "tbody" | "thead" | "tfoot" | "tr")
            && !matches!(name, "script" | "style")
        {
            return repair(format!("<{name}> directly inside <{parent}>"));
        }
        // In a select only options and groups nest as written (html5ever follows the newer
        // select rules, where other tags close the select or the option).
        if self.open_select > 0 {
            let allowed = match name {
                "option" => matches!(parent, "select" | "optgroup"),
                "optgroup" => parent == "select",
                _ => false,
            };
            if !allowed {
                return repair(format!("<{name}> inside a <select>"));
            }
        }
        if (flags & F_CLOSES_P != 0 || matches!(name, "li" | "dd" | "dt"))
            && self.open_p > 0
            && self.has_in_scope("p", &["button"])
        {
            return repair(format!("<{name}> closes an open <p>"));
        }
        match name {
            _ if is_heading(name) && is_heading(parent) => {
                return repair(format!("<{name}> inside a heading"));
            }
            "li" | "dd" | "dt" => {
                let closes: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                for open in self.stack.iter().rev() {
                    let open_name: &str = &open.name;
                    if closes.contains(&open_name) {
                        return repair(format!("<{name}> inside an open <{open_name}>"));
                    }
                    if open.class & F_SPECIAL != 0 && !matches!(open_name, "address" | "div" | "p")
                    {
                        break;
                    }
                }
            }
            "a" if self.open_a > 0 => {
                for open in self.stack.iter().rev() {
                    match &*open.name {
                        "a" => return repair("<a> inside an open <a>"),
                        "applet" | "object" | "marquee" | "td" | "th" | "caption" => break,
                        _ => {}
                    }
                }
            }
            "nobr" | "button" if self.has_in_scope(name, &[]) => {
                return repair(format!("<{name}> inside an open <{name}>"));
            }
            "form" | "select" if self.stack.iter().any(|o| o.name == name) => {
                return repair(format!("<{name}> inside an open <{name}>"));
            }
            "option" | "optgroup" if parent == "option" => {
                return repair(format!("<{name}> inside <option>"));
            }
            // lol_html takes `<svg/>` as opening SVG content that the DOM never opened.
            "svg" if self_closing => return repair("<svg/>"),
            "svg" => return self.push_svg(tag, self_closing),
            _ => {}
        }
        self.push(tag)
    }

    /// Count a new child element of the current one; its place among them, from 1.
    fn child_index(&mut self) -> u32 {
        let count = match self.stack.last_mut() {
            Some(parent) => &mut parent.children,
            None => &mut self.root_children,
        };
        *count += 1;
        *count
    }

    /// Tell `events` of the element whose start tag was just read.
    // A `&Cow`, not a `&str`: the reader keeps the name borrowed from the page.
    #[allow(clippy::ptr_arg)]
    fn started(
        &mut self,
        name: &Cow<'a, str>,
        svg: bool,
        can_have_content: bool,
    ) -> Result<Marks, Repair> {
        let position = self.child_index();
        let Some(events) = self.events.as_deref_mut() else {
            return Ok(0);
        };
        let element = Start {
            name,
            start: self.tag_start,
            attributes: &self.attributes,
            svg,
            position,
            can_have_content,
        };
        events.start(&element, &self.stack)
    }

    /// An element in SVG content; a self-closed one (`<path/>`) is closed at once by both.
    fn push_svg(&mut self, tag: Cow<'a, str>, self_closing: bool) -> Result<(), Repair> {
        let marks = self.started(&tag, true, !self_closing)?;
        if !self_closing {
            self.stack.push(Open {
                class: 0,
                name: tag,
                svg: true,
                start: self.tag_start,
                marks,
                children: 0,
            });
        }
        Ok(())
    }

    fn push(&mut self, tag: Cow<'a, str>) -> Result<(), Repair> {
        let flags = class(&tag);
        if flags & F_VOID != 0 {
            self.started(&tag, false, false)?;
            return Ok(());
        }
        let marks = self.started(&tag, false, true)?;
        let raw = flags & F_RAW_TEXT != 0;
        match &*tag {
            "p" => self.open_p += 1,
            "a" => self.open_a += 1,
            "select" => self.open_select += 1,
            _ => {}
        }
        let name = tag.clone();
        self.stack.push(Open {
            class: flags,
            name: tag,
            svg: false,
            start: self.tag_start,
            marks,
            children: 0,
        });
        if raw {
            self.skip_raw_text(&name)?;
        }
        Ok(())
    }

    /// Past the content of a raw text element, up to (not past) its end tag.
    fn skip_raw_text(&mut self, name: &str) -> Result<(), Repair> {
        let rest = &self.bytes[self.pos..];
        let end = find_end_tag(rest, name).unwrap_or(rest.len());
        // Script data has escape states: after `<!--`, a `<script` makes `</script>` no longer
        // end the script (until `-->`). Only that combination is left to the DOM path; the old
        // `<script><!-- … //--></script>` idiom ends at its end tag in both.
        if name == "script" {
            let content = &rest[..end];
            if memchr::memmem::find(content, b"<!--").is_some()
                && content
                    .windows(7)
                    .any(|w| w.eq_ignore_ascii_case(b"<script"))
            {
                return repair("a script with <!-- and <script inside");
            }
        }
        if end > 0
            && let Some(events) = self.events.as_deref_mut()
        {
            // Raw text, but for the escapable kind (RCDATA): references are decoded there.
            events.text(
                self.pos,
                self.pos + end,
                matches!(name, "title" | "textarea"),
            );
        }
        self.pos += end;
        Ok(())
    }

    fn end_tag(&mut self, tag: Cow<'a, str>) -> Result<(), Repair> {
        let name: &str = &tag;
        let after_text = self.last_was_text;
        self.last_was_text = false;
        if self.in_svg() {
            // Foreign content closes only what is current; anything else is repaired.
            if self.current_name() == name {
                self.pop_to(self.stack.len() - 1);
                return Ok(());
            }
            return repair(format!("</{name}> inside SVG"));
        }
        match name {
            "body" | "html" => {
                if self.phase == Phase::Head {
                    self.start_body()?;
                }
                self.phase = Phase::AfterBody;
                return Ok(());
            }
            _ if self.phase == Phase::AfterBody => {
                return repair(format!("</{name}> after </body>"));
            }
            "head" if self.current_name() == "head" => {
                self.pop_to(self.stack.len() - 1);
                self.after_head = true;
                return Ok(());
            }
            "head" => return repair("</head> out of place"),
            // The tree builder takes only the form off its stack, leaving open what is above
            // it but what it closes anyway (`p`, `li`…).
            "form"
                if self
                    .stack
                    .iter()
                    .rposition(|o| o.name == "form" && !o.svg)
                    .is_some_and(|at| {
                        self.stack[at + 1..]
                            .iter()
                            .any(|o| o.class & F_IMPLIED_END == 0)
                    }) =>
            {
                return repair("</form> over open elements");
            }
            "p" if !self.has_in_scope("p", &["button"]) => {
                return repair("</p> without an open <p>");
            }
            "br" => return repair("</br>"),
            _ => {}
        }
        let heading = is_heading(name);
        if heading {
            // Any heading end tag closes the nearest open heading of any level.
            let nearest = self
                .stack
                .iter()
                .rev()
                .find(|o| !o.svg && is_heading(&o.name));
            if nearest.is_some_and(|o| o.name != name) {
                return repair(format!("</{name}> closes another heading"));
            }
        }
        let Some(index) = self.stack.iter().rposition(|o| o.name == name && !o.svg) else {
            // Ignored by both parsers, but the DOM joins the texts on either side of it into
            // one node where the stream sees two.
            self.stray_after_text = after_text;
            self.last_was_text = after_text;
            return Ok(());
        };
        let above = &self.stack[index + 1..];
        if above.is_empty() {
            self.pop_to(self.stack.len() - 1);
            return Ok(());
        }
        // Closing over open elements: the tree builder agrees with a plain pop only when it
        // closes the same elements, and re-opens none of them later (formatting elements it
        // does). An end tag of an ordinary element stops at any special one and is ignored; a
        // special element's end tag closes the silently closed kinds (`p`, `li`…) and ordinary
        // elements on its way.
        let closes_table = matches!(name, "table" | "tbody" | "thead" | "tfoot" | "tr");
        let special = class(name) & F_SPECIAL != 0;
        let agrees = above.iter().all(|o| {
            let n: &str = &o.name;
            let ordinary = o.class & (F_SPECIAL | F_FORMATTING) == 0;
            !o.svg
                && (ordinary
                    || (special && o.class & F_IMPLIED_END != 0)
                    || (closes_table
                        && matches!(n, "tbody" | "thead" | "tfoot" | "tr" | "td" | "th")))
        });
        if !agrees || class(name) & F_FORMATTING != 0 || heading {
            let top = self.current_name().to_string();
            return repair(format!("</{name}> closes <{top}>"));
        }
        self.pop_to(index);
        Ok(())
    }
}

/// A tag's name, ASCII-lowercased as both tokenizers do (borrowed when already lowercase).
pub(crate) fn tag_name(rest: &str) -> (Cow<'_, str>, usize) {
    let len = rest
        .bytes()
        .position(|b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .unwrap_or(rest.len());
    let name = &rest[..len];
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        (Cow::Owned(name.to_ascii_lowercase()), len)
    } else {
        (Cow::Borrowed(name), len)
    }
}

/// Where `</name` followed by a space, `/` or `>` starts, ASCII case-insensitively.
fn find_end_tag(hay: &[u8], name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'<', &hay[from..]) {
        let at = from + i;
        let tail = &hay[at..];
        if tail.len() >= 2 + name.len()
            && tail[1] == b'/'
            && tail[2..2 + name.len()].eq_ignore_ascii_case(name.as_bytes())
            && tail
                .get(2 + name.len())
                .is_none_or(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}
