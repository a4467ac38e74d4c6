//! Permission checks, called by services (never only by transports), so REST
//! and GraphQL refuse for the same reason with the same code.

use crate::{
    auth::{Actor, Role},
    error::AppError,
};

/// Any signed-in staff member.
pub fn require_staff(actor: &Actor) -> Result<(&str, Role), AppError> {
    match actor {
        Actor::User { id, role, .. } => Ok((id.as_str(), *role)),
        Actor::Anonymous => Err(AppError::Unauthenticated {
            invalid_token: false,
        }),
    }
}

/// Admins only: user management.
pub fn require_admin(actor: &Actor) -> Result<&str, AppError> {
    match require_staff(actor)? {
        (id, Role::Admin) => Ok(id),
        _ => Err(AppError::Forbidden("only an admin may do this".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Actor {
        Actor::User {
            id: "u".into(),
            role,
            author_id: None,
        }
    }

    #[test]
    fn anonymous_callers_are_unauthenticated_and_non_admins_forbidden() {
        assert!(matches!(
            require_admin(&Actor::Anonymous),
            Err(AppError::Unauthenticated { .. })
        ));
        for role in [Role::Editor, Role::Author, Role::Contributor] {
            assert!(matches!(
                require_admin(&user(role)),
                Err(AppError::Forbidden(_))
            ));
            assert!(require_staff(&user(role)).is_ok());
        }
        assert!(require_admin(&user(Role::Admin)).is_ok());
    }
}
