//! Page-number pagination for REST lists (API.md: `page` 1-based, `per_page`
//! 1..=100, default 10) and keyset cursors for GraphQL connections.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use crate::error::{AppError, FieldError};

pub const DEFAULT_PER_PAGE: u64 = 10;
pub const MAX_PER_PAGE: u64 = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    /// Parse raw query values. Non-numbers, `page` < 1 and `per_page` outside
    /// 1..=100 are validation errors naming the field. A page number too large
    /// to represent simply lies past the end.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let page = match page.map(str::trim) {
            None | Some("") => 1,
            Some(v) => match parse_count(v) {
                Some(n) if n >= 1 => n,
                _ => {
                    errors.push(FieldError::new(
                        "page",
                        "must be a whole number of at least 1",
                    ));
                    1
                }
            },
        };
        let per_page = match per_page.map(str::trim) {
            None | Some("") => DEFAULT_PER_PAGE,
            Some(v) => match parse_count(v) {
                Some(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "per_page",
                        format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
                    ));
                    DEFAULT_PER_PAGE
                }
            },
        };
        if errors.is_empty() {
            Ok(PageRequest { page, per_page })
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// Rows to skip; saturates rather than overflowing for absurd page numbers.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// Digits only; a run of digits too long for u64 saturates (it is past any end).
fn parse_count(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

/// One page of results plus the numbers the `meta` object reports.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(self.per_page)
    }
}

/// A position in a keyset-ordered list: the order it belongs to, the sort
/// key of the item (a timestamp in microseconds, or text) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub order: String,
    pub key: String,
    pub id: String,
}

impl Cursor {
    /// A cursor whose key is an instant.
    pub fn at(order: &str, at: DateTime<Utc>, id: &str) -> Self {
        Cursor {
            order: order.to_string(),
            key: at.timestamp_micros().to_string(),
            id: id.to_string(),
        }
    }

    /// The key as an instant (for time-ordered lists).
    pub fn time(&self, field: &str) -> Result<DateTime<Utc>, AppError> {
        self.key
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(|| AppError::validation(field, "is not a cursor returned by this API"))
    }

    /// Opaque form: base64url of `v1|order|key|id` (the key is last-but-one;
    /// ids never contain `|`).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1|{}|{}|{}", self.order, self.key, self.id))
    }

    /// Decode a cursor that must belong to `order`.
    pub fn decode(field: &str, order: &str, value: &str) -> Result<Self, AppError> {
        let invalid =
            || AppError::validation(field, "is not a cursor returned by this API for this order");
        let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let rest = text.strip_prefix("v1|").ok_or_else(invalid)?;
        let (got_order, rest) = rest.split_once('|').ok_or_else(invalid)?;
        let (key, id) = rest.rsplit_once('|').ok_or_else(invalid)?;
        if got_order != order || id.is_empty() {
            return Err(invalid());
        }
        Ok(Cursor {
            order: got_order.to_string(),
            key: key.to_string(),
            id: id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_page_one_of_ten() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest::default()
        );
    }

    #[test]
    fn bad_values_name_each_field() {
        for (page, per_page, fields) in [
            (Some("0"), None, vec!["page"]),
            (Some("-1"), None, vec!["page"]),
            (Some("abc"), Some("101"), vec!["page", "per_page"]),
            (None, Some("0"), vec!["per_page"]),
            (None, Some("1.5"), vec!["per_page"]),
        ] {
            let Err(AppError::Validation(errs)) = PageRequest::parse(page, per_page) else {
                panic!("{page:?} {per_page:?} accepted");
            };
            let names: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(names, fields);
        }
    }

    #[test]
    fn huge_page_numbers_are_past_the_end_not_errors() {
        let p = PageRequest::parse(Some("99999999999999999999999"), Some("100")).unwrap();
        assert_eq!(p.page, u64::MAX);
        assert_eq!(p.offset(), u64::MAX);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let c = Cursor::at("published_at", at, "0190-abc");
        let back = Cursor::decode("after", "published_at", &c.encode()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.time("after").unwrap(), at);
        let titled = Cursor {
            order: "title".into(),
            key: "A | title".into(),
            id: "x".into(),
        };
        assert_eq!(
            Cursor::decode("after", "title", &titled.encode()).unwrap(),
            titled
        );
        assert!(
            Cursor::decode("after", "published_at", &titled.encode()).is_err(),
            "a cursor of another order"
        );
        assert!(Cursor::decode("after", "title", "!!!").is_err());
        assert!(Cursor::decode("after", "title", &URL_SAFE_NO_PAD.encode("v2|title|a|b")).is_err());
    }
}
