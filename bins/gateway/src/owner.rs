//! Who owns a job enqueued over HTTP: the `sub` of the caller's token, or the `userId` of the
//! body when the token has scope `admin` (a service enqueueing on a user's behalf). The owner's
//! room `user:<userId>` then gets every message of the job, whatever its event.

use std::borrow::Cow;

use finishline_wire::UserId;

use crate::auth::Claims;
use crate::http::ApiError;

/// The owner of the jobs of an enqueue call and the body without its `userId` field.
///
/// # Errors
/// `userId` without scope `admin` is forbidden; a `userId` or token `sub` that is not a valid
/// id (1–128 characters of `[A-Za-z0-9._:-]`) is refused, never altered.
pub(crate) fn job_owner<'a>(
    claims: &Claims,
    body: &'a [u8],
) -> Result<(Option<UserId>, Cow<'a, [u8]>), ApiError> {
    let (given, body) = take_user_id(body)?;
    if let Some(given) = given {
        if !claims.has_scope("admin") {
            return Err(ApiError::forbidden(
                "userId in the body needs a token with scope admin",
            ));
        }
        return Ok((Some(given), body));
    }
    let owner = claims
        .sub
        .as_deref()
        .map(|sub| {
            UserId::parse(sub).map_err(|err| {
                ApiError::unprocessable(format!(
                    "the token's sub cannot own jobs ({err}); give userId with an admin token"
                ))
            })
        })
        .transpose()?;
    Ok((owner, body))
}

/// Splits a top-level `userId` off an enqueue body. Bodies without one pass untouched (and
/// unparsed: the enqueue parser reports their errors).
fn take_user_id(body: &[u8]) -> Result<(Option<UserId>, Cow<'_, [u8]>), ApiError> {
    if !body.windows(8).any(|w| w == b"\"userId\"") {
        return Ok((None, Cow::Borrowed(body)));
    }
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(body) else {
        return Ok((None, Cow::Borrowed(body)));
    };
    let Some(value) = object.remove("userId") else {
        return Ok((None, Cow::Borrowed(body)));
    };
    let user_id = value
        .as_str()
        .ok_or_else(|| ApiError::unprocessable("userId must be a string"))
        .and_then(|text| {
            UserId::parse(text).map_err(|err| ApiError::unprocessable(err.to_string()))
        })?;
    let rest = serde_json::to_vec(&object)
        .map_err(|err| ApiError::invalid(format!("body is not JSON: {err}")))?;
    Ok((Some(user_id), Cow::Owned(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn claims(sub: Option<&str>, scope: &str) -> Claims {
        serde_json::from_value(serde_json::json!({ "sub": sub, "scope": scope })).unwrap()
    }

    #[test]
    fn the_owner_is_the_tokens_sub_and_the_body_is_untouched() {
        let body = br#"{"photoId":"p","source":{"path":"p.jpg"}}"#;
        let (owner, rest) = job_owner(&claims(Some("u1"), "enqueue"), body).unwrap();
        assert_eq!(owner.unwrap().as_str(), "u1");
        assert_eq!(&*rest, &body[..]);
        let (owner, _) = job_owner(&claims(None, "enqueue"), body).unwrap();
        assert!(owner.is_none());
    }

    #[test]
    fn only_an_admin_may_name_the_owner_in_the_body() {
        let body = br#"{"userId":"u2","photos":[{"photoId":"p","source":{"path":"p.jpg"}}]}"#;
        let (owner, rest) = job_owner(&claims(Some("svc"), "admin"), body).unwrap();
        assert_eq!(owner.unwrap().as_str(), "u2");
        let rest: serde_json::Value = serde_json::from_slice(&rest).unwrap();
        assert!(rest.get("userId").is_none(), "{rest}");
        let err = job_owner(&claims(Some("u1"), "enqueue"), body).unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn bad_owner_ids_are_refused() {
        let body = br#"{"userId":"a b","photoId":"p","source":{"path":"p.jpg"}}"#;
        let err = job_owner(&claims(None, "admin"), body).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        let err = job_owner(
            &claims(Some("me@example.org"), "enqueue"),
            br#"{"photoId":"p","source":{"path":"p.jpg"}}"#,
        )
        .unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
