//! New push-outbox messages for live listeners (the Cloud API's SSE and WebSocket streams),
//! across every sandbox instance on one database.
//!
//! Each instance tells its own listeners at once, through an in-process broadcast. On
//! PostgreSQL the insert of a message also sends `NOTIFY` (see
//! [`Store::insert_push_message`]), and every instance keeps one `LISTEN` connection: a
//! message queued through another instance is read back by id and told to this instance's
//! listeners, so a client connected to instance A hears of a message sent through
//! instance B. SQLite serves one instance, so it needs no more than the broadcast.
//!
//! Like a real push service this is at most once: a listener that lags, or an instance
//! whose `LISTEN` connection is being re-established, skips messages; the outbox
//! (`GET /v2/push/messages`) still has every one.

use crate::store::{Backend, PUSH_CHANNEL, PushMessage, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Messages a lagging listener may fall behind by before it skips some.
const BACKLOG: usize = 256;

/// One instance's side of the fan-out. Cheap to clone; the `LISTEN` task stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct Fanout {
    events: broadcast::Sender<PushMessage>,
    instance: Arc<str>,
    _listener: Option<Arc<ListenerTask>>,
}

impl Fanout {
    /// The fan-out of an instance named `instance` (unique per process start) on `store`;
    /// on PostgreSQL it starts listening on `database_url` first, so a database that refuses
    /// `LISTEN` fails the start.
    pub async fn start(
        store: &Store,
        database_url: &str,
        instance: String,
    ) -> Result<Self, StoreError> {
        let events = broadcast::channel(BACKLOG).0;
        let listener = match store.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
                listener.listen(PUSH_CHANNEL).await?;
                let task = tokio::spawn(listen(
                    listener,
                    store.clone(),
                    events.downgrade(),
                    instance.clone(),
                ));
                Some(Arc::new(ListenerTask(task)))
            }
        };
        Ok(Self {
            events,
            instance: instance.into(),
            _listener: listener,
        })
    }

    /// Puts `message` in the outbox and tells the listeners of every instance.
    pub async fn queue(&self, store: &Store, message: PushMessage) -> Result<(), StoreError> {
        store.insert_push_message(&message, &self.instance).await?;
        // Nobody listening is fine: the outbox keeps the message.
        let _ = self.events.send(message);
        Ok(())
    }

    /// A new listener: every message queued from now on, through any instance.
    pub fn subscribe(&self) -> broadcast::Receiver<PushMessage> {
        self.events.subscribe()
    }
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("instance", &self.instance)
            .field("listening", &self._listener.is_some())
            .finish()
    }
}

/// Aborts the `LISTEN` task (and so closes its connection) when dropped.
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Tells this instance's listeners of each message another instance notified. A payload
/// is `ORIGIN:MESSAGE_ID`; this instance's own messages were told when queued, and an id
/// not in this database (another schema on the same server) is ignored.
async fn listen(
    mut listener: sqlx::postgres::PgListener,
    store: Store,
    events: broadcast::WeakSender<PushMessage>,
    instance: String,
) {
    loop {
        match listener.recv().await {
            Ok(notification) => {
                let Some((origin, message_id)) = notification.payload().split_once(':') else {
                    continue;
                };
                if origin == instance {
                    continue;
                }
                let Some(events) = events.upgrade() else {
                    return;
                };
                if events.receiver_count() == 0 {
                    continue;
                }
                match store.push_message(message_id).await {
                    Ok(Some(message)) => {
                        let _ = events.send(message);
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, "reading a push message another instance queued failed");
                    }
                }
            }
            // sqlx reconnects on the next call; what was notified meanwhile is lost.
            Err(error) => {
                tracing::warn!(%error, "the push fan-out lost its LISTEN connection; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
