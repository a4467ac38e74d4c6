//! `Actor`: the caller of a service function, anonymous or a signed-in user.

use std::fmt;

/// A staff role (API.md, "Roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Editor,
    Author,
    Contributor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Editor, Role::Author, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
