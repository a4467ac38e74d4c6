//! The entities under short names: `Author`, `Article`, ...

pub use super::article::Entity as Article;
pub use super::article_author::Entity as ArticleAuthor;
pub use super::article_slug::Entity as ArticleSlug;
pub use super::article_tag::Entity as ArticleTag;
pub use super::author::Entity as Author;
pub use super::comment::Entity as Comment;
pub use super::refresh_token::Entity as RefreshToken;
pub use super::source::Entity as Source;
pub use super::tag::Entity as Tag;
pub use super::user::Entity as User;
