//! What a financial headline is about and who wrote it: ticker symbols as categories in a stable
//! form (`TWSE:2330`, `NASDAQ:NVDA`, `US:META`), and the source and author of a byline.

use std::sync::LazyLock;

use regex::Regex;

/// A pattern and what any match must contain. Every headline of every run is searched with a
/// dozen patterns and nearly all find nothing; the regex engine can't skip a text for a pattern
/// that begins with a class or `(?:^|\s)`, but a substring search can.
struct Pattern {
    regex: Regex,
    needs: Needs,
}

enum Needs {
    /// One of these texts. Finders are built once: `str::contains` prepares its searcher on
    /// every call, which cost more than the search itself on headline-sized texts.
    AnyOf(Vec<memchr::memmem::Finder<'static>>),
    /// A test closer to the pattern, where its texts are common in headlines that don't match:
    /// `（` and `-` are in most of them.
    Test(fn(&[u8]) -> bool),
}

impl Pattern {
    fn might_match(&self, text: &str) -> bool {
        let text = text.as_bytes();
        match &self.needs {
            Needs::AnyOf(needles) => needles.iter().any(|needle| needle.find(text).is_some()),
            Needs::Test(test) => test(text),
        }
    }

    fn captures<'t>(&self, text: &'t str) -> Option<regex::Captures<'t>> {
        if self.might_match(text) {
            self.regex.captures(text)
        } else {
            None
        }
    }

    fn captures_iter<'r, 't>(
        &'r self,
        text: &'t str,
    ) -> impl Iterator<Item = regex::Captures<'t>> + use<'r, 't> {
        self.might_match(text)
            .then(|| self.regex.captures_iter(text))
            .into_iter()
            .flatten()
    }
}

fn re(pattern: &str, needs_any: &'static [&'static str]) -> Pattern {
    Pattern {
        regex: Regex::new(pattern).expect("enrichment pattern compiles"),
        needs: Needs::AnyOf(finders(needs_any)),
    }
}

/// Searchers for each of `needles`, built once.
fn finders(needles: &[&'static str]) -> Vec<memchr::memmem::Finder<'static>> {
    needles
        .iter()
        .map(|needle| memchr::memmem::Finder::new(needle.as_bytes()))
        .collect()
}

fn re_tested(pattern: &str, test: fn(&[u8]) -> bool) -> Pattern {
    Pattern {
        regex: Regex::new(pattern).expect("enrichment pattern compiles"),
        needs: Needs::Test(test),
    }
}

/// `(` or `（` followed by four digits.
fn bracketed_digits(text: &[u8]) -> bool {
    let digits_at = |at: usize| {
        text.get(at..at + 4)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    memchr::memchr_iter(b'(', text).any(|at| digits_at(at + 1))
        || memchr::memmem::find_iter(text, "（".as_bytes()).any(|at| digits_at(at + 3))
}

/// A letter or digit, a dot, a letter: `2330.TW`, `TM.T`.
fn dotted_suffix(text: &[u8]) -> bool {
    memchr::memchr_iter(b'.', text).any(|at| {
        at > 0
            && text[at - 1].is_ascii_alphanumeric()
            && text.get(at + 1).is_some_and(u8::is_ascii_alphabetic)
    })
}

/// Where the text comes from, for symbols that only mean something in one market: `(7203)` is a
/// Toyota on a Japanese page and nothing on a Taiwanese one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Taiwan,
    Japan,
    China,
    HongKong,
    Other,
}

impl Market {
    /// The market a feed's language and zone point at.
    pub fn of(language: &str, timezone: &str) -> Market {
        let language = language.to_ascii_lowercase();
        if language.starts_with("ja") || timezone == "Asia/Tokyo" {
            Market::Japan
        } else if language == "zh-hk" || timezone == "Asia/Hong_Kong" {
            Market::HongKong
        } else if language.starts_with("zh-cn")
            || language == "zh-hans"
            || timezone == "Asia/Shanghai"
        {
            Market::China
        } else if language.starts_with("zh") || timezone == "Asia/Taipei" {
            Market::Taiwan
        } else {
            Market::Other
        }
    }
}

static SUFFIXED: LazyLock<Pattern> = LazyLock::new(|| {
    re_tested(
        r"(?i)(?:^|[^0-9A-Za-z.])([0-9]{4,6}|[A-Z]{1,5})\.(TWO|TW|HK|SH|SZ|SS|T)\b",
        dotted_suffix,
    )
});
static EXCHANGE_PREFIX: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"\b(NASDAQ|NYSE|NYSEARCA|AMEX|TWSE|TPEX|HKEX|TSE|SSE|SZSE)\s*[:：]\s*([A-Z]{1,5}(?:\.[A-Z])?|[0-9]{4,6})\b",
        &[":", "："],
    )
});
static DOLLAR: LazyLock<Pattern> =
    LazyLock::new(|| re(r"(?:^|[^A-Za-z0-9$])\$([A-Z]{1,5})\b", &["$"]));
static US_SUFFIX: LazyLock<Pattern> = LazyLock::new(|| re(r"[(（]([A-Z]{1,5})-US[)）]", &["-US"]));
static US_CODE_CJK: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"美股代[碼码][:：]?\s*([A-Z]{1,5})(?:[^A-Za-z]|$)",
        &["美股代"],
    )
});
/// A company name then a code in brackets: `台積電(2330)`, `騰訊（00700）`, `トヨタ(7203)`.
static NAMED_CODE: LazyLock<Pattern> = LazyLock::new(|| {
    re_tested(
        r"([\p{Han}\p{Katakana}\p{Hiragana}A-Za-z][^\s(（]{0,12})[(（]([0-9]{4,6}[A-Z]?)[)）]",
        bracketed_digits,
    )
});

/// The tickers a text names, as categories in a stable form, in the order they appear.
pub fn tickers(text: &str, market: Market) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut push = |at: usize, symbol: String| {
        if !found.iter().any(|(_, s)| *s == symbol) {
            found.push((at, symbol));
        }
    };
    for c in SUFFIXED.captures_iter(text) {
        let code = c[1].to_ascii_uppercase();
        let exchange = match c[2].to_ascii_uppercase().as_str() {
            "TW" => "TWSE",
            "TWO" => "TPEX",
            "HK" => "HKEX",
            "SH" | "SS" => "SSE",
            "SZ" => "SZSE",
            _ => "TSE",
        };
        let code = if exchange == "HKEX" {
            normalise_hk(&code)
        } else {
            code
        };
        push(
            c.get(1).map_or(0, |m| m.start()),
            format!("{exchange}:{code}"),
        );
    }
    for c in EXCHANGE_PREFIX.captures_iter(text) {
        let exchange = match &c[1] {
            "NYSEARCA" | "AMEX" => "NYSE",
            "TPEX" => "TPEX",
            other => other,
        };
        push(
            c.get(2).map_or(0, |m| m.start()),
            format!("{exchange}:{}", &c[2]),
        );
    }
    for regex in [&*DOLLAR, &*US_SUFFIX, &*US_CODE_CJK] {
        for c in regex.captures_iter(text) {
            push(c.get(1).map_or(0, |m| m.start()), format!("US:{}", &c[1]));
        }
    }
    for c in NAMED_CODE.captures_iter(text) {
        let code = &c[2];
        let at = c.get(2).map_or(0, |m| m.start());
        let symbol = match (market, code.len()) {
            (Market::Taiwan, 4..=6) if !looks_like_year(code) => format!("TWSE:{code}"),
            (Market::Japan, 4) if !looks_like_year(code) => format!("TSE:{code}"),
            (Market::HongKong, 5) => format!("HKEX:{}", normalise_hk(code)),
            (Market::China, 6) => {
                let exchange = if code.starts_with('6') { "SSE" } else { "SZSE" };
                format!("{exchange}:{code}")
            }
            (Market::Taiwan | Market::Other, 5) if code.starts_with('0') => {
                format!("HKEX:{}", normalise_hk(code))
            }
            _ => continue,
        };
        push(at, symbol);
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, s)| s).collect()
}

/// Hong Kong codes are written with and without leading zeros (`0700.HK`, `00700`): four digits.
fn normalise_hk(code: &str) -> String {
    let digits = code.trim_start_matches('0');
    format!("{digits:0>4}")
}

/// `(2025)` after a word is a year more often than a stock.
fn looks_like_year(code: &str) -> bool {
    code.len() == 4 && (code.starts_with("19") || code.starts_with("20"))
}

/// Who published and who wrote an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Byline {
    pub source: Option<String>,
    pub author: Option<String>,
}

static BRACKET_BYLINE: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"【\s*([^/／【】]{2,12})\s*[/／]\s*([^【】]{2,20}?)\s*】",
        &["【"],
    )
});
/// `（中央社記者吳家豪台北28日電）`: the reporter's name runs into the dateline's place, so the
/// places wire copy is filed from are listed to find where the name ends.
static CNA: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"[(（]\s*(中央社)(?:記者|編譯)?([\p{Han}]{2,4})(?:台北|台中|台南|高雄|新竹|桃園|基隆|嘉義|花蓮|宜蘭|屏東|彰化|苗栗|南投|雲林|台東|澎湖|金門|華盛頓|紐約|舊金山|洛杉磯|東京|大阪|北京|上海|香港|倫敦|巴黎|柏林|布魯塞爾|新加坡|首爾|雪梨|曼谷|河內|雅加達)\d{1,2}日[電电]\s*[)）]",
        &["中央社"],
    )
});
static CNYES: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"(鉅亨網|钜亨网|MoneyDJ新聞|財訊快報|工商時報|經濟日報|中時新聞網)\s*(?:記者|編譯|编译|實習記者)\s*([\p{Han}]{2,4})",
        &[
            "鉅亨網",
            "钜亨网",
            "MoneyDJ新聞",
            "財訊快報",
            "工商時報",
            "經濟日報",
            "中時新聞網",
        ],
    )
});
static UDN: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"(經濟日報|聯合報|工商時報|自由時報|中央社)\s*[/／]\s*(?:記者|編譯|编译)?\s*([\p{Han}]{2,4})",
        &["/", "／"],
    )
});
/// Wire services and sites whose name, then a mark (`Reuters •`), is a byline.
const WIRES: &str = "Reuters|Bloomberg|Associated Press|AP|AFP|CNBC|MarketWatch|Barron's|Barrons\\.com|Dow Jones|Investopedia|Yahoo Finance|Motley Fool|Benzinga|The Wall Street Journal|Financial Times|Nikkei Asia|Kyodo";
static WIRE_DOT: LazyLock<Pattern> =
    LazyLock::new(|| re_tested(&format!(r"(?:^|\s)({WIRES})\s*[•·|\-–]"), names_a_wire));

/// A wire's name and a mark that may follow it. The names alone are literals, which the regex
/// engine finds with a vector search; the marks (`-`, `|`) are in most English headlines.
fn names_a_wire(text: &[u8]) -> bool {
    static NAMES: LazyLock<regex::bytes::Regex> =
        LazyLock::new(|| regex::bytes::Regex::new(WIRES).expect("wire names compile"));
    static MARKS: LazyLock<Vec<memchr::memmem::Finder<'static>>> =
        LazyLock::new(|| finders(&["•", "·", "|", "-", "–"]));
    NAMES.is_match(text) && MARKS.iter().any(|mark| mark.find(text).is_some())
}
static BY: LazyLock<Pattern> = LazyLock::new(|| {
    re(
        r"(?:^|\s)[Bb]y\s+([A-Z][a-zA-Z'\-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-zA-Z'\-]+){1,2}(?:\s+and\s+[A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+){1,2})?)",
        &["By", "by"],
    )
});

/// The source and author a byline names, in the forms portals print.
pub fn byline(text: &str) -> Option<Byline> {
    byline_in(text, true)
}

/// A byline in a headline: the same forms, except `By X`, which in a Title Case headline is
/// prose ("Shares Boosted By Strong Demand").
pub fn byline_in_title(title: &str) -> Option<Byline> {
    byline_in(title, false)
}

fn clean(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Text that every byline form but `By X` contains: nearly every headline has none, and one
/// search for them all (the regex engine's vector search for literals) costs less than the
/// forms' own checks, a dozen substring searches.
static BYLINE_HINTS: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    let hints = format!(
        "【|中央社|鉅亨網|钜亨网|MoneyDJ新聞|財訊快報|工商時報|經濟日報|中時新聞網|聯合報|自由時報|{WIRES}"
    );
    regex::bytes::Regex::new(&hints).expect("byline hints compile")
});

fn byline_in(text: &str, allow_by: bool) -> Option<Byline> {
    if BYLINE_HINTS.is_match(text.as_bytes()) {
        let found = named_byline(text);
        if found.is_some() {
            return found;
        }
    }
    if allow_by && let Some(c) = BY.captures(text) {
        return Some(Byline {
            source: None,
            author: clean(&c[1]),
        });
    }
    None
}

/// A byline in one of the forms that name their source.
fn named_byline(text: &str) -> Option<Byline> {
    if let Some(c) = BRACKET_BYLINE.captures(text) {
        // 【財訊快報/陳孟朔】; 【財訊快報/編譯X】 keeps the name only.
        let author = c[2]
            .trim()
            .trim_start_matches("記者")
            .trim_start_matches("編譯")
            .to_string();
        return Some(Byline {
            source: clean(&c[1]),
            author: clean(&author),
        });
    }
    if let Some(c) = CNA.captures(text) {
        return Some(Byline {
            source: clean(&c[1]),
            author: clean(&c[2]),
        });
    }
    for regex in [&*CNYES, &*UDN] {
        if let Some(c) = regex.captures(text) {
            return Some(Byline {
                source: clean(&c[1]),
                author: clean(&c[2]),
            });
        }
    }
    if let Some(c) = WIRE_DOT.captures(text) {
        return Some(Byline {
            source: clean(&c[1]),
            author: None,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickers_in_the_forms_portals_print() {
        let table: &[(&str, Market, &[&str])] = &[
            (
                "台積電(2330)法說會前夕外資連三買",
                Market::Taiwan,
                &["TWSE:2330"],
            ),
            (
                "台積電（2330）、聯發科（2454）齊揚",
                Market::Taiwan,
                &["TWSE:2330", "TWSE:2454"],
            ),
            (
                "2330.TW 盤中走高，6488.TWO 跟進",
                Market::Taiwan,
                &["TWSE:2330", "TPEX:6488"],
            ),
            (
                "Nvidia (NASDAQ: NVDA) beats estimates",
                Market::Other,
                &["NASDAQ:NVDA"],
            ),
            ("TSMC NYSE:TSM ADR rises", Market::Other, &["NYSE:TSM"]),
            (
                "$TSLA slides after deliveries miss",
                Market::Other,
                &["US:TSLA"],
            ),
            ("蘋果(AAPL-US)新機發表", Market::Taiwan, &["US:AAPL"]),
            ("Meta(美股代碼META)擴大AI投資", Market::Taiwan, &["US:META"]),
            ("臉書母公司美股代碼META財報", Market::Taiwan, &["US:META"]),
            ("騰訊 0700.HK 業績勝預期", Market::HongKong, &["HKEX:0700"]),
            ("騰訊(00700)回購股份", Market::HongKong, &["HKEX:0700"]),
            ("贵州茅台 600519.SH 半年报", Market::China, &["SSE:600519"]),
            ("平安银行 000001.SZ 股价", Market::China, &["SZSE:000001"]),
            (
                "トヨタ 7203.T 通期予想を上方修正",
                Market::Japan,
                &["TSE:7203"],
            ),
            ("トヨタ自動車(7203)が反発", Market::Japan, &["TSE:7203"]),
        ];
        for (text, market, want) in table {
            assert_eq!(tickers(text, *market), *want, "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_tickers() {
        let table: &[(&str, Market)] = &[
            ("2025年營收創新高", Market::Taiwan),
            ("股價1,170元創高", Market::Taiwan),
            ("失業率升0.6個百分點", Market::Taiwan),
            ("8月28日法說會", Market::Taiwan),
            ("營收年增12%，達(2025)年新高", Market::Taiwan),
            ("加權指數跌182點收24155點", Market::Taiwan),
            ("The S&P 500 rose 0.3% to 6,481", Market::Other),
            ("Apple sold 45 million iPhones in Q3", Market::Other),
            ("トヨタ(7203)", Market::Taiwan),
            ("晶片量產 法人上修全年營收（2-0）", Market::Taiwan),
            ("台積電(233", Market::Taiwan),
            ("U.S. stocks rally", Market::Other),
        ];
        for (text, market) in table {
            let found = tickers(text, *market);
            // (7203) on a Taiwanese page is read as a Taiwan code, which is right there.
            if text.contains("7203") {
                assert_eq!(found, ["TWSE:7203"], "{text}");
            } else {
                assert!(found.is_empty(), "{text}: {found:?}");
            }
        }
    }

    #[test]
    fn bylines_in_the_forms_portals_print() {
        let by = |source: Option<&str>, author: Option<&str>| {
            Some(Byline {
                source: source.map(String::from),
                author: author.map(String::from),
            })
        };
        let table = [
            (
                "【財訊快報/陳孟朔】英特爾獲美資挹注",
                by(Some("財訊快報"), Some("陳孟朔")),
            ),
            (
                "（中央社記者吳家豪台北28日電）台積電今天",
                by(Some("中央社"), Some("吳家豪")),
            ),
            (
                "鉅亨網編譯羅昀玫 綜合外電",
                by(Some("鉅亨網"), Some("羅昀玫")),
            ),
            ("經濟日報／編譯葉亭均", by(Some("經濟日報"), Some("葉亭均"))),
            ("Reuters • 2 hours ago", by(Some("Reuters"), None)),
            (
                "2025/8/28 14:30 Reuters • 2 hours ago",
                by(Some("Reuters"), None),
            ),
            ("By Jane Doe, Reuters", by(None, Some("Jane Doe"))),
            ("Story by John A. Smith", by(None, Some("John A. Smith"))),
            ("Bloomberg | Markets", by(Some("Bloomberg"), None)),
            ("AP – 3 hours ago", by(Some("AP"), None)),
            ("Yahoo Finance - 1 day ago", by(Some("Yahoo Finance"), None)),
        ];
        for (text, want) in table {
            assert_eq!(byline(text), want, "{text}");
        }
        for text in [
            "台積電法說會前夕外資連三買",
            "Stocks rise by 2% on Fed hopes",
            "2 hours ago",
            // A name without its mark, and a mark after a name that is only part of a word.
            "Reuters poll shows growth",
            "JAPAN - exports rise",
        ] {
            assert_eq!(byline(text), None, "{text}");
        }
        // Title Case headlines: "By" is prose there.
        for title in [
            "Nvidia Shares Boosted By Strong Data Center Demand",
            "Oil Prices Rise By Most In A Month",
        ] {
            assert_eq!(byline_in_title(title), None, "{title}");
        }
        assert_eq!(
            byline_in_title("【財訊快報/陳孟朔】台積電")
                .unwrap()
                .author
                .as_deref(),
            Some("陳孟朔")
        );
    }
}
