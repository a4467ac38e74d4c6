//! Shape checks shared by several resources: URLs and email addresses.

/// Whether `url` is an absolute http(s) URL with a host.
pub fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
                && url.len() <= 2048
        }
        None => false,
    }
}

/// Check an email the way the API does: trimmed, one `@`, something on both sides.
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.len() <= crate::auth::throttle::MAX_EMAIL_LEN
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_pass() {
        assert!(is_http_url("https://news.cgtn.com/news/x"));
        assert!(is_http_url("http://example.org"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("ftp://example.org"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://exa mple.org"));
        assert!(!is_http_url("/relative"));
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(valid_email("reader@example.org"));
        assert!(!valid_email("reader"));
        assert!(!valid_email("a@b@c"));
        assert!(!valid_email("a b@c.d"));
        assert!(!valid_email("@c.d"));
    }
}
