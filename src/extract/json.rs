//! Listings that arrive as JSON: an API's response, or data embedded in the page
//! (`__NEXT_DATA__`, `ld+json`, `<script id=…>`, `window.NAME = {…}`). Configured with JSON
//! Pointers (`[feeds.json]`), or found in auto mode like the HTML listing finder: an array of
//! objects whose members carry a headline and a date.

use std::sync::LazyLock;

use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

use super::Item;
use super::auto::is_headline;
use super::text::{clean, resolve_link};
use crate::dates::{self, DateContext, Stamp};

/// Where the JSON document is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum JsonSource {
    /// The response itself is JSON.
    Body,
    /// `<script id="__NEXT_DATA__">`.
    NextData,
    /// Each `<script type="application/ld+json">`, the first where `items` matches.
    LdJson,
    /// `<script id="ID">`.
    ScriptId(String),
    /// A script assigning `window.NAME = {…}`.
    Window(String),
}

impl JsonSource {
    /// Read the `source` key of `[feeds.json]`.
    pub fn parse(text: &str) -> Result<JsonSource, String> {
        let text = text.trim();
        if text == "next-data" {
            return Ok(JsonSource::NextData);
        }
        if text == "ld+json" {
            return Ok(JsonSource::LdJson);
        }
        if text == "body" {
            return Ok(JsonSource::Body);
        }
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-'))
        };
        if let Some(id) = text.strip_prefix("script#").filter(|id| name_ok(id)) {
            return Ok(JsonSource::ScriptId(id.to_string()));
        }
        if let Some(name) = text.strip_prefix("window.").filter(|n| name_ok(n)) {
            return Ok(JsonSource::Window(name.to_string()));
        }
        Err(format!(
            "unknown source {text:?} (use \"next-data\", \"ld+json\", \"script#ID\" or \"window.NAME\")"
        ))
    }

    pub fn describe(&self) -> String {
        match self {
            JsonSource::Body => "the response".into(),
            JsonSource::NextData => "<script id=\"__NEXT_DATA__\">".into(),
            JsonSource::LdJson => "<script type=\"application/ld+json\">".into(),
            JsonSource::ScriptId(id) => format!("<script id=\"{id}\">"),
            JsonSource::Window(name) => format!("window.{name}"),
        }
    }

    /// As written in `[feeds.json]`.
    pub fn config_value(&self) -> Option<String> {
        match self {
            JsonSource::Body => None,
            JsonSource::NextData => Some("next-data".into()),
            JsonSource::LdJson => Some("ld+json".into()),
            JsonSource::ScriptId(id) => Some(format!("script#{id}")),
            JsonSource::Window(name) => Some(format!("window.{name}")),
        }
    }
}

/// How an item's link is made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LinkSpec {
    Pointer(String),
    /// `https://news.example.com/news/id/{newsId}`: fields of the item in braces.
    Template(String),
}

impl LinkSpec {
    pub fn parse(text: &str) -> Result<LinkSpec, String> {
        if text.contains('{') {
            if !text.contains('}') {
                return Err(format!("link template {text:?} has an unclosed {{"));
            }
            Ok(LinkSpec::Template(text.to_string()))
        } else {
            check_pointer(text).map(|()| LinkSpec::Pointer(text.to_string()))
        }
    }
}

/// `[feeds.json]`, checked.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JsonConfig {
    pub source: JsonSource,
    pub items: String,
    pub title: String,
    pub link: Option<LinkSpec>,
    pub date: Option<String>,
    pub date_format: Option<String>,
}

/// A JSON Pointer (RFC 6901) is empty or starts with `/`.
pub fn check_pointer(pointer: &str) -> Result<(), String> {
    if pointer.is_empty() || pointer.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "{pointer:?} is not a JSON Pointer (it starts with \"/\", e.g. \"/data/items\")"
        ))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonError {
    #[error("no {0} on the page")]
    SourceMissing(String),
    #[error("bad JSON in {place}: {error}")]
    BadJson { place: String, error: String },
    #[error("items path {path:?} matches nothing in {place}: {found}")]
    PathMissing {
        path: String,
        place: String,
        found: String,
    },
    #[error("items path {path:?} in {place} is {found}, not an array of items")]
    NotArray {
        path: String,
        place: String,
        found: String,
    },
    #[error(
        "title {title:?} matches no text in any of the {count} items at {path:?} (the first has {found})"
    )]
    NoTitles {
        title: String,
        path: String,
        count: usize,
        found: String,
    },
}

/// A short description of a JSON value, for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", s.chars().take(40).collect::<String>()),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(12).map(String::as_str).collect();
            format!("an object with keys [{}]", keys.join(", "))
        }
    }
}

/// The deepest part of `pointer` that exists, and what is there, to say where a path went wrong.
fn nearest(root: &Value, pointer: &str) -> String {
    let mut prefix = String::new();
    let mut at = root;
    for token in pointer.split('/').skip(1) {
        let next = format!("{prefix}/{token}");
        match root.pointer(&next) {
            Some(value) => {
                prefix = next;
                at = value;
            }
            None => break,
        }
    }
    let shown = if prefix.is_empty() {
        "the top"
    } else {
        prefix.as_str()
    };
    format!("{shown} is {}", describe(at))
}

static NEXT_DATA: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script#__NEXT_DATA__").expect("selector"));
static LD_JSON: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script[type='application/ld+json']").expect("selector"));
static JSON_SCRIPTS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("script[type='application/json'], script[type='application/ld+json']")
        .expect("selector")
});
static SCRIPTS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("script").expect("selector"));

fn parse_json(text: &str, source: &JsonSource) -> Result<Value, JsonError> {
    serde_json::from_str(text.trim()).map_err(|e| JsonError::BadJson {
        place: source.describe(),
        error: e.to_string(),
    })
}

/// The JSON value assigned to `window.NAME` in any script: the first whole value after `=`.
fn window_value(document: &Html, name: &str) -> Option<Result<Value, JsonError>> {
    let patterns = [
        format!("window.{name}"),
        format!("window[\"{name}\"]"),
        format!("window['{name}']"),
    ];
    let mut first_error = None;
    for script in document.select(&SCRIPTS) {
        let text: String = script.text().collect();
        for pattern in &patterns {
            for (at, _) in text.match_indices(pattern.as_str()) {
                let after = &text[at + pattern.len()..];
                // `window.__DATA_CONFIG` is another name; `==` is a comparison.
                if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
                    continue;
                }
                let Some(rest) = after
                    .trim_start()
                    .strip_prefix('=')
                    .filter(|r| !r.starts_with('='))
                else {
                    continue;
                };
                // One value, then whatever script follows it.
                match serde_json::Deserializer::from_str(rest.trim_start())
                    .into_iter::<Value>()
                    .next()
                {
                    Some(Ok(value)) => return Some(Ok(value)),
                    Some(Err(e)) => {
                        first_error.get_or_insert(JsonError::BadJson {
                            place: format!("window.{name}"),
                            error: e.to_string(),
                        });
                    }
                    None => {}
                }
            }
        }
    }
    first_error.map(Err)
}

/// The JSON documents `source` names in a page: one, or every ld+json block.
fn documents(body: &str, is_json: bool, source: &JsonSource) -> Result<Vec<Value>, JsonError> {
    if *source == JsonSource::Body || is_json {
        return Ok(vec![parse_json(body, &JsonSource::Body)?]);
    }
    let document = Html::parse_document(body);
    let script_text = |selector: &Selector| {
        document
            .select(selector)
            .next()
            .map(|s| s.text().collect::<String>())
    };
    match source {
        JsonSource::Body => unreachable!("handled above"),
        JsonSource::NextData => {
            let text = script_text(&NEXT_DATA)
                .ok_or_else(|| JsonError::SourceMissing(source.describe()))?;
            Ok(vec![parse_json(&text, source)?])
        }
        JsonSource::ScriptId(id) => {
            let selector = Selector::parse(&format!("script[id='{id}']"))
                .map_err(|_| JsonError::SourceMissing(source.describe()))?;
            let text = script_text(&selector)
                .ok_or_else(|| JsonError::SourceMissing(source.describe()))?;
            Ok(vec![parse_json(&text, source)?])
        }
        JsonSource::Window(name) => window_value(&document, name)
            .ok_or_else(|| JsonError::SourceMissing(source.describe()))?
            .map(|v| vec![v]),
        JsonSource::LdJson => {
            let blocks: Vec<Value> = document
                .select(&LD_JSON)
                .filter_map(|s| serde_json::from_str(s.text().collect::<String>().trim()).ok())
                .collect();
            if blocks.is_empty() {
                return Err(JsonError::SourceMissing(source.describe()));
            }
            // A block may itself be an array, or hold a @graph of nodes.
            let mut nodes = Vec::new();
            for block in blocks {
                match block {
                    Value::Array(list) => nodes.extend(list),
                    Value::Object(ref map) if map.get("@graph").is_some_and(Value::is_array) => {
                        if let Some(Value::Array(graph)) = map.get("@graph") {
                            nodes.extend(graph.iter().cloned());
                        }
                        nodes.push(block);
                    }
                    other => nodes.push(other),
                }
            }
            Ok(nodes)
        }
    }
}

/// The text of a JSON value for a title or date: strings as they are, numbers as digits.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What a value put into a link template must not carry as it is: it would change the URL's
/// structure. Everything else (letters, digits, `-_.~` and the like) stays readable.
/// `/` and `%` stay: a value may be a path (`2025/08/abc`) or already percent-encoded.
const TEMPLATE_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `{newsId}` and `{/a/b}` replaced by the item's values.
fn fill_template(template: &str, item: &Value) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let key = &rest[open + 1..close];
        let value = if key.starts_with('/') {
            item.pointer(key)
        } else {
            item.get(key)
        }?;
        let text = value_text(value)?;
        out.extend(percent_encoding::utf8_percent_encode(&text, TEMPLATE_VALUE));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn item_date(value: Option<&Value>, format: Option<&str>, ctx: &DateContext) -> Option<Stamp> {
    let text = value_text(value?)?;
    match format {
        Some(format) => dates::read_with_format(&text, format, ctx),
        None => dates::read_field(&text, ctx),
    }
}

/// Markup that APIs leave in their text fields (`台積電 &amp; 聯電`, `&#8217;`, `<b>…</b>`),
/// made the text a reader should see, as an HTML page's would be: tags dropped, then character
/// references decoded (so an escaped `&lt;b&gt;` stays as written text).
fn shown_text(raw: &str) -> String {
    static TAG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"</?([A-Za-z][A-Za-z0-9]*)[^<>]*>").expect("tag pattern compiles")
    });
    let untagged = if raw.contains('<') {
        // Inline tags run on with the words beside them; others break them, as on a page.
        TAG.replace_all(raw, |tag: &regex::Captures| {
            if super::text::is_inline(&tag[1].to_ascii_lowercase()) {
                ""
            } else {
                " "
            }
        })
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    clean(&super::charref::decode(&untagged, false))
}

fn to_item(
    item: &Value,
    title: &str,
    link: Option<&LinkSpec>,
    date: Option<&str>,
    date_format: Option<&str>,
    page_url: &Url,
    ctx: &DateContext,
) -> Option<Item> {
    let title = shown_text(&value_text(item.pointer(title)?)?);
    if title.is_empty() {
        return None;
    }
    let link = link.and_then(|spec| {
        let href = match spec {
            LinkSpec::Pointer(p) => value_text(item.pointer(p)?)?,
            LinkSpec::Template(t) => fill_template(t, item)?,
        };
        resolve_link(&href, page_url)
    });
    let published = item_date(date.and_then(|d| item.pointer(d)), date_format, ctx)
        .and_then(|stamp| stamp.instant(ctx.tz))
        .map(dates::truncate_to_seconds);
    // An author or source field, where the API has one, is the item's byline.
    let context = ["/author", "/source", "/sourceName", "/byline", "/creator"]
        .iter()
        .find_map(|p| item.pointer(p).and_then(value_text))
        .map(|t| shown_text(&t));
    Some(Item {
        title,
        link,
        published,
        context,
    })
}

/// Items by a `[feeds.json]` config.
pub fn extract_configured(
    body: &str,
    is_json: bool,
    page_url: &Url,
    config: &JsonConfig,
    ctx: &DateContext,
) -> Result<Vec<Item>, JsonError> {
    let documents = documents(body, is_json, &config.source)?;
    let source = if is_json {
        JsonSource::Body
    } else {
        config.source.clone()
    };
    // Several ld+json blocks may have the path (a BreadcrumbList's itemListElement too): the
    // first whose array gives items wins; otherwise the first problem is the one reported.
    let mut first_problem = None;
    for document in &documents {
        let Some(found) = document.pointer(&config.items) else {
            continue;
        };
        let Value::Array(list) = found else {
            first_problem.get_or_insert(JsonError::NotArray {
                path: config.items.clone(),
                place: source.describe(),
                found: describe(found),
            });
            continue;
        };
        let items: Vec<Item> = list
            .iter()
            .filter_map(|item| {
                to_item(
                    item,
                    &config.title,
                    config.link.as_ref(),
                    config.date.as_deref(),
                    config.date_format.as_deref(),
                    page_url,
                    ctx,
                )
            })
            .collect();
        if !items.is_empty() || list.is_empty() {
            return Ok(super::dedupe_by_link(items));
        }
        first_problem.get_or_insert(JsonError::NoTitles {
            title: config.title.clone(),
            path: config.items.clone(),
            count: list.len(),
            found: describe(&list[0]),
        });
    }
    Err(first_problem.unwrap_or_else(|| JsonError::PathMissing {
        path: config.items.clone(),
        place: source.describe(),
        found: documents
            .first()
            .map_or_else(|| "nothing".into(), |d| nearest(d, &config.items)),
    }))
}

/// A listing found in JSON without a config.
#[derive(Debug, Clone)]
pub struct JsonListing {
    pub source: JsonSource,
    pub config: JsonConfig,
    pub items: Vec<Item>,
    pub score: f64,
}

/// Fields whose values are links to pages: absolute URLs or root-relative paths, not pictures.
fn looks_like_link(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or("");
    let picture = [
        ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif", ".mp4", ".mp3",
    ]
    .iter()
    .any(|ext| path.ends_with(ext));
    (text.starts_with("http://") || text.starts_with("https://") || text.starts_with('/'))
        && !text.contains(char::is_whitespace)
        && text.len() > 1
        && !picture
}

/// How much a field's name says "the article's address".
fn link_name_rank(pointer: &str) -> i32 {
    let name = pointer
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if [
        "img", "image", "pic", "cover", "thumb", "icon", "avatar", "logo", "video", "audio",
    ]
    .iter()
    .any(|w| name.contains(w))
    {
        -2
    } else if ["url", "link", "href", "permalink", "canonical", "share"]
        .iter()
        .any(|w| name.contains(w))
    {
        2
    } else {
        0
    }
}

/// Every JSON document a page carries, with where it came from.
fn all_documents(body: &str, is_json: bool) -> Vec<(JsonSource, Value)> {
    if is_json {
        return serde_json::from_str(body.trim())
            .map(|v| vec![(JsonSource::Body, v)])
            .unwrap_or_default();
    }
    let document = Html::parse_document(body);
    let mut found = Vec::new();
    if let Some(text) = document
        .select(&NEXT_DATA)
        .next()
        .map(|s| s.text().collect::<String>())
        && let Ok(value) = serde_json::from_str(text.trim())
    {
        found.push((JsonSource::NextData, value));
    }
    for script in document.select(&JSON_SCRIPTS) {
        if script.value().id() == Some("__NEXT_DATA__") {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(script.text().collect::<String>().trim())
        else {
            continue;
        };
        let source = match script.value().id() {
            Some(id) if script.value().attr("type") != Some("application/ld+json") => {
                JsonSource::ScriptId(id.to_string())
            }
            _ => JsonSource::LdJson,
        };
        found.push((source, value));
    }
    // window.NAME = {…} assignments in inline scripts.
    for script in document.select(&SCRIPTS) {
        let text: String = script.text().collect();
        let mut from = 0;
        while let Some(at) = text[from..].find("window.") {
            let start = from + at + "window.".len();
            let name: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$'))
                .collect();
            from = start + name.len();
            if name.is_empty() {
                continue;
            }
            let rest = text[from..].trim_start();
            let Some(rest) = rest.strip_prefix('=').filter(|r| !r.starts_with('=')) else {
                continue;
            };
            let rest = rest.trim_start();
            if !rest.starts_with(['{', '[']) {
                continue;
            }
            if let Some(Ok(value)) = serde_json::Deserializer::from_str(rest)
                .into_iter::<Value>()
                .next()
            {
                found.push((JsonSource::Window(name), value));
            }
        }
    }
    found
}

/// Find the JSON array that reads most like a dated listing.
pub fn find_listings(
    body: &str,
    is_json: bool,
    page_url: &Url,
    ctx: &DateContext,
) -> Vec<JsonListing> {
    let mut listings = Vec::new();
    for (source, document) in all_documents(body, is_json) {
        let mut arrays = Vec::new();
        collect_arrays(&document, String::new(), &mut arrays, 0);
        // ld+json nodes are separate documents: their paths start at each node.
        for (path, list) in arrays {
            if let Some(listing) = judge_array(&source, &path, list, page_url, ctx) {
                listings.push(listing);
            }
        }
    }
    listings.sort_by(|a, b| b.score.total_cmp(&a.score));
    listings
}

fn collect_arrays<'a>(
    value: &'a Value,
    path: String,
    out: &mut Vec<(String, &'a Vec<Value>)>,
    depth: usize,
) {
    if depth > 12 {
        return;
    }
    match value {
        Value::Array(list) => {
            if list.len() >= 3 && list.iter().filter(|v| v.is_object()).count() * 2 > list.len() {
                out.push((path.clone(), list));
            }
            for (i, inner) in list.iter().enumerate().take(50) {
                collect_arrays(inner, format!("{path}/{i}"), out, depth + 1);
            }
        }
        Value::Object(map) => {
            for (key, inner) in map {
                let token = key.replace('~', "~0").replace('/', "~1");
                collect_arrays(inner, format!("{path}/{token}"), out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Pointers to the string and number fields of an item, one level of nesting deep.
fn field_pointers(item: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(map) = item {
        for (key, value) in map {
            let token = key.replace('~', "~0").replace('/', "~1");
            match value {
                Value::String(_) | Value::Number(_) => out.push(format!("/{token}")),
                Value::Object(inner) => {
                    for (key2, value2) in inner {
                        if matches!(value2, Value::String(_) | Value::Number(_)) {
                            let token2 = key2.replace('~', "~0").replace('/', "~1");
                            out.push(format!("/{token}/{token2}"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// How much a field's name says "this is the headline".
fn title_name_rank(pointer: &str) -> i32 {
    let name = pointer
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if ["title", "headline", "heading"]
        .iter()
        .any(|w| name.contains(w))
    {
        2
    } else if [
        "summary", "desc", "abstract", "content", "body", "intro", "excerpt",
    ]
    .iter()
    .any(|w| name.contains(w))
    {
        -1
    } else {
        0
    }
}

/// How much a field's name says "when this was published".
fn date_name_rank(pointer: &str) -> i32 {
    let name = pointer
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if [
        "publish", "pubdate", "pub_date", "release", "posted", "issued",
    ]
    .iter()
    .any(|w| name.contains(w))
    {
        2
    } else if ["update", "modif", "edit", "expire", "end", "last"]
        .iter()
        .any(|w| name.contains(w))
    {
        -1
    } else if ["date", "time", "created", "at"]
        .iter()
        .any(|w| name.contains(w))
    {
        1
    } else {
        0
    }
}

/// Fields judged per array.
const MAX_FIELDS: usize = 64;

fn judge_array(
    source: &JsonSource,
    path: &str,
    list: &[Value],
    page_url: &Url,
    ctx: &DateContext,
) -> Option<JsonListing> {
    let sample: Vec<&Value> = list.iter().take(60).collect();
    // Items with thousands of keys are data dumps, not listings; judging stays bounded.
    let mut seen_fields = std::collections::HashSet::new();
    let mut fields: Vec<String> = Vec::new();
    for item in &sample {
        for pointer in field_pointers(item) {
            if fields.len() < MAX_FIELDS && seen_fields.insert(pointer.clone()) {
                fields.push(pointer);
            }
        }
    }
    let share = |test: &dyn Fn(&str) -> bool, pointer: &str| {
        sample
            .iter()
            .filter(|item| {
                item.pointer(pointer)
                    .and_then(value_text)
                    .is_some_and(|t| t.len() <= 600 && test(&t))
            })
            .count() as f64
            / sample.len() as f64
    };
    let mean_len = |pointer: &str| {
        let texts: Vec<usize> = sample
            .iter()
            .filter_map(|item| item.pointer(pointer).and_then(value_text))
            .map(|t| t.chars().count())
            .collect();
        texts.iter().sum::<usize>() as f64 / texts.len().max(1) as f64
    };
    // The headline: most often headline-like (words with spaces between them, or CJK; a slug
    // is not a headline), named like one, and short of a summary's length.
    let headline_like = |t: &str| {
        let t = clean(t);
        is_headline(&t) && (t.contains(' ') || !t.is_ascii())
    };
    let title = fields
        .iter()
        .map(|f| (f, share(&headline_like, f), title_name_rank(f), mean_len(f)))
        .filter(|(_, s, _, len)| *s >= 0.6 && *len <= 160.0)
        .max_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then(a.2.cmp(&b.2))
                .then(b.3.total_cmp(&a.3))
        })?
        .0
        .clone();
    let is_date = |t: &str| matches!(dates::read(t, ctx), Some(Stamp::At(_) | Stamp::Day(_)));
    // Among equally readable dates, the publication date, not an update or expiry time.
    let date = fields
        .iter()
        .filter(|f| **f != title)
        .map(|f| (f, share(&is_date, f), date_name_rank(f)))
        .filter(|(_, s, _)| *s >= 0.6)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)))?
        .0
        .clone();
    let link = fields
        .iter()
        .filter(|f| **f != title && **f != date)
        .map(|f| (f, share(&looks_like_link, f), link_name_rank(f)))
        .filter(|(_, s, rank)| *s >= 0.6 && *rank > -2)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)))
        .map(|(f, _, _)| LinkSpec::Pointer(f.clone()));
    let config = JsonConfig {
        source: source.clone(),
        items: path.to_string(),
        title,
        link,
        date: Some(date),
        date_format: None,
    };
    let items: Vec<Item> = list
        .iter()
        .filter_map(|item| {
            to_item(
                item,
                &config.title,
                config.link.as_ref(),
                config.date.as_deref(),
                None,
                page_url,
                ctx,
            )
        })
        .filter(|item| item.published.is_some())
        .collect();
    let items = super::dedupe_by_link(items);
    if items.len() < 2 {
        return None;
    }
    let share_dated = items.len() as f64 / list.len() as f64;
    let linked = if config.link.is_some() { 1.0 } else { 0.5 };
    Some(JsonListing {
        source: source.clone(),
        score: items.len() as f64 * share_dated * linked,
        config,
        items,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn markup_in_api_text_is_made_the_text_a_reader_sees() {
        assert_eq!(
            shown_text("台積電ADR上漲 &amp; 走高"),
            "台積電ADR上漲 & 走高"
        );
        assert_eq!(
            shown_text("Nvidia&#8217;s&nbsp;outlook"),
            "Nvidia\u{2019}s outlook"
        );
        assert_eq!(shown_text("<b>鴻海</b>營收<br>創高"), "鴻海營收 創高");
        // Escaped markup is text the site meant to show.
        assert_eq!(shown_text("&lt;b&gt; is bold"), "<b> is bold");
        assert_eq!(shown_text("a < b and c > d"), "a < b and c > d");
    }
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

    const API: &str = r#"{"items":{"total":3,"data":[
        {"newsId":1,"title":"台積電法說會前夕外資連三買","publishAt":1756367280,"stock":["2330"]},
        {"newsId":2,"title":"鴻海八月營收年增一成二","publishAt":1756363680},
        {"newsId":3,"title":"聯發科新晶片量產法人上修","publishAt":1756360080}]},
        "trending":[{"title":"熱門一則很長的標題文字"},{"title":"熱門二則很長的標題文字"},{"title":"熱門三則很長的標題文字"}]}"#;

    fn page() -> Url {
        Url::parse("https://api.example.com/media/api/v1/newslist").unwrap()
    }

    #[test]
    fn configured_paths_and_link_templates() {
        let config = JsonConfig {
            source: JsonSource::Body,
            items: "/items/data".into(),
            title: "/title".into(),
            link: Some(LinkSpec::parse("https://news.example.com/news/id/{newsId}").unwrap()),
            date: Some("/publishAt".into()),
            date_format: None,
        };
        let items = extract_configured(API, true, &page(), &config, &ctx()).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0].link.as_ref().unwrap().as_str(),
            "https://news.example.com/news/id/1"
        );
        assert_eq!(
            items[0].published.unwrap().to_rfc3339(),
            "2025-08-28T15:48:00+08:00"
        );
    }

    #[test]
    fn errors_say_where_the_path_went_wrong() {
        let mut config = JsonConfig {
            source: JsonSource::Body,
            items: "/items/list".into(),
            title: "/title".into(),
            link: None,
            date: None,
            date_format: None,
        };
        let err = extract_configured(API, true, &page(), &config, &ctx()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "items path \"/items/list\" matches nothing in the response: /items is an object with keys [data, total]"
        );
        config.items = "/items/total".into();
        let err = extract_configured(API, true, &page(), &config, &ctx()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "items path \"/items/total\" in the response is a number (3), not an array of items"
        );
        config.items = "/items/data".into();
        config.title = "/headline".into();
        let err = extract_configured(API, true, &page(), &config, &ctx()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("title \"/headline\" matches no text in any of the 3 items"),
            "{err}"
        );
        let err =
            extract_configured("{\"items\": [1, 2,", true, &page(), &config, &ctx()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bad JSON in the response: EOF while parsing"),
            "{err}"
        );
        let err = extract_configured(
            "<html></html>",
            false,
            &page(),
            &JsonConfig {
                source: JsonSource::NextData,
                ..config
            },
            &ctx(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no <script id=\"__NEXT_DATA__\"> on the page"
        );
    }

    #[test]
    fn auto_finds_the_dated_array_not_the_trending_one() {
        let found = find_listings(API, true, &page(), &ctx());
        let best = &found[0];
        assert_eq!(best.config.items, "/items/data");
        assert_eq!(best.config.title, "/title");
        assert_eq!(best.config.date.as_deref(), Some("/publishAt"));
        assert_eq!(best.items.len(), 3);
    }

    #[test]
    fn window_state_is_read_up_to_the_end_of_its_value() {
        let html = r#"<html><head><script>window.__INITIAL_STATE__ = {"list":[
            {"t":"トヨタ、通期予想を上方修正","d":"2025-08-28 15:48:00","u":"https://jp.example/a/1"},
            {"t":"日銀、追加利上げを検討する構え","d":"2025-08-28 14:00:00","u":"https://jp.example/a/2"},
            {"t":"日経平均が続伸し最高値を更新","d":"2025-08-28 13:00:00","u":"https://jp.example/a/3"}]};(function(){var x = 1;})();</script></head></html>"#;
        let found = find_listings(html, false, &page(), &ctx());
        assert_eq!(
            found[0].source,
            JsonSource::Window("__INITIAL_STATE__".into())
        );
        assert_eq!(found[0].config.link, Some(LinkSpec::Pointer("/u".into())));
        assert_eq!(found[0].items.len(), 3);
    }

    #[test]
    fn window_values_are_found_by_exact_name_and_assignment() {
        let html = r#"<script>window.__DATA_CONFIG = {"x":1}; if (window.__DATA == null) {}
            window.__DATA = {"list":[1,2]};</script>"#;
        let document = Html::parse_document(html);
        assert_eq!(
            window_value(&document, "__DATA"),
            Some(Ok(serde_json::json!({"list": [1, 2]})))
        );
    }

    #[test]
    fn template_values_keep_paths_and_encodings() {
        let item = serde_json::json!({"slug": "2025/08/abc", "q": "a%20b c"});
        assert_eq!(
            fill_template("/news/{slug}?q={q}", &item).unwrap(),
            "/news/2025/08/abc?q=a%20b%20c"
        );
    }

    #[test]
    fn sources_parse() {
        assert_eq!(
            JsonSource::parse("window.__STATE__"),
            Ok(JsonSource::Window("__STATE__".into()))
        );
        assert_eq!(
            JsonSource::parse("script#app-data"),
            Ok(JsonSource::ScriptId("app-data".into()))
        );
        assert!(JsonSource::parse("window.").is_err());
        assert!(JsonSource::parse("xpath://x").is_err());
        assert!(LinkSpec::parse("url").is_err());
        assert_eq!(
            LinkSpec::parse("/url"),
            Ok(LinkSpec::Pointer("/url".into()))
        );
    }
}
