//! `/rest/v3/status`: who this server is, which PowerAuth Server release it answers as
//! (`Config::server_version`, which Wultra's clients pick their API flavour from) and what
//! time it thinks it is.

use crate::clock::iso8601;
use crate::extract::ResponseObject;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::Serialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/rest/v3/status", post(status))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SystemStatus {
    status: &'static str,
    application_name: &'static str,
    application_display_name: &'static str,
    application_environment: &'static str,
    version: String,
    build_time: Option<String>,
    timestamp: String,
}

async fn status(State(state): State<AppState>) -> ResponseObject<SystemStatus> {
    ResponseObject(SystemStatus {
        status: "OK",
        application_name: "powerauth-server",
        application_display_name: "TokenSim PowerAuth sandbox",
        application_environment: "sandbox",
        version: state.config.server_version.to_string(),
        build_time: None,
        timestamp: iso8601(state.now_ms()),
    })
}
