//! `/rest/v3/keystore/create` and `/rest/v3/keystore/remove` (protocol 3.3): what an
//! intermediate server forwards from `/pa/v3/keystore/create`, PowerAuth Server's
//! `TemporaryPublicKeyRequest` (`jwt`) and `RemoveTemporaryPublicKeyRequest` (`id`).
//! A JWT that does not verify is ERR0024, an unknown application key ERR0015, an
//! activation that is not ACTIVE or BLOCKED ERR0009.

use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::restful_integration::keystore::{KeyRefusal, issue};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/keystore/create", post(create))
        .route("/rest/v3/keystore/remove", post(remove))
}

#[derive(Deserialize)]
struct CreateRequest {
    jwt: String,
}

#[derive(Serialize)]
struct CreateResponse {
    jwt: String,
}

async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<CreateRequest>,
) -> Result<ResponseObject<CreateResponse>, Error> {
    let jwt = issue(&state, &request.jwt)
        .await
        .map_err(|refusal| match refusal {
            KeyRefusal::Invalid(why) => Error::rest(RestCode::InvalidRequest, why),
            KeyRefusal::UnknownApplication => Error::UnknownApplication,
            KeyRefusal::UnknownActivation => Error::UnknownActivation,
            KeyRefusal::Fault(e) => e,
        })?;
    Ok(ResponseObject(CreateResponse { jwt }))
}

#[derive(Deserialize)]
struct RemoveRequest {
    id: String,
}

#[derive(Serialize)]
struct RemoveResponse {
    id: String,
    removed: bool,
}

/// Removes a temporary key. PowerAuth Server answers `removed: true` whether or not the
/// key existed (a `deleteById`).
async fn remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RemoveRequest>,
) -> Result<ResponseObject<RemoveResponse>, Error> {
    state.store.remove_temporary_key(&request.id).await?;
    Ok(ResponseObject(RemoveResponse {
        id: request.id,
        removed: true,
    }))
}
