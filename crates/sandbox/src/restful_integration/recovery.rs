//! `/pa/v3/recovery/confirm`: the device confirms it holds a recovery code of its user.
//! A postcard code (`CREATED`) becomes `ACTIVE` and the answer is
//! `{"alreadyConfirmed": false}`; codes issued with an activation are confirmed from the
//! start, so for them, as for a postcard code confirmed before, it is `true`.

use super::encryption::{SignatureCovers, SignedEndpoint, open_signed_request, seal};
use crate::error::Error;
use crate::extract::RawBody;
use crate::recovery::ConfirmRefusal;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use powerauth::ecies::SharedInfo1;
use powerauth::signature::SignatureType;
use serde::Deserialize;
use serde_json::json;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/recovery/confirm", post(confirm))
}

/// 401 `POWER_AUTH_RECOVERY_CONFIRM_ERROR`: any failure (digest §16.3).
fn confirm_error(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "recovery confirm refused");
    Error::api(
        StatusCode::UNAUTHORIZED,
        "ERR_AUTHENTICATION",
        "POWER_AUTH_RECOVERY_CONFIRM_ERROR",
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmRequest {
    recovery_code: String,
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    const ENDPOINT: SignedEndpoint = SignedEndpoint {
        uri_id: "/pa/recovery/confirm",
        allowed: &[SignatureType::PossessionKnowledge],
        shared_info1: SharedInfo1::ConfirmRecoveryCode,
        covers: SignatureCovers::EncryptedBody,
    };
    let (authenticated, plaintext, responder) = open_signed_request(
        &state,
        &headers,
        &body.0,
        &ENDPOINT,
        confirm_error,
        confirm_error,
    )
    .await?;
    let request: ConfirmRequest = serde_json::from_slice(&plaintext).map_err(confirm_error)?;
    let (record, already_confirmed) =
        crate::recovery::confirm(&state, &authenticated.activation, &request.recovery_code)
            .await
            .map_err(|refusal| match refusal {
                ConfirmRefusal::Invalid(why) => confirm_error(why),
                ConfirmRefusal::NotFound => confirm_error("no such recovery code"),
                ConfirmRefusal::Fault(e) => e,
            })?;
    tracing::debug!(
        recovery_code_id = record.number,
        already_confirmed,
        "recovery code confirmed"
    );
    seal(
        &state,
        responder,
        json!({"alreadyConfirmed": already_confirmed})
            .to_string()
            .as_bytes(),
    )
}
