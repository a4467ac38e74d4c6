//! Which characters plain-text fields may hold, and what feeds may emit.
//!
//! Titles, names and the other single-line fields end up in RSS and Atom,
//! where a control character makes the whole document malformed XML (XML 1.0
//! §2.2 allows only tab, line feed and carriage return below U+0020). So
//! input is refused with 422 (`validation_failed`) when it holds one, and the
//! feeds strip what XML forbids as a second line of defence (rows written
//! before the check).

/// Why a single-line value is refused, if it is: any control character
/// (C0, DEL, C1, which includes tab and line breaks), a Unicode line or
/// paragraph separator, or a noncharacter XML forbids.
pub fn single_line_problem(value: &str) -> Option<&'static str> {
    value
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || !xml_char(c))
        .then_some("must not contain control characters or line breaks")
}

/// Why a multi-line value (a bio, a description, a body) is refused, if it
/// is: a character XML 1.0 forbids (C0 controls other than tab, line feed and
/// carriage return; U+FFFE, U+FFFF).
pub fn multi_line_problem(value: &str) -> Option<&'static str> {
    value
        .chars()
        .any(|c| !xml_char(c))
        .then_some("must not contain control characters other than tab and line breaks")
}

/// Whether XML 1.0 allows `c` in a document (production `Char`).
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` without the characters XML 1.0 forbids (borrowed when it has none).
pub fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(xml_char) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|c| xml_char(*c)).collect())
    }
}

/// Whether `c` shows nothing on its own: whitespace (including NBSP and the
/// other Unicode spaces), zero-width spaces and joiners, the BOM, soft
/// hyphens, bidirectional marks and controls, invisible operators, variation
/// selectors, tag characters, fillers and the other default-ignorables.
pub fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}'                  // soft hyphen
            | '\u{034F}'                // combining grapheme joiner
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}'   // Hangul choseong/jungseong fillers
            | '\u{17B4}' | '\u{17B5}'   // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}'   // Mongolian selectors and vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, ZWNJ, ZWJ, LRM, RLM
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, bidi isolates
            | '\u{2800}'                // braille blank
            | '\u{3164}'                // Hangul filler
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{FEFF}'                // BOM, zero-width no-break space
            | '\u{FFA0}'                // halfwidth Hangul filler
            | '\u{FFF0}'..='\u{FFF8}'   // unassigned specials
            | '\u{1D173}'..='\u{1D17A}' // musical formatting
            | '\u{E0000}'..='\u{E0FFF}' // tags, variation selectors supplement
        )
}

/// Whether `text` has nothing a reader would see.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_in_single_line_fields() {
        assert_eq!(single_line_problem("A fine title – ünïcode"), None);
        for bad in [
            "a\u{0}b",
            "a\u{1b}b",
            "a\nb",
            "a\tb",
            "a\u{7f}",
            "a\u{85}",
            "a\u{2028}",
            "\u{FFFE}",
        ] {
            assert!(single_line_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(multi_line_problem("line\nnext\ttab\r\n"), None);
        assert!(multi_line_problem("a\u{8}b").is_some());
    }

    #[test]
    fn xml_safe_keeps_only_what_xml_allows() {
        assert_eq!(xml_safe("a\u{1}b\u{c}c\td\u{FFFF}"), "abc\td");
        assert!(matches!(xml_safe("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn invisible_only_text_is_blank() {
        assert!(is_blank(
            " \u{200B}\u{200C}\u{200D}\u{FEFF}\u{200E}\u{202E}\u{2066}\u{A0}\u{3000}\n\t\u{2060}\u{180E}\u{FE0F}\u{E0041}"
        ));
        assert!(!is_blank("\u{200B}a"));
        assert!(!is_blank("👍"));
    }
}
