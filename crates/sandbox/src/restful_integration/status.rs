//! `/pa/v3/status`: server time for the SDK's clock synchronisation.

use crate::extract::ResponseObject;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::Serialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/status", post(status))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerStatus {
    server_time: i64,
    application: ApplicationInfo,
}

#[derive(Serialize)]
struct ApplicationInfo {
    name: &'static str,
    version: String,
}

async fn status(State(state): State<AppState>) -> ResponseObject<ServerStatus> {
    ResponseObject(ServerStatus {
        server_time: state.now_ms(),
        application: ApplicationInfo {
            name: "tokensim-sandbox",
            version: state.config.server_version.to_string(),
        },
    })
}
