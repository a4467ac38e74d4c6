//! Moving content in and out: `import wordpress` (a WXR export, streamed),
//! and the lossless JSON `export` / `import json`. README.md ("Moving
//! content: import and export") documents the formats and exit codes.

pub mod json;
pub mod wordpress;
pub mod wxr;

use std::collections::BTreeMap;

/// One item that was skipped or failed, where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// 1-based line in the input file, when known.
    pub line: Option<u64>,
    /// What the item is, e.g. `post 12 "Title"` (empty for the file as a whole).
    pub item: String,
    pub reason: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.item.is_empty() {
            write!(f, "{}: ", self.item)?;
        }
        f.write_str(&self.reason)
    }
}

/// Counts per kind of row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Per kind (`articles`, `comments`, `authors`, `tags`, `sources`).
    pub counts: BTreeMap<&'static str, Counts>,
    /// Items deliberately not imported (pages, attachments, pingbacks...).
    pub skipped: Vec<Notice>,
    /// Items that could not be imported (bad dates, missing authors...).
    pub failed: Vec<Notice>,
    /// Reading stopped here (malformed or truncated file); later items were not read.
    pub stopped: Option<Notice>,
    /// Entries read from the file (authors, terms, items).
    pub entries: u64,
    /// `--all-or-nothing` found a problem, so nothing was kept.
    pub rolled_back: bool,
}

impl Report {
    pub(crate) fn count(&mut self, kind: &'static str) -> &mut Counts {
        self.counts.entry(kind).or_default()
    }

    /// Add another report's counts and notices to this one.
    pub(crate) fn absorb(&mut self, other: Report) {
        for (kind, c) in other.counts {
            let mine = self.count(kind);
            mine.created += c.created;
            mine.updated += c.updated;
            mine.unchanged += c.unchanged;
        }
        self.skipped.extend(other.skipped);
        self.failed.extend(other.failed);
    }

    /// Whether every item was imported (skips by design are fine).
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && self.stopped.is_none()
    }

    /// The one summary line: counts created / updated / unchanged, skips
    /// grouped by reason, failures.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = ["articles", "comments", "authors", "tags", "sources"]
            .iter()
            .map(|kind| {
                let c = self.counts.get(kind).copied().unwrap_or_default();
                format!(
                    "{kind} {} created, {} updated, {} unchanged",
                    c.created, c.updated, c.unchanged
                )
            })
            .collect();
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for s in &self.skipped {
            *reasons.entry(s.reason.as_str()).or_default() += 1;
        }
        let reasons = reasons
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect::<Vec<_>>()
            .join(", ");
        parts.push(if reasons.is_empty() {
            "skipped 0".to_string()
        } else {
            format!("skipped {} ({reasons})", self.skipped.len())
        });
        parts.push(format!(
            "failed {}{}",
            self.failed.len(),
            if self.stopped.is_some() {
                " (and the file could not be read to the end)"
            } else {
                ""
            }
        ));
        let mut line = parts.join("; ");
        if self.rolled_back {
            line.push_str("; --all-or-nothing: nothing was kept");
        }
        line
    }
}

/// How far a long import has come, for the command line's progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub entries: u64,
    pub bytes_read: u64,
    pub bytes_total: Option<u64>,
}

/// Decode `%xx` escapes (WordPress stores non-ASCII slugs percent-encoded).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_to_utf8() {
        assert_eq!(percent_decode("caf%c3%a9-au-lait"), "café-au-lait");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
