//! Tokens for the gateways a [`crate::Rig`] starts with JWT auth (`RigBuilder::jwt`): one
//! test secret, and tokens signed with it carrying the claims a test names.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

/// The HS256 secret of the gateways started with `RigBuilder::jwt` (32 bytes or more).
pub const JWT_SECRET: &str = "an-hs256-test-secret-of-32-bytes-or-more";

/// A token signed with [`JWT_SECRET`] carrying `claims`, valid for ten minutes unless the
/// claims set their own `exp`.
pub fn token(mut claims: Value) -> String {
    if claims.get("exp").is_none() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        claims["exp"] = json!(now + 600);
    }
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign a test token")
}
