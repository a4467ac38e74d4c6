//! The closed sets of values the API speaks in (API.md "Domain"): article
//! status, comment status and policy, body format, staff role and list order.
//!
//! Each kind is stored and sent as the same lowercase string it always was
//! (the database columns stay text, so no migration), but inside the program
//! it is an enum: a typo is a compile error, and a `match` names every case.
//! Transports parse client strings with [`parse`](ArticleStatus::parse) and
//! report a bad one on the field it came in.

use std::fmt;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// `a`, `a or b`, `a, b or c`: the values of a kind as a sentence.
fn sentence(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The string forms of a kind: `as_str`, `parse`, `Display`, and
/// a field error naming every accepted value.
macro_rules! string_kind {
    ($name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in the order the API lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and database form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// The value whose wire form is exactly `value`.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// [`parse`](Self::parse), or a 422 on `field` listing the
            /// accepted values ("must be draft, published or archived").
            pub fn parse_field(field: &str, value: &str) -> Result<Self, FieldError> {
                Self::parse(value).ok_or_else(|| {
                    FieldError::new(field, format!("must be {}", Self::choices()))
                })
            }

            /// The accepted values as a sentence: `a, b or c`.
            pub fn choices() -> String {
                sentence(&[$($value),+])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// An article's workflow state. A published article whose `published_at`
/// lies ahead is scheduled; that is a time, not a status.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    #[default]
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "archived")]
    Archived,
}
string_kind!(ArticleStatus {
    Draft = "draft",
    Published = "published",
    Archived = "archived",
});

/// Whether readers may comment on an article (its `comment_status`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum CommentPolicy {
    #[default]
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
}
string_kind!(CommentPolicy {
    Open = "open",
    Closed = "closed",
});

/// A comment's moderation state. Only approved comments are public.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    #[default]
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "spam")]
    Spam,
    #[sea_orm(string_value = "trash")]
    Trash,
}
string_kind!(CommentStatus {
    Pending = "pending",
    Approved = "approved",
    Spam = "spam",
    Trash = "trash",
});

/// How an article body is written.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    #[default]
    #[sea_orm(string_value = "markdown")]
    Markdown,
    #[sea_orm(string_value = "html")]
    Html,
}
string_kind!(BodyFormat {
    Markdown = "markdown",
    Html = "html",
});

/// A staff role (API.md, "Roles").
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "editor")]
    Editor,
    #[sea_orm(string_value = "author")]
    Author,
    #[sea_orm(string_value = "contributor")]
    Contributor,
}
string_kind!(Role {
    Admin = "admin",
    Editor = "editor",
    Author = "author",
    Contributor = "contributor",
});

/// An order of article lists (REST `sort`, GraphQL `orderBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
pub enum ArticleSort {
    /// Newest first (the default).
    #[default]
    #[serde(rename = "-published_at")]
    PublishedDesc,
    #[serde(rename = "published_at")]
    PublishedAsc,
    #[serde(rename = "title")]
    TitleAsc,
    /// Most recently changed first.
    #[serde(rename = "-updated_at")]
    UpdatedDesc,
}
string_kind!(ArticleSort {
    PublishedDesc = "-published_at",
    PublishedAsc = "published_at",
    TitleAsc = "title",
    UpdatedDesc = "-updated_at",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_wire_form() {
        for s in ArticleStatus::ALL {
            assert_eq!(ArticleStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in CommentStatus::ALL {
            assert_eq!(CommentStatus::parse(s.as_str()), Some(*s));
            assert_eq!(s.to_value(), s.as_str());
        }
        for s in ArticleSort::ALL {
            assert_eq!(ArticleSort::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Role::parse("Admin"), None, "wire forms are exact");
        assert_eq!(BodyFormat::parse("html"), Some(BodyFormat::Html));
        assert_eq!(CommentPolicy::default().as_str(), "open");
    }

    #[test]
    fn a_bad_value_names_its_field_and_every_choice() {
        let e = ArticleStatus::parse_field("status", "live").unwrap_err();
        assert_eq!(e.field, "status");
        assert_eq!(e.message, "must be draft, published or archived");
        assert_eq!(
            BodyFormat::parse_field("body_format", "rtf")
                .unwrap_err()
                .message,
            "must be markdown or html"
        );
        assert_eq!(
            ArticleSort::choices(),
            "-published_at, published_at, title or -updated_at"
        );
    }
}
