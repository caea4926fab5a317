//! Validated identifiers.
//!
//! PROTOCOL.md: ids are 1–128 characters of `[A-Za-z0-9._:-]`; anything else is refused with a
//! clear error and never silently altered. The newtypes below can only hold valid ids, and they
//! validate on deserialisation too, so a bad id in a request body or a Redis payload is caught at
//! the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest id accepted anywhere.
pub const MAX_ID_LEN: usize = 128;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} is {len} characters long; at most {MAX_ID_LEN} are allowed")]
    TooLong { kind: &'static str, len: usize },
    #[error("{kind} contains {found:?}; only letters, digits and . _ : - are allowed")]
    BadCharacter { kind: &'static str, found: char },
}

/// Checks one id against the syntax of PROTOCOL.md.
///
/// # Errors
/// Returns an [`IdError`] naming `kind` and what is wrong.
pub fn validate_id(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let len = value.chars().count();
    if len > MAX_ID_LEN {
        return Err(IdError::TooLong { kind, len });
    }
    if let Some(found) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(IdError::BadCharacter { kind, found });
    }
    Ok(())
}

macro_rules! validated_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id.
            ///
            /// # Errors
            /// Returns an [`IdError`] when the value is not a valid id.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate_id($kind, &value)?;
                Ok(Self(value))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

validated_id!(
    /// A race (or any gathering) that owns photos and videos.
    EventId,
    "eventId"
);
validated_id!(
    /// A photo's or a video's id, chosen by the processor that uploads it.
    MediaId,
    "photoId"
);
validated_id!(
    /// The correlation id carried from the producer into every log line and message of a job.
    RequestId,
    "requestId"
);
validated_id!(
    /// The id the system assigns to a job (a ULID).
    JobId,
    "jobId"
);
validated_id!(
    /// Who owns a job: the `sub` of the token that enqueued it (or the `userId` an admin gave).
    /// Its messages also reach the room `user:<userId>`.
    UserId,
    "userId"
);

impl RequestId {
    /// A fresh request id, `req_` followed by 20 random alphanumerics, for requests that bring none.
    pub fn generate() -> Self {
        use rand::Rng;
        use rand::distr::Alphanumeric;
        let suffix: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(20)
            .map(char::from)
            .collect();
        Self(format!("req_{suffix}"))
    }
}

impl JobId {
    /// A fresh, time-ordered job id.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_of_the_protocol_alphabet_are_accepted() {
        for ok in ["evt_1", "a", "A.b:c-d_e", &"x".repeat(128)] {
            assert!(EventId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn bad_ids_are_refused_with_a_reason() {
        assert_eq!(
            EventId::parse("").unwrap_err().to_string(),
            "eventId must not be empty"
        );
        assert!(EventId::parse("x".repeat(129)).is_err());
        let err = EventId::parse("../etc").unwrap_err();
        assert_eq!(
            err,
            IdError::BadCharacter {
                kind: "eventId",
                found: '/'
            }
        );
        assert!(EventId::parse("événement").is_err());
        assert!(EventId::parse("a b").is_err());
    }

    #[test]
    fn deserialising_a_bad_id_fails() {
        let parsed: Result<EventId, _> = serde_json::from_str("\"a/b\"");
        assert!(parsed.is_err());
    }

    #[test]
    fn generated_ids_are_valid() {
        assert!(validate_id("requestId", RequestId::generate().as_str()).is_ok());
        assert!(validate_id("jobId", JobId::generate().as_str()).is_ok());
    }

    proptest! {
        #[test]
        fn validation_never_panics_and_agrees_with_the_alphabet(s in "\\PC{0,140}") {
            let expected = !s.is_empty()
                && s.chars().count() <= 128
                && s.chars().all(|c| c.is_ascii_alphanumeric() || ".:_-".contains(c));
            prop_assert_eq!(validate_id("eventId", &s).is_ok(), expected);
        }

        #[test]
        fn valid_ids_round_trip_through_json(s in "[A-Za-z0-9._:-]{1,128}") {
            let id = EventId::parse(s.clone()).unwrap();
            let json = serde_json::to_string(&id).unwrap();
            let back: EventId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.as_str(), s.as_str());
        }
    }
}
