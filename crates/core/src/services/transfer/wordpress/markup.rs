//! WordPress markup: `wpautop` paragraphs, without block-editor comments.

/// WordPress stores paragraphs as text separated by blank lines and adds the
/// `<p>`s when it renders (`wpautop`); do the same, leaving chunks that
/// already are block-level HTML (or block-editor comments) as they are.
pub fn autop(content: &str) -> String {
    const BLOCKS: [&str; 20] = [
        "<p",
        "<div",
        "<h1",
        "<h2",
        "<h3",
        "<h4",
        "<h5",
        "<h6",
        "<ul",
        "<ol",
        "<li",
        "<blockquote",
        "<pre",
        "<table",
        "<figure",
        "<hr",
        "<!--",
        "<iframe",
        "<section",
        "<dl",
    ];
    let text = strip_block_comments(&content.replace("\r\n", "\n"));
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lower = p.to_ascii_lowercase();
            if BLOCKS.iter().any(|b| lower.starts_with(b)) {
                p.to_string()
            } else {
                format!("<p>{}</p>", p.replace('\n', "<br />\n"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Drop the block editor's `<!-- wp:... -->` / `<!-- /wp:... -->` markers
/// (WordPress removes them when it renders a post).
fn strip_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        let after = rest[start + 4..].trim_start();
        let Some(end) = rest[start..].find("-->") else {
            break;
        };
        out.push_str(&rest[..start]);
        if !(after.starts_with("wp:") || after.starts_with("/wp:")) {
            out.push_str(&rest[start..start + end + 3]);
        }
        rest = &rest[start + end + 3..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autop_wraps_plain_paragraphs_and_leaves_blocks() {
        assert_eq!(
            autop("One\nline two\n\n<h2>Head</h2>\n\nThree"),
            "<p>One<br />\nline two</p>\n<h2>Head</h2>\n<p>Three</p>"
        );
        assert_eq!(autop("  "), "");
        assert_eq!(
            autop("<!-- wp:paragraph -->\n<p>Hi</p>\n<!-- /wp:paragraph -->\n\n<!-- a note -->"),
            "<p>Hi</p>\n<!-- a note -->"
        );
    }
}
