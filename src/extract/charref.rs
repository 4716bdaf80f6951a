//! Character references (`&amp;`, `&#21488;`, `&copy`) decoded as the HTML tokenizer does, so that
//! text read by the streaming pass is the text the DOM parser would have built. The named table
//! is html5ever's own (every WHATWG name and each prefix of one), so both passes agree on edge
//! cases such as `&notit;` or a bare `&` in a query string.

use std::borrow::Cow;

use markup5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};

/// Text with its character references replaced. `in_attribute` applies the attribute rule: a
/// legacy name without `;` followed by `=` or a letter or digit stays as written (`?a=1&copy=2`).
pub fn decode(raw: &str, in_attribute: bool) -> Cow<'_, str> {
    let Some(first) = raw.find('&') else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut rest = &raw[first..];
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let consumed = match rest.strip_prefix('#') {
            Some(number) => numeric(number, &mut out).map(|n| n + 1),
            None => named(rest, in_attribute, &mut out),
        };
        match consumed {
            Some(n) => rest = &rest[n..],
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `&#…` after the `#`: pushes the character and returns how much was consumed, or `None` when
/// no digit follows (the text stays as written).
fn numeric(rest: &str, out: &mut String) -> Option<usize> {
    let (hex, digits_from) = match rest.as_bytes().first() {
        Some(b'x' | b'X') => (true, 1),
        _ => (false, 0),
    };
    let radix = if hex { 16 } else { 10 };
    let digits = rest[digits_from..]
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let mut value: u32 = 0;
    for b in rest[digits_from..digits_from + digits].bytes() {
        let digit = (b as char).to_digit(radix).unwrap_or(0);
        // Saturate: anything past U+10FFFF is replaced anyway.
        value = value
            .saturating_mul(radix)
            .saturating_add(digit)
            .min(0x11_0000);
    }
    let mut consumed = digits_from + digits;
    if rest[consumed..].starts_with(';') {
        consumed += 1;
    }
    out.push(code_point(value));
    Some(consumed)
}

fn code_point(value: u32) -> char {
    match value {
        0 | 0xD800..=0xDFFF | 0x11_0000.. => '\u{FFFD}',
        0x80..=0x9F => C1_REPLACEMENTS[(value - 0x80) as usize]
            .unwrap_or_else(|| char::from_u32(value).unwrap_or('\u{FFFD}')),
        _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
    }
}

/// A named reference after the `&`: the longest name in the table, as the tokenizer matches it.
fn named(rest: &str, in_attribute: bool, out: &mut String) -> Option<usize> {
    let mut matched: Option<(usize, (u32, u32))> = None;
    for (end, _) in rest
        .char_indices()
        .map(|(i, c)| (i + c.len_utf8(), c))
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == ';')
    {
        match NAMED_ENTITIES.get(&rest[..end]) {
            Some(&value) => {
                if value.0 != 0 {
                    matched = Some((end, value));
                }
                if rest[..end].ends_with(';') {
                    break;
                }
            }
            None => break,
        }
    }
    let (len, (first, second)) = matched?;
    let next = rest[len..].chars().next();
    if in_attribute
        && !rest[..len].ends_with(';')
        && next.is_some_and(|c| c == '=' || c.is_ascii_alphanumeric())
    {
        return None;
    }
    out.push(char::from_u32(first).unwrap_or('\u{FFFD}'));
    if second != 0 {
        out.push(char::from_u32(second).unwrap_or('\u{FFFD}'));
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::decode;

    /// What html5ever makes of the same text, through scraper.
    fn parsed_text(raw: &str) -> String {
        let html = scraper::Html::parse_fragment(&format!("<p>{raw}</p>"));
        html.root_element().text().collect()
    }

    fn parsed_attribute(raw: &str) -> String {
        let html = scraper::Html::parse_fragment(&format!("<a href=\"{raw}\">x</a>"));
        let selector = scraper::Selector::parse("a").unwrap();
        let a = html.select(&selector).next().unwrap();
        a.value().attr("href").unwrap().to_string()
    }

    #[test]
    fn agrees_with_the_dom_parser() {
        let cases = [
            "plain",
            "AT&amp;T &lt;b&gt; &quot;q&quot; &#39;s&#x27;",
            "&copy 2025 &copy; &notit; &notin; &not",
            "&#21488;&#x7063; &#0; &#x110000; &#128; &#x9F; &#xD800; &#12a",
            "&# &#x; &; & amp; &&amp; &ampx &AMP &Amp;",
            "a=1&b=2&copy=3&lang=zh&nbsp=1",
            "&NotNestedGreaterGreater; &fjlig; &Aacute &aacute;x",
            "x &#9999999999999; y",
        ];
        for raw in cases {
            assert_eq!(decode(raw, false), parsed_text(raw), "text {raw:?}");
            assert_eq!(
                decode(raw, true),
                parsed_attribute(raw),
                "attribute {raw:?}"
            );
        }
    }
}
