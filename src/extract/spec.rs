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
        let (selector_text, attr) = match source.rsplit_once('@') {
            Some((sel, attr)) if is_attribute_name(attr) => (sel.trim(), Some(attr.to_string())),
            _ => (source, None),
        };
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
    fn rejects_bad_selectors_with_the_text() {
        let err = ValueSpec::parse("ul >").unwrap_err();
        assert!(err.contains("ul >"), "{err}");
        assert!(ValueSpec::parse("@").is_err());
        assert!(ValueSpec::parse("  ").is_err());
    }
}
