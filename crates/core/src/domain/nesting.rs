//! How deeply HTML nests, measured in one linear pass before html5ever (under
//! ammonia) builds a tree: its tree builder does work proportional to the
//! depth for each element, so 50,000 nested `<div>`s cost seconds, and a
//! line of 100,000 `> ` renders to as many nested `<blockquote>`s.
//!
//! The scan counts open elements that need an end tag. Void elements and
//! those whose end tag may be left out (`p`, `li`, `td`, ...) are not
//! counted: the parser closes them itself when the next one opens, so they
//! cannot pile up without a counted element between them. An end tag closes
//! only the nearest open element of its name (never the ones above it, as the
//! parser's adoption agency may keep those open), so the count errs on the
//! high side and a misnested document cannot hide depth from it.

/// Elements with no content and no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "basefont", "bgsound", "frame", "image",
];

/// Elements whose end tag may be omitted: the parser closes them when a
/// sibling opens.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rb",
    "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body",
];

/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// What the scan does with elements beyond the limit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Stop at the first element beyond the limit.
    Measure,
    /// Leave out the tags of elements beyond the limit (keeping their content).
    Flatten,
}

/// Whether `html` nests counted elements deeper than `max`.
pub fn deeper_than(html: &str, max: usize) -> bool {
    scan(html, max, Mode::Measure).0
}

/// `html` with the start and end tags of elements nested deeper than `max`
/// left out (their text stays), so that it nests at most `max` deep.
pub fn flatten(html: &str, max: usize) -> String {
    scan(html, max, Mode::Flatten).1
}

/// One pass over `html`: (went deeper than `max`, the output when flattening).
fn scan(html: &str, max: usize, mode: Mode) -> (bool, String) {
    let bytes = html.as_bytes();
    let mut out = String::new();
    if mode == Mode::Flatten {
        out.reserve(html.len());
    }
    // Open counted elements, innermost last, and the start tags left out
    // (by name) whose end tags are to be left out too.
    let mut open: Vec<String> = Vec::new();
    let mut dropped: std::collections::HashMap<String, usize> = Default::default();
    let mut too_deep = false;
    let mut copied = 0; // bytes of `html` already handled in `out`
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let lt = i + off;
        let rest = &bytes[lt + 1..];
        let (end_tag, name_at) = match rest.first() {
            Some(b'/') => (true, lt + 2),
            Some(c) if c.is_ascii_alphabetic() => (false, lt + 1),
            Some(b'!') if rest.starts_with(b"!--") => {
                // A comment runs to `-->` (or the end).
                i = html[lt + 4..]
                    .find("-->")
                    .map_or(html.len(), |e| lt + 4 + e + 3);
                continue;
            }
            Some(b'!' | b'?') => {
                i = html[lt..].find('>').map_or(html.len(), |e| lt + e + 1);
                continue;
            }
            _ => {
                i = lt + 1;
                continue;
            }
        };
        if end_tag && !bytes.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            i = lt + 1;
            continue;
        }
        let name_end = html[name_at..]
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .map_or(html.len(), |e| name_at + e);
        let name = html[name_at..name_end].to_ascii_lowercase();
        let tag_end = tag_end(bytes, name_end);
        let counted = !VOID.contains(&name.as_str()) && !OPTIONAL_END.contains(&name.as_str());
        let mut keep = true;
        if !end_tag && name == "plaintext" {
            // Everything after is text.
            break;
        }
        if counted && !end_tag {
            if open.len() >= max {
                too_deep = true;
                if mode == Mode::Measure {
                    return (true, out);
                }
                *dropped.entry(name.clone()).or_default() += 1;
                keep = false;
            } else {
                open.push(name.clone());
            }
        } else if counted && end_tag {
            match dropped.get_mut(&name) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    keep = false;
                }
                _ => {
                    if let Some(pos) = open.iter().rposition(|o| *o == name) {
                        open.remove(pos);
                    }
                }
            }
        }
        if mode == Mode::Flatten && !keep {
            out.push_str(&html[copied..lt]);
            copied = tag_end;
        }
        i = tag_end;
        if !end_tag && RAW_TEXT.contains(&name.as_str()) {
            // Its content is text, up to its end tag.
            let close = format!("</{name}");
            let lower = |from: usize| {
                html[from..]
                    .char_indices()
                    .map(|(k, _)| from + k)
                    .find(|&k| {
                        html.as_bytes()[k] == b'<'
                            && html
                                .get(k..k + close.len())
                                .is_some_and(|s| s.eq_ignore_ascii_case(&close))
                    })
            };
            match lower(i) {
                Some(k) => i = k,
                None => break,
            }
        }
    }
    if mode == Mode::Flatten {
        out.push_str(&html[copied..]);
    }
    (too_deep, out)
}

/// The byte after the `>` closing a tag whose name ends at `from` (quoted
/// attribute values may hold `>`), or the end of the input.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut k = from;
    let mut quote: Option<u8> = None;
    while k < bytes.len() {
        let b = bytes[k];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => {
                // A quote opens a value only after `=` (and spaces).
                let before = bytes[from..k]
                    .iter()
                    .rev()
                    .find(|c| !c.is_ascii_whitespace());
                if before == Some(&b'=') {
                    quote = Some(b);
                }
            }
            None if b == b'>' => return k + 1,
            None => {}
        }
        k += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_elements_that_need_an_end_tag() {
        let deep = "<div>".repeat(10);
        assert!(deeper_than(&deep, 9));
        assert!(!deeper_than(&deep, 10));
        // Siblings are not depth; optional-end and void elements are not counted.
        assert!(!deeper_than(&"<div>x</div>".repeat(100), 1));
        assert!(!deeper_than(&"<p>a<li>b<br><img src=x>".repeat(100), 1));
        // Stray end tags of other names cannot hide depth.
        assert!(deeper_than(&"<div></span></b>".repeat(10), 9));
        // A `>` inside a quoted attribute does not end the tag.
        assert!(!deeper_than("<a title=\"<div><div>\">x</a>", 1));
        // Tags inside comments and script text are not elements.
        assert!(!deeper_than(
            "<!-- <div><div> --><script><div><div></script>",
            1
        ));
    }

    #[test]
    fn flattening_leaves_out_the_tags_beyond_the_limit_and_keeps_the_text() {
        let html = format!("{}x{}", "<blockquote>".repeat(5), "</blockquote>".repeat(5));
        let flat = flatten(&html, 2);
        assert_eq!(flat, "<blockquote><blockquote>x</blockquote></blockquote>");
        assert!(!deeper_than(&flatten(&"<div><span>".repeat(1000), 50), 50));
    }
}
