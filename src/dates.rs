//! The date reader: the strings real portals print, turned into instants in the feed's zone.
//!
//! A date string is read by components (a date part, a time part, a zone part) found anywhere in
//! the text, because listings wrap dates in prose: `(08月28日 15:48)`, `財訊快報 2025/8/28 15:48`,
//! `Updated Aug 28, 2025 3:48 PM ET`. What the text says decides what comes back: a full instant,
//! a calendar day, or only a time of day (which the extractor completes from a preceding day
//! header). The host's local zone is never consulted; the feed's zone is.

use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use regex::Regex;

/// What the reader needs besides the text: the feed's zone and the run's clock.
#[derive(Debug, Clone, Copy)]
pub struct DateContext {
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

/// What a date string says, as precisely as it says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// A point in time, expressed in the feed's zone.
    At(DateTime<Tz>),
    /// A calendar day without a time (`2025.08.28`, `8月28日`).
    Day(NaiveDate),
    /// Only a time of day (`15:48`): the day comes from the listing around it.
    TimeOfDay(NaiveTime),
}

impl Stamp {
    /// The instant this stamp stands for on its own: a day is its first moment in the zone; a bare
    /// time of day is no instant.
    pub fn instant(self, tz: Tz) -> Option<DateTime<Tz>> {
        match self {
            Stamp::At(at) => Some(at),
            Stamp::Day(day) => Some(local_to_instant(day.and_time(NaiveTime::MIN), tz)),
            Stamp::TimeOfDay(_) => None,
        }
    }
}

/// A reading and how much of the text it explains, so that callers can tell a date line
/// (`2025/8/28 15:48`) from a headline that merely mentions a date (`8月28日營收公布`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateMatch {
    pub stamp: Stamp,
    /// Share of the text's letters and digits that belong to the date, 0.0 to 1.0.
    pub coverage: f32,
}

/// Read a date from free text with every known form.
pub fn read(text: &str, ctx: &DateContext) -> Option<Stamp> {
    read_match(text, ctx).map(|m| m.stamp)
}

/// Read the whole value of an element or field known to hold the date (`date =` in a config):
/// every form [`read`] knows, and the bare short forms listings print there (`3h`, `45m`, `1d`,
/// `2w`, as X/Twitter cards and CNBC print them). Free text is not read this way: there `3D`,
/// `5G` or `24h` are a printer, a network and a price change, not dates.
pub fn read_field(text: &str, ctx: &DateContext) -> Option<Stamp> {
    read(text, ctx).or_else(|| read_short_ago(text, ctx))
}

static SHORT_AGO: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(\d{1,3}) ?(s|secs?|m|mins?|h|hrs?|d|w|wks?|mos?)$"));

/// `3h`, `45m`, `1d`, `2w`, `3mo`, the whole text but for punctuation around it (`· 3h`).
fn read_short_ago(text: &str, ctx: &DateContext) -> Option<Stamp> {
    let norm = normalize(text);
    let c = SHORT_AGO.captures(norm.trim_matches(|c: char| !c.is_alphanumeric()))?;
    let n: i64 = c[1].parse().ok()?;
    let ago = match &c[2] {
        "s" | "sec" | "secs" => Duration::seconds(n),
        "m" | "min" | "mins" => Duration::minutes(n),
        "h" | "hr" | "hrs" => Duration::hours(n),
        "d" => Duration::days(n),
        "mo" | "mos" => Duration::days(30 * n),
        _ => Duration::weeks(n),
    };
    Some(ago_from_now(ago, ctx))
}

/// Like [`read`], also saying how much of the text the date accounts for.
pub fn read_match(text: &str, ctx: &DateContext) -> Option<DateMatch> {
    if let Some(stamp) = read_plain_numeric(text.trim(), ctx.tz) {
        return plausible(stamp, ctx).then_some(DateMatch {
            stamp,
            coverage: 1.0,
        });
    }
    read_match_by_forms(text, ctx)
}

/// The form most listings print, `2025/08/28 15:48` (`-` or `.` between, seconds or not) and
/// nothing else, read without the general reader's regexes. `None` for
/// anything else, which the general reader then reads as before.
fn read_plain_numeric(s: &str, tz: Tz) -> Option<Stamp> {
    let b = s.as_bytes();
    let digits = |from: usize, max: usize| -> (u32, usize) {
        let len = b[from.min(b.len())..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let value = b[from..from + len]
            .iter()
            .fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
        (value, len)
    };
    let (year, 4) = digits(0, 5) else { return None };
    let sep = *b.get(4)?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let (month, month_len @ 1..=2) = digits(5, 3) else {
        return None;
    };
    let at = 5 + month_len;
    if b.get(at) != Some(&sep) {
        return None;
    }
    let (dom, dom_len @ 1..=2) = digits(at + 1, 3) else {
        return None;
    };
    let day = NaiveDate::from_ymd_opt(year as i32, month, dom)?;
    let mut at = at + 1 + dom_len;
    if at == b.len() {
        return Some(Stamp::Day(day));
    }
    if b[at] != b' ' {
        return None;
    }
    at += 1;
    let (hour, hour_len @ 1..=2) = digits(at, 3) else {
        return None;
    };
    at += hour_len;
    if b.get(at) != Some(&b':') {
        return None;
    }
    let (minute, 2) = digits(at + 1, 3) else {
        return None;
    };
    at += 3;
    let mut second = 0;
    if b.get(at) == Some(&b':') {
        let (value, 2) = digits(at + 1, 3) else {
            return None;
        };
        second = value;
        at += 3;
    }
    if at != b.len() {
        return None;
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    Some(Stamp::At(local_to_instant(day.and_time(time), tz)))
}

fn read_match_by_forms(text: &str, ctx: &DateContext) -> Option<DateMatch> {
    let norm = normalize(text);
    let s = norm.as_str();
    if s.is_empty() || s.chars().count() > MAX_DATE_TEXT {
        return None;
    }
    let mut used = Used::new(s);
    // A date written out wins over a relative word beside it: in "USA TODAY · Aug 27, 2025" or
    // "2025年8月28日 前場", the words are not the date.
    let has_date_part = read_date(s, ctx, &mut Used::new(s)).is_some();
    let stamp = read_epoch(s, ctx, &mut used)
        .or_else(|| read_rfc(s, ctx, &mut used))
        .or_else(|| {
            has_date_part
                .then(|| read_components(s, ctx, &mut used, true))
                .flatten()
        })
        .or_else(|| read_relative(s, ctx, &mut used))
        .or_else(|| read_components(s, ctx, &mut used, has_date_part))
        .filter(|stamp| plausible(*stamp, ctx))?;
    used.mark_regex(&WEEKDAY, s);
    Some(DateMatch {
        stamp,
        coverage: used.coverage(),
    })
}

/// Longer texts are searched for a date no further; a byline block is shorter than this.
const MAX_DATE_TEXT: usize = 300;

/// A publication date is not before 1970 nor more than two days after the run's clock; anything
/// else is an id, a count, a misread or an event date, and the item is better left undated.
fn plausible(stamp: Stamp, ctx: &DateContext) -> bool {
    let latest = ctx.now + Duration::days(2);
    match stamp {
        Stamp::At(at) => at.year() >= 1970 && at.with_timezone(&Utc) <= latest,
        Stamp::Day(day) => day.year() >= 1970 && day <= latest.date_naive(),
        Stamp::TimeOfDay(_) => true,
    }
}

/// Read a date with an explicit chrono format (`date_format` in the config).
///
/// `%s` is Unix seconds, an absolute instant. A format without year fields takes the year nearest
/// the run's clock; without time fields it gives a calendar day; without date fields, a time of day.
pub fn read_with_format(text: &str, format: &str, ctx: &DateContext) -> Option<Stamp> {
    let text = normalize(text);
    let fields = FormatFields::of(format);
    // Listings put labels before dates ("發布時間：2025/08/28"); try from each digit run too.
    let starts = std::iter::once(0).chain(
        text.char_indices()
            .filter(|&(i, c)| {
                c.is_ascii_digit() && (i == 0 || !text[..i].ends_with(|p: char| p.is_ascii_digit()))
            })
            .map(|(i, _)| i),
    );
    for start in starts {
        let candidate = &text[start..];
        if let Some(stamp) = read_with_format_at(candidate, format, &fields, ctx) {
            return plausible(stamp, ctx).then_some(stamp);
        }
    }
    None
}

fn read_with_format_at(
    text: &str,
    format: &str,
    fields: &FormatFields,
    ctx: &DateContext,
) -> Option<Stamp> {
    if fields.epoch || fields.zone {
        let (at, _) = DateTime::parse_and_remainder(text, format).ok()?;
        return Some(Stamp::At(at.with_timezone(&ctx.tz)));
    }
    match (fields.date, fields.time) {
        (true, true) if fields.year => {
            let (local, _) = NaiveDateTime::parse_and_remainder(text, format).ok()?;
            Some(Stamp::At(local_to_instant(local, ctx.tz)))
        }
        (true, true) => {
            let with_year = format!("%Y {format}");
            let parse = |year: i32| {
                NaiveDateTime::parse_and_remainder(&format!("{year} {text}"), &with_year)
                    .ok()
                    .map(|(local, _)| local)
            };
            nearest_year(ctx, |year| parse(year).map(|l| local_to_instant(l, ctx.tz)))
                .map(Stamp::At)
        }
        (true, false) if fields.year => {
            let (day, _) = NaiveDate::parse_and_remainder(text, format).ok()?;
            Some(Stamp::Day(day))
        }
        (true, false) => {
            let with_year = format!("%Y {format}");
            nearest_year(ctx, |year| {
                NaiveDate::parse_and_remainder(&format!("{year} {text}"), &with_year)
                    .ok()
                    .map(|(day, _)| local_to_instant(day.and_time(NaiveTime::MIN), ctx.tz))
            })
            .map(|at| Stamp::Day(at.date_naive()))
        }
        (false, true) => {
            let (time, _) = NaiveTime::parse_and_remainder(text, format).ok()?;
            Some(Stamp::TimeOfDay(time))
        }
        (false, false) => None,
    }
}

/// Which kinds of fields a chrono format string has.
#[derive(Debug, Default)]
struct FormatFields {
    year: bool,
    date: bool,
    time: bool,
    zone: bool,
    epoch: bool,
}

impl FormatFields {
    fn of(format: &str) -> Self {
        let mut fields = FormatFields::default();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            // Skip padding and width modifiers: %-d, %_m, %3f, %:z.
            let mut spec = chars.next();
            while let Some(m) = spec {
                if matches!(m, '-' | '_' | '0' | '.' | ':' | '#') || m.is_ascii_digit() {
                    spec = chars.next();
                } else {
                    break;
                }
            }
            match spec {
                Some('Y' | 'y' | 'C' | 'G' | 'g') => {
                    fields.year = true;
                    fields.date = true
                }
                Some('m' | 'd' | 'e' | 'b' | 'B' | 'h' | 'j' | 'D' | 'x' | 'F' | 'U' | 'W') => {
                    fields.date = true
                }
                Some('H' | 'I' | 'k' | 'l' | 'M' | 'S' | 'R' | 'T' | 'X' | 'r') => {
                    fields.time = true
                }
                Some('z') => fields.zone = true,
                Some('s') => fields.epoch = true,
                Some(kind @ ('c' | '+')) => {
                    fields.year = true;
                    fields.date = true;
                    fields.time = true;
                    fields.zone = kind == '+'
                }
                _ => {}
            }
        }
        if fields.date && (fields.year || fields.time) && format.contains("%F") {
            fields.year = true;
        }
        fields
    }
}

/// A local wall-clock time in the zone as an instant. Ambiguous times (the repeated hour when DST
/// ends) take the earlier instant; times that do not exist (the skipped hour) move forward by the
/// size of the gap, as clocks do.
pub fn local_to_instant(local: NaiveDateTime, tz: Tz) -> DateTime<Tz> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => at,
        LocalResult::Ambiguous(earliest, _) => earliest,
        LocalResult::None => {
            // The skipped hour: read the wall time with the offset in force just before the jump,
            // as clocks do (02:30 on a spring-forward night is 03:30).
            let before = local - Duration::hours(3);
            let offset = tz
                .offset_from_local_datetime(&before)
                .earliest()
                .map_or(0, |o| o.fix().local_minus_utc());
            let utc = local - Duration::seconds(i64::from(offset));
            Utc.from_utc_datetime(&utc).with_timezone(&tz)
        }
    }
}

/// Among last year, this year and next year, the reading nearest the run's clock that is not more
/// than a day ahead of it: `12/31 23:55` read on January 1st is last year.
fn nearest_year(
    ctx: &DateContext,
    at_year: impl Fn(i32) -> Option<DateTime<Tz>>,
) -> Option<DateTime<Tz>> {
    let now = ctx.now.with_timezone(&ctx.tz);
    let limit = now + Duration::days(1);
    (now.year() - 1..=now.year() + 1)
        .filter_map(at_year)
        .filter(|at| *at <= limit)
        .min_by_key(|at| (*at - now).num_seconds().abs())
}

/// Full-width digits and punctuation to ASCII (and the other slashes to `/`), every kind of space
/// to one space, lower case.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            // Big5's full-width slash (A241) decodes to the division slash, and some CMSs type
            // the fraction slash: `２０２５∕０８∕２８` is a date like `2025/08/28`.
            '\u{2215}' | '\u{2044}' => '/',
            '\u{3000}' | '\u{00A0}' | '\u{2009}' | '\u{202F}' => ' ',
            '\u{200B}' | '\u{FEFF}' => continue,
            _ => c,
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.extend(c.to_lowercase());
            last_space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Which bytes of the text a reading has explained.
struct Used<'a> {
    text: &'a str,
    used: Vec<bool>,
}

impl<'a> Used<'a> {
    fn new(text: &'a str) -> Self {
        Used {
            text,
            used: vec![false; text.len()],
        }
    }

    fn mark(&mut self, range: std::ops::Range<usize>) {
        for flag in &mut self.used[range] {
            *flag = true;
        }
    }

    fn mark_regex(&mut self, re: &Regex, s: &str) {
        for m in re.find_iter(s) {
            self.mark(m.range());
        }
    }

    fn is_free(&self, range: std::ops::Range<usize>) -> bool {
        !self.used[range].iter().any(|&u| u)
    }

    fn coverage(&self) -> f32 {
        let mut total = 0usize;
        let mut covered = 0usize;
        for (i, c) in self.text.char_indices() {
            if c.is_alphanumeric() {
                total += 1;
                if self.used[i] {
                    covered += 1;
                }
            }
        }
        if total == 0 {
            0.0
        } else {
            covered as f32 / total as f32
        }
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("date pattern compiles")
}

/// Unix seconds or milliseconds, as sites put them in `data-*` attributes.
fn read_epoch(s: &str, ctx: &DateContext, used: &mut Used) -> Option<Stamp> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = s.parse().ok()?;
    let at = match s.len() {
        9 | 10 => DateTime::from_timestamp(n, 0)?,
        12 | 13 => DateTime::from_timestamp_millis(n)?,
        8 => {
            // 20250828: a compact calendar day.
            let day = NaiveDate::parse_from_str(s, "%Y%m%d").ok()?;
            used.mark(0..s.len());
            return plausible_day(day).then_some(Stamp::Day(day));
        }
        _ => return None,
    };
    // A number far from the run's clock is an id or a count, not a publication time.
    let earliest = DateTime::from_timestamp(631_152_000, 0)?; // 1990-01-01
    if at < earliest || at > ctx.now + Duration::days(2) {
        return None;
    }
    used.mark(0..s.len());
    Some(Stamp::At(at.with_timezone(&ctx.tz)))
}

fn plausible_day(day: NaiveDate) -> bool {
    (1970..=2100).contains(&day.year())
}

static ISO_LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(\d{4})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$",
    )
});

/// RFC 3339, ISO 8601 with or without an offset, and RFC 2822 as a whole string.
fn read_rfc(s: &str, ctx: &DateContext, used: &mut Used) -> Option<Stamp> {
    if let Some(c) = ISO_LOCAL.captures(s) {
        let num = |i: usize| c.get(i).map_or(Some(0), |m| m.as_str().parse::<u32>().ok());
        let day = NaiveDate::from_ymd_opt(c[1].parse().ok()?, num(2)?, num(3)?)?;
        let time = NaiveTime::from_hms_opt(num(4)?, num(5)?, num(6)?)?;
        let local = day.and_time(time);
        let at = match c.get(7).map(|m| m.as_str()) {
            None => local_to_instant(local, ctx.tz),
            Some(offset) => {
                let offset = parse_offset(offset)?;
                offset
                    .from_local_datetime(&local)
                    .single()?
                    .with_timezone(&ctx.tz)
            }
        };
        used.mark(0..s.len());
        return Some(Stamp::At(at));
    }
    // RFC 2822 reads CST as US Central; on an Asian feed it is China Standard Time, which the
    // component reader knows.
    if s.ends_with(" cst") && ctx.tz.name().starts_with("Asia/") {
        return None;
    }
    // chrono wants the original capitalisation of month and day names; title-case them back.
    let titled = title_case_words(s);
    if let Ok(at) = DateTime::parse_from_rfc2822(&titled) {
        used.mark(0..s.len());
        return Some(Stamp::At(at.with_timezone(&ctx.tz)));
    }
    None
}

fn title_case_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_ascii_alphabetic() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_ascii_alphanumeric();
    }
    // Zone names are upper case in RFC 2822 (GMT, EST…).
    for zone in [
        "Gmt", "Ut", "Est", "Edt", "Cst", "Cdt", "Mst", "Mdt", "Pst", "Pdt",
    ] {
        if out.ends_with(zone) {
            let cut = out.len() - zone.len();
            let upper = out[cut..].to_ascii_uppercase();
            out.truncate(cut);
            out.push_str(&upper);
        }
    }
    out
}

/// `Z`, `+08:00`, `+0800`, `+08`.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    if text == "z" {
        return FixedOffset::east_opt(0);
    }
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

static JUST_NOW: LazyLock<Regex> =
    LazyLock::new(|| re(r"剛剛|刚刚|剛才|刚才|たった今|just now|moments? ago|^now$"));
/// `5分鐘前`, `三小时前`, `兩個鐘頭前`, `半小時前`, `1個半小時前`, `1時間半前`: a count in digits or
/// Chinese numerals, or a half, of a unit, ago.
static AGO_CJK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:(\d+|[一二兩两三四五六七八九十]{1,3})\s*(?:個|个)?\s*(半)?|(半)\s*(?:個|个)?)\s*(秒鐘|秒钟|秒|分鐘|分钟|分|小時|小时|鐘頭|钟头|時間|时间|天|日|週|周|星期|個月|个月|か月|ヶ月|カ月)\s*(半)?\s*(?:前|以前)",
    )
});
static HALF_HOUR_EN: LazyLock<Regex> = LazyLock::new(|| re(r"\bhalf an? hour ago\b"));
static AGO_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(\d+|an?|one)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?)\.?\s+ago\b",
    )
});
static DAY_WORD: LazyLock<Regex> =
    LazyLock::new(|| re(r"今天|今日|today|昨天|昨日|yesterday|前天|一昨日|おととい"));

/// The instant a span before the run's clock. Whole days back keep the wall-clock time, also
/// across a DST change.
fn ago_from_now(ago: Duration, ctx: &DateContext) -> Stamp {
    let now = ctx.now.with_timezone(&ctx.tz);
    if ago.num_seconds() % 86_400 == 0 {
        return Stamp::At(local_to_instant(now.naive_local() - ago, ctx.tz));
    }
    Stamp::At(now - ago)
}

/// Relative forms against the run's clock, resolved in the feed's zone.
fn read_relative(s: &str, ctx: &DateContext, used: &mut Used) -> Option<Stamp> {
    let now = ctx.now.with_timezone(&ctx.tz);
    if let Some(m) = JUST_NOW.find(s) {
        used.mark(m.range());
        return Some(Stamp::At(now));
    }
    let ago = if let Some(c) = AGO_CJK.captures(s) {
        let n: i64 = match c.get(1) {
            Some(count) => count_number(count.as_str()).filter(|n| *n <= 10_000)?,
            None => 0,
        };
        let half = [2, 3, 5].iter().any(|&i| c.get(i).is_some());
        let unit = &c[4];
        let hours = matches!(unit, "小時" | "小时" | "鐘頭" | "钟头" | "時間" | "时间");
        // Half a minute or half a month is no form anyone prints; leave such text unread.
        if half && !hours {
            return None;
        }
        used.mark(c.get(0)?.range());
        Some(match unit {
            "秒鐘" | "秒钟" | "秒" => Duration::seconds(n),
            "分鐘" | "分钟" | "分" => Duration::minutes(n),
            "天" | "日" => Duration::days(n),
            "週" | "周" | "星期" => Duration::weeks(n),
            "個月" | "个月" | "か月" | "ヶ月" | "カ月" => Duration::days(30 * n),
            _ => Duration::minutes(60 * n + if half { 30 } else { 0 }),
        })
    } else if let Some(m) = HALF_HOUR_EN.find(s) {
        // Before the general form, which would read its "an hour ago" as a whole hour.
        used.mark(m.range());
        Some(Duration::minutes(30))
    } else if let Some(c) = AGO_EN.captures(s) {
        let n: i64 = match &c[1] {
            "a" | "an" | "one" => 1,
            digits => digits.parse().ok().filter(|n| *n <= 10_000)?,
        };
        used.mark(c.get(0)?.range());
        let unit = &c[2];
        Some(match unit.chars().next()? {
            's' => Duration::seconds(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            'm' if unit.starts_with("mo") => Duration::days(30 * n),
            _ => Duration::minutes(n),
        })
    } else {
        None
    };
    if let Some(ago) = ago {
        return Some(ago_from_now(ago, ctx));
    }
    let m = DAY_WORD.find(s)?;
    let back = match m.as_str() {
        "今天" | "今日" | "today" => 0,
        "昨天" | "昨日" | "yesterday" => 1,
        _ => 2,
    };
    used.mark(m.range());
    let day = now.date_naive() - Duration::days(back);
    let time = read_time(s, used);
    // "今日新聞 05/08/25 15:48": the day is the unread date's, not today.
    if unread_date_left(s, used) {
        return None;
    }
    match time {
        Some(time) => Some(Stamp::At(local_to_instant(day.and_time(time), ctx.tz))),
        None => Some(Stamp::Day(day)),
    }
}

/// A count in digits, or in the Chinese numerals relative dates use (`三`, `兩`, `十五`, `二十`).
fn count_number(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let digit = |c: char| {
        "一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|i| i as i64 + 1)
            .or_else(|| matches!(c, '兩' | '两').then_some(2))
    };
    let chars: Vec<char> = text.chars().collect();
    match chars[..] {
        [one] if one != '十' => digit(one),
        ['十'] => Some(10),
        ['十', ones] => Some(10 + digit(ones)?),
        [tens, '十'] => Some(10 * digit(tens)?),
        [tens, '十', ones] => Some(10 * digit(tens)? + digit(ones)?),
        _ => None,
    }
}

static ROC_FULL: LazyLock<Regex> =
    LazyLock::new(|| re(r"民國\s*(\d{2,3})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"));
static YMD_CJK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일号號]?"));
static YMD_NUM: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d{4})\s?([-/.])\s?(\d{1,2})\s?[-/.]\s?(\d{1,2})\.?"));
static ROC_NUM: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{3})([-/.])(\d{1,2})[-/.](\d{1,2})"));
static DMY_NUM: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{1,2})([-/.])(\d{1,2})[-/.](\d{4})"));
static YY_NUM: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{1,2})([-/.])(\d{1,2})([-/.])(\d{2})"));
/// Shapes of a date that no reading pattern covers: a year and a month (`2025/08`, `2025年8月`),
/// three numbers in a row (`5/6/7`).
static DATE_SHAPE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\d{4}\s?[-/.年년]\s?\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{1,4}"));
const MONTHS: &str = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
static MDY_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b{MONTHS}\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}})\b)?"
    ))
});
static DMY_EN: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{MONTHS}\b\.?(?:,?\s*(\d{{4}})\b)?"
    ))
});
static MD_CJK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일号號]"));
static MD_NUM: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{1,2})[/-](\d{1,2})"));
/// `08.28 15:48` (Korean portals): month and day with a dot, read only before a time, where no
/// price or version number stands.
static MD_DOT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|\s)(\d{1,2})\.(\d{1,2})\.?\s+\d{1,2}:\d{2}"));
static WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:星期|週|周|礼拜|禮拜)[一二三四五六日天]|[(（][一二三四五六日月火水木金土][)）]|\b(?:mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\b\.?|[月火水木金土日]曜日?|[월화수목금토일]요일",
    )
});

/// A date, time and zone assembled from the pieces found in the text.
/// `may_have_date`: whether `read_date` found a date in the text with nothing marked used.
/// The readers tried before this one mark text only when they succeed (or, reading a string of
/// digits alone, where no date pattern matches), so when it is false the search would find
/// nothing again and is skipped (on pages full of numbers that are not dates
/// it was a fifth of the date reader's time).
fn read_components(
    s: &str,
    ctx: &DateContext,
    used: &mut Used,
    may_have_date: bool,
) -> Option<Stamp> {
    // The weekday is noise for the reader but part of the date for coverage.
    let date = if may_have_date {
        read_date(s, ctx, used)
    } else {
        None
    };
    let time = read_time(s, used);
    let zone = time.and_then(|_| read_zone(s, ctx, used));
    match (date, time) {
        (None, None) => None,
        (None, Some(_)) if unread_date_left(s, used) => None,
        (None, Some(time)) => Some(zoned_time(time, zone, ctx)),
        (Some(DatePart::Full(day)), None) => Some(Stamp::Day(day)),
        (Some(DatePart::Full(day)), Some(time)) => {
            Some(Stamp::At(at_zone(day.and_time(time), zone, ctx.tz)))
        }
        (Some(DatePart::NoYear(month, dom)), time) => {
            let at = nearest_year(ctx, |year| {
                let day = NaiveDate::from_ymd_opt(year, month, dom)?;
                let local = day.and_time(time.unwrap_or(NaiveTime::MIN));
                Some(at_zone(local, zone, ctx.tz))
            })?;
            Some(match time {
                Some(_) => Stamp::At(at),
                None => Stamp::Day(at.date_naive()),
            })
        }
    }
}

/// A time of day without a day. Printed in another zone than the feed's (`3:48 pm ET` on a
/// Taipei feed), it is no time of the feed's day: it is the latest such moment in its own zone
/// not after the run's clock (a few minutes' grace for clocks that differ), as a "today" list
/// means it. In the feed's own zone, or with none, it stays a time of day for the listing to
/// give a day (a day header above it, or today).
fn zoned_time(time: NaiveTime, zone: Option<Zone>, ctx: &DateContext) -> Stamp {
    let Some(zone) = zone else {
        return Stamp::TimeOfDay(time);
    };
    let today = ctx.now.date_naive();
    let same_zone = at_zone(today.and_time(time), Some(zone), ctx.tz)
        == local_to_instant(today.and_time(time), ctx.tz);
    if same_zone {
        return Stamp::TimeOfDay(time);
    }
    let latest = ctx.now + Duration::minutes(10);
    (-2..=1)
        .rev()
        .map(|days| {
            at_zone(
                (today + Duration::days(days)).and_time(time),
                Some(zone),
                ctx.tz,
            )
        })
        .find(|at| at.with_timezone(&Utc) <= latest)
        .map_or(Stamp::TimeOfDay(time), Stamp::At)
}

enum DatePart {
    Full(NaiveDate),
    NoYear(u32, u32),
}

/// The first isolated match of a pattern: not glued to further digits on either side, so that
/// `12025/8/28` or a phone number is not taken for a date.
fn isolated<'t>(re: &Regex, s: &'t str, used: &Used) -> Option<regex::Captures<'t>> {
    // Matches are found by the regex's fast engines and only the one kept is captured: most
    // texts hold no date, and capturing every candidate was a sixth of auto mode's time.
    let m = re.find_iter(s).find(|m| {
        let before = s[..m.start()].chars().next_back();
        let after = s[m.end()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit())
            && !after.is_some_and(|c| c.is_ascii_digit())
            && used.is_free(m.range())
    })?;
    re.captures_at(s, m.start())
}

fn read_date(s: &str, ctx: &DateContext, used: &mut Used) -> Option<DatePart> {
    let num = |c: &regex::Captures, i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let found = |c: &regex::Captures, used: &mut Used, part: Option<DatePart>| {
        if part.is_some() {
            used.mark(c.get(0).expect("group 0").range());
        }
        part
    };
    let ymd = |y: u32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y as i32, m, d)
            .filter(|day| plausible_day(*day))
            .map(DatePart::Full)
    };
    if let Some(c) = isolated(&ROC_FULL, s, used) {
        let part = ymd(num(&c, 1)? + 1911, num(&c, 2)?, num(&c, 3)?);
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&YMD_CJK, s, used) {
        // In `2025年8月 15:48` the number after the month is the hour, not the day.
        let hour_follows = !c[0].ends_with(['日', '일', '号', '號'])
            && s[c.get(0)?.end()..].starts_with([':', '時', '时', '点', '點', '시']);
        let part = ymd(num(&c, 1)?, num(&c, 2)?, num(&c, 3)?).filter(|_| !hour_follows);
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&YMD_NUM, s, used) {
        let part = ymd(num(&c, 1)?, num(&c, 3)?, num(&c, 4)?);
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&ROC_NUM, s, used) {
        // Three-digit years are the Republic of China calendar (114 = 2025), as Taiwanese sites print.
        let part = ymd(num(&c, 1)? + 1911, num(&c, 3)?, num(&c, 4)?);
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&DMY_NUM, s, used) {
        let (a, b) = (num(&c, 1)?, num(&c, 3)?);
        let year = num(&c, 4)?;
        // Dots are the European day-first order; slashes are American month-first unless the
        // first number cannot be a month.
        let part = if &c[2] == "." || a > 12 {
            ymd(year, b, a)
        } else {
            ymd(year, a, b)
        };
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&YY_NUM, s, used) {
        let part = (c[2] == c[4])
            .then(|| two_digit_year(num(&c, 1)?, num(&c, 3)?, num(&c, 5)?, ctx))
            .flatten()
            .filter(|day| plausible_day(*day))
            .map(DatePart::Full);
        return found(&c, used, part);
    }
    let latin = has_latin_letter(s);
    let english = [(&*MDY_EN, 1, 2), (&*DMY_EN, 2, 1)]
        .into_iter()
        .filter(|_| latin)
        .filter_map(|(re, mi, di)| isolated(re, s, used).map(|c| (c, mi, di)))
        .min_by_key(|(c, _, _)| c.get(0).map_or(usize::MAX, |m| m.start()));
    if let Some((c, mi, di)) = english {
        let month = month_number(&c[mi])?;
        let dom = num(&c, di)?;
        let part = match num(&c, 3) {
            Some(year) => ymd(year, month, dom),
            None => valid_month_day(month, dom),
        };
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&MD_CJK, s, used) {
        let part = valid_month_day(num(&c, 1)?, num(&c, 2)?);
        return found(&c, used, part);
    }
    if let Some(c) = isolated(&MD_DOT, s, used) {
        let part = month_day_or_day_month(num(&c, 1)?, num(&c, 2)?);
        // The time after it is the time reader's.
        if part.is_some() {
            let date = c.get(1).expect("month").start()..c.get(2).expect("day").end();
            used.mark(date);
            return part;
        }
    }
    if let Some(c) = isolated(&MD_NUM, s, used) {
        let part = month_day_or_day_month(num(&c, 1)?, num(&c, 2)?);
        return found(&c, used, part);
    }
    None
}

/// Readings of a two-digit year are trusted this far back when the string has several: within
/// it, two readings of one string can only differ in month/day order, being a year apart otherwise.
const TWO_DIGIT_YEAR_RECENT_DAYS: i64 = 183;

/// `25/08/28` (株探 and Korean portals print yy/mm/dd), `08/28/25` (US mm/dd/yy), `28/08/25`
/// (dd/mm/yy). Of the readings that are calendar days not after tomorrow, the only one; else the
/// only one within half a year of the run's clock (listings are recent); else none. `05/08/25`
/// may be May 8th or August 5th, and an undated item is better than a wrongly dated one.
fn two_digit_year(a: u32, b: u32, c: u32, ctx: &DateContext) -> Option<NaiveDate> {
    let today = ctx.now.with_timezone(&ctx.tz).date_naive();
    let mut days: Vec<NaiveDate> = [(a, b, c), (c, a, b), (c, b, a)]
        .into_iter()
        .filter_map(|(year, month, dom)| NaiveDate::from_ymd_opt(2000 + year as i32, month, dom))
        .filter(|day| *day <= today + Duration::days(1))
        .collect();
    days.sort_unstable();
    days.dedup();
    if days.len() > 1 {
        days.retain(|day| (today - *day).num_days() <= TWO_DIGIT_YEAR_RECENT_DAYS);
    }
    match days[..] {
        [day] => Some(day),
        _ => None,
    }
}

/// Whether the text, past what has been read, still holds something shaped like a date: one the
/// patterns matched but could not make a day of (`2025/13/45`, the ambiguous `05/08/25`), or a
/// shape none reads (`2025/08`). A time beside it is no bare time of day: a row's
/// `25/08/27 15:45` taken for one would be dated today, silently and wrongly.
fn unread_date_left(s: &str, used: &Used) -> bool {
    let latin = has_latin_letter(s);
    [
        &*ROC_FULL,
        &*YMD_CJK,
        &*YMD_NUM,
        &*ROC_NUM,
        &*DMY_NUM,
        &*YY_NUM,
        &*MD_CJK,
        &*MD_NUM,
        &*DATE_SHAPE,
    ]
    .into_iter()
    .chain([&*MDY_EN, &*DMY_EN].into_iter().filter(|_| latin))
    .any(|pattern| isolated(pattern, s, used).is_some())
}

/// Whether the (normalized, lowercase) text has a Latin letter, without which no English month
/// or "am"/"pm" can match. Checked first because those patterns have word boundaries, which on
/// CJK text keep the regex off its fast engines: they took 15 % of auto mode's time.
fn has_latin_letter(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Month first, as CJK and US portals print it; day first (`27/08 15:48`, as British and Hong
/// Kong ones do) where the first number can be no month.
fn month_day_or_day_month(first: u32, second: u32) -> Option<DatePart> {
    valid_month_day(first, second).or_else(|| {
        (first > 12)
            .then(|| valid_month_day(second, first))
            .flatten()
    })
}

fn valid_month_day(month: u32, dom: u32) -> Option<DatePart> {
    // 2024 is a leap year, so 2/29 passes here and is checked again against the chosen year.
    NaiveDate::from_ymd_opt(2024, month, dom).map(|_| DatePart::NoYear(month, dom))
}

fn month_number(name: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    NAMES
        .iter()
        .position(|n| name.starts_with(n))
        .map(|i| i as u32 + 1)
}

static TIME_COLON: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d{1,6})?"));
static TIME_CJK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(\d{1,2})\s*[時时点點시]\s*(?:(\d{1,2})\s*[分분])?(?:\s*(\d{1,2})\s*[秒초])?")
});
static TIME_HOUR_ONLY: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(\d{1,2})\s*(a\.?m\.?|p\.?m\.?)(?:\s|$|[^a-z])"));
static MERIDIEM_AFTER: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*(a\.?m\b\.?|p\.?m\b\.?)"));
static MERIDIEM_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(上午|早上|凌晨|清晨|午前|오전|下午|晚上|晚間|晚间|傍晚|午後|夜|오후|中午)\s*$")
});

fn read_time(s: &str, used: &mut Used) -> Option<NaiveTime> {
    let num = |m: Option<regex::Match>| m.map_or(Some(0), |m| m.as_str().parse::<u32>().ok());
    let c = isolated(&TIME_COLON, s, used)
        .or_else(|| isolated(&TIME_CJK, s, used))
        .or_else(|| {
            has_latin_letter(s)
                .then(|| isolated(&TIME_HOUR_ONLY, s, used))
                .flatten()
        })?;
    let whole = c.get(0)?;
    let mut hour = num(c.get(1))?;
    let minute = if c.get(2).is_some_and(|m| m.as_str().starts_with(['a', 'p'])) {
        0
    } else {
        num(c.get(2))?
    };
    let second = num(c.get(3))?;
    let mut range = whole.range();
    let mut meridiem: Option<bool> = None; // Some(true) = afternoon
    if let Some(m) = c.get(2).filter(|m| m.as_str().starts_with(['a', 'p'])) {
        meridiem = Some(m.as_str().starts_with('p'));
    } else if let Some(after) = MERIDIEM_AFTER.captures(&s[whole.end()..]) {
        meridiem = Some(after[1].starts_with('p'));
        range.end = whole.end() + after.get(0)?.end();
    }
    if let Some(before) = MERIDIEM_BEFORE.captures(&s[..whole.start()]) {
        let word = before.get(1)?;
        meridiem = match word.as_str() {
            // 中午12:10 is just after noon, 中午1:05 is one in the afternoon.
            "中午" if hour == 12 => None,
            "中午" => Some(hour < 11),
            "上午" | "早上" | "凌晨" | "清晨" | "午前" | "오전" => Some(false),
            _ => Some(true),
        };
        range.start = word.start();
    }
    match meridiem {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    if meridiem.is_some() && hour > 23 {
        return None;
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    used.mark(range);
    Some(time)
}

static ZONE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:^|[\s(])((?:utc|gmt)\s?[+-]\d{1,2}(?::?\d{2})?|z|utc|gmt|[+-]\d{2}:?\d{2}|et|est|edt|ct|cst|cdt|mt|mst|mdt|pt|pst|pdt|jst|kst|hkt|sgt|bst|cet|cest|aest|aedt)\b\)?",
    )
});

/// A zone named next to the time: an offset, or an abbreviation as English-language sites print.
#[derive(Clone, Copy)]
enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

static GLUED_ZONE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\d)(z|[+-]\d{2}(?::?\d{2})?)(?:$|[^\d:])"));

fn read_zone(s: &str, ctx: &DateContext, used: &mut Used) -> Option<Zone> {
    // `07:48:00Z`, `15:48+08:00`: an offset right after the time, as ISO 8601 writes it.
    if let Some(c) = GLUED_ZONE
        .captures_iter(s)
        .find(|c| c.get(1).is_some_and(|m| used.is_free(m.range())))
    {
        let m = c.get(1)?;
        let before = &s[..m.start()];
        if before.ends_with(|ch: char| ch.is_ascii_digit())
            && TIME_COLON.is_match(before)
            && let Some(offset) = parse_offset(m.as_str())
        {
            used.mark(m.range());
            return Some(Zone::Fixed(offset));
        }
    }
    let c = ZONE
        .captures_iter(s)
        .find(|c| c.get(1).is_some_and(|m| used.is_free(m.range())))?;
    let m = c.get(1)?;
    let name = m.as_str();
    let hours = |h: i32| FixedOffset::east_opt(h * 3600).map(Zone::Fixed);
    let zone = match name {
        "z" | "utc" | "gmt" => hours(0),
        "et" => Some(Zone::Named(chrono_tz::America::New_York)),
        "ct" => Some(Zone::Named(chrono_tz::America::Chicago)),
        "mt" => Some(Zone::Named(chrono_tz::America::Denver)),
        "pt" => Some(Zone::Named(chrono_tz::America::Los_Angeles)),
        "est" => hours(-5),
        "edt" | "cdt" => hours(if name == "edt" { -4 } else { -5 }),
        // CST is China Standard Time on Asian pages and US Central elsewhere.
        "cst" if ctx.tz.name().starts_with("Asia/") => hours(8),
        "cst" => hours(-6),
        "mst" => hours(-7),
        "mdt" => hours(-6),
        "pst" => hours(-8),
        "pdt" => hours(-7),
        "jst" | "kst" => hours(9),
        "hkt" | "sgt" => hours(8),
        "bst" => hours(1),
        "cet" => hours(1),
        "cest" => hours(2),
        "aest" => hours(10),
        "aedt" => hours(11),
        other => {
            let offset = other.trim_start_matches("utc").trim_start_matches("gmt");
            parse_offset(offset.trim()).map(Zone::Fixed)
        }
    }?;
    used.mark(m.range());
    Some(zone)
}

fn at_zone(local: NaiveDateTime, zone: Option<Zone>, tz: Tz) -> DateTime<Tz> {
    match zone {
        None => local_to_instant(local, tz),
        Some(Zone::Named(named)) => local_to_instant(local, named).with_timezone(&tz),
        Some(Zone::Fixed(offset)) => offset
            .from_local_datetime(&local)
            .single()
            .map(|at| at.with_timezone(&tz))
            .unwrap_or_else(|| local_to_instant(local, tz)),
    }
}

/// Put a time of day on the day of an earlier stamp (a day header above time-only rows).
pub fn on_day(day: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Tz> {
    local_to_instant(day.and_time(time), tz)
}

/// The calendar day a stamp falls on in the zone, for completing time-only rows below it.
pub fn day_of(stamp: Stamp, tz: Tz) -> Option<NaiveDate> {
    match stamp {
        Stamp::At(at) => Some(at.with_timezone(&tz).date_naive()),
        Stamp::Day(day) => Some(day),
        Stamp::TimeOfDay(_) => None,
    }
}

/// Seconds precision is what feeds carry; sub-second noise would make equal dates differ.
pub fn truncate_to_seconds(at: DateTime<Tz>) -> DateTime<Tz> {
    at.with_nanosecond(0).unwrap_or(at)
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_plain_numeric_shortcut_reads_as_the_general_reader() {
        let ctx = DateContext {
            tz: chrono_tz::Asia::Taipei,
            now: Utc.with_ymd_and_hms(2025, 8, 28, 8, 0, 0).unwrap(),
        };
        let mut checked = 0;
        for sep in ['-', '/', '.'] {
            for (month, dom) in [(8, 28), (1, 2), (12, 31), (2, 29), (2, 30), (13, 1), (0, 5)] {
                for time in [
                    "",
                    " 15:48",
                    " 9:05",
                    " 00:00:59",
                    "T15:48",
                    "T15:48:07",
                    " 24:00",
                    " 15:60",
                    " 15:4",
                    " 15:48 PM",
                    " 15:48+08:00",
                    "T15:48Z",
                ] {
                    for pad in [true, false] {
                        let text = if pad {
                            format!("2025{sep}{month:02}{sep}{dom:02}{time}")
                        } else {
                            format!("2025{sep}{month}{sep}{dom}{time}")
                        };
                        let fast =
                            read_plain_numeric(&text, ctx.tz).filter(|s| plausible(*s, &ctx));
                        let general = read_match_by_forms(&text, &ctx);
                        if let Some(stamp) = fast {
                            checked += 1;
                            let general = general
                                .unwrap_or_else(|| panic!("{text:?}: only the shortcut reads it"));
                            assert_eq!(general.stamp, stamp, "{text:?}");
                            assert_eq!(general.coverage, 1.0, "{text:?}");
                        }
                        assert_eq!(
                            read_match(&text, &ctx),
                            general,
                            "{text:?}: the reader's answer changed"
                        );
                    }
                }
            }
        }
        assert!(checked >= 40, "only {checked} strings took the shortcut");
    }

    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn ctx_at(now: &str, tz: Tz) -> DateContext {
        DateContext {
            tz,
            now: DateTime::parse_from_rfc3339(now)
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn taipei() -> DateContext {
        ctx_at("2025-08-28T16:00:00+08:00", Asia::Taipei)
    }

    /// Read and show as RFC 3339 in the context's zone ("day 2025-08-28", "time 15:48:00").
    fn shown(text: &str, ctx: &DateContext) -> String {
        match read(text, ctx) {
            Some(Stamp::At(at)) => at.to_rfc3339(),
            Some(Stamp::Day(day)) => format!("day {day}"),
            Some(Stamp::TimeOfDay(t)) => format!("time {t}"),
            None => "none".into(),
        }
    }

    #[test]
    fn a_time_printed_in_another_zone_is_the_latest_such_moment_there() {
        // 06:00 in Taipei is 18:00 of the day before in New York.
        let ctx = ctx_at("2025-08-29T06:00:00+08:00", Asia::Taipei);
        for (text, want) in [
            ("3:48 pm ET", "2025-08-29T03:48:00+08:00"),
            ("12:05 pm ET", "2025-08-29T00:05:00+08:00"),
            ("9:31 am ET", "2025-08-28T21:31:00+08:00"),
            // Later than the clock in New York: the day before.
            ("11:45 PM ET", "2025-08-28T11:45:00+08:00"),
            ("10:15 GMT", "2025-08-28T18:15:00+08:00"),
            // Printed in the feed's own zone, or in none: a time of day, for the listing's day.
            ("15:48 +08:00", "time 15:48:00"),
            ("15:48", "time 15:48:00"),
        ] {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
    }

    #[test]
    fn month_and_day_with_a_dot_before_a_time() {
        let ctx = ctx_at("2025-08-28T16:00:00+09:00", Asia::Seoul);
        for (text, want) in [
            // 한국경제 list rows.
            ("08.28 15:48", "2025-08-28T15:48:00+09:00"),
            ("08.27 15:35", "2025-08-27T15:35:00+09:00"),
            // A price or a version is not a date.
            ("08.28", "none"),
            ("v2.15", "none"),
            // Figures beside a time are no date: the time stays.
            ("+1.25% 15:48", "time 15:48:00"),
            ("15:48 · 1.2K views", "time 15:48:00"),
            ("v2.1 15:48", "time 15:48:00"),
        ] {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
    }

    #[test]
    fn absolute_forms_real_portals_print() {
        let ctx = taipei();
        let table = [
            // 財訊快報 / Yahoo股市 listings: unpadded month and day.
            ("2025/8/28 15:48", "2025-08-28T15:48:00+08:00"),
            // 經濟日報 (money.udn.com) list rows.
            ("2025-08-28 15:48:00", "2025-08-28T15:48:00+08:00"),
            // 工商時報 date-only rows.
            ("2025.08.28", "day 2025-08-28"),
            // MoneyDJ: no year; the run clock supplies it.
            ("08/28 15:48", "2025-08-28T15:48:00+08:00"),
            ("8/28", "day 2025-08-28"),
            // Day first where the first number can be no month (British, Hong Kong portals).
            ("27/08 15:48", "2025-08-27T15:48:00+08:00"),
            ("27/08", "day 2025-08-27"),
            // 中央社 and Japanese portals.
            ("2025年8月28日 15時48分", "2025-08-28T15:48:00+08:00"),
            ("8月28日", "day 2025-08-28"),
            ("2025年08月28日 15:48", "2025-08-28T15:48:00+08:00"),
            // 新浪财经 rows: date in parentheses after the headline.
            ("(08月28日 15:48)", "2025-08-28T15:48:00+08:00"),
            // 12-hour clock with Chinese meridiem words.
            ("2025/08/28 下午 03:48", "2025-08-28T15:48:00+08:00"),
            ("2025/08/28 下午3:48", "2025-08-28T15:48:00+08:00"),
            ("2025/08/28 上午 9:05", "2025-08-28T09:05:00+08:00"),
            ("2025/08/28 上午12:30", "2025-08-28T00:30:00+08:00"),
            ("2025/08/28 中午12:10", "2025-08-28T12:10:00+08:00"),
            // Republic of China calendar: 114 = 2025.
            ("114/08/28", "day 2025-08-28"),
            ("民國114年8月28日", "day 2025-08-28"),
            ("民國114年8月28日 15:48", "2025-08-28T15:48:00+08:00"),
            ("114-08-28 15:48", "2025-08-28T15:48:00+08:00"),
            // ISO 8601 / RFC 3339, as in <time datetime>.
            ("2025-08-28T15:48:00+08:00", "2025-08-28T15:48:00+08:00"),
            ("2025-08-28T07:48:00Z", "2025-08-28T15:48:00+08:00"),
            ("2025-08-28T07:48:00.000Z", "2025-08-28T15:48:00+08:00"),
            ("2025-08-28T15:48", "2025-08-28T15:48:00+08:00"),
            ("2025-08-28T15:48:00+0800", "2025-08-28T15:48:00+08:00"),
            ("2025-08-28", "day 2025-08-28"),
            // RFC 2822, as in syndicated metadata.
            ("Thu, 28 Aug 2025 07:48:00 GMT", "2025-08-28T15:48:00+08:00"),
            (
                "Thu, 28 Aug 2025 15:48:00 +0800",
                "2025-08-28T15:48:00+08:00",
            ),
            // Unix seconds and milliseconds from data-* attributes.
            ("1756367280", "2025-08-28T15:48:00+08:00"),
            ("1756367280000", "2025-08-28T15:48:00+08:00"),
            // English portals (Reuters, CNBC, MarketWatch) with US zone abbreviations.
            ("Aug 28, 2025 3:48 PM ET", "2025-08-29T03:48:00+08:00"),
            ("August 27, 2025 11:02 PM EDT", "2025-08-28T11:02:00+08:00"),
            ("Aug. 28, 2025 at 3:48 p.m. ET", "2025-08-29T03:48:00+08:00"),
            ("Jan 5, 2025 9:30 AM ET", "2025-01-05T22:30:00+08:00"), // EST in January: -05:00
            ("28 August 2025", "day 2025-08-28"),
            ("Thursday, August 28, 2025", "day 2025-08-28"),
            ("Sept 3, 2024", "day 2024-09-03"),
            ("Aug 28, 2025 07:48 UTC", "2025-08-28T15:48:00+08:00"),
            ("2025-08-28 15:48 GMT+8", "2025-08-28T15:48:00+08:00"),
            ("2025/08/28 15:48 (+08:00)", "2025-08-28T15:48:00+08:00"),
            // Korean portals.
            ("2025.08.28 15:48", "2025-08-28T15:48:00+08:00"),
            ("2025년 8월 28일 오후 3:48", "2025-08-28T15:48:00+08:00"),
            // Japanese 12-hour clock.
            ("2025年8月28日 午後3時48分", "2025-08-28T15:48:00+08:00"),
            // Full-width digits and a label before the date.
            (
                "發布時間：２０２５／８／２８　１５：４８",
                "2025-08-28T15:48:00+08:00",
            ),
            ("財訊快報 2025/8/28 15:48", "2025-08-28T15:48:00+08:00"),
            // Weekday in parentheses, as day headers print it.
            ("2025/08/28 (四)", "day 2025-08-28"),
            ("8月28日 星期四", "day 2025-08-28"),
            // Time only: the day comes from the listing.
            ("15:48", "time 15:48:00"),
            ("3:48 PM", "time 15:48:00"),
        ];
        for (text, want) in table {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
    }

    #[test]
    fn a_written_date_beats_relative_words_beside_it() {
        let ctx = taipei();
        let table = [
            // A source name that happens to be a relative word.
            (
                "USA TODAY · Aug 27, 2025 3:48 PM ET",
                "2025-08-28T03:48:00+08:00",
            ),
            // NOWnews bylines start with the brand 今日新聞.
            ("今日新聞 2025/08/27 15:48", "2025-08-27T15:48:00+08:00"),
            // Japanese market reports: 昨日比 (change since yesterday), 前場 (morning session).
            ("8月28日 昨日比", "day 2025-08-28"),
            ("2025年8月28日 前場", "day 2025-08-28"),
            // An offset glued to the time inside longer text.
            ("Updated 2025-08-28T07:48:00Z", "2025-08-28T15:48:00+08:00"),
            (
                "發布 2025-08-28T07:48:00+00:00",
                "2025-08-28T15:48:00+08:00",
            ),
            // RFC 2822 with CST on a Taipei feed is China Standard Time.
            ("Thu, 28 Aug 2025 15:48:00 CST", "2025-08-28T15:48:00+08:00"),
        ];
        for (text, want) in table {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
    }

    #[test]
    fn implausible_dates_leave_the_item_undated_instead_of_failing() {
        let ctx = taipei();
        for text in [
            "99999999天前",
            "9999999週前",
            "2099/01/01",
            "1969/12/31",
            "Jan 5, 2031",
        ] {
            assert_eq!(shown(text, &ctx), "none", "reading {text:?}");
        }
        // Milliseconds read as seconds would be the year 57627.
        assert_eq!(read_with_format("1756367280000", "%s", &ctx), None);
        assert!(read_with_format("2025-08-28T07:48:00Z", "%+", &ctx).is_some());
        assert_eq!(
            read_with_format("2025-08-28T07:48:00Z", "%+", &ctx),
            Some(Stamp::At(
                Asia::Taipei
                    .with_ymd_and_hms(2025, 8, 28, 15, 48, 0)
                    .unwrap()
            ))
        );
    }

    #[test]
    fn not_dates() {
        let ctx = taipei();
        for text in [
            "",
            "more",
            "下一頁",
            "2330",
            "1,170",
            "0.6%",
            "台積電法說會",
            "Page 2 of 10",
            "99999999999",
            "2025/13/45",
            "2/30",
        ] {
            assert_eq!(shown(text, &ctx), "none", "reading {text:?}");
        }
    }

    #[test]
    fn year_less_dates_take_the_nearest_year_not_ahead() {
        // Read on New Year's morning in Taipei: late-December items are last year's.
        let ctx = ctx_at("2026-01-01T00:20:00+08:00", Asia::Taipei);
        assert_eq!(shown("12/31 23:55", &ctx), "2025-12-31T23:55:00+08:00");
        assert_eq!(shown("01/01 00:05", &ctx), "2026-01-01T00:05:00+08:00");
        // A day ahead is allowed (a site in a zone ahead of ours), more is last year.
        assert_eq!(shown("01/02 09:00", &ctx), "2025-01-02T09:00:00+08:00");
        let summer = taipei();
        assert_eq!(shown("8/29 09:00", &summer), "2025-08-29T09:00:00+08:00");
        assert_eq!(shown("8/30 09:00", &summer), "2024-08-30T09:00:00+08:00");
    }

    #[test]
    fn relative_dates_resolve_in_the_feed_zone() {
        let ctx = taipei();
        let table = [
            ("剛剛", "2025-08-28T16:00:00+08:00"),
            ("刚刚", "2025-08-28T16:00:00+08:00"),
            ("5分鐘前", "2025-08-28T15:55:00+08:00"),
            ("35 分钟前", "2025-08-28T15:25:00+08:00"),
            ("3小時前", "2025-08-28T13:00:00+08:00"),
            ("2天前", "2025-08-26T16:00:00+08:00"),
            ("今天 09:30", "2025-08-28T09:30:00+08:00"),
            ("今日 09:30", "2025-08-28T09:30:00+08:00"),
            ("昨天 21:30", "2025-08-27T21:30:00+08:00"),
            ("前天 08:00", "2025-08-26T08:00:00+08:00"),
            ("just now", "2025-08-28T16:00:00+08:00"),
            ("35 min ago", "2025-08-28T15:25:00+08:00"),
            ("2 hours ago", "2025-08-28T14:00:00+08:00"),
            ("an hour ago", "2025-08-28T15:00:00+08:00"),
            ("2 days ago", "2025-08-26T16:00:00+08:00"),
            ("Yesterday 9:15 PM", "2025-08-27T21:15:00+08:00"),
            ("yesterday", "day 2025-08-27"),
            ("Reuters • 2 hours ago", "2025-08-28T14:00:00+08:00"),
            ("5分前", "2025-08-28T15:55:00+08:00"),
            ("3時間前", "2025-08-28T13:00:00+08:00"),
            ("昨日 21:30", "2025-08-27T21:30:00+08:00"),
        ];
        for (text, want) in table {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
    }

    #[test]
    fn just_after_midnight_in_taipei_yesterday_is_taipei_yesterday() {
        // 00:10 on the 29th in Taipei is still the 28th in UTC.
        let ctx = ctx_at("2025-08-29T00:10:00+08:00", Asia::Taipei);
        assert_eq!(shown("昨天 23:50", &ctx), "2025-08-28T23:50:00+08:00");
        assert_eq!(shown("今天 00:05", &ctx), "2025-08-29T00:05:00+08:00");
        assert_eq!(shown("15分鐘前", &ctx), "2025-08-28T23:55:00+08:00");
    }

    #[test]
    fn daylight_saving_is_the_zones_own() {
        let ny = ctx_at("2025-03-10T12:00:00-04:00", America::New_York);
        // Before the switch on March 9th, New York is -05:00; after, -04:00.
        assert_eq!(shown("2025-03-08 10:00", &ny), "2025-03-08T10:00:00-05:00");
        assert_eq!(shown("2025-03-10 10:00", &ny), "2025-03-10T10:00:00-04:00");
        // 02:30 does not exist on the switch day: read with the offset before the jump, as a
        // clock would show it, 03:30.
        assert_eq!(shown("2025-03-09 02:30", &ny), "2025-03-09T03:30:00-04:00");
        // The repeated hour in November takes the earlier instant.
        let autumn = ctx_at("2025-11-03T12:00:00-05:00", America::New_York);
        assert_eq!(
            shown("2025-11-02 01:30", &autumn),
            "2025-11-02T01:30:00-04:00"
        );
        let london = ctx_at("2025-08-28T12:00:00+01:00", Europe::London);
        assert_eq!(
            shown("28 August 2025 09:00", &london),
            "2025-08-28T09:00:00+01:00"
        );
    }

    #[test]
    fn explicit_formats() {
        let ctx = taipei();
        let with = |text: &str, fmt: &str| match read_with_format(text, fmt, &ctx) {
            Some(Stamp::At(at)) => at.to_rfc3339(),
            Some(Stamp::Day(d)) => format!("day {d}"),
            Some(Stamp::TimeOfDay(t)) => format!("time {t}"),
            None => "none".into(),
        };
        assert_eq!(
            with("2025/08/28 15:48", "%Y/%m/%d %H:%M"),
            "2025-08-28T15:48:00+08:00"
        );
        assert_eq!(
            with("發布 2025/08/28 15:48", "%Y/%m/%d %H:%M"),
            "2025-08-28T15:48:00+08:00"
        );
        // %s is an absolute instant, never re-read in the feed's zone.
        assert_eq!(with("1756367280", "%s"), "2025-08-28T15:48:00+08:00");
        assert_eq!(with("2025年08月28日", "%Y年%m月%d日"), "day 2025-08-28");
        assert_eq!(
            with("08-28 15:48", "%m-%d %H:%M"),
            "2025-08-28T15:48:00+08:00"
        );
        assert_eq!(with("15:48", "%H:%M"), "time 15:48:00");
        assert_eq!(
            with("2025-08-28 15:48 +0000", "%Y-%m-%d %H:%M %z"),
            "2025-08-28T23:48:00+08:00"
        );
        assert_eq!(with("yesterday", "%Y/%m/%d"), "none");
    }

    #[test]
    fn two_digit_years_read_where_only_one_reading_is_a_recent_day() {
        let ctx = ctx_at("2025-08-28T16:10:00+09:00", Asia::Tokyo);
        let table = [
            // 株探 (kabutan) news tables: yy/mm/dd with a non-breaking space before the time.
            ("25/08/28\u{a0}15:48", "2025-08-28T15:48:00+09:00"),
            // Read before this fix as today 15:45: the year was taken for no date at all.
            ("25/08/27 15:45", "2025-08-27T15:45:00+09:00"),
            ("25/08/26 15:30", "2025-08-26T15:30:00+09:00"),
            // Korean portals print yy.mm.dd, some CMSs yy-mm-dd.
            ("25.08.28", "day 2025-08-28"),
            ("25-08-27 09:05", "2025-08-27T09:05:00+09:00"),
            // US mm/dd/yy (MarketWatch tables) and UK dd/mm/yy: the other readings are no days.
            ("08/28/25 3:48 PM", "2025-08-28T15:48:00+09:00"),
            ("28/08/25", "day 2025-08-28"),
            ("28.08.25 14:00", "2025-08-28T14:00:00+09:00"),
            // yy/mm/dd 2025-03-24, or dd/mm/yy 2024-03-25: only the first is within half a year.
            ("25/03/24", "day 2025-03-24"),
            // dd/mm/yy 2025-08-24, or yy/mm/dd 2024-08-25: the nearer one is the only recent one.
            ("24/08/25", "day 2025-08-24"),
            // yy/mm/dd 2023-05-31 is old, but dd/mm/yy would be 2031 and mm/dd/yy no day at all.
            ("23/05/31", "day 2023-05-31"),
        ];
        for (text, want) in table {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
        for text in [
            // May 8th (US) or August 5th (UK), both this summer: genuinely ambiguous.
            "05/08/25 15:48",
            "05/08/25",
            // 2013-05-20 or 2020-05-13, both old: nothing tells them apart.
            "13/05/20",
            // Every reading is in the future or no day.
            "25/08/31 10:00",
            "99/99/99",
            // Two separators: no form prints this.
            "25/08-28 15:48",
        ] {
            assert_eq!(shown(text, &ctx), "none", "reading {text:?}");
        }
    }

    #[test]
    fn a_date_the_reader_cannot_read_is_not_taken_for_a_bare_time_of_day() {
        let ctx = taipei();
        for text in [
            // A month that does not exist, a day past the month's end.
            "2025/13/45 15:48",
            "2/30 15:48",
            // An ambiguous two-digit year.
            "05/08/25 15:48",
            // A year and month without the day.
            "2025/08 15:48",
            "2025年8月 15:48",
            // Neither month/day nor day/month.
            "13/13 15:48",
            "Aug 32, 2025 3:48 PM",
            // A relative word beside an unreadable date does not make it today.
            "今日新聞 05/08/25 15:48",
        ] {
            assert_eq!(shown(text, &ctx), "none", "reading {text:?}");
        }
        // Times with no date beside them are still times of day.
        for (text, want) in [
            ("15:48", "time 15:48:00"),
            ("(15:45)", "time 15:45:00"),
            ("更新 15:48", "time 15:48:00"),
            ("下午3:48", "time 15:48:00"),
            ("15時48分", "time 15:48:00"),
            // In another zone: the latest 3:48 PM in New York, the 27th's.
            ("3:48 PM ET", "2025-08-28T03:48:00+08:00"),
            ("今天 09:30", "2025-08-28T09:30:00+08:00"),
        ] {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
    }

    #[test]
    fn half_hours_and_chinese_numerals_ago() {
        let ctx = ctx_at("2025-08-28T16:10:00+08:00", Asia::Shanghai);
        let table = [
            // 华尔街见闻 / 新浪 / 36氪 listings.
            ("半小时前", "2025-08-28T15:40:00+08:00"),
            ("半小時前", "2025-08-28T15:40:00+08:00"),
            ("半个小时前", "2025-08-28T15:40:00+08:00"),
            ("半個鐘頭前", "2025-08-28T15:40:00+08:00"),
            ("半个钟头前", "2025-08-28T15:40:00+08:00"),
            ("一小时前", "2025-08-28T15:10:00+08:00"),
            ("两小时前", "2025-08-28T14:10:00+08:00"),
            ("兩個鐘頭前", "2025-08-28T14:10:00+08:00"),
            ("1个半小时前", "2025-08-28T14:40:00+08:00"),
            ("一個半小時前", "2025-08-28T14:40:00+08:00"),
            ("十分钟前", "2025-08-28T16:00:00+08:00"),
            ("十五分鐘前", "2025-08-28T15:55:00+08:00"),
            ("二十分钟前", "2025-08-28T15:50:00+08:00"),
            ("三天前", "2025-08-25T16:10:00+08:00"),
            ("一周前", "2025-08-21T16:10:00+08:00"),
            // Japanese portals (日経, Yahoo!ファイナンス).
            ("30分前", "2025-08-28T15:40:00+08:00"),
            ("1時間前", "2025-08-28T15:10:00+08:00"),
            ("1時間半前", "2025-08-28T14:40:00+08:00"),
            // Read as a whole hour before: "an hour ago" is inside it.
            ("half an hour ago", "2025-08-28T15:40:00+08:00"),
        ];
        for (text, want) in table {
            assert_eq!(shown(text, &ctx), want, "reading {text:?}");
        }
        for text in [
            "半分前",
            "半個月前",
            "一一小时前",
            "几分钟前",
            "十一十分钟前",
        ] {
            assert_eq!(shown(text, &ctx), "none", "reading {text:?}");
        }
    }

    #[test]
    fn short_forms_without_ago_only_where_the_date_is_known() {
        let ctx = taipei();
        let field = |text: &str| match read_field(text, &ctx) {
            Some(Stamp::At(at)) => at.to_rfc3339(),
            other => format!("{other:?}"),
        };
        let table = [
            // X/Twitter cards, CNBC and Investing.com lists.
            ("3h", "2025-08-28T13:00:00+08:00"),
            ("45m", "2025-08-28T15:15:00+08:00"),
            ("1d", "2025-08-27T16:00:00+08:00"),
            ("2w", "2025-08-14T16:00:00+08:00"),
            ("30s", "2025-08-28T15:59:30+08:00"),
            ("3H", "2025-08-28T13:00:00+08:00"),
            ("5 hrs", "2025-08-28T11:00:00+08:00"),
            ("· 3h", "2025-08-28T13:00:00+08:00"),
            ("2mo", "2025-06-29T16:00:00+08:00"),
            ("3 d", "2025-08-25T16:00:00+08:00"),
        ];
        for (text, want) in table {
            assert_eq!(field(text), want, "reading {text:?} as a date field");
            // In free text (auto mode's text nodes) the same string is no date.
            assert_eq!(shown(text, &ctx), "none", "reading {text:?} as free text");
        }
        // The field reader reads everything the free-text reader reads.
        assert_eq!(field("2 hours ago"), "2025-08-28T14:00:00+08:00");
        assert_eq!(field("2025/8/28 15:48"), "2025-08-28T15:48:00+08:00");
        // Only the whole value: not a model, a printer, a network, a count or a column header.
        for text in [
            "M2",
            "3D printing",
            "5G",
            "1234h",
            "h3",
            "3 dd",
            "24h 漲跌",
            "3x",
        ] {
            assert_eq!(field(text), "None", "reading {text:?} as a date field");
        }
    }

    #[test]
    fn other_slashes_are_slashes() {
        let ctx = taipei();
        // Big5 A241 decodes to U+2215 DIVISION SLASH.
        assert_eq!(shown("２０２５∕０８∕２８", &ctx), "day 2025-08-28");
        assert_eq!(shown("2025∕8∕28 15:48", &ctx), "2025-08-28T15:48:00+08:00");
        // U+FF0F FULLWIDTH SOLIDUS and U+2044 FRACTION SLASH.
        assert_eq!(shown("２０２５／０８／２８", &ctx), "day 2025-08-28");
        assert_eq!(shown("08⁄28 15:48", &ctx), "2025-08-28T15:48:00+08:00");
    }

    #[test]
    fn coverage_tells_a_date_line_from_a_headline() {
        let ctx = taipei();
        let line = read_match("2025/8/28 15:48", &ctx).unwrap();
        assert!(line.coverage > 0.99, "{line:?}");
        let headline = read_match("台積電8月28日法說會前夕外資連三買市值創新高", &ctx).unwrap();
        assert!(headline.coverage < 0.3, "{headline:?}");
    }
}
