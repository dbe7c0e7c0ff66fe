//! The push outbox: what the sandbox would send to APNs / FCM / HMS is stored and
//! told to live listeners (SSE, WebSocket; [`crate::fanout`]) instead, so a tester sees it and no account is needed.

use crate::error::Error;
use crate::state::AppState;
use crate::store::{Operation, PushMessage};
use serde_json::json;

/// Queues the mobile-token "new operation" push for every registered device of the
/// operation's user.
pub(crate) async fn operation_created(
    state: &AppState,
    operation: &Operation,
) -> Result<(), Error> {
    let Some(user_id) = &operation.user_id else {
        return Ok(());
    };
    for activation_id in state.store.push_targets(user_id).await? {
        let message = PushMessage {
            message_id: state.make_uuid(),
            user_id: user_id.clone(),
            activation_id: Some(activation_id),
            body: json!({
                "messageType": "mtoken.operationInit",
                "operationId": operation.operation_id,
                "operationName": operation.operation_type,
            }),
            timestamp_created: state.now_ms(),
        };
        state.push.queue(&state.store, message).await?;
    }
    Ok(())
}
