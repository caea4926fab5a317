//! Authentication: JWTs on the Socket.IO handshake and on the HTTP API.
//!
//! One key, one algorithm: HS256 with a shared secret, or RS256 / ES256 with a public key.
//! The validation accepts only the configured algorithm, which refuses `none` and the HS/RS
//! confusion (an HS256 token signed with the RSA public key as secret). `exp` is required.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};

/// What a verified token allows.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// Events the holder may watch; `"*"` means all.
    #[serde(default)]
    pub events: Vec<String>,
    /// `enqueue`, `admin` (which implies `enqueue`); a space-separated string or a list.
    #[serde(default, deserialize_with = "scopes")]
    pub scope: HashSet<String>,
    /// Who the token was issued to, for the logs.
    #[serde(default)]
    pub sub: Option<String>,
}

fn scopes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<HashSet<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scope {
        Text(String),
        List(Vec<String>),
    }
    Ok(match Scope::deserialize(deserializer)? {
        Scope::Text(text) => text.split_whitespace().map(str::to_owned).collect(),
        Scope::List(list) => list.into_iter().collect(),
    })
}

impl Claims {
    /// The claims of everyone when auth is off.
    fn everything() -> Self {
        Self {
            events: vec!["*".to_owned()],
            scope: ["admin".to_owned(), "enqueue".to_owned()].into(),
            sub: None,
        }
    }

    pub fn may_watch(&self, event_id: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event_id)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.contains(scope) || self.scope.contains("admin")
    }
}

/// Why a token was refused. The text is what the client sees; it never contains the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("unauthorized: missing token")]
    Missing,
    #[error("unauthorized: token expired")]
    Expired,
    #[error("unauthorized: bad signature")]
    BadSignature,
    #[error("unauthorized: token algorithm not accepted")]
    WrongAlgorithm,
    #[error("unauthorized: malformed token ({0})")]
    Malformed(String),
    /// Not a token problem, but refused at the same door: too many connections from one IP.
    #[error("rate_limited: too many connections from this address")]
    Limited,
}

/// The configured verifier.
#[derive(Clone)]
pub enum Authenticator {
    Disabled,
    Enabled {
        key: DecodingKey,
        validation: Box<Validation>,
    },
}

/// The token of an `Authorization: Bearer …` header (scheme `Bearer` or `bearer`), if any.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
}

impl Authenticator {
    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::with_key(DecodingKey::from_secret(secret), Algorithm::HS256)
    }

    /// RS256 or ES256 with a PEM public key.
    ///
    /// # Errors
    /// Fails when the PEM does not hold a key of that kind.
    pub fn public_key(pem: &[u8], algorithm: Algorithm) -> anyhow::Result<Self> {
        let key = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem)?,
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem)?,
            other => {
                anyhow::bail!("{other:?} is not supported with a public key; use RS256 or ES256")
            }
        };
        Ok(Self::with_key(key, algorithm))
    }

    fn with_key(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        validation.leeway = 5;
        Self::Enabled {
            key,
            validation: Box::new(validation),
        }
    }

    /// Verifies a token (or its absence).
    ///
    /// # Errors
    /// Says why the token is refused.
    pub fn verify(&self, token: Option<&str>) -> Result<Claims, AuthError> {
        let Self::Enabled { key, validation } = self else {
            return Ok(Claims::everything());
        };
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        jsonwebtoken::decode::<Claims>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::InvalidSignature => AuthError::BadSignature,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        AuthError::WrongAlgorithm
                    }
                    ErrorKind::MissingRequiredClaim(claim) => {
                        AuthError::Malformed(format!("claim {claim} is required"))
                    }
                    _ => AuthError::Malformed(err.to_string()),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn token(alg: Algorithm, secret: &[u8], claims: serde_json::Value) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn a_valid_token_gives_its_events_and_scopes() {
        let auth = Authenticator::hs256(b"secret");
        let t = token(
            Algorithm::HS256,
            b"secret",
            json!({ "events": ["a"], "scope": "enqueue", "exp": now() + 60 }),
        );
        let claims = auth.verify(Some(&t)).unwrap();
        assert!(claims.may_watch("a"));
        assert!(!claims.may_watch("b"));
        assert!(claims.has_scope("enqueue"));
        assert!(!claims.has_scope("admin"));
    }

    #[test]
    fn expired_wrong_signature_missing_and_exp_less_tokens_are_refused() {
        let auth = Authenticator::hs256(b"secret");
        let expired = token(
            Algorithm::HS256,
            b"secret",
            json!({ "events": ["*"], "exp": now() - 600 }),
        );
        assert!(matches!(
            auth.verify(Some(&expired)),
            Err(AuthError::Expired)
        ));
        let forged = token(
            Algorithm::HS256,
            b"other",
            json!({ "events": ["*"], "exp": now() + 60 }),
        );
        assert!(matches!(
            auth.verify(Some(&forged)),
            Err(AuthError::BadSignature)
        ));
        assert!(matches!(auth.verify(None), Err(AuthError::Missing)));
        let no_exp = token(Algorithm::HS256, b"secret", json!({ "events": ["*"] }));
        assert!(auth.verify(Some(&no_exp)).is_err());
        let hs384 = token(
            Algorithm::HS384,
            b"secret",
            json!({ "events": ["*"], "exp": now() + 60 }),
        );
        assert!(matches!(
            auth.verify(Some(&hs384)),
            Err(AuthError::WrongAlgorithm)
        ));
    }

    #[test]
    fn an_unsigned_none_token_is_refused() {
        let auth = Authenticator::hs256(b"secret");
        // header {"alg":"none","typ":"JWT"}, payload {"events":["*"],"exp":9999999999}
        let none =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJldmVudHMiOlsiKiJdLCJleHAiOjk5OTk5OTk5OTl9.";
        assert!(auth.verify(Some(none)).is_err());
    }

    /// A key pair made for these tests only (tests/testdata/), never used anywhere else.
    const TEST_PUBLIC_KEY: &[u8] = include_bytes!("../tests/testdata/rs256-test.pub.pem");
    const TEST_PRIVATE_KEY: &[u8] = include_bytes!("../tests/testdata/rs256-test.key.pem");

    #[test]
    fn rs256_tokens_verify_with_the_public_key_and_hs_rs_confusion_is_refused() {
        let auth = Authenticator::public_key(TEST_PUBLIC_KEY, Algorithm::RS256).unwrap();
        let claims = json!({ "events": ["*"], "exp": now() + 60 });
        let signed = encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &EncodingKey::from_rsa_pem(TEST_PRIVATE_KEY).unwrap(),
        )
        .unwrap();
        assert!(auth.verify(Some(&signed)).is_ok());
        // The classic confusion: an HS256 token whose HMAC secret is the public key itself.
        let confused = token(Algorithm::HS256, TEST_PUBLIC_KEY, claims);
        assert!(matches!(
            auth.verify(Some(&confused)),
            Err(AuthError::WrongAlgorithm)
        ));
    }

    #[test]
    fn refusals_start_with_unauthorized() {
        for err in [
            AuthError::Missing,
            AuthError::Expired,
            AuthError::BadSignature,
        ] {
            assert!(err.to_string().starts_with("unauthorized:"));
        }
    }
}
