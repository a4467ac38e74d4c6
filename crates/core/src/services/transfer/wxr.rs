//! A streaming reader for WordPress eXtended RSS (WXR 1.0–1.2) exports: it
//! yields the channel's authors, categories, tags and items one at a time,
//! holding only the current item in memory, each with the line it starts on.

use std::io::BufRead;

use quick_xml::{Reader, events::Event};

/// A `BufRead` that counts the lines and bytes the parser has consumed, so
/// that every item and error can name its line.
pub struct Counting<R> {
    inner: R,
    /// Newlines consumed so far.
    newlines: u64,
    /// Bytes consumed so far.
    pub bytes: u64,
}

impl<R: BufRead> Counting<R> {
    pub fn new(inner: R) -> Self {
        Counting {
            inner,
            newlines: 0,
            bytes: 0,
        }
    }

    /// The 1-based line the parser has reached.
    pub fn line(&self) -> u64 {
        self.newlines + 1
    }
}

impl<R: BufRead> std::io::Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.newlines += buf[..amt].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        self.bytes += amt as u64;
        self.inner.consume(amt);
    }
}

/// One element read whole: its name, attributes, text and children.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The text of the first child named `name` (trimmed), or "".
    pub fn get(&self, name: &str) -> &str {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.trim())
            .unwrap_or("")
    }

    /// The raw (untrimmed) text of the first child named `name`.
    pub fn raw(&self, name: &str) -> &str {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.as_str())
            .unwrap_or("")
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the channel holds, in file order.
#[derive(Debug)]
pub enum Entry {
    /// `wp:author`.
    Author(Node),
    /// `wp:category` or `wp:tag` (or `wp:term`).
    Term(Node),
    /// `item`: a post, page, attachment, menu item...
    Item(Node),
}

/// An entry and the line it starts on.
#[derive(Debug)]
pub struct Located {
    pub line: u64,
    pub entry: Entry,
}

/// Why reading stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Pulls entries out of a WXR document.
pub struct WxrReader<R: BufRead> {
    reader: Reader<Counting<R>>,
    buf: Vec<u8>,
    /// Depth of the element we are inside (rss = 1, channel = 2).
    depth: usize,
    in_channel: bool,
    pub wxr_version: Option<String>,
    finished: bool,
    /// Deepest element nesting accepted inside an entry, counted from the
    /// document root (`BROADSHEET_IMPORT_MAX_DEPTH`).
    max_depth: usize,
}

/// Default of `BROADSHEET_IMPORT_MAX_DEPTH`. A WXR item's deepest element is
/// 5 levels down (`rss > channel > item > wp:comment > wp:comment_id`).
pub const DEFAULT_MAX_DEPTH: u32 = 64;

const ENTRY_NAMES: [&str; 5] = ["wp:author", "wp:category", "wp:tag", "wp:term", "item"];

impl<R: BufRead> WxrReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_max_depth(inner, DEFAULT_MAX_DEPTH as usize)
    }

    /// A reader that stops, with an error naming the line, at an element
    /// nested deeper than `max_depth` levels: entries are built as trees, and
    /// an unbounded tree (200,000 nested elements) would exhaust the stack.
    pub fn with_max_depth(inner: R, max_depth: usize) -> Self {
        let mut reader = Reader::from_reader(Counting::new(inner));
        reader.config_mut().check_end_names = true;
        WxrReader {
            reader,
            buf: Vec::with_capacity(64 * 1024),
            depth: 0,
            in_channel: false,
            wxr_version: None,
            finished: false,
            max_depth,
        }
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.reader.get_ref().bytes
    }

    fn line(&self) -> u64 {
        self.reader.get_ref().line()
    }

    fn syntax(&self, err: quick_xml::Error) -> ReadError {
        ReadError {
            line: self.line(),
            message: format!("malformed XML: {err}"),
        }
    }

    /// The next entry, `Ok(None)` at the end of the document.
    pub fn next_entry(&mut self) -> Result<Option<Located>, ReadError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            self.buf.clear();
            let line_before = self.line();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e.into_owned(),
                Err(e) => {
                    self.finished = true;
                    return Err(self.syntax(e));
                }
            };
            match event {
                Event::Start(start) => {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    self.depth += 1;
                    if self.depth == 1 && name != "rss" {
                        self.finished = true;
                        return Err(ReadError {
                            line: line_before,
                            message: format!(
                                "not a WordPress export: the document is <{name}>, not <rss>"
                            ),
                        });
                    }
                    if self.depth == 2 && name == "channel" {
                        self.in_channel = true;
                        continue;
                    }
                    if self.in_channel && self.depth == 3 {
                        if name == "wp:wxr_version" {
                            let node = self.read_node(&start, line_before)?;
                            self.depth -= 1;
                            self.wxr_version = Some(node.text.trim().to_string());
                            continue;
                        }
                        if ENTRY_NAMES.contains(&name.as_str()) {
                            let node = self.read_node(&start, line_before)?;
                            self.depth -= 1;
                            let entry = match name.as_str() {
                                "wp:author" => Entry::Author(node),
                                "item" => Entry::Item(node),
                                _ => Entry::Term(node),
                            };
                            return Ok(Some(Located {
                                line: line_before,
                                entry,
                            }));
                        }
                        // Channel metadata (title, link, generator...): skip.
                        self.read_node(&start, line_before)?;
                        self.depth -= 1;
                    }
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 1 {
                        self.in_channel = false;
                    }
                }
                Event::Eof => {
                    self.finished = true;
                    if self.depth > 0 {
                        return Err(ReadError {
                            line: self.line(),
                            message: "the file ends inside <rss> (truncated?)".into(),
                        });
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
    }

    /// Read the element that `start` opened, up to its end tag.
    fn read_node(
        &mut self,
        start: &quick_xml::events::BytesStart<'_>,
        line: u64,
    ) -> Result<Node, ReadError> {
        let mut stack = vec![node_from(start)];
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let event = match self.reader.read_event_into(&mut buf) {
                Ok(e) => e,
                Err(e) => {
                    self.finished = true;
                    let name = stack.first().map(|n| n.name.clone()).unwrap_or_default();
                    return Err(ReadError {
                        line: self.line(),
                        message: match e {
                            // Every syntax error is a construct still open at the end of input.
                            quick_xml::Error::Syntax(e) => format!(
                                "the file ends inside <{name}> that starts on line {line} (truncated?): {e}"
                            ),
                            e => {
                                format!("malformed XML in <{name}> that starts on line {line}: {e}")
                            }
                        },
                    });
                }
            };
            match event {
                Event::Start(s) => {
                    // `self.depth` counts the levels above the entry.
                    if self.depth + stack.len() > self.max_depth {
                        self.finished = true;
                        return Err(ReadError {
                            line: self.line(),
                            message: format!(
                                "elements nested more than {} levels deep in <{}> that starts on line {line} (BROADSHEET_IMPORT_MAX_DEPTH)",
                                self.max_depth,
                                stack.first().map(|n| n.name.as_str()).unwrap_or("?")
                            ),
                        });
                    }
                    stack.push(node_from(&s))
                }
                Event::Empty(s) => {
                    let node = node_from(&s);
                    if let Some(top) = stack.last_mut() {
                        top.children.push(node);
                    }
                }
                Event::Text(t) => {
                    let text = t.xml10_content().map_err(|e| ReadError {
                        line: self.line(),
                        message: format!("bad text encoding: {e}"),
                    })?;
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&text);
                    }
                }
                Event::CData(c) => {
                    let text = String::from_utf8_lossy(&c).into_owned();
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&text);
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            let name = String::from_utf8_lossy(&r).into_owned();
                            match quick_xml::escape::resolve_xml_entity(&name) {
                                Some(s) => s.to_string(),
                                None => format!("&{name};"),
                            }
                        }
                        Err(e) => {
                            return Err(ReadError {
                                line: self.line(),
                                message: format!("bad character reference: {e}"),
                            });
                        }
                    };
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&resolved);
                    }
                }
                Event::End(_) => {
                    let done = stack.pop().unwrap_or_default();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Eof => {
                    self.finished = true;
                    return Err(ReadError {
                        line: self.line(),
                        message: format!(
                            "the file ends inside <{}> that starts on line {line} (truncated?)",
                            stack.first().map(|n| n.name.as_str()).unwrap_or("?")
                        ),
                    });
                }
                _ => {}
            }
        }
    }
}

fn node_from(start: &quick_xml::events::BytesStart<'_>) -> Node {
    let attrs = start
        .attributes()
        .flatten()
        .map(|a| {
            (
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                a.decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, start.decoder())
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned()),
            )
        })
        .collect();
    Node {
        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        attrs,
        text: String::new(),
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(xml: &str) -> (Vec<Located>, Option<ReadError>) {
        let mut r = WxrReader::new(xml.as_bytes());
        let mut out = Vec::new();
        loop {
            match r.next_entry() {
                Ok(Some(e)) => out.push(e),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn items_come_one_at_a_time_with_their_lines() {
        let xml = "<?xml version=\"1.0\"?>\n<rss><channel>\n<wp:wxr_version>1.2</wp:wxr_version>\n<item><title>A &amp; B &#8220;q&#8221;</title>\n<content:encoded><![CDATA[<p>x</p>]]></content:encoded></item>\n<item><title>C</title></item>\n</channel></rss>\n";
        let (items, err) = entries(xml);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].line, 4);
        assert_eq!(items[1].line, 6);
        let Entry::Item(ref n) = items[0].entry else {
            panic!()
        };
        assert_eq!(n.get("title"), "A & B \u{201c}q\u{201d}");
        assert_eq!(n.get("content:encoded"), "<p>x</p>");
    }

    #[test]
    fn a_truncated_file_names_the_unfinished_item() {
        let xml = "<rss><channel>\n<item><title>A</title></item>\n<item><title>B</title>\n";
        let (items, err) = entries(xml);
        assert_eq!(items.len(), 1);
        let err = err.unwrap();
        assert!(err.message.contains("truncated"), "{err}");
        assert!(err.message.contains("line 3"), "{err}");
    }

    #[test]
    fn nesting_is_bounded_without_recursion() {
        let deep = 200_000;
        let xml = format!(
            "<rss><channel><wp:wxr_version>1.2</wp:wxr_version>\n<item><title>A</title></item>\n<item>{}{}</item></channel></rss>",
            "<x>".repeat(deep),
            "</x>".repeat(deep)
        );
        let (items, err) = entries(&xml);
        assert_eq!(items.len(), 1);
        let err = err.unwrap();
        assert!(err.message.contains("nested more than 64 levels"), "{err}");
        assert_eq!(err.line, 3, "{err}");
        let ok = format!(
            "<rss><channel><wp:wxr_version>1.2</wp:wxr_version><item>{}{}</item></channel></rss>",
            "<x>".repeat(60),
            "</x>".repeat(60)
        );
        assert!(entries(&ok).1.is_none());
    }

    #[test]
    fn mismatched_tags_are_malformed() {
        let xml = "<rss><channel>\n<item><title>A</title></item>\n<item><title>B</wrong></item>\n</channel></rss>";
        let (items, err) = entries(xml);
        assert_eq!(items.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.contains("malformed XML"), "{err}");
    }
}
