//! `Actor`: the caller of a service function, anonymous or a signed-in user.

pub use crate::domain::kinds::Role;

/// The caller, as both transports hand it to the service layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User {
        id: String,
        role: Role,
        author_id: Option<String>,
    },
}

impl Actor {
    /// Staff see private fields and non-public content.
    pub fn is_staff(&self) -> bool {
        matches!(self, Actor::User { .. })
    }
}
