//! An article page, read once for what the listing lacks: a summary (its description, else its
//! first paragraphs, sanitised with ammonia), the author, the picture, and the publication time.

use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

use crate::dates::{self, DateContext};
use crate::enrich;
use crate::extract::text::{clean, element_text};
use crate::store::Article;

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("article selector")
}

static DESCRIPTION: LazyLock<Selector> = LazyLock::new(|| {
    sel(
        "meta[property='og:description'], meta[name='description'], meta[name='twitter:description']",
    )
});
static AUTHOR_META: LazyLock<Selector> =
    LazyLock::new(|| sel("meta[name='author'], meta[property='article:author'], meta[name='byl']"));
static IMAGE: LazyLock<Selector> =
    LazyLock::new(|| sel("meta[property='og:image'], meta[name='twitter:image']"));
static PUBLISHED_META: LazyLock<Selector> = LazyLock::new(|| {
    sel(
        "meta[property='article:published_time'], meta[name='pubdate'], meta[itemprop='datePublished'], meta[name='publish-date']",
    )
});
static TIME: LazyLock<Selector> = LazyLock::new(|| sel("article time[datetime], time[datetime]"));
static LD_JSON: LazyLock<Selector> = LazyLock::new(|| sel("script[type='application/ld+json']"));
static PARAGRAPHS: LazyLock<Selector> =
    LazyLock::new(|| sel("article p, [itemprop='articleBody'] p, main p, p"));

/// Read what an article page says about itself.
pub fn read_article(
    html: &str,
    page_url: &Url,
    summary_chars: usize,
    ctx: &DateContext,
) -> Article {
    let document = Html::parse_document(html);
    let meta = |selector: &Selector| {
        document
            .select(selector)
            .filter_map(|m| m.value().attr("content"))
            .map(clean)
            .find(|v| !v.is_empty())
    };
    let paragraphs: Vec<String> = document
        .select(&PARAGRAPHS)
        .map(element_text)
        .filter(|t| t.chars().count() >= 20)
        .take(3)
        .collect();
    let summary = meta(&DESCRIPTION)
        .or_else(|| (!paragraphs.is_empty()).then(|| paragraphs.join(" ")))
        .map(|text| sanitise(&text))
        .map(|text| shorten(&text, summary_chars))
        .filter(|t| !t.is_empty());
    let ld = ld_json_article(&document);
    let author = meta(&AUTHOR_META)
        .filter(|a| !a.starts_with("http"))
        .or_else(|| ld.as_ref().and_then(ld_author))
        .or_else(|| {
            paragraphs
                .iter()
                .find_map(|p| enrich::byline(p).and_then(|b| b.author))
        });
    // Only pictures a reader can load: no data: or javascript: URLs.
    let image = meta(&IMAGE)
        .and_then(|src| page_url.join(&src).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.to_string());
    let published = meta(&PUBLISHED_META)
        .or_else(|| {
            ld.as_ref()
                .and_then(|v| v.get("datePublished"))
                .and_then(|d| d.as_str().map(str::to_string))
        })
        .or_else(|| {
            document
                .select(&TIME)
                .find_map(|t| t.value().attr("datetime").map(str::to_string))
        })
        .and_then(|text| dates::read(&text, ctx))
        .and_then(|stamp| stamp.instant(ctx.tz))
        .map(|at| at.timestamp());
    Article {
        summary,
        author,
        image,
        published,
        error: None,
    }
}

/// Plain text, whatever markup a description carried (some sites put HTML in it).
fn sanitise(text: &str) -> String {
    let no_tags = ammonia::Builder::empty().clean(text).to_string();
    // ammonia leaves entities escaped; the feed writers escape again, so decode them back.
    let decoded = Html::parse_fragment(&no_tags)
        .root_element()
        .text()
        .collect::<String>();
    clean(&decoded)
}

/// At most `limit` characters, cut at a word or sentence boundary where one is near, with `…`.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let boundary = cut
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, ' ' | '。' | '，' | ',' | '、' | '；' | ';'))
        .map(|(i, _)| i)
        .filter(|i| *i * 3 > cut.len() * 2)
        .unwrap_or(cut.len());
    format!("{}…", cut[..boundary].trim_end())
}

fn ld_json_article(document: &Html) -> Option<serde_json::Value> {
    document
        .select(&LD_JSON)
        .filter_map(|s| {
            serde_json::from_str::<serde_json::Value>(&s.text().collect::<String>()).ok()
        })
        .flat_map(|v| match v {
            serde_json::Value::Array(list) => list,
            other => vec![other],
        })
        .find(|v| {
            v.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.ends_with("Article") || t == "Report")
        })
}

fn ld_author(article: &serde_json::Value) -> Option<String> {
    let author = article.get("author")?;
    let first = match author {
        serde_json::Value::Array(list) => list.first()?,
        other => other,
    };
    first
        .get("name")
        .and_then(|n| n.as_str())
        .or_else(|| first.as_str())
        .map(clean)
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn ctx() -> DateContext {
        DateContext {
            tz: chrono_tz::Asia::Taipei,
            now: DateTime::parse_from_rfc3339("2025-08-28T16:00:00+08:00")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn reads_description_author_picture_and_time() {
        let html = r#"<html><head>
            <meta property="og:description" content="台積電今天召開法說會，&lt;b&gt;外資&lt;/b&gt;連三買。">
            <meta name="author" content="陳孟朔">
            <meta property="og:image" content="/img/tsmc.jpg">
            <meta property="article:published_time" content="2025-08-28T15:48:00+08:00">
            </head><body><article><p>正文第一段。</p></article></body></html>"#;
        let article = read_article(
            html,
            &Url::parse("https://news.example.com/a/1").unwrap(),
            200,
            &ctx(),
        );
        assert_eq!(
            article.summary.as_deref(),
            Some("台積電今天召開法說會，外資連三買。")
        );
        assert_eq!(article.author.as_deref(), Some("陳孟朔"));
        assert_eq!(
            article.image.as_deref(),
            Some("https://news.example.com/img/tsmc.jpg")
        );
        assert_eq!(article.published, Some(1756367280));
    }

    #[test]
    fn falls_back_to_paragraphs_and_bylines_and_shortens() {
        let body = "（中央社記者吳家豪台北28日電）台積電今天召開董事會，通過資本預算，市場關注先進封裝擴產進度，法人預估下半年營收續創新高。";
        let html = format!(
            "<html><body><article><p>{body}</p><p>第二段內容也很長，談到供應鏈與客戶需求的最新變化。</p></article></body></html>"
        );
        let article = read_article(
            &html,
            &Url::parse("https://cna.example/a").unwrap(),
            40,
            &ctx(),
        );
        let summary = article.summary.unwrap();
        assert!(
            summary.chars().count() <= 41 && summary.ends_with('…'),
            "{summary}"
        );
        assert_eq!(article.author.as_deref(), Some("吳家豪"));
        assert_eq!(article.published, None);
    }
}
