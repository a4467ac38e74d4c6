//! Who is calling (`Actor`), how a bearer token becomes one (`authenticate`),
//! and what each caller may do (`policy`). Both transports call
//! [`authenticate`] with the raw `Authorization` header, so a token is judged
//! the same way everywhere.

pub mod claims;
pub mod passwords;
pub mod policy;
pub mod principal;
pub mod throttle;

use std::net::IpAddr;

use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};

pub use principal::{Actor, Role};

use crate::{
    entities::{refresh_token, user},
    error::AppError,
    state::AppState,
};

/// Everything about the caller a service may need, built by the transport.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub actor: Actor,
    /// Client address (after trusted-proxy resolution).
    pub client_ip: IpAddr,
    pub user_agent: Option<String>,
}

/// Turn an `Authorization` header into an [`Actor`]. No header: anonymous.
/// Anything else must be `Bearer <valid token>` of an existing, active user
/// whose sessions have not ended since: the token's session version must be
/// the user's current one (a password change moves it on) and its session
/// (refresh-token family) must not be revoked (logout). The user's *current*
/// role applies, so a demotion or deletion takes effect at once rather than
/// at token expiry. All of this is the one lookup of the user row that every
/// authenticated request makes anyway.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
) -> Result<Actor, AppError> {
    let Some(header) = authorization else {
        return Ok(Actor::Anonymous);
    };
    let invalid = || AppError::Unauthenticated {
        invalid_token: true,
    };
    let (scheme, token) = header.trim().split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(invalid());
    }
    let claims = state.keys.verify(token.trim())?;
    let mut query = user::Entity::find_by_id(claims.sub)
        .filter(user::Column::SessionVersion.eq(claims.sv.unwrap_or(0)));
    if let Some(sid) = claims.sid {
        // A family is revoked all at once, so one live row means a live session.
        query = query.filter(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(refresh_token::Entity)
                .and_where(refresh_token::Column::FamilyId.eq(sid))
                .and_where(
                    Expr::col((refresh_token::Entity, refresh_token::Column::UserId))
                        .equals((user::Entity, user::Column::Id)),
                )
                .and_where(refresh_token::Column::RevokedAt.is_null())
                .to_owned(),
        ));
    }
    let user = query
        .one(&state.db)
        .await?
        .filter(|u| u.active)
        .ok_or_else(invalid)?;
    let role = Role::parse(&user.role).ok_or_else(invalid)?;
    Ok(Actor::User {
        id: user.id,
        role,
        author_id: user.author_id,
    })
}

/// The client address: the peer, unless the peer is a trusted proxy, in which
/// case the right-most `X-Forwarded-For` entry that is not itself trusted.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in chain.rsplit(',').map(str::trim) {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(outsider, Some("1.2.3.4"), &trusted), outsider);
        assert_eq!(
            client_ip(proxy, Some("1.2.3.4"), &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        // A client cannot spoof by prepending: the right-most untrusted hop wins.
        assert_eq!(
            client_ip(proxy, Some("6.6.6.6, 1.2.3.4, 10.0.0.7"), &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, None, &trusted), proxy);
        assert_eq!(client_ip(proxy, Some("garbage"), &trusted), proxy);
    }
}
