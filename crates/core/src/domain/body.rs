//! Article bodies: Markdown (CommonMark) or HTML as written, rendered once at
//! write time into sanitized HTML, plain text, a word count and an excerpt.

use std::fmt;

/// How an article body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Markdown,
    Html,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "markdown" => Some(BodyFormat::Markdown),
            "html" => Some(BodyFormat::Html),
            _ => None,
        }
    }
}

impl fmt::Display for BodyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a body renders to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitized HTML: no script, no event handlers, no `javascript:` URLs.
    pub html: String,
    /// The text a reader sees, paragraphs separated by blank lines.
    pub text: String,
    pub word_count: i32,
}

/// How many times the longest body the HTML it renders to may be.
pub const HTML_EXPANSION: usize = 4;

/// Words per minute used for `reading_time_minutes`.
const WORDS_PER_MINUTE: i32 = 230;
/// Longest derived excerpt, in characters.
const EXCERPT_CHARS: usize = 300;

/// What a body is held to before it is rendered (`BROADSHEET_BODY_MAX_BYTES`,
/// `BROADSHEET_BODY_MAX_DEPTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Longest body, in bytes of UTF-8.
    pub max_bytes: usize,
    /// Deepest nesting of elements that need an end tag (block quotes, lists,
    /// `<div>`s, ...), counted on the HTML a body renders to.
    pub max_depth: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_bytes: 512 * 1024,
            max_depth: 64,
        }
    }
}

/// Render and sanitize a body, or say why it is refused: larger than
/// `limits.max_bytes`, nested deeper than `limits.max_depth`, or holding a
/// character XML forbids. Linear in the body's size: the depth is checked
/// before html5ever, whose work grows with the square of the depth, sees it.
pub fn render_checked(
    body: &str,
    format: BodyFormat,
    limits: BodyLimits,
) -> Result<Rendered, String> {
    if body.len() > limits.max_bytes {
        return Err(format!("must be at most {} bytes", limits.max_bytes));
    }
    if let Some(problem) = super::text::multi_line_problem(body) {
        return Err(problem.to_string());
    }
    let raw_html = raw_html(body, format);
    // Markdown can expand: 2 bytes of `> ` are 27 of `<blockquote>` and its
    // end tag, and the sanitizer's time follows the HTML's size.
    let max_html = limits.max_bytes.saturating_mul(HTML_EXPANSION);
    if raw_html.len() > max_html {
        return Err(format!(
            "renders to more than {max_html} bytes of HTML ({HTML_EXPANSION} times the longest body)"
        ));
    }
    if super::nesting::deeper_than(&raw_html, limits.max_depth) {
        return Err(format!(
            "nests block quotes, lists or elements deeper than {} levels",
            limits.max_depth
        ));
    }
    Ok(finish(&raw_html))
}

/// Render and sanitize a body whatever it holds (imports, old rows): what
/// nests deeper than the default limit is flattened (those tags left out,
/// their text kept), so that this too takes time linear in the body's size.
pub fn render(body: &str, format: BodyFormat) -> Rendered {
    let raw_html = raw_html(body, format);
    let max = BodyLimits::default().max_depth;
    if super::nesting::deeper_than(&raw_html, max) {
        finish(&super::nesting::flatten(&raw_html, max))
    } else {
        finish(&raw_html)
    }
}

/// The HTML a body is written as or renders to, not yet sanitized.
fn raw_html(body: &str, format: BodyFormat) -> String {
    match format {
        BodyFormat::Markdown => {
            let parser = pulldown_cmark::Parser::new_ext(body, pulldown_cmark::Options::empty());
            let mut out = String::with_capacity(body.len() + body.len() / 4);
            pulldown_cmark::html::push_html(&mut out, parser);
            out
        }
        BodyFormat::Html => body.to_string(),
    }
}

fn finish(raw_html: &str) -> Rendered {
    let html = sanitize(raw_html);
    let text = html_to_text(&html);
    let word_count = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
        .min(i32::MAX as usize) as i32;
    Rendered {
        html,
        text,
        word_count,
    }
}

/// Sanitize HTML with ammonia's allow-list (links get `rel="noopener noreferrer"`).
pub fn sanitize(html: &str) -> String {
    ammonia::clean(html)
}

/// Reading time in whole minutes, at least 1.
pub fn reading_time_minutes(word_count: i32) -> i32 {
    ((word_count + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE).max(1)
}

/// An excerpt from plain text: the first paragraph, cut at a word boundary
/// with an ellipsis when longer than the limit.
pub fn derive_excerpt(text: &str) -> String {
    let first = text
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or("");
    let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
    if first.chars().count() <= EXCERPT_CHARS {
        return first;
    }
    let mut cut = String::new();
    for word in first.split(' ') {
        if cut.chars().count() + word.chars().count() + 1 > EXCERPT_CHARS - 1 {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    if cut.is_empty() {
        cut = first.chars().take(EXCERPT_CHARS - 1).collect();
    }
    let cut = cut.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != '?' && c != '!');
    format!("{cut}…")
}

/// Plain text of sanitized HTML: tags dropped, block ends become paragraph
/// breaks, and the entities html5ever's serializer writes are decoded.
fn html_to_text(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "p",
        "div",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "tr",
        "ul",
        "ol",
        "table",
        "figure",
        "figcaption",
        "hr",
        "br",
    ];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if BLOCKS.contains(&name.as_str()) {
            if name == "br" || name == "li" || name == "tr" {
                out.push('\n');
            } else {
                out.push_str("\n\n");
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode_entities(rest));
    // Normalise: trim each line, at most one blank line between paragraphs.
    let mut text = String::with_capacity(out.len());
    let mut blank_run = 0;
    for line in out.lines().map(str::trim) {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        text.push_str(line);
    }
    text
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_to_paragraphs_and_text() {
        let r = render("Hello *world*.\n\nSecond & last.", BodyFormat::Markdown);
        assert_eq!(
            r.html,
            "<p>Hello <em>world</em>.</p>\n<p>Second &amp; last.</p>\n"
        );
        assert_eq!(r.text, "Hello world.\n\nSecond & last.");
        assert_eq!(r.word_count, 4);
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let r = render(
            "<p onclick=\"x()\">Hi<script>alert(1)</script> <a href=\"javascript:alert(1)\">x</a></p>",
            BodyFormat::Html,
        );
        assert!(!r.html.contains("script"), "{}", r.html);
        assert!(!r.html.contains("onclick"), "{}", r.html);
        assert!(!r.html.contains("javascript:"), "{}", r.html);
        // Markdown may embed raw HTML too; it is sanitized the same way.
        let r = render("<img src=x onerror=alert(1)>", BodyFormat::Markdown);
        assert!(!r.html.contains("onerror"), "{}", r.html);
    }

    #[test]
    fn excerpts_cut_at_a_word_boundary() {
        let text = format!("{}\n\nsecond paragraph", "word ".repeat(100).trim());
        let ex = derive_excerpt(&text);
        assert!(ex.chars().count() <= 300, "{}", ex.chars().count());
        assert!(ex.ends_with("word…"), "{ex}");
        assert_eq!(derive_excerpt("Short one.\n\nNext."), "Short one.");
    }

    #[test]
    fn deep_nesting_is_refused_when_checked_and_flattened_otherwise() {
        let limits = BodyLimits {
            max_bytes: 1_000_000,
            max_depth: 8,
        };
        for (body, format) in [
            ("> ".repeat(9) + "x", BodyFormat::Markdown),
            ("- ".repeat(9) + "x", BodyFormat::Markdown),
            ("<div>".repeat(9) + "x", BodyFormat::Html),
        ] {
            assert!(render_checked(&body, format, limits).is_err(), "{body}");
        }
        assert!(render_checked(&("> ".repeat(3) + "x"), BodyFormat::Markdown, limits).is_ok());
        let big = BodyLimits {
            max_bytes: 10,
            ..limits
        };
        assert!(render_checked("eleven byte", BodyFormat::Markdown, big).is_err());
        let flat = render(&("> ".repeat(1000) + "deep"), BodyFormat::Markdown);
        assert_eq!(flat.text, "deep");
        assert!(flat.html.matches("<blockquote>").count() <= 64);
    }

    #[test]
    fn reading_time_is_at_least_a_minute() {
        assert_eq!(reading_time_minutes(0), 1);
        assert_eq!(reading_time_minutes(230), 1);
        assert_eq!(reading_time_minutes(231), 2);
    }
}
