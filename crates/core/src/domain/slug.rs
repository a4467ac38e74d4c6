//! Slugs: ASCII, lowercase, words joined by single hyphens (API.md, "Domain").

/// Longest slug we generate or accept.
pub const MAX_SLUG_LEN: usize = 200;

/// Turn a title or name into a slug: transliterate to ASCII, lowercase, and join
/// runs of letters and digits with single hyphens. Cut at a hyphen so that it
/// stays within [`MAX_SLUG_LEN`]. Empty when the text has no letters or digits.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let extra = if slug.is_empty() {
            word.len()
        } else {
            word.len() + 1
        };
        if slug.len() + extra > MAX_SLUG_LEN {
            if slug.is_empty() {
                slug.push_str(&word[..MAX_SLUG_LEN]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    slug
}

/// Whether `slug` is acceptable as given by a client: what [`slugify`] would keep.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.len() <= MAX_SLUG_LEN && slugify(slug) == slug
}

/// The `n`th candidate for a taken slug: `base`, `base-2`, `base-3`...
pub fn candidate(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        let suffix = format!("-{n}");
        let mut stem = base.to_string();
        stem.truncate(MAX_SLUG_LEN - suffix.len());
        format!("{}{suffix}", stem.trim_end_matches('-'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_title_slugifies_as_wordpress_would() {
        assert_eq!(
            slugify(
                "Danny Haiphong: China-Russia partnership is a model for global cooperation in the 21st Century"
            ),
            "danny-haiphong-china-russia-partnership-is-a-model-for-global-cooperation-in-the-21st-century"
        );
    }

    #[test]
    fn unicode_and_punctuation_are_transliterated_or_dropped() {
        assert_eq!(slugify("Россия и Китай"), "rossiia-i-kitai");
        assert_eq!(
            slugify("“Summit for Democracy” — São Paulo"),
            "summit-for-democracy-sao-paulo"
        );
        assert_eq!(slugify("  !!  "), "");
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary() {
        let slug = slugify(&"word ".repeat(100));
        assert!(slug.len() <= MAX_SLUG_LEN);
        assert!(slug.ends_with("word"));
    }

    #[test]
    fn only_normalised_slugs_are_valid() {
        assert!(is_valid_slug("cgtn"));
        assert!(is_valid_slug("a-b-2"));
        assert!(!is_valid_slug("A-b"));
        assert!(!is_valid_slug("a--b"));
        assert!(!is_valid_slug("-a"));
        assert!(!is_valid_slug(""));
    }

    #[test]
    fn candidates_count_from_two() {
        assert_eq!(candidate("cgtn", 1), "cgtn");
        assert_eq!(candidate("cgtn", 3), "cgtn-3");
        assert!(candidate(&"a".repeat(MAX_SLUG_LEN), 12).len() <= MAX_SLUG_LEN);
    }
}
