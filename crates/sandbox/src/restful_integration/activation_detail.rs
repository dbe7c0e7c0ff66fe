//! `/pa/v3/activation/detail` (token + activation-scope encryption) and
//! `/pa/v3/activation/rename` (2FA signature over the decrypted request + encryption). Both answer the whole
//! `{"status":"OK","responseObject":{activationId, activationName}}` envelope encrypted
//! (digest §10).

use super::encryption::{
    HeaderRefusal, SignatureCovers, SignedEndpoint, open_signed_request, open_with_header, seal,
};
use crate::activations;
use crate::error::Error;
use crate::extract::RawBody;
use crate::mobile::token_activation;
use crate::state::AppState;
use crate::store::Activation;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use powerauth::ecies::{ResponseEncryptor, SharedInfo1};
use powerauth::signature::SignatureType;
use serde::Deserialize;
use serde_json::json;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/pa/v3/activation/detail", post(detail))
        .route("/pa/v3/activation/rename", post(rename))
}

const SECOND_FACTOR: [SignatureType; 2] = [
    SignatureType::PossessionKnowledge,
    SignatureType::PossessionBiometry,
];

fn answer(
    state: &AppState,
    responder: ResponseEncryptor,
    a: &Activation,
) -> Result<Response, Error> {
    let envelope = json!({
        "status": "OK",
        "responseObject": {"activationId": a.activation_id, "activationName": a.activation_name},
    });
    seal(state, responder, envelope.to_string().as_bytes())
}

async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let by_token = token_activation(&state, &headers, &SECOND_FACTOR).await?;
    let (activation, _, responder) =
        open_with_header(&state, &headers, &body.0)
            .await
            .map_err(|e| match e {
                HeaderRefusal::Request => super::request_invalid(),
                HeaderRefusal::Refused(why) => {
                    tracing::debug!(%why, "activation detail refused");
                    super::activation_invalid()
                }
                HeaderRefusal::Fault(e) => e,
            })?;
    if activation.activation_id != by_token.activation_id {
        return Err(super::activation_invalid());
    }
    answer(&state, responder, &activation)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenameRequest {
    activation_name: String,
}

async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    const ENDPOINT: SignedEndpoint = SignedEndpoint {
        uri_id: "/pa/activation/rename",
        allowed: &SECOND_FACTOR,
        shared_info1: SharedInfo1::ActivationScopeGeneric,
        covers: SignatureCovers::Plaintext,
    };
    let (authenticated, plaintext, responder) = open_signed_request(
        &state,
        &headers,
        &body.0,
        &ENDPOINT,
        // A refused signature answers as authentication does everywhere.
        |e| e,
        |refused| {
            tracing::debug!(%refused, "rename refused");
            super::activation_invalid()
        },
    )
    .await?;
    let request: RenameRequest =
        serde_json::from_slice(&plaintext).map_err(|_| super::activation_invalid())?;
    if request.activation_name.trim().is_empty() || request.activation_name.len() > 255 {
        return Err(super::activation_invalid());
    }
    let (activation, ()) =
        activations::update(&state, &authenticated.activation.activation_id, |a, now| {
            a.activation_name = Some(request.activation_name.clone());
            a.timestamp_last_change = now;
            Ok(())
        })
        .await?;
    answer(&state, responder, &activation)
}
