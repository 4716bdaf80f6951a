//! Bytes to text the way browsers do it: BOM, then the HTTP charset, then a `<meta>` prescan,
//! then detection. Labels are mapped by the WHATWG Encoding Standard (`encoding_rs`), so
//! `gb2312` reads as GBK and `big5` as Big5-HKSCS.
//!
//! One departure from browsers: a declared encoding that the bytes plainly contradict (many
//! malformed sequences) loses to detection. Servers that send `charset=utf-8` in front of Big5
//! pages are common enough that a feed should not fill with U+FFFD.

use std::sync::LazyLock;

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;

/// Decode a fetched page with what its response says about it.
pub fn decode_page(page: &crate::fetch::Page) -> Decoded<'_> {
    let tld = page.final_url.host_str().and_then(|h| h.rsplit('.').next());
    decode(&page.body, page.content_type.as_deref(), tld)
}

/// Where the encoding came from, for `preview` and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    Bom,
    HttpHeader,
    MetaTag,
    Detected,
}

/// A page as text: borrowed from the body where that is already valid UTF-8 (most pages), so
/// the body is not copied.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: std::borrow::Cow<'a, str>,
    pub encoding: &'static Encoding,
    pub source: EncodingSource,
    /// Bytes that did not decode and became U+FFFD.
    pub had_errors: bool,
}

/// How far into the document a `<meta charset>` is looked for. Browsers prescan 1024 bytes and
/// re-parse on a later one; portals put long scripts first, so look further.
const PRESCAN_BYTES: usize = 16 * 1024;

/// Decode a page body. `content_type` is the HTTP header, `tld` the host's top-level domain
/// (`tw`, `cn`, `jp`), which sharpens detection.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>, tld: Option<&str>) -> Decoded<'a> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&body[bom_len..]);
        return Decoded {
            text,
            encoding,
            source: EncodingSource::Bom,
            had_errors,
        };
    }
    let declared = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .map(|e| (e, EncodingSource::HttpHeader))
        .or_else(|| meta_charset(body).map(|e| (e, EncodingSource::MetaTag)));

    if let Some((encoding, source)) = declared {
        let encoding = ascii_compatible(encoding);
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if !had_errors || !clearly_wrong(&text) {
            return Decoded {
                text,
                encoding,
                source,
                had_errors,
            };
        }
        let detected = detect(body, tld);
        if detected != encoding {
            let (better, detected_errors) = detected.decode_without_bom_handling(body);
            if !detected_errors {
                return Decoded {
                    text: better,
                    encoding: detected,
                    source: EncodingSource::Detected,
                    had_errors: false,
                };
            }
        }
        return Decoded {
            text,
            encoding,
            source,
            had_errors,
        };
    }

    let encoding = detect(body, tld);
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    Decoded {
        text,
        encoding,
        source: EncodingSource::Detected,
        had_errors,
    }
}

fn detect(body: &[u8], tld: Option<&str>) -> &'static Encoding {
    // UTF-8 is allowed: unlike a browser, a feed generator gains nothing from refusing it.
    // chardetng then answers UTF-8 for any input that is valid UTF-8 (its UTF-8 candidate is
    // only ever ruled out by a malformed sequence); checking that first costs a fraction of
    // its scoring (2.6 ms for a 200 KB page).
    if std::str::from_utf8(body).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Allow)
}

/// A page declared as UTF-16 but parsed from an ASCII-compatible stream is UTF-8 (WHATWG), and
/// `replacement` would throw the whole page away.
fn ascii_compatible(encoding: &'static Encoding) -> &'static Encoding {
    if encoding.is_ascii_compatible() && encoding != encoding_rs::REPLACEMENT {
        encoding
    } else {
        UTF_8
    }
}

/// More than a handful of replacement characters means the declaration is wrong, not that a
/// stray byte slipped in.
fn clearly_wrong(text: &str) -> bool {
    let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
    bad >= 8 || bad * 200 > text.chars().count()
}

/// The `charset` parameter of a Content-Type value.
pub fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
            .filter(|v| !v.is_empty())
    })
}

static META_CHARSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)"#)
        .expect("meta pattern compiles")
});

/// `<meta charset="big5">` or `<meta http-equiv="Content-Type" content="text/html; charset=big5">`
/// near the top of the document.
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(PRESCAN_BYTES)];
    META_CHARSET
        .captures_iter(head)
        .filter_map(|c| Encoding::for_label(c.get(1)?.as_bytes()))
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_utf8_shortcut_answers_as_chardetng_does() {
        let big5 = encoding_rs::BIG5
            .encode("台積電法說會前夕外資連三買")
            .0
            .into_owned();
        let gbk = encoding_rs::GBK.encode("央行维持利率不变").0.into_owned();
        let sjis = encoding_rs::SHIFT_JIS
            .encode("トヨタ自動車が決算発表")
            .0
            .into_owned();
        let inputs: Vec<Vec<u8>> = vec![
            "台積電法說會前夕外資連三買 <p>新聞</p>".as_bytes().to_vec(),
            b"plain ASCII page <a href=x>".to_vec(),
            "トヨタ自動車が決算発表".as_bytes().to_vec(),
            big5,
            gbk,
            sjis,
        ];
        for body in inputs {
            for tld in [None, Some("tw"), Some("cn"), Some("jp")] {
                let mut detector =
                    chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                detector.feed(&body, true);
                let full = detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Allow);
                assert_eq!(detect(&body, tld), full, "{body:?} {tld:?}");
            }
        }
    }

    const TAIWAN: &str = "<html><head><title>國際財經</title></head><body><ul><li>英特爾獲美資挹注仍難提振信評,惠譽:資金助流動性但競爭力難解</li><li>台積電法說會前夕外資連三買,市值再創新高</li></ul></body></html>";

    #[test]
    fn http_charset_wins_over_meta() {
        let (bytes, _, _) = encoding_rs::BIG5.encode(TAIWAN);
        let page = [b"<meta charset=\"utf-8\">".as_slice(), &bytes].concat();
        let decoded = decode(&page, Some("text/html; charset=Big5"), None);
        assert_eq!(decoded.encoding, encoding_rs::BIG5);
        assert_eq!(decoded.source, EncodingSource::HttpHeader);
        assert!(decoded.text.contains("英特爾獲美資挹注"));
    }

    #[test]
    fn meta_http_equiv_is_read() {
        let html = TAIWAN.replace(
            "<head>",
            "<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">",
        );
        let (bytes, _, _) = encoding_rs::BIG5.encode(&html);
        let decoded = decode(&bytes, Some("text/html"), Some("tw"));
        assert_eq!(decoded.source, EncodingSource::MetaTag);
        assert!(decoded.text.contains("台積電法說會前夕"));
    }

    #[test]
    fn gb2312_label_reads_as_gbk() {
        let html = "<meta charset=\"gb2312\"><p>贵州茅台(600519)半年报净利润同比增长 镕</p>";
        let (bytes, _, _) = encoding_rs::GBK.encode(html);
        let decoded = decode(&bytes, None, None);
        assert_eq!(decoded.encoding, encoding_rs::GBK);
        // 镕 is outside GB2312 proper; only a GBK reading gets it right.
        assert!(decoded.text.contains("镕"));
    }

    #[test]
    fn undeclared_utf8_is_not_mojibake() {
        let decoded = decode(TAIWAN.as_bytes(), Some("text/html"), Some("tw"));
        assert_eq!(decoded.encoding, UTF_8);
        assert!(decoded.text.contains("英特爾"));
    }

    #[test]
    fn undeclared_shift_jis_is_detected() {
        let html = "<html><body><h1>株式ニュース</h1><p>トヨタ自動車、通期の営業利益予想を上方修正 円安が追い風に。日経平均は続伸し、半導体関連株が買われた。</p></body></html>";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(html);
        let decoded = decode(&bytes, None, Some("jp"));
        assert_eq!(decoded.encoding, encoding_rs::SHIFT_JIS);
        assert!(decoded.text.contains("トヨタ自動車"));
    }

    #[test]
    fn wrong_http_charset_loses_to_the_bytes() {
        let page = TAIWAN.repeat(4);
        let (bytes, _, _) = encoding_rs::BIG5.encode(&page);
        let decoded = decode(&bytes, Some("text/html; charset=utf-8"), Some("tw"));
        assert_eq!(decoded.encoding, encoding_rs::BIG5);
        assert!(!decoded.had_errors);
        assert!(decoded.text.contains("英特爾獲美資挹注"));
    }

    #[test]
    fn bom_wins_over_everything() {
        let page = [b"\xEF\xBB\xBF".as_slice(), TAIWAN.as_bytes()].concat();
        let decoded = decode(&page, Some("text/html; charset=big5"), None);
        assert_eq!(decoded.source, EncodingSource::Bom);
        assert!(decoded.text.starts_with("<html>"));
    }

    #[test]
    fn charset_param_forms() {
        assert_eq!(
            charset_param("text/html; charset=\"Big5\"").as_deref(),
            Some("Big5")
        );
        assert_eq!(
            charset_param("text/html;CHARSET=gbk").as_deref(),
            Some("gbk")
        );
        assert_eq!(charset_param("text/html"), None);
    }
}
