//! Text and links as a reader should get them.

use std::borrow::Cow;

use scraper::node::Node;
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;
use url::Url;

use super::flat::{has_figures, text_date};
use crate::dates::DateContext;

/// The text a reader should see: white space of every kind (U+3000, NBSP, newlines inside inline
/// tags) collapsed to one space, trimmed, and characters XML 1.0 forbids or that only hide text
/// removed. Entities are already decoded by the HTML parser.
pub fn clean(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    // Runs of characters kept as they are (most of a CJK headline) are copied whole.
    let mut run_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        let lead = bytes[at];
        // ASCII, and the CJK ideographs, kana and hangul of lead bytes E3-ED (all kept but
        // U+3000, the ideographic space), are told apart without decoding: they are most of
        // a page's text, and decoding each character was most of the cost.
        let (len, kind) = match lead {
            b' ' | b'\t' | b'\n' | b'\r' => (1, Kind::Space),
            0..0x20 => (1, Kind::Dropped),
            0x20..0x80 => (1, Kind::Kept),
            0xE3 if bytes[at + 1] == 0x80 && bytes[at + 2] == 0x80 => (3, Kind::Space),
            0xE3..=0xED => (3, Kind::Kept),
            _ => {
                let c = text[at..].chars().next().expect("at a character boundary");
                let kind = if !is_xml_char(c) || is_invisible(c) {
                    Kind::Dropped
                } else if c.is_whitespace() {
                    Kind::Space
                } else {
                    Kind::Kept
                };
                (c.len_utf8(), kind)
            }
        };
        if kind == Kind::Kept {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
        } else {
            out.push_str(&text[run_from..at]);
            run_from = at + len;
            if kind == Kind::Space {
                pending_space = !out.is_empty();
            }
        }
        at += len;
    }
    out.push_str(&text[run_from..]);
    out
}

/// What `clean` does with a character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Kept,
    Space,
    Dropped,
}

/// Characters allowed in an XML 1.0 document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Text made safe inside XML or HTML markup and attributes (`& < > " '`).
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_markup_into(text, &mut out).expect("a String takes any text");
    out
}

/// [`escape_markup`] written to `out`: the text between the five characters is copied whole
/// (the site's templates escape every value they print; a character at a time was a tenth of
/// rendering the index).
pub fn escape_markup_into(text: &str, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    let mut from = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // The five are ASCII, so `at` is on a character boundary.
        out.write_str(&text[from..at])?;
        out.write_str(entity)?;
        from = at + 1;
    }
    out.write_str(&text[from..])
}

/// Remove what XML 1.0 forbids, keeping everything else as it is.
pub fn xml_safe(text: &str) -> String {
    // Nearly every text is safe already (titles were cleaned): copy it whole. The only
    // characters a Rust string can hold that XML 1.0 forbids are C0 controls other than tab,
    // newline and carriage return, and U+FFFE / U+FFFF (EF BF BE, EF BF BF), looked for in
    // the bytes: `str::contains` with characters decoded the whole text.
    let bytes = text.as_bytes();
    let forbidden = bytes.iter().enumerate().any(|(at, &b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF && bytes.get(at + 1) == Some(&0xBF) && bytes.get(at + 2) >= Some(&0xBE))
    });
    if !forbidden {
        return text.to_owned();
    }
    text.chars().filter(|&c| is_xml_char(c)).collect()
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// The visible text of an element: scripts and styles skipped, line breaks and block boundaries
/// made spaces, then cleaned.
pub fn element_text(element: ElementRef) -> String {
    let mut raw = String::new();
    collect_text(element, &mut raw);
    clean(&raw)
}

fn collect_text(element: ElementRef, out: &mut String) {
    collect_text_but(element, &[], out);
}

/// The text of `element` without that of the elements `left_out` (their block breaks kept).
fn collect_text_but(element: ElementRef, left_out: &[ElementRef], out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(el) => {
                let name = el.name();
                if matches!(name, "script" | "style" | "noscript" | "template") {
                    continue;
                }
                let block = !is_inline(name);
                if block {
                    out.push(' ');
                }
                if let Some(child_el) = ElementRef::wrap(child)
                    && !left_out.iter().any(|e| e.id() == child_el.id())
                {
                    collect_text_but(child_el, left_out, out);
                }
                if block {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

/// `h1` to `h6`.
pub fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Inline elements: their text runs on with their neighbours' (every other element is a
/// block, with a break before and after its text).
pub fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "i"
            | "em"
            | "strong"
            | "span"
            | "font"
            | "small"
            | "big"
            | "u"
            | "s"
            | "sub"
            | "sup"
            | "mark"
            | "abbr"
            | "code"
            | "q"
            | "cite"
            | "time"
            | "label"
            | "wbr"
    )
}

/// How strongly a link reads as its item's headline. Both modes pick an item's main link by it,
/// so a snippet from auto mode finds the same titles. Signals, strongest first: a heading element
/// or a class that names a heading; a link kept out of the tab order or hidden from screen
/// readers is the duplicate beside the real one (a summary or picture link); a class that names a
/// summary. Ties go to the longer text.
pub fn headline_rank(link: ElementRef, text: &str) -> (i32, usize) {
    let chain: Vec<ElementRef> = std::iter::once(link)
        .chain(link.ancestors().take(3).filter_map(ElementRef::wrap))
        .collect();
    let facts = RankFacts {
        names: chain.iter().map(|el| el.value().name()).collect(),
        classes: chain
            .iter()
            .take(3)
            .map(|el| el.value().classes().collect())
            .collect(),
        tabindex: link.value().attr("tabindex"),
        aria_hidden: link.value().attr("aria-hidden"),
    };
    facts.rank(text)
}

/// What ranking a link looks at: the names of the link and its three nearest ancestors, the
/// classes of the link and its two nearest, and the link's own focus and screen-reader flags.
pub struct RankFacts<'a> {
    pub names: Vec<&'a str>,
    pub classes: Vec<Vec<&'a str>>,
    pub tabindex: Option<&'a str>,
    pub aria_hidden: Option<&'a str>,
}

impl RankFacts<'_> {
    pub fn rank(&self, text: &str) -> (i32, usize) {
        let mut score = 0;
        if self.names.iter().take(4).any(|name| is_heading(name)) {
            score += 2;
        }
        let class_says = |words: &[&str]| {
            self.classes.iter().take(3).flatten().any(|class| {
                let class = class.to_ascii_lowercase();
                words.iter().any(|w| class.contains(w))
            })
        };
        if class_says(&["title", "headline", "heading"]) {
            score += 2;
        }
        if class_says(&[
            "summary",
            "standfirst",
            "excerpt",
            "abstract",
            "desc",
            "teaser-text",
            "intro",
        ]) {
            score -= 1;
        }
        if self.tabindex == Some("-1") || self.aria_hidden == Some("true") {
            score -= 2;
        }
        (score, text.chars().count())
    }
}

/// Every link with an address; both modes look for headlines among them.
pub static LINKS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("link selector"));

pub static HEADINGS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("h1, h2, h3, h4, h5, h6").expect("heading selector"));

/// The part of a link that is its headline: a heading inside it when the whole card (picture,
/// headline, date) is one link, else the link itself.
pub fn headline_element(link: ElementRef) -> ElementRef {
    link.select(&HEADINGS)
        .find(|h| !element_text(*h).is_empty())
        .unwrap_or(link)
}

/// A headline as a reader should see it: the headline part of a link (see
/// [`headline_element`]), less the parts of it that are its date.
pub struct Headline<'a> {
    pub element: ElementRef<'a>,
    /// Elements inside the headline whose whole text is a date: the card link of many mobile
    /// lists holds the headline and its date (`<a><div>標題</div><span>08/28 15:40</span></a>`),
    /// PR Newswire's heading its time (`<h3><small>11:45 ET</small> Title</h3>`). They are the
    /// item's date, not words of its title.
    pub dates: Vec<ElementRef<'a>>,
}

impl<'a> Headline<'a> {
    pub fn of(link: ElementRef<'a>, ctx: &DateContext) -> Headline<'a> {
        let element = headline_element(link);
        let mut dates: Vec<ElementRef> = Vec::new();
        for el in element.descendants().skip(1).filter_map(ElementRef::wrap) {
            if dates
                .iter()
                .any(|d| el.ancestors().any(|a| a.id() == d.id()))
            {
                continue;
            }
            if is_date_part(&element_text(el), ctx) {
                dates.push(el);
            }
        }
        let headline = Headline { element, dates };
        // A link that is nothing but a date is not a headline with one.
        if !headline.dates.is_empty() && headline.text().is_empty() {
            return Headline {
                element,
                dates: Vec::new(),
            };
        }
        headline
    }

    pub fn text(&self) -> String {
        let mut raw = String::new();
        collect_text_but(self.element, &self.dates, &mut raw);
        clean(&raw)
    }
}

/// Text of a headline's part that is its date: a date with figures in it. A word alone
/// (`<span>今日</span>焦點`, `What to watch <em>today</em>`) is a word of the title.
pub fn is_date_part(text: &str, ctx: &DateContext) -> bool {
    has_figures(text) && text_date(text, ctx).is_some()
}

static BASE_HREF: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("base[href]").expect("base selector"));

/// How a page's links resolve: against `<base href>` or the page's URL, with the query
/// percent-encoded in the page's own encoding, as browsers do (`?kw=台積電` on a Big5 page is
/// `?kw=%A5x%BFn%B9q`).
pub struct Links {
    base: Url,
    encoding: &'static encoding_rs::Encoding,
}

impl Links {
    pub fn new(document: &Html, page_url: &Url, encoding: &'static encoding_rs::Encoding) -> Links {
        let base_href = document
            .select(&BASE_HREF)
            .next()
            .and_then(|base| base.value().attr("href"));
        Links::with_base_href(base_href, page_url, encoding)
    }

    /// Links of a page whose first `<base href>` (if any) is known.
    pub fn with_base_href(
        base_href: Option<&str>,
        page_url: &Url,
        encoding: &'static encoding_rs::Encoding,
    ) -> Links {
        let base = base_href
            .and_then(|href| page_url.join(href.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
            .unwrap_or_else(|| page_url.clone());
        Links {
            base,
            encoding: encoding.output_encoding(),
        }
    }

    pub fn resolve(&self, href: &str) -> Option<Url> {
        if self.encoding == encoding_rs::UTF_8 || href.is_ascii() {
            return resolve_link(href, &self.base);
        }
        let encode = encoder(self.encoding);
        let url = Url::options()
            .base_url(Some(&self.base))
            .encoding_override(Some(&encode))
            .parse(href.trim())
            .ok()?;
        usable_link(url, &self.base)
    }
}

fn encoder(
    encoding: &'static encoding_rs::Encoding,
) -> impl for<'a> Fn(&'a str) -> std::borrow::Cow<'a, [u8]> {
    move |text| encoding.encode(text).0
}

/// Resolve an `href` as the WHATWG URL parser does (entities were decoded by the HTML parser;
/// non-ASCII is percent-encoded as UTF-8). Links that lead nowhere a reader can go are `None`.
pub fn resolve_link(href: &str, base: &Url) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    usable_link(base.join(href).ok()?, base)
}

fn usable_link(url: Url, base: &Url) -> Option<Url> {
    match url.scheme() {
        "http" | "https" => Some(url),
        "file" if base.scheme() == "file" => Some(url),
        _ => None,
    }
}

/// Query parameters that only track where a click came from; removing them does not change the
/// article.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid",
    "mc_eid", "_ga", "_gl", "spm", "cmpid", "ncid", "ocid", "sr_share",
];

/// The link without tracking parameters and fragment: what identifies the article. The other
/// parameters are kept byte for byte (`flag` stays `flag`, not `flag=`). Borrowed when there is
/// nothing to take off, as for most links: no copy of the `Url` is made for them.
pub fn canonical_link(link: &Url) -> Cow<'_, Url> {
    let kept = link.query().and_then(|query| {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let name = pair.split('=').next().unwrap_or("");
                let name = percent_encoding::percent_decode_str(name)
                    .decode_utf8_lossy()
                    .to_ascii_lowercase();
                !name.starts_with("utm_") && !TRACKING_PARAMS.contains(&name.as_str())
            })
            .collect();
        let rebuilt = kept.join("&");
        (rebuilt != query).then_some(rebuilt)
    });
    if kept.is_none() && link.fragment().is_none() {
        return Cow::Borrowed(link);
    }
    let mut url = link.clone();
    url.set_fragment(None);
    if let Some(rebuilt) = kept {
        url.set_query((!rebuilt.is_empty()).then_some(rebuilt.as_str()));
    }
    Cow::Owned(url)
}

/// The key two links are compared by: canonical, and the same over http and https.
pub fn link_key(link: &Url) -> String {
    let canonical = canonical_link(link);
    let text = canonical.as_str();
    text.strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(text)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_markup_escapes_the_five_and_keeps_the_rest() {
        for (text, want) in [
            ("", ""),
            ("台積電法說會", "台積電法說會"),
            (
                "<a href=\"x?a=1&b=2\">It's</a>",
                "&lt;a href=&quot;x?a=1&amp;b=2&quot;&gt;It&#39;s&lt;/a&gt;",
            ),
            ("&", "&amp;"),
            ("漲&跌>", "漲&amp;跌&gt;"),
        ] {
            assert_eq!(escape_markup(text), want, "{text}");
        }
    }

    #[test]
    fn clean_and_xml_safe_agree_with_their_character_by_character_forms() {
        // The form `clean` had before it copied runs whole.
        let by_character = |text: &str| {
            let mut out = String::new();
            let mut pending_space = false;
            for c in text.chars() {
                if !is_xml_char(c) || is_invisible(c) {
                    continue;
                }
                if c.is_whitespace() {
                    pending_space = !out.is_empty();
                    continue;
                }
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.push(c);
            }
            out
        };
        for text in [
            "  台積電\u{3000}法說會\n\t前夕  ",
            "A\u{8}B\u{B}C\u{FFFE}D\u{200B}E",
            "a \u{200B}b",
            "\u{200B} lead and trail \u{A0}",
            "x\u{1}\u{1}  \u{FEFF} y",
            "",
            "   ",
        ] {
            assert_eq!(clean(text), by_character(text), "{text:?}");
        }
        // Random texts over every kind of character the fast paths (here and in `xml_safe`)
        // tell apart, and their neighbours: ASCII controls and spaces, U+3000 and the rest of
        // its lead byte, kana, ideographs, hangul, the spaces and invisible characters of
        // U+2000-U+206F and U+FE00-U+FFFF, forbidden characters, Latin-1 and astral ones.
        let alphabet: Vec<char> = [
            '\u{0}',
            '\u{8}',
            '\t',
            '\n',
            '\u{B}',
            '\u{C}',
            '\r',
            '\u{1F}',
            ' ',
            'A',
            '~',
            '\u{7F}',
            '\u{85}',
            '\u{A0}',
            '\u{AD}',
            'é',
            '\u{1680}',
            '\u{2000}',
            '\u{200A}',
            '\u{200B}',
            '\u{200D}',
            '\u{2028}',
            '\u{202F}',
            '\u{205F}',
            '\u{2060}',
            '\u{3000}',
            '\u{3001}',
            '\u{303F}',
            'あ',
            'ア',
            '\u{3164}',
            '台',
            '\u{9FFF}',
            '\u{A000}',
            '한',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FEFF}',
            '，',
            '\u{FFEE}',
            '\u{FFFD}',
            '\u{FFFE}',
            '\u{FFFF}',
            '😀',
            '\u{10FFFF}',
        ]
        .into();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for i in 0..(seed % 12) {
                text.push(alphabet[((seed >> (i * 5)) % alphabet.len() as u64) as usize]);
            }
            assert_eq!(clean(&text), by_character(&text), "{text:?}");
            let filtered: String = text.chars().filter(|&c| is_xml_char(c)).collect();
            assert_eq!(xml_safe(&text), filtered, "{text:?}");
        }
    }

    #[test]
    fn clean_collapses_every_space_and_drops_forbidden_characters() {
        assert_eq!(
            clean("  台積電\u{3000}法說會\n\t前夕  "),
            "台積電 法說會 前夕"
        );
        assert_eq!(clean("A\u{8}B\u{B}C\u{FFFE}D\u{200B}E"), "ABCDE");
        for text in [
            "台積電法說會\t前夕\n外資\r連三買",
            "A\u{1}B\u{1F}C",
            "x\u{FFFE}y\u{FFFF}z\u{FFFD}",
            "\u{10FFFF}\u{E000}\u{D7FF}",
            "",
        ] {
            let filtered: String = text.chars().filter(|&c| is_xml_char(c)).collect();
            assert_eq!(xml_safe(text), filtered, "{text:?}");
        }
        assert_eq!(clean("Fed&nbsp;\u{A0}holds"), "Fed&nbsp; holds");
    }

    #[test]
    fn element_text_spaces_blocks_and_breaks_but_not_inline_tags() {
        let html = Html::parse_fragment(
            "<a>鴻海<b>營收</b>\n創高<br>AI伺服器<script>var x='<b>';</script>熱銷</a>",
        );
        let a = html.select(&Selector::parse("a").unwrap()).next().unwrap();
        assert_eq!(element_text(a), "鴻海營收 創高 AI伺服器熱銷");
    }

    #[test]
    fn links_resolve_like_a_browser() {
        let base = Url::parse("https://news.example.com/tw/list.html").unwrap();
        let cases = [
            (
                "article/123.html",
                Some("https://news.example.com/tw/article/123.html"),
            ),
            (
                "/news?id=1&cat=2",
                Some("https://news.example.com/news?id=1&cat=2"),
            ),
            ("//cdn.example.com/a", Some("https://cdn.example.com/a")),
            (
                "/tag/台積電",
                Some("https://news.example.com/tag/%E5%8F%B0%E7%A9%8D%E9%9B%BB"),
            ),
            (" article/9 ", Some("https://news.example.com/tw/article/9")),
            ("javascript:void(0)", None),
            ("mailto:desk@example.com", None),
            ("#top", None),
            ("", None),
        ];
        for (href, want) in cases {
            assert_eq!(
                resolve_link(href, &base).as_ref().map(Url::as_str),
                want,
                "{href}"
            );
        }
    }

    #[test]
    fn queries_are_encoded_in_the_pages_encoding() {
        let html = Html::parse_document("<a href=\"/search?kw=台積電\">x</a>");
        let page = Url::parse("https://tw.example/list").unwrap();
        let big5 = Links::new(&html, &page, encoding_rs::BIG5);
        assert_eq!(
            big5.resolve("/search?kw=台積電").unwrap().as_str(),
            "https://tw.example/search?kw=%A5x%BFn%B9q"
        );
        // Paths are always UTF-8.
        assert_eq!(
            big5.resolve("/tag/台積電").unwrap().as_str(),
            "https://tw.example/tag/%E5%8F%B0%E7%A9%8D%E9%9B%BB"
        );
        let utf8 = Links::new(&html, &page, encoding_rs::UTF_8);
        assert_eq!(
            utf8.resolve("/search?kw=台積電").unwrap().as_str(),
            "https://tw.example/search?kw=%E5%8F%B0%E7%A9%8D%E9%9B%BB"
        );
    }

    #[test]
    fn canonical_link_drops_tracking_only() {
        let url =
            Url::parse("https://e.example/news/1?id=7&utm_source=x&UTM_Medium=y&fbclid=z#top")
                .unwrap();
        assert_eq!(
            canonical_link(&url).as_str(),
            "https://e.example/news/1?id=7"
        );
        let plain = Url::parse("https://e.example/news/1?utm_campaign=a").unwrap();
        assert_eq!(canonical_link(&plain).as_str(), "https://e.example/news/1");
        let untouched = Url::parse("https://e.example/a?b=%E5%8F%B0&c").unwrap();
        assert_eq!(canonical_link(&untouched).as_str(), untouched.as_str());
        // Only the tracking pair goes; the rest keeps its exact bytes.
        let mixed =
            Url::parse("https://e.example/a?id=1&flag&q=a%20b&next=/x/y&utm_source=z").unwrap();
        assert_eq!(
            canonical_link(&mixed).as_str(),
            "https://e.example/a?id=1&flag&q=a%20b&next=/x/y"
        );
        // Nothing to take off: the link itself, not a copy; an empty fragment still goes.
        for (link, borrowed) in [
            ("https://e.example/news/1", true),
            ("https://e.example/a?b=1&c", true),
            ("https://e.example/a?", true),
            ("https://e.example/a#", false),
            ("https://e.example/a?utm_x=1", false),
        ] {
            let url = Url::parse(link).unwrap();
            let canonical = canonical_link(&url);
            assert_eq!(matches!(canonical, Cow::Borrowed(_)), borrowed, "{link}");
            assert_eq!(canonical.fragment(), None, "{link}");
        }
    }
}
