//! Access tokens: issuing and verifying JWTs with jsonwebtoken. The algorithm
//! is pinned (no `none`, no HS/RS confusion), `exp`/`iss`/`aud` are required
//! and checked with at most 60 s of clock skew, and several verification keys
//! may be active at once (selected by `kid`) so keys can rotate.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{
    auth::Role,
    config::{Config, JwtAlgorithm},
    error::AppError,
    services::new_id,
};

/// Allowed clock skew between us and whoever checks `exp`/`nbf`.
pub const LEEWAY_SECS: u64 = 60;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Unique token id.
    pub jti: String,
    /// Access tokens: the session (refresh-token family) they belong to;
    /// ending that session (logout, reuse of a spent refresh token) refuses
    /// them at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Access tokens: the user's session version when issued; ending all of
    /// the user's sessions (a password change) moves it on. Absent means 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sv: Option<i32>,
    /// Preview tokens: the user who minted it (with their session version in
    /// `sv`); deactivating them, or ending all their sessions, voids it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Preview tokens: the article's preview version when minted; revoking
    /// the article's preview links moves it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pv: Option<i32>,
}

/// What a preview token names: the article, who minted it under which
/// session version, and the article's preview version at the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewClaims {
    pub article_id: String,
    pub by: String,
    pub session_version: i32,
    pub preview_version: i32,
}

/// The session an access token is issued for.
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    /// The refresh-token family.
    pub id: &'a str,
    /// `users.session_version` at issue.
    pub version: i32,
}

/// Keys built once at start-up and kept in `AppState`.
pub struct JwtKeys {
    algorithm: Algorithm,
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

/// Why the keys could not be built: names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {message}")]
pub struct KeyError {
    pub setting: &'static str,
    pub message: String,
}

impl JwtKeys {
    /// Build from configuration. Returns `(keys, ephemeral)`: `ephemeral` is
    /// true when HS256 had no configured secret and a random one was made.
    pub fn from_config(config: &Config) -> Result<(Self, bool), KeyError> {
        let mut verifying = HashMap::new();
        let mut ephemeral = false;
        let (algorithm, signing) = match config.jwt_algorithm {
            JwtAlgorithm::Hs256 => {
                let secret = match &config.jwt_secret {
                    Some(s) => s.expose().as_bytes().to_vec(),
                    None => {
                        ephemeral = true;
                        let mut bytes = [0u8; 64];
                        rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
                        bytes.to_vec()
                    }
                };
                verifying.insert(config.jwt_kid.clone(), DecodingKey::from_secret(&secret));
                for (kid, old) in &config.jwt_previous_secrets {
                    verifying.insert(
                        kid.clone(),
                        DecodingKey::from_secret(old.expose().as_bytes()),
                    );
                }
                (Algorithm::HS256, EncodingKey::from_secret(&secret))
            }
            JwtAlgorithm::EdDsa | JwtAlgorithm::Rs256 => {
                let ed = config.jwt_algorithm == JwtAlgorithm::EdDsa;
                let path = config.jwt_private_key_file.as_ref().ok_or(KeyError {
                    setting: "BROADSHEET_JWT_PRIVATE_KEY_FILE",
                    message: "is required".into(),
                })?;
                let pem = std::fs::read(path).map_err(|e| KeyError {
                    setting: "BROADSHEET_JWT_PRIVATE_KEY_FILE",
                    message: format!("cannot read {}: {e}", path.display()),
                })?;
                let signing = if ed {
                    EncodingKey::from_ed_pem(&pem)
                } else {
                    EncodingKey::from_rsa_pem(&pem)
                }
                .map_err(|e| KeyError {
                    setting: "BROADSHEET_JWT_PRIVATE_KEY_FILE",
                    message: format!(
                        "{} is not a PEM private key for the algorithm: {e}",
                        path.display()
                    ),
                })?;
                for (kid, path) in &config.jwt_public_keys {
                    let pem = std::fs::read(path).map_err(|e| KeyError {
                        setting: "BROADSHEET_JWT_PUBLIC_KEYS",
                        message: format!("cannot read {}: {e}", path.display()),
                    })?;
                    let key = if ed {
                        DecodingKey::from_ed_pem(&pem)
                    } else {
                        DecodingKey::from_rsa_pem(&pem)
                    }
                    .map_err(|e| KeyError {
                        setting: "BROADSHEET_JWT_PUBLIC_KEYS",
                        message: format!(
                            "{} is not a PEM public key for the algorithm: {e}",
                            path.display()
                        ),
                    })?;
                    verifying.insert(kid.clone(), key);
                }
                (
                    if ed {
                        Algorithm::EdDSA
                    } else {
                        Algorithm::RS256
                    },
                    signing,
                )
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[config.jwt_issuer.as_str()]);
        validation.set_audience(&[config.jwt_audience.as_str()]);
        Ok((
            JwtKeys {
                algorithm,
                signing_kid: config.jwt_kid.clone(),
                signing,
                verifying,
                validation,
                issuer: config.jwt_issuer.clone(),
                audience: config.jwt_audience.clone(),
                ttl_secs: config.access_token_ttl,
            },
            ephemeral,
        ))
    }

    /// Lifetime of the access tokens we issue, in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Sign an access token for a user's session.
    pub fn issue(
        &self,
        user_id: &str,
        role: Role,
        session: Session<'_>,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.as_str().to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: new_id(),
            sid: Some(session.id.to_string()),
            sv: Some(session.version),
            by: None,
            pv: None,
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| AppError::internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// Sign a preview token: it names one article and nothing else may be read
    /// with it. Its audience (`<aud>:preview`) differs from access tokens', so
    /// neither kind is accepted as the other.
    pub fn issue_preview(&self, grant: &PreviewClaims, ttl_secs: i64) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: grant.article_id.clone(),
            role: "preview".into(),
            iat: now,
            nbf: now,
            exp: now + ttl_secs,
            iss: self.issuer.clone(),
            aud: self.preview_audience(),
            jti: new_id(),
            sid: None,
            sv: Some(grant.session_version),
            by: Some(grant.by.clone()),
            pv: Some(grant.preview_version),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| AppError::internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// What a validly signed, unexpired preview token names. Tokens minted
    /// before previews could be revoked (no `by`/`pv`) are refused.
    pub fn verify_preview(&self, token: &str) -> Result<PreviewClaims, AppError> {
        let mut validation = self.validation.clone();
        // No leeway: an expired preview link is expired.
        validation.leeway = 0;
        validation.set_audience(&[self.preview_audience()]);
        let claims = self.verify_with(token, &validation)?;
        match claims {
            Claims {
                sub,
                role,
                by: Some(by),
                sv: Some(session_version),
                pv: Some(preview_version),
                ..
            } if role == "preview" => Ok(PreviewClaims {
                article_id: sub,
                by,
                session_version,
                preview_version,
            }),
            _ => Err(AppError::Unauthenticated {
                invalid_token: true,
            }),
        }
    }

    fn preview_audience(&self) -> String {
        format!("{}:preview", self.audience)
    }

    /// Verify a token's signature, algorithm, `kid`, `exp`, `nbf`, `iss`, `aud`.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        self.verify_with(token, &self.validation)
    }

    fn verify_with(&self, token: &str, validation: &Validation) -> Result<Claims, AppError> {
        let invalid = || AppError::Unauthenticated {
            invalid_token: true,
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != self.algorithm {
            return Err(invalid());
        }
        let kid = header.kid.as_deref().unwrap_or(&self.signing_kid);
        let key = self.verifying.get(kid).ok_or_else(invalid)?;
        jsonwebtoken::decode::<Claims>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|_| invalid())
    }

    /// Sign a commenter token: the proof, held by whoever submitted comment
    /// `comment_id`, that they wrote it from the address whose digest is
    /// `email_digest`. Its audience (`<aud>:commenter`) is its own, so it is
    /// accepted as nothing else.
    pub fn issue_commenter(
        &self,
        comment_id: &str,
        email_digest: &str,
        ttl_secs: i64,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = CommenterClaims {
            sub: comment_id.to_string(),
            em: email_digest.to_string(),
            iat: now,
            nbf: now,
            exp: now + ttl_secs,
            iss: self.issuer.clone(),
            aud: self.commenter_audience(),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| AppError::internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// The claims of a valid commenter token (signature, `kid`, `exp`,
    /// `iss`, `aud` checked), or `None`.
    pub fn verify_commenter(&self, token: &str) -> Option<CommenterClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != self.algorithm {
            return None;
        }
        let kid = header.kid.as_deref().unwrap_or(&self.signing_kid);
        let key = self.verifying.get(kid)?;
        let mut validation = self.validation.clone();
        validation.set_audience(&[self.commenter_audience()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<CommenterClaims>(token, key, &validation)
            .ok()
            .map(|data| data.claims)
    }

    fn commenter_audience(&self) -> String {
        format!("{}:commenter", self.audience)
    }
}

/// The claims of a commenter token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommenterClaims {
    /// The comment its holder submitted.
    pub sub: String,
    /// SHA-256 (hex) of the address it was submitted from, trimmed and
    /// lower-cased: the token names the address without showing it.
    pub em: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    const SESSION: Session<'static> = Session {
        id: "family-1",
        version: 3,
    };

    fn config(secret: &str) -> Config {
        let mut c = Config::with_database("sqlite::memory:");
        c.jwt_secret = Some(Secret::new(secret));
        c
    }

    #[test]
    fn issued_tokens_verify_and_carry_every_claim() {
        let (keys, ephemeral) = JwtKeys::from_config(&config(&"s".repeat(32))).unwrap();
        assert!(!ephemeral);
        let token = keys.issue("user-1", Role::Editor, SESSION).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.role, "editor");
        assert_eq!(claims.iss, "broadsheet");
        assert_eq!(claims.aud, "broadsheet");
        assert_eq!(claims.exp - claims.iat, 900);
        assert!(!claims.jti.is_empty());
        assert_eq!(claims.sid.as_deref(), Some("family-1"));
        assert_eq!(claims.sv, Some(3));
    }

    #[test]
    fn preview_and_access_tokens_are_not_interchangeable() {
        let (keys, _) = JwtKeys::from_config(&config(&"p".repeat(32))).unwrap();
        let grant = PreviewClaims {
            article_id: "article-1".into(),
            by: "user-1".into(),
            session_version: 2,
            preview_version: 3,
        };
        let preview = keys.issue_preview(&grant, 3600).unwrap();
        assert_eq!(keys.verify_preview(&preview).unwrap(), grant);
        assert!(keys.verify(&preview).is_err());
        let access = keys.issue("user-1", Role::Admin, SESSION).unwrap();
        assert!(keys.verify_preview(&access).is_err());
        let expired = keys.issue_preview(&grant, -5).unwrap();
        assert!(keys.verify_preview(&expired).is_err());
    }

    #[test]
    fn another_secret_or_a_tampered_token_is_refused() {
        let (a, _) = JwtKeys::from_config(&config(&"a".repeat(32))).unwrap();
        let (b, _) = JwtKeys::from_config(&config(&"b".repeat(32))).unwrap();
        let token = a.issue("u", Role::Admin, SESSION).unwrap();
        assert!(b.verify(&token).is_err());
        let mut tampered = token.clone();
        tampered.insert(token.len() - 3, 'x');
        assert!(a.verify(&tampered).is_err());
        assert!(a.verify("not a token").is_err());
    }

    #[test]
    fn previous_secrets_keep_old_tokens_valid_during_rotation() {
        let (old, _) = JwtKeys::from_config(&config(&"o".repeat(32))).unwrap();
        let token = old.issue("u", Role::Author, SESSION).unwrap();
        let mut rotated = config(&"n".repeat(32));
        rotated.jwt_kid = "k2".into();
        rotated.jwt_previous_secrets = vec![("default".into(), Secret::new("o".repeat(32)))];
        let (new, _) = JwtKeys::from_config(&rotated).unwrap();
        assert_eq!(new.verify(&token).unwrap().sub, "u");
        let fresh = new.issue("v", Role::Author, SESSION).unwrap();
        assert!(old.verify(&fresh).is_err());
    }
}
