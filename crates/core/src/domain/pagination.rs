//! Page-number pagination for REST lists (API.md: `page` 1-based, `per_page`
//! 1..=100, default 10) and keyset cursors for GraphQL connections.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use crate::error::{AppError, FieldError};

pub const DEFAULT_PER_PAGE: u64 = 10;
pub const MAX_PER_PAGE: u64 = 100;
/// The most a GraphQL connection returns at once (`first`/`last`).
pub const MAX_CONNECTION_WINDOW: i32 = 100;
/// Default of `BROADSHEET_MAX_LIST_OFFSET`: how deep into a list a page or
/// an offset cursor may reach (`page × per_page`, or a cursor's position
/// plus `first`).
pub const DEFAULT_MAX_LIST_OFFSET: u32 = 100_000;

/// A validated page request: `1 <= page`, `1 <= per_page <= MAX_PER_PAGE`
/// and `page × per_page <= max_offset`, so [`PageRequest::offset`] never
/// overflows and fits every database's integer.
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
    /// Parse raw query values. Non-numbers, `page` < 1, `per_page` outside
    /// 1..=100 and pages reaching past `max_offset` rows
    /// (`BROADSHEET_MAX_LIST_OFFSET`) are validation errors naming the field.
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        max_offset: u64,
    ) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let page = match page.map(str::trim) {
            None | Some("") => Some(1),
            Some(v) => match parse_count(v) {
                Some(n) if n >= 1 => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        "page",
                        "must be a whole number of at least 1",
                    ));
                    None
                }
            },
        };
        let per_page = match per_page.map(str::trim) {
            None | Some("") => Some(DEFAULT_PER_PAGE),
            Some(v) => match parse_count(v) {
                Some(n) if (1..=MAX_PER_PAGE).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        "per_page",
                        format!("must be a whole number from 1 to {MAX_PER_PAGE}"),
                    ));
                    None
                }
            },
        };
        if let (Some(page), Some(per_page)) = (page, per_page) {
            match page.checked_mul(per_page) {
                Some(end) if end <= max_offset => return Ok(PageRequest { page, per_page }),
                _ => errors.push(FieldError::new(
                    "page",
                    format!(
                        "reaches too deep: page × per_page must be at most {max_offset} \
                         (at most page {} at this per_page)",
                        (max_offset / per_page).max(1)
                    ),
                )),
            }
        }
        Err(AppError::Validation(errors))
    }

    /// Rows to skip (bounded by the parse: never overflows).
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

/// Digits only; `None` for anything else, and for a number too large for u64.
fn parse_count(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Leading zeros are harmless; a run of digits past u64 is simply too deep.
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

/// A validated slice of an offset-ordered list: from a REST page or a
/// GraphQL offset cursor (authors, sources, tags, search, the moderation
/// queue). `offset + limit` never exceeds the list offset bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

impl From<PageRequest> for Window {
    fn from(p: PageRequest) -> Self {
        Window {
            offset: p.offset(),
            limit: p.per_page,
        }
    }
}

impl Window {
    /// The window after the offset cursor `after` (`None`: from the start),
    /// `first` items long (default 10, at most [`MAX_CONNECTION_WINDOW`]).
    /// A cursor that is not ours, or whose position with `first` reaches
    /// past `max_offset`, is a validation error: never an overflow.
    pub fn after(
        first: Option<i32>,
        after: Option<&str>,
        max_offset: u64,
    ) -> Result<Self, AppError> {
        let limit = first_window(first, DEFAULT_PER_PAGE)?;
        let offset = match after {
            None => 0,
            Some(c) => {
                let cur = Cursor::decode("after", OFFSET_ORDER, c)?;
                parse_count(&cur.key)
                    .filter(|&i| i < u64::MAX)
                    .map(|i| i + 1)
                    .ok_or_else(|| {
                        AppError::validation("after", "is not a cursor returned by this API")
                    })?
            }
        };
        match offset.checked_add(limit) {
            Some(end) if end <= max_offset => Ok(Window { offset, limit }),
            _ => Err(AppError::validation(
                "after",
                format!("reaches too deep: a list is read at most {max_offset} items in"),
            )),
        }
    }

    /// The opaque cursor of the item at `index` (0-based) in an offset list.
    pub fn cursor(index: u64, id: &str) -> String {
        Cursor {
            order: OFFSET_ORDER.into(),
            key: index.to_string(),
            id: id.to_string(),
        }
        .encode()
    }
}

/// The order name carried by offset cursors.
const OFFSET_ORDER: &str = "name";

/// `first` of a connection: `default` when absent, else 0..=[`MAX_CONNECTION_WINDOW`].
pub fn first_window(first: Option<i32>, default: u64) -> Result<u64, AppError> {
    match first {
        None => Ok(default),
        Some(n) if (0..=MAX_CONNECTION_WINDOW).contains(&n) => Ok(n as u64),
        Some(_) => Err(AppError::validation(
            "first",
            format!("must be from 0 to {MAX_CONNECTION_WINDOW}"),
        )),
    }
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

/// Relay-style window arguments.
#[derive(Debug, Clone, Default)]
pub struct ConnectionArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

const DEFAULT_CONNECTION_WINDOW: i32 = 10;

/// A validated Relay window: which way to read, how many, from where.
#[derive(Debug)]
pub struct KeysetWindow {
    pub forward: bool,
    pub limit: u64,
    pub from: Option<Cursor>,
    /// The argument `from` came from (`after` or `before`), for errors.
    pub field: &'static str,
}

impl ConnectionArgs {
    /// Refuse what a connection over `order` would refuse, without reading
    /// anything (for a caller that takes only the count, from a batched loader).
    pub fn check(&self, order: &str) -> Result<(), AppError> {
        self.window(order).map(|_| ())
    }

    /// Validate the arguments for a list in keyset order `order`.
    pub fn window(&self, order: &str) -> Result<KeysetWindow, AppError> {
        let mut errors = Vec::new();
        for (name, value) in [("first", self.first), ("last", self.last)] {
            if let Some(n) = value
                && !(0..=MAX_CONNECTION_WINDOW).contains(&n)
            {
                errors.push(FieldError::new(
                    name,
                    format!("must be from 0 to {MAX_CONNECTION_WINDOW}"),
                ));
            }
        }
        if self.first.is_some() && self.last.is_some() {
            errors.push(FieldError::new("last", "cannot be combined with first"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let after = self
            .after
            .as_deref()
            .map(|c| Cursor::decode("after", order, c))
            .transpose()?;
        let before = self
            .before
            .as_deref()
            .map(|c| Cursor::decode("before", order, c))
            .transpose()?;
        Ok(match (self.last, before) {
            (Some(n), before) => KeysetWindow {
                forward: false,
                limit: n as u64,
                from: before,
                field: "before",
            },
            (None, Some(before)) if after.is_none() => KeysetWindow {
                forward: false,
                limit: DEFAULT_CONNECTION_WINDOW as u64,
                from: Some(before),
                field: "before",
            },
            _ => KeysetWindow {
                forward: true,
                limit: self.first.unwrap_or(DEFAULT_CONNECTION_WINDOW) as u64,
                from: after,
                field: "after",
            },
        })
    }
}

/// One window of a connection.
#[derive(Debug, Clone)]
pub struct Connection<T> {
    pub edges: Vec<(Cursor, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEEP: u64 = DEFAULT_MAX_LIST_OFFSET as u64;

    #[test]
    fn defaults_are_page_one_of_ten() {
        assert_eq!(
            PageRequest::parse(None, None, DEEP).unwrap(),
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
            (Some("10001"), None, vec!["page"]),
            (Some("922337203685477590"), Some("1"), vec!["page"]),
            (Some("99999999999999999999999"), Some("100"), vec!["page"]),
        ] {
            let Err(AppError::Validation(errs)) = PageRequest::parse(page, per_page, DEEP) else {
                panic!("{page:?} {per_page:?} accepted");
            };
            let names: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(names, fields);
        }
    }

    #[test]
    fn the_deepest_page_is_accepted_and_its_offset_exact() {
        let p = PageRequest::parse(Some("1000"), Some("100"), DEEP).unwrap();
        assert_eq!((p.page, p.offset()), (1000, 99_900));
        assert!(PageRequest::parse(Some("1001"), Some("100"), DEEP).is_err());
    }

    #[test]
    fn offset_cursors_are_checked_not_wrapped() {
        let w = Window::after(Some(5), Some(&Window::cursor(9, "x")), DEEP).unwrap();
        assert_eq!(
            w,
            Window {
                offset: 10,
                limit: 5
            }
        );
        for key in [
            u64::MAX.to_string(),
            (DEEP - 1).to_string(),
            "-1".into(),
            "1e3".into(),
        ] {
            let forged = Cursor {
                order: "name".into(),
                key,
                id: "x".into(),
            }
            .encode();
            assert!(Window::after(Some(5), Some(&forged), DEEP).is_err());
        }
        assert!(Window::after(Some(101), None, DEEP).is_err());
        assert!(Window::after(None, Some("!!!"), DEEP).is_err());
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
