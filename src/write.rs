//! Feed documents through the `rss` and `atom_syndication` types, so escaping is never hand-made.
//! Both crates write characters that XML 1.0 forbids as they are, so every string is made safe
//! here first.

use atom_syndication as atom;
use chrono::DateTime;
use chrono_tz::Tz;
use rss::extension::atom::AtomExtension;
use url::Url;

use crate::extract::text::{escape_markup, xml_safe};

pub const GENERATOR: &str = concat!("dateline ", env!("CARGO_PKG_VERSION"));

/// The stylesheet browsers apply to the feeds, next to them in the output folder.
pub const STYLESHEET: &str = "feed.xsl";

/// The `<?xml-stylesheet?>` line put after the XML declaration, so a browser shows a readable page.
const STYLESHEET_PI: &str = "\n<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>";

/// Put the stylesheet line after the XML declaration, in the document's own buffer (sized for
/// it by `document_buffer`): a second buffer and copy per document was 1,000 allocations and
/// 13 MB copied in a cold build of 500 feeds.
fn with_stylesheet(mut xml: Vec<u8>) -> Vec<u8> {
    if xml.starts_with(b"<?xml")
        && let Some(end) = xml.windows(2).position(|w| w == b"?>")
    {
        xml.splice(end + 2..end + 2, STYLESHEET_PI.bytes());
    }
    xml
}

/// A buffer for a feed document of these entries, big enough that writing it rarely grows it:
/// grown from empty, each document was copied about five times over (500 feeds: 11,500 growths
/// and 39 MB copied for 25 MB of feeds).
fn document_buffer(meta: &FeedMeta, entries: &[Entry]) -> Vec<u8> {
    // Markup, dates and the feed's own fields; each text at most twice (an id that is the link,
    // a link-less headline repeated as content), escaping aside.
    let feed = 2048 + meta.title.len() + meta.description.len() + meta.author.len();
    let items: usize = entries
        .iter()
        .map(|e| {
            256 + 2 * (e.title.len() + e.id.len() + e.link.as_ref().map_or(0, String::len))
                + e.summary.as_ref().map_or(0, |s| s.len() + s.len() / 8)
                + e.categories.iter().map(|c| c.len() + 48).sum::<usize>()
                + e.author.as_ref().map_or(0, |a| a.len() + 48)
                + e.image.as_ref().map_or(0, |i| i.as_str().len() + 80)
        })
        .sum();
    Vec::with_capacity(feed + items + STYLESHEET_PI.len())
}

/// What a feed says about itself.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    /// The listing page the items come from.
    pub source_url: Url,
    pub language: String,
    /// The public URL of the RSS file.
    pub rss_url: Url,
    /// The public URL of the Atom file; also the Atom feed's id.
    pub atom_url: Url,
    /// The public URL of the JSON Feed file.
    pub json_url: Url,
    /// When the feed's content last changed.
    pub updated: DateTime<Tz>,
    pub author: String,
}

/// One item as it is published.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    /// Stable across runs; an IRI (the canonical link, or a `urn:` for link-less items).
    pub id: String,
    pub title: String,
    /// An absolute URL, as `Url` writes it: entries are made from stored items, whose links
    /// were parsed when read (parsing them again for every render was 2 % of a cold build).
    pub link: Option<String>,
    pub published: Option<DateTime<Tz>>,
    /// Tickers (`TWSE:2330`) and, in merged feeds, the sources it came from.
    pub categories: Vec<String>,
    pub author: Option<String>,
    /// Plain text, from the article page.
    pub summary: Option<String>,
    pub image: Option<Url>,
}

/// Newest first; undated last; ties broken by link, then title, so equal input gives equal bytes.
pub fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| a.link.cmp(&b.link))
            .then_with(|| a.title.cmp(&b.title))
            .then_with(|| a.id.cmp(&b.id))
    });
}

pub fn rss(meta: &FeedMeta, entries: &[Entry]) -> Vec<u8> {
    let self_link = atom::Link {
        href: meta.rss_url.to_string(),
        rel: "self".into(),
        mime_type: Some("application/rss+xml".into()),
        ..Default::default()
    };
    let items: Vec<rss::Item> = entries
        .iter()
        .map(|entry| rss::Item {
            title: Some(xml_safe(&entry.title)),
            link: entry.link.clone(),
            // Readers take an RSS description as HTML: the plain-text summary is escaped for it,
            // so `<img onerror=…>` in a site's description stays text and `P/E < 10` reads right.
            description: entry
                .summary
                .as_deref()
                .map(|s| escape_markup(&xml_safe(s))),
            guid: Some(rss::Guid {
                value: xml_safe(&entry.id),
                permalink: entry.link.as_ref().is_some_and(|l| *l == entry.id),
            }),
            pub_date: entry.published.map(|at| at.to_rfc2822()),
            categories: entry
                .categories
                .iter()
                .map(|c| rss::Category {
                    name: xml_safe(c),
                    domain: None,
                })
                .collect(),
            // RSS `author` must be an e-mail address; a name goes in dc:creator.
            dublin_core_ext: entry.author.as_ref().map(|name| {
                rss::extension::dublincore::DublinCoreExtension {
                    creators: vec![xml_safe(name)],
                    ..Default::default()
                }
            }),
            enclosure: entry.image.as_ref().map(|image| rss::Enclosure {
                url: image.to_string(),
                length: "0".into(),
                mime_type: image_type(image).into(),
            }),
            ..Default::default()
        })
        .collect();
    let channel = rss::Channel {
        title: xml_safe(&meta.title),
        link: meta.source_url.to_string(),
        description: xml_safe(&meta.description),
        language: Some(meta.language.clone()),
        last_build_date: Some(meta.updated.to_rfc2822()),
        generator: Some(GENERATOR.into()),
        items,
        atom_ext: Some(AtomExtension {
            links: vec![self_link],
        }),
        ..Default::default()
    };
    let mut out = channel
        .pretty_write_to(document_buffer(meta, entries), b' ', 2)
        .expect("writing to memory cannot fail");
    out.push(b'\n');
    with_stylesheet(out)
}

pub fn atom(meta: &FeedMeta, entries: &[Entry]) -> Vec<u8> {
    let out = document_buffer(meta, entries);
    let link = |href: &Url, rel: &str, mime: &str| atom::Link {
        href: href.to_string(),
        rel: rel.into(),
        mime_type: Some(mime.into()),
        ..Default::default()
    };
    let author = atom::Person {
        name: xml_safe(&meta.author),
        uri: Some(meta.source_url.to_string()),
        ..Default::default()
    };
    // `atom::Entry::default()` parses its placeholder date from text each time: made once,
    // that parse was 1 % of a cold build.
    let blank = atom::Entry::default();
    let entries: Vec<atom::Entry> = entries
        .iter()
        .map(|entry| {
            // Atom needs `updated`; an undated entry is as new as the feed's last change.
            let when = entry.published.unwrap_or(meta.updated).fixed_offset();
            atom::Entry {
                id: xml_safe(&entry.id),
                title: atom::Text::plain(xml_safe(&entry.title)),
                links: entry
                    .link
                    .iter()
                    .map(|l| atom::Link {
                        href: l.to_string(),
                        rel: "alternate".into(),
                        mime_type: Some("text/html".into()),
                        ..Default::default()
                    })
                    .chain(entry.image.iter().map(|image| atom::Link {
                        href: image.to_string(),
                        rel: "enclosure".into(),
                        mime_type: Some(image_type(image).into()),
                        ..Default::default()
                    }))
                    .collect(),
                published: entry.published.map(|at| at.fixed_offset()),
                updated: when,
                authors: entry
                    .author
                    .iter()
                    .map(|name| atom::Person {
                        name: xml_safe(name),
                        ..Default::default()
                    })
                    .collect(),
                categories: entry
                    .categories
                    .iter()
                    .map(|c| atom::Category {
                        term: xml_safe(c),
                        ..Default::default()
                    })
                    .collect(),
                summary: entry
                    .summary
                    .as_deref()
                    .map(|s| atom::Text::plain(xml_safe(s))),
                // RFC 4287 wants content or an alternate link; a link-less item gets its headline.
                content: entry.link.is_none().then(|| atom::Content {
                    value: Some(xml_safe(&entry.title)),
                    content_type: Some("text".into()),
                    ..Default::default()
                }),
                ..blank.clone()
            }
        })
        .collect();
    let feed = atom::Feed {
        id: meta.atom_url.to_string(),
        title: atom::Text::plain(xml_safe(&meta.title)),
        subtitle: Some(atom::Text::plain(xml_safe(&meta.description))),
        updated: meta.updated.fixed_offset(),
        authors: vec![author],
        links: vec![
            link(&meta.atom_url, "self", "application/atom+xml"),
            link(&meta.source_url, "alternate", "text/html"),
        ],
        generator: Some(atom::Generator {
            value: "dateline".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        lang: Some(meta.language.clone()),
        entries,
        ..Default::default()
    };
    let mut out = feed.write_to(out).expect("writing to memory cannot fail");
    out.push(b'\n');
    with_stylesheet(out)
}

/// JSON Feed 1.1.
pub fn json_feed(meta: &FeedMeta, entries: &[Entry]) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Author<'a> {
        name: &'a str,
        url: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Item<'a> {
        id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
        title: &'a str,
        /// JSON Feed requires content: the summary, or the headline where there is none.
        content_text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        summary: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        date_published: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tags: Vec<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        authors: Vec<Name<'a>>,
        language: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Name<'a> {
        name: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Feed<'a> {
        version: &'static str,
        title: &'a str,
        home_page_url: &'a str,
        feed_url: &'a str,
        description: &'a str,
        language: &'a str,
        authors: Vec<Author<'a>>,
        items: Vec<Item<'a>>,
    }
    let feed = Feed {
        version: "https://jsonfeed.org/version/1.1",
        title: &meta.title,
        home_page_url: meta.source_url.as_str(),
        feed_url: meta.json_url.as_str(),
        description: &meta.description,
        language: &meta.language,
        authors: vec![Author {
            name: &meta.author,
            url: meta.source_url.as_str(),
        }],
        items: entries
            .iter()
            .map(|entry| Item {
                id: &entry.id,
                url: entry.link.as_deref(),
                title: &entry.title,
                content_text: entry.summary.as_deref().unwrap_or(&entry.title),
                summary: entry.summary.as_deref(),
                image: entry.image.as_ref().map(Url::as_str),
                date_published: entry.published.map(|at| at.to_rfc3339()),
                tags: entry.categories.iter().map(String::as_str).collect(),
                authors: entry.author.iter().map(|name| Name { name }).collect(),
                language: &meta.language,
            })
            .collect(),
    };
    let mut out = document_buffer(meta, entries);
    serde_json::to_writer_pretty(&mut out, &feed).expect("serialising plain data cannot fail");
    out.push(b'\n');
    out
}

/// A picture's media type by its extension (feeds need one for enclosures).
fn image_type(url: &Url) -> &'static str {
    let path = url.path().to_ascii_lowercase();
    if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".gif") {
        "image/gif"
    } else if path.ends_with(".webp") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

/// The entries of an Atom file this tool wrote, to recover a feed's history when its state is
/// gone. Anything unreadable gives no entries.
pub fn read_atom(bytes: &[u8]) -> Vec<Entry> {
    let Ok(feed) = atom::Feed::read_from(bytes) else {
        return Vec::new();
    };
    let tz: Tz = chrono_tz::UTC;
    feed.entries
        .into_iter()
        .map(|entry| Entry {
            link: entry
                .links
                .iter()
                .find(|l| l.rel == "alternate")
                .and_then(|l| Url::parse(&l.href).ok())
                .map(String::from),
            image: entry
                .links
                .iter()
                .find(|l| l.rel == "enclosure")
                .and_then(|l| Url::parse(&l.href).ok()),
            title: entry.title.value,
            published: Some(entry.published.unwrap_or(entry.updated).with_timezone(&tz)),
            categories: entry.categories.into_iter().map(|c| c.term).collect(),
            author: entry.authors.into_iter().next().map(|p| p.name),
            summary: entry.summary.map(|t| t.value),
            id: entry.id,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn meta() -> FeedMeta {
        let tz = chrono_tz::Asia::Taipei;
        FeedMeta {
            id: "intl".into(),
            title: "財訊快報 · 國際財經\u{1}".into(),
            description: "Headlines".into(),
            source_url: Url::parse("https://www.example.com.tw/list?a=1&b=2").unwrap(),
            language: "zh-TW".into(),
            rss_url: Url::parse("https://feeds.example.com/intl.xml").unwrap(),
            atom_url: Url::parse("https://feeds.example.com/intl.atom").unwrap(),
            json_url: Url::parse("https://feeds.example.com/intl.json").unwrap(),
            updated: tz.with_ymd_and_hms(2025, 8, 28, 15, 48, 0).unwrap(),
            author: "www.example.com.tw".into(),
        }
    }

    fn entry(title: &str, minute: u32) -> Entry {
        let link = format!("https://www.example.com.tw/n/{minute}");
        Entry {
            id: link.clone(),
            title: title.into(),
            link: Some(link),
            published: Some(
                chrono_tz::Asia::Taipei
                    .with_ymd_and_hms(2025, 8, 28, 15, minute, 0)
                    .unwrap(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn rss_carries_offsets_self_link_and_no_forbidden_characters() {
        let xml = String::from_utf8(rss(&meta(), &[entry("A\u{8} & <B>", 48)])).unwrap();
        assert!(
            xml.contains("<pubDate>Thu, 28 Aug 2025 15:48:00 +0800</pubDate>"),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<atom:link href="https://feeds.example.com/intl.xml" rel="self""#),
            "{xml}"
        );
        assert!(xml.contains("A &amp; &lt;B&gt;"), "{xml}");
        assert!(!xml.contains('\u{8}') && !xml.contains('\u{1}'));
        roxmltree::Document::parse(&xml).expect("well-formed");
    }

    #[test]
    fn summaries_stay_text_in_rss_descriptions() {
        let mut with_summary = entry("A", 48);
        with_summary.summary = Some("P/E < 10 & <img src=x onerror=alert(1)>".into());
        let xml = String::from_utf8(rss(&meta(), &[with_summary])).unwrap();
        // The rss crate writes descriptions as CDATA; inside it, the text is escaped as HTML so
        // that the reader shows text, not an element.
        assert!(xml.contains("<description><![CDATA[P/E &lt; 10 &amp; &lt;img src=x onerror=alert(1)&gt;]]></description>"), "{xml}");
    }

    #[test]
    fn atom_entries_have_real_dates() {
        let xml = String::from_utf8(atom(&meta(), &[entry("A", 48)])).unwrap();
        assert!(
            xml.contains("<published>2025-08-28T15:48:00+08:00</published>"),
            "{xml}"
        );
        assert!(
            xml.contains("<updated>2025-08-28T15:48:00+08:00</updated>"),
            "{xml}"
        );
        assert!(!xml.contains("1970"));
        roxmltree::Document::parse(&xml).expect("well-formed");
    }

    #[test]
    fn documents_are_written_into_a_buffer_they_fit() {
        // Forty items of every kind a feed carries: CJK headlines, summaries full of escapes,
        // tickers, bylines, pictures and a link-less item.
        let entries: Vec<Entry> = (0..40)
            .map(|i| {
                let mut e = entry(
                    &format!("台積電{i}月營收創新高，法人：AI需求續強 & <外資>"),
                    i % 60,
                );
                if i % 3 == 0 {
                    e.summary = Some("P/E < 10 & \"quoted\" <b>".repeat(20));
                    e.categories = vec!["TWSE:2330".into(), "NASDAQ:NVDA".into()];
                    e.author = Some("記者王小明".into());
                    e.image = Some(Url::parse("https://img.example.com.tw/p/1.jpg").unwrap());
                }
                if i == 7 {
                    e.link = None;
                    e.id = "urn:dateline:intl:7".into();
                }
                e
            })
            .collect();
        let room = document_buffer(&meta(), &entries).capacity();
        for (name, doc) in [
            ("rss", rss(&meta(), &entries)),
            ("atom", atom(&meta(), &entries)),
            ("json", json_feed(&meta(), &entries)),
        ] {
            assert!(
                doc.len() <= room,
                "{name}: {} bytes in a buffer of {room}",
                doc.len()
            );
            // Not grown, and not so large that the estimate wastes memory.
            assert_eq!(doc.capacity(), room, "{name} grew");
            assert!(
                doc.len() * 3 > room,
                "{name}: {} of {room} bytes used",
                doc.len()
            );
        }
        assert!(STYLESHEET_PI.contains(&format!("href=\"{STYLESHEET}\"")));
    }

    #[test]
    fn feeds_point_browsers_at_the_stylesheet() {
        for xml in [
            rss(&meta(), &[entry("A", 48)]),
            atom(&meta(), &[entry("A", 48)]),
        ] {
            let text = String::from_utf8(xml).unwrap();
            let decl_end = text.find("?>").unwrap();
            assert!(
                text[decl_end..]
                    .starts_with("?>\n<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>"),
                "{text}"
            );
            roxmltree::Document::parse(&text).unwrap();
        }
    }

    #[test]
    fn json_feed_has_offsets_and_ids() {
        let json: serde_json::Value =
            serde_json::from_slice(&json_feed(&meta(), &[entry("A", 48)])).unwrap();
        assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(json["feed_url"], "https://feeds.example.com/intl.json");
        assert_eq!(
            json["items"][0]["date_published"],
            "2025-08-28T15:48:00+08:00"
        );
        assert_eq!(json["items"][0]["id"], "https://www.example.com.tw/n/48");
        assert_eq!(json["items"][0]["language"], "zh-TW");
    }

    #[test]
    fn published_atom_reads_back() {
        let entries = vec![entry("A & B", 48), entry("C", 12)];
        let back = read_atom(&atom(&meta(), &entries));
        assert_eq!(back.len(), 2);
        for (got, want) in back.iter().zip(&entries) {
            assert_eq!(
                (&got.id, &got.title, &got.link),
                (&want.id, &want.title, &want.link)
            );
            assert_eq!(
                got.published.unwrap().timestamp(),
                want.published.unwrap().timestamp()
            );
        }
        assert!(read_atom(b"not xml").is_empty());
    }

    #[test]
    fn sort_is_newest_first_with_link_tie_break() {
        let mut entries = vec![entry("a", 1), entry("b", 5), entry("c", 5)];
        entries[2].link = Some("https://www.example.com.tw/a".into());
        sort_entries(&mut entries);
        let titles: Vec<&str> = entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["c", "b", "a"]);
    }
}
