//! Reader comments as text: stored as written (plain text), rendered by
//! escaping everything, turning blank lines into paragraphs and line breaks
//! into `<br>`, and linking bare http(s) URLs with `rel="nofollow ugc noopener"`.

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bare URLs in `text`: (start, end) byte ranges of `http://` / `https://` runs.
fn url_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find("http") {
        let start = from + pos;
        let rest = &text[start..];
        let scheme_len = if rest.starts_with("https://") {
            8
        } else if rest.starts_with("http://") {
            7
        } else {
            from = start + 4;
            continue;
        };
        // Must start a word.
        let boundary = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "([<\"'".contains(c));
        let mut end = start
            + rest
                .find(|c: char| c.is_whitespace() || "<>\"'".contains(c))
                .unwrap_or(rest.len());
        // Trailing punctuation belongs to the sentence, not the URL.
        while end > start + scheme_len
            && text[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', ']'])
        {
            end -= 1;
        }
        if boundary && end > start + scheme_len {
            spans.push((start, end));
        }
        from = end.max(start + scheme_len);
    }
    spans
}

/// How many bare links a comment holds (for the moderation rule).
pub fn link_count(text: &str) -> usize {
    url_spans(text).len()
}

fn render_line(line: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (start, end) in url_spans(line) {
        out.push_str(&escape(&line[last..start]));
        let url = escape(&line[start..end]);
        out.push_str(&format!(
            "<a href=\"{url}\" rel=\"nofollow ugc noopener\">{url}</a>"
        ));
        last = end;
    }
    out.push_str(&escape(&line[last..]));
    out
}

/// Render a comment body to safe HTML.
pub fn render(body: &str) -> String {
    let normalized = body.replace("\r\n", "\n").replace('\r', "\n");
    normalized
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(|l| render_line(l.trim())).collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped_and_paragraphs_follow_blank_lines() {
        assert_eq!(
            render("<script>alert('x')</script> & \"q\"\n\nSecond\nline"),
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>\n<p>Second<br>\nline</p>"
        );
    }

    #[test]
    fn bare_urls_become_nofollow_links_without_trailing_punctuation() {
        assert_eq!(
            render("See https://news.cgtn.com/a?b=1&c=2."),
            "<p>See <a href=\"https://news.cgtn.com/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener\">https://news.cgtn.com/a?b=1&amp;c=2</a>.</p>"
        );
        assert_eq!(
            link_count("a http://x.org b https://y.org/z and httpfoo and xhttp://no"),
            2
        );
        assert!(!render("javascript:alert(1)").contains("<a"));
        assert!(!render("http://x\" onmouseover=\"alert(1)").contains("onmouseover=\""));
    }
}
