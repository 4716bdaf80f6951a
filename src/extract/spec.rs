//! Selector values from the config, compiled once: `sel`, `sel@attr`, `@attr`.

use scraper::{ElementRef, Selector};

/// Where one value of an item comes from.
#[derive(Debug, Clone)]
pub struct ValueSpec {
    /// `None` for `@attr`: the item element itself.
    pub selector: Option<Selector>,
    pub attr: Option<String>,
    /// The text as written in the config, for messages and snippets.
    pub source: String,
    /// The selector part of `source` (empty for `@attr`), for the streaming pass.
    pub selector_text: String,
}

/// A selector list split at its top-level commas; `None` when brackets or quotes don't balance.
pub(crate) fn split_top_level(list: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut from = 0;
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(list[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    parts.push(list[from..].trim());
    Some(parts)
}

/// The selector and the attribute of `sel@attr`. In a list, each alternative may name the
/// attribute (`h2 a@href, h3 a@href`, `time@datetime, span.date`): one name for the whole list,
/// read where the match has it, its text where it has not.
fn split_attribute(source: &str) -> Result<(String, Option<String>), String> {
    // Unbalanced, it is one selector, which compiling will refuse with the CSS error.
    let parts = split_top_level(source).unwrap_or_else(|| vec![source]);
    let mut attr: Option<&str> = None;
    let mut selectors: Vec<&str> = Vec::new();
    for part in parts {
        match part.rsplit_once('@') {
            Some((selector, name)) if is_attribute_name(name.trim()) => {
                let name = name.trim();
                if attr.is_some_and(|a| a != name) {
                    return Err(format!(
                        "a selector list reads one attribute, and this one names @{} and @{name}",
                        attr.unwrap_or_default()
                    ));
                }
                attr = Some(name);
                selectors.push(selector.trim());
            }
            _ => selectors.push(part.trim()),
        }
    }
    // `@attr` alone reads the item's own attribute; in a list it has nothing to stand for.
    if selectors.len() > 1 && selectors.iter().any(|s| s.is_empty()) {
        return Err("an empty alternative in a selector list".into());
    }
    Ok((selectors.join(", "), attr.map(str::to_string)))
}

impl ValueSpec {
    /// Parse `sel`, `sel@attr` or `@attr`. The `@` splits only when what follows is an attribute
    /// name, so selectors that contain `@` inside brackets stay whole.
    pub fn parse(source: &str) -> Result<Self, String> {
        ValueSpec::parse_with(source, compile)
    }

    /// `parse`, compiling the selector part with `compile` (a config's checker reuses what it
    /// compiled for other feeds).
    pub fn parse_with(
        source: &str,
        mut compile: impl FnMut(&str) -> Result<Selector, String>,
    ) -> Result<Self, String> {
        let source = source.trim();
        if source.is_empty() {
            return Err("empty selector".into());
        }
        let (selector_text, attr) = split_attribute(source)?;
        let selector_text = selector_text.as_str();
        let selector = if selector_text.is_empty() {
            if attr.is_none() {
                return Err("empty selector".into());
            }
            None
        } else {
            Some(compile(selector_text)?)
        };
        Ok(ValueSpec {
            selector,
            attr,
            source: source.to_string(),
            selector_text: selector_text.to_string(),
        })
    }

    /// The element a value is read from inside `item`: the first match, or the item itself.
    pub fn element<'a>(&self, item: ElementRef<'a>) -> Option<ElementRef<'a>> {
        match &self.selector {
            None => Some(item),
            Some(selector) => item.select(selector).next(),
        }
    }
}

fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

/// Compile a CSS selector, with the parser's complaint as the message.
pub fn compile(selector: &str) -> Result<Selector, String> {
    Selector::parse(selector).map_err(|e| {
        // The parser's own wording for some errors asks to report a bug; its kind says more.
        let detail = e.to_string();
        let detail = if detail.contains("report this") {
            format!("{e:?}")
                .trim_start_matches("UnexpectedSelectorParseError(")
                .trim_end_matches(')')
                .to_string()
        } else {
            detail
        };
        format!("bad selector {selector:?}: not valid CSS ({detail})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_attribute_only_when_it_is_a_name() {
        let spec = ValueSpec::parse("a.title@href").unwrap();
        assert_eq!(spec.attr.as_deref(), Some("href"));
        assert!(spec.selector.is_some());

        let own = ValueSpec::parse("@data-publish-at").unwrap();
        assert!(own.selector.is_none());
        assert_eq!(own.attr.as_deref(), Some("data-publish-at"));

        let bracket = ValueSpec::parse(r#"a[href*="@x"]"#).unwrap();
        assert!(bracket.attr.is_none());
    }

    #[test]
    fn each_alternative_of_a_list_may_name_the_attribute() {
        for source in ["h2 a@href, h3 a@href", "h2 a, h3 a@href", "h2 a@href, h3 a"] {
            let spec = ValueSpec::parse(source).unwrap();
            assert_eq!(spec.attr.as_deref(), Some("href"), "{source}");
            assert_eq!(spec.selector_text, "h2 a, h3 a", "{source}");
        }
        let spec = ValueSpec::parse(r#"time@datetime, span[title="a, b"]"#).unwrap();
        assert_eq!(spec.selector_text, r#"time, span[title="a, b"]"#);
        let err = ValueSpec::parse("a@href, img@src").unwrap_err();
        assert!(err.contains("@href") && err.contains("@src"), "{err}");
        assert!(ValueSpec::parse("@href, a").is_err());
    }

    #[test]
    fn rejects_bad_selectors_with_the_text() {
        let err = ValueSpec::parse("ul >").unwrap_err();
        assert!(err.contains("ul >"), "{err}");
        assert!(ValueSpec::parse("@").is_err());
        assert!(ValueSpec::parse("  ").is_err());
    }
}
