//! The selectors most listing configs use, matched by the page scan itself (`wellformed`), so a
//! page is read in one pass: compounds of a type, classes, ids, attribute tests, `:first-child`,
//! `:nth-child(an+b)` and `:not(…)` of such compounds, joined by descendant and child combinators
//! (`ul.news > li:not(.ad)`, `td:nth-child(2) a`, `[data-id]`). Anything else (other
//! pseudo-classes, sibling combinators, namespaces, escapes) is `None` here and goes to lol_html.
//!
//! Matching follows the DOM's rules for a standards-mode HTML document, as `scraper` applies
//! them: tag names and attribute names without regard to ASCII case, classes, ids and attribute
//! values exactly. The attributes whose values HTML compares without regard to case (`type`,
//! `lang`, `rel`…) are left to lol_html when a selector tests their value.

/// Each element's marks: bit `i` is set when compound `i` matches the element itself.
pub type Marks = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combinator {
    Descendant,
    Child,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Exists,
    Equals,
    /// `~=`: one of the whitespace-separated words.
    Includes,
    /// `|=`: the value, or the value and a `-`.
    DashMatch,
    Prefix,
    Suffix,
    Substring,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AttributeTest {
    /// ASCII-lowercased.
    name: String,
    operator: Operator,
    value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Compound {
    /// ASCII-lowercased; `None` for `*` or no type.
    tag: Option<String>,
    ids: Vec<String>,
    classes: Vec<String>,
    attributes: Vec<AttributeTest>,
    /// `:nth-child(an+b)` as `(a, b)`; `:first-child` is `(0, 1)`. Read as `i32`, as the DOM's
    /// selectors are, and compared in `i64`, where nothing overflows.
    nth_child: Vec<(i32, i32)>,
    /// Compounds the element must not match (`:not(…)`), numbered before this one.
    not: Vec<usize>,
}

/// One selector of a list: its compounds right to left, each with the combinator that joins it
/// to the one on its right (the rightmost's is unused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complex(Vec<(usize, Combinator)>);

/// Selector lists compiled together: their compounds share one numbering, so an element's marks
/// are found once for all of them.
#[derive(Debug, Default)]
pub struct Compounds {
    compounds: Vec<Compound>,
}

/// Attributes whose values an HTML document's selectors compare without regard to ASCII case
/// (the HTML standard's list, "case-sensitivity of selectors").
const CASELESS_VALUES: &[&str] = &[
    "accept",
    "accept-charset",
    "align",
    "alink",
    "axis",
    "bgcolor",
    "charset",
    "checked",
    "clear",
    "codetype",
    "color",
    "compact",
    "declare",
    "defer",
    "dir",
    "direction",
    "disabled",
    "enctype",
    "face",
    "frame",
    "hreflang",
    "http-equiv",
    "lang",
    "language",
    "link",
    "media",
    "method",
    "multiple",
    "nohref",
    "noresize",
    "noshade",
    "nowrap",
    "readonly",
    "rel",
    "rev",
    "rules",
    "scope",
    "scrolling",
    "selected",
    "shape",
    "target",
    "text",
    "type",
    "valign",
    "valuetype",
    "vlink",
];

impl Compounds {
    /// A selector list (its parts already split at top-level commas), or `None` when any part
    /// uses more than this module matches.
    pub fn list(&mut self, parts: &[&str]) -> Option<Vec<Complex>> {
        parts.iter().map(|part| self.complex(part)).collect()
    }

    /// One complex selector, or `None` (see `list`).
    fn complex(&mut self, text: &str) -> Option<Complex> {
        let mut parser = Parser {
            text: text.trim(),
            at: 0,
            compounds: self,
        };
        let mut parts: Vec<(Compound, Combinator)> = Vec::new();
        let mut combinator = Combinator::Descendant;
        loop {
            let compound = parser.compound()?;
            parts.push((compound, combinator));
            let spaced = parser.skip_spaces();
            match parser.peek() {
                None => break,
                Some('>') => {
                    parser.at += 1;
                    parser.skip_spaces();
                    combinator = Combinator::Child;
                }
                Some(_) if spaced => combinator = Combinator::Descendant,
                Some(_) => return None,
            }
        }
        // Right to left, each compound with the combinator to its right neighbour's side.
        let mut out = Vec::with_capacity(parts.len());
        let mut right = Combinator::Descendant;
        for (compound, left_of_it) in parts.into_iter().rev() {
            out.push((parser.compounds.intern(compound)?, right));
            right = left_of_it;
        }
        Some(Complex(out))
    }

    /// The compound's number, shared by equal compounds; `None` past the 64 a `Marks` holds.
    fn intern(&mut self, compound: Compound) -> Option<usize> {
        let index = match self.compounds.iter().position(|c| *c == compound) {
            Some(index) => index,
            None => {
                self.compounds.push(compound);
                self.compounds.len() - 1
            }
        };
        (index < Marks::BITS as usize).then_some(index)
    }

    /// Which compounds an element matches. `attributes` are as written (raw names and values);
    /// the first of a repeated name counts, as in the DOM. `position`: its place among its
    /// parent's child elements, from 1.
    pub fn marks(&self, tag: &str, attributes: &[(&str, &str)], position: u32) -> Marks {
        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let (id, class) = (attribute("id"), attribute("class"));
        let place = i64::from(position);
        let mut marks: Marks = 0;
        for (index, compound) in self.compounds.iter().enumerate() {
            if compound.tag.as_deref().is_some_and(|t| t != tag) {
                continue;
            }
            let ids = compound.ids.is_empty()
                || id.is_some_and(|id| compound.ids.iter().all(|want| want == id));
            let classes = compound.classes.is_empty()
                || class.is_some_and(|class| {
                    compound
                        .classes
                        .iter()
                        .all(|want| class.split_ascii_whitespace().any(|c| c == want))
                });
            let others = compound
                .attributes
                .iter()
                .all(|test| attribute(&test.name).is_some_and(|value| test.passes(value)));
            let nth = compound.nth_child.iter().all(|&(a, b)| {
                let (a, b) = (i64::from(a), i64::from(b));
                match a {
                    0 => place == b,
                    a => (place - b) % a == 0 && (place - b) / a >= 0,
                }
            });
            // Compounds inside `:not` are numbered first, so their marks are known here.
            let not = compound.not.iter().all(|&inner| marks & (1 << inner) == 0);
            if ids && classes && others && nth && not {
                marks |= 1 << index;
            }
        }
        marks
    }
}

impl AttributeTest {
    fn passes(&self, value: &str) -> bool {
        let want = self.value.as_str();
        match self.operator {
            Operator::Exists => true,
            Operator::Equals => value == want,
            Operator::Includes => {
                !want.is_empty()
                    && !want.contains(|c: char| c.is_ascii_whitespace())
                    && value.split_ascii_whitespace().any(|word| word == want)
            }
            Operator::DashMatch => {
                value == want
                    || value
                        .strip_prefix(want)
                        .is_some_and(|rest| rest.starts_with('-'))
            }
            Operator::Prefix => !want.is_empty() && value.starts_with(want),
            Operator::Suffix => !want.is_empty() && value.ends_with(want),
            Operator::Substring => !want.is_empty() && value.contains(want),
        }
    }
}

impl Complex {
    /// Whether an element with marks `own`, inside `ancestors` (outermost first, each with the
    /// marks `marks` gives), matches.
    pub fn matches<T>(&self, own: Marks, ancestors: &[T], marks: impl Fn(&T) -> Marks) -> bool {
        let Some(&(rightmost, _)) = self.0.first() else {
            return false;
        };
        own & (1 << rightmost) != 0 && self.rest_match(1, ancestors.len(), ancestors, &marks)
    }

    /// Whether compounds `k..` match among `ancestors[..end]`.
    fn rest_match<T>(
        &self,
        k: usize,
        end: usize,
        ancestors: &[T],
        marks: &impl Fn(&T) -> Marks,
    ) -> bool {
        let Some(&(compound, combinator)) = self.0.get(k) else {
            return true;
        };
        let bit = 1 << compound;
        let at = |i: usize| marks(&ancestors[i]) & bit != 0;
        match combinator {
            Combinator::Child => {
                end > 0 && at(end - 1) && self.rest_match(k + 1, end - 1, ancestors, marks)
            }
            Combinator::Descendant => (0..end)
                .rev()
                .any(|i| at(i) && self.rest_match(k + 1, i, ancestors, marks)),
        }
    }

    /// The mark of the compound the element itself must match (the rightmost).
    pub fn subject_mark(&self) -> Marks {
        self.0.first().map_or(0, |&(c, _)| 1 << c)
    }
}

struct Parser<'t, 'c> {
    text: &'t str,
    at: usize,
    /// Where `:not(…)` compounds are numbered as they are read.
    compounds: &'c mut Compounds,
}

/// `an+b` of `:nth-child`: `odd`, `even`, `3`, `2n`, `-n+3`, `2n + 1`. The config's selectors
/// were checked as CSS when it was read, so spaces can simply go.
fn an_plus_b(text: &str) -> Option<(i32, i32)> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    match text.as_str() {
        "odd" => return Some((2, 1)),
        "even" => return Some((2, 0)),
        _ => {}
    }
    let Some((a, b)) = text.split_once('n') else {
        return Some((0, text.parse().ok()?));
    };
    let a = match a {
        "" | "+" => 1,
        "-" => -1,
        a => a.parse().ok()?,
    };
    let b = match b {
        "" => 0,
        b if b.starts_with(['+', '-']) => b.parse().ok()?,
        _ => return None,
    };
    Some((a, b))
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    /// Whether any white space was skipped.
    fn skip_spaces(&mut self) -> bool {
        let from = self.at;
        while self
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C'))
        {
            self.at += 1;
        }
        self.at > from
    }

    /// A CSS identifier without escapes: a letter, `_` or non-ASCII first (after an optional
    /// `-`), then those, digits and `-`.
    fn ident(&mut self) -> Option<String> {
        let rest = &self.text[self.at..];
        let mut chars = rest.char_indices().peekable();
        let name_start = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
        match chars.next() {
            Some((_, '-')) => {
                if !chars.next().is_some_and(|(_, c)| name_start(c)) {
                    return None;
                }
            }
            Some((_, c)) if name_start(c) => {}
            _ => return None,
        }
        let end = chars
            .find(|&(_, c)| !(name_start(c) || c.is_ascii_digit() || c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        // An escape or a NUL would make the name something else.
        if matches!(rest[end..].chars().next(), Some('\\' | '\0')) {
            return None;
        }
        self.at += end;
        Some(rest[..end].to_string())
    }

    fn pseudo_class(&mut self, compound: &mut Compound) -> Option<()> {
        let name = self.ident()?.to_ascii_lowercase();
        if name == "first-child" {
            compound.nth_child.push((0, 1));
            return Some(());
        }
        if self.peek() != Some('(') {
            return None;
        }
        self.at += 1;
        let close = self.at + self.text[self.at..].find(')')?;
        match name.as_str() {
            "nth-child" => {
                compound
                    .nth_child
                    .push(an_plus_b(&self.text[self.at..close])?);
                self.at = close + 1;
            }
            "not" => loop {
                self.skip_spaces();
                let inner = self.compound()?;
                compound.not.push(self.compounds.intern(inner)?);
                self.skip_spaces();
                match self.peek()? {
                    ',' => self.at += 1,
                    ')' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            },
            _ => return None,
        }
        Some(())
    }

    fn compound(&mut self) -> Option<Compound> {
        let mut compound = Compound::default();
        let mut any = false;
        if self.peek() == Some('*') {
            self.at += 1;
            any = true;
        } else if let Some(tag) = self.ident() {
            compound.tag = Some(tag.to_ascii_lowercase());
            any = true;
        }
        loop {
            match self.peek() {
                Some('.') => {
                    self.at += 1;
                    compound.classes.push(self.ident()?);
                }
                Some('#') => {
                    self.at += 1;
                    compound.ids.push(self.ident()?);
                }
                Some('[') => {
                    self.at += 1;
                    compound.attributes.push(self.attribute()?);
                }
                Some(':') => {
                    self.at += 1;
                    self.pseudo_class(&mut compound)?;
                }
                // `|` (namespaces), `\` and anything else: not here.
                Some(c) if !matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C' | '>' | ',' | ')') => {
                    return None;
                }
                _ => break,
            }
            any = true;
        }
        any.then_some(compound)
    }

    fn attribute(&mut self) -> Option<AttributeTest> {
        self.skip_spaces();
        let name = self.ident()?.to_ascii_lowercase();
        self.skip_spaces();
        let operator = match self.peek()? {
            ']' => {
                self.at += 1;
                return Some(AttributeTest {
                    name,
                    operator: Operator::Exists,
                    value: String::new(),
                });
            }
            '=' => Operator::Equals,
            c => {
                let operator = match c {
                    '~' => Operator::Includes,
                    '|' => Operator::DashMatch,
                    '^' => Operator::Prefix,
                    '$' => Operator::Suffix,
                    '*' => Operator::Substring,
                    _ => return None,
                };
                self.at += 1;
                if self.peek() != Some('=') {
                    return None;
                }
                operator
            }
        };
        self.at += 1;
        if CASELESS_VALUES.contains(&name.as_str()) {
            return None;
        }
        self.skip_spaces();
        let value = match self.peek()? {
            quote @ ('"' | '\'') => {
                let rest = &self.text[self.at + 1..];
                let end = rest.find(quote)?;
                let value = &rest[..end];
                if value.contains(['\\', '\n', '\r', '\x0C', '\0']) {
                    return None;
                }
                self.at += 1 + end + 1;
                value.to_string()
            }
            _ => self.ident()?,
        };
        self.skip_spaces();
        // A case flag (`i`, `s`) or anything else before the `]`: not here.
        if self.peek()? != ']' {
            return None;
        }
        self.at += 1;
        Some(AttributeTest {
            name,
            operator,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Option<(Compounds, Complex)> {
        let mut compounds = Compounds::default();
        let complex = compounds.complex(text)?;
        Some((compounds, complex))
    }

    #[test]
    fn the_subset_is_parsed_and_the_rest_refused() {
        for text in [
            "li",
            "ul.news > li",
            "div.list  a.title",
            "#main .item",
            "*",
            "[data-id]",
            "a[href^=\"/news/\"]",
            "span[data-kind='time'].t",
            "ul>li",
            "-x-card",
            "列表 .項目",
            "li:not(.ad)",
            "tr:not(.ad, #top):nth-child(2n+1) > td:first-child",
            "td:nth-child( -n + 3 )",
            "li:NTH-CHILD(odd)",
            "li:first-child",
        ] {
            assert!(one(text).is_some(), "{text}");
        }
        for text in [
            "h2 + p",
            "h2 ~ p",
            "svg|a",
            "li.a\\:b",
            "a[type=text]",
            "a[rel~=nofollow]",
            "a[href=x i]",
            "a[href=\"x\\\"\"]",
            "--x",
            "1a",
            "li >",
            "> li",
            "li::before",
            "li:last-child",
            "li:nth-of-type(2)",
            "li:nth-child(2 of .x)",
            "li:not(ul > li)",
            "li:hover",
            "",
        ] {
            assert!(one(text).is_none(), "{text}");
        }
    }

    #[test]
    fn compounds_match_as_the_dom_does() {
        let (compounds, complex) = one("a.title.main[data-k|=en][href$='.html']#x").unwrap();
        let marks = |tag, attributes: &[(&str, &str)]| {
            complex.matches(compounds.marks(tag, attributes, 1), &[], |&m: &Marks| m)
        };
        let good: &[(&str, &str)] = &[
            ("CLASS", "main  title"),
            ("id", "x"),
            ("data-k", "en-US"),
            ("href", "/n/1.html"),
        ];
        assert!(marks("a", good));
        assert!(!marks("span", good));
        // Classes and ids are exact; the first of a repeated attribute counts.
        let mut wrong = good.to_vec();
        wrong[0].1 = "Main title";
        assert!(!marks("a", &wrong));
        let mut repeated = good.to_vec();
        repeated.insert(0, ("id", "y"));
        assert!(!marks("a", &repeated));
        let mut dashed = good.to_vec();
        dashed[2].1 = "english";
        assert!(!marks("a", &dashed));
        // Empty values never match ^= $= *= ~=.
        let (compounds, complex) = one("a[href^='']").unwrap();
        assert!(!complex.matches(
            compounds.marks("a", &[("href", "/x")], 1),
            &[],
            |&m: &Marks| m
        ));
    }

    #[test]
    fn combinators_walk_the_open_elements() {
        let mut compounds = Compounds::default();
        let child = compounds.complex("ul.news > li").unwrap();
        let descendant = compounds.complex("div.list li").unwrap();
        let deep = compounds.complex("div.list > ul li").unwrap();
        let marks = |tag, class: &str| compounds.marks(tag, &[("class", class)], 1);
        let same = |&m: &Marks| m;
        let li = marks("li", "");
        let path = [marks("div", "list"), marks("ul", "news"), marks("div", "x")];
        // li inside div.x inside ul.news: not a child of ul.news, but a descendant of div.list.
        assert!(!child.matches(li, &path, same));
        assert!(descendant.matches(li, &path, same));
        assert!(deep.matches(li, &path, same));
        assert!(child.matches(li, &path[..2], same));
        // `div.list > ul li` needs the ul right under the div.
        let apart = [marks("div", "list"), marks("div", "x"), marks("ul", "news")];
        assert!(!deep.matches(li, &apart, same));
        assert!(descendant.matches(li, &apart, same));
    }

    #[test]
    fn positions_and_negations() {
        let (compounds, complex) = one("li:nth-child(2n+1):not(.ad, [hidden])").unwrap();
        let at = |index, class: &str| {
            complex.matches(
                compounds.marks("li", &[("class", class)], index),
                &[],
                |&m: &Marks| m,
            )
        };
        assert!(at(1, "x") && at(3, "") && at(5, "news"));
        assert!(!at(2, "x") && !at(4, ""));
        assert!(!at(3, "news ad"));
        assert!(!complex.matches(
            compounds.marks("li", &[("hidden", "")], 3),
            &[],
            |&m: &Marks| m
        ));
        for (text, a, b) in [
            ("odd", 2, 1),
            ("EVEN", 2, 0),
            ("3", 0, 3),
            ("+3", 0, 3),
            ("n", 1, 0),
            ("-n+3", -1, 3),
            ("2n - 1", 2, -1),
            ("-2n+ 5", -2, 5),
        ] {
            assert_eq!(an_plus_b(text), Some((a, b)), "{text}");
        }
        assert_eq!(an_plus_b("2n1"), None);
        // -n+3: the first three.
        let (compounds, first_three) = one("td:nth-child(-n+3)").unwrap();
        let nth =
            |index| first_three.matches(compounds.marks("td", &[], index), &[], |&m: &Marks| m);
        assert!(nth(1) && nth(3) && !nth(4));
    }
}
