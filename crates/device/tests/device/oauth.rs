//! The OAuth profile's client (`oauth2` crate over reqwest) against the real sandbox over
//! HTTP, with the sandbox's test clock driving every expiry and the poll loop's waits.

use sandbox::{Config, Sandbox, TestClock};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokensim_device::Recorder;
use tokensim_device::profiles::oauth::{
    MemoryTokens, OAuthClient, OAuthError, OAuthFault, OAuthSettings, Sleep, TokenSource,
    TokenStorage,
};
use zeroize::Zeroizing;

const START_MS: i64 = 1_780_272_000_000;
const DEVICE_ID: &str = "/vendor/acme/serial/1234";

struct Harness {
    sandbox: Sandbox,
    clock: TestClock,
    http: reqwest::Client,
    recorder: Arc<Recorder>,
    storage: Arc<MemoryTokens>,
}

impl Harness {
    async fn start() -> Self {
        let clock = TestClock::at(START_MS);
        let sandbox = Sandbox::start_with(
            Config::in_memory(),
            Arc::new(clock.clone()),
            Arc::new(powerauth::SystemRandom::new()),
        )
        .await
        .expect("the sandbox starts");
        Self {
            sandbox,
            clock,
            http: reqwest::Client::new(),
            recorder: Arc::new(Recorder::default()),
            storage: Arc::new(MemoryTokens::new()),
        }
    }

    async fn register(&self, body: Value) -> Value {
        let answer = self
            .http
            .post(format!("{}/oauth2/register", self.sandbox.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
        answer.json().await.unwrap()
    }

    fn client(&self, registered: &Value, slot: &str) -> OAuthClient {
        OAuthClient::new(
            OAuthSettings {
                server: self.sandbox.url().to_owned(),
                client_id: registered["client_id"].as_str().unwrap().to_owned(),
                client_secret: registered["client_secret"]
                    .as_str()
                    .map(|s| Zeroizing::new(s.to_owned())),
                scope: None,
                slot: slot.to_owned(),
            },
            self.storage.clone(),
        )
        .with_events(self.recorder.clone())
        .with_clock(Arc::new(self.clock.clone()))
    }

    async fn confidential(&self) -> Value {
        self.register(json!({"client_name": "backend", "scope": "api"}))
            .await
    }

    async fn public(&self) -> Value {
        self.register(json!({
            "client_name": "Till 7",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            "token_endpoint_auth_method": "none"
        }))
        .await
    }

    /// The verification page's decision, as the user's browser sends it.
    async fn decide(&self, user_code: &str, decision: &str) {
        let answer = self
            .http
            .post(format!("{}/oauth2/device/verify", self.sandbox.url()))
            .json(&json!({"user_code": user_code, "device_id": DEVICE_ID, "decision": decision}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }

    fn exchanges(&self) -> usize {
        self.recorder.exchanges().len()
    }
}

/// A sleep that moves the test clock instead of waiting, recording each wait, and runs
/// `on_wait` (e.g. the user approving) before the next poll.
fn clock_sleep(
    clock: TestClock,
    waits: Arc<Mutex<Vec<Duration>>>,
    advance: impl Fn(usize, Duration) -> Duration + Send + Sync + 'static,
    on_wait: impl Fn(usize) -> Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>
    + Send
    + Sync
    + 'static,
) -> Sleep {
    let advance = Arc::new(advance);
    let on_wait = Arc::new(on_wait);
    Arc::new(move |wait: Duration| {
        let n = {
            let mut waits = waits.lock().unwrap();
            waits.push(wait);
            waits.len()
        };
        let by = advance(n, wait);
        clock.advance(i64::try_from(by.as_millis()).unwrap());
        let task = on_wait(n);
        Box::pin(async move {
            if let Some(task) = task {
                task.await;
            }
        })
    })
}

#[tokio::test]
async fn client_credentials_come_from_storage_first_then_refresh_then_anew() {
    let h = Harness::start().await;
    let registered = h.confidential().await;
    let secret = registered["client_secret"].as_str().unwrap().to_owned();
    let client = h.client(&registered, "backend");

    let first = client.authorize().await.unwrap();
    assert_eq!(first.source, TokenSource::ClientCredentials);
    let refresh = first.tokens.refresh_token.clone().expect("a refresh token");
    assert_eq!(first.tokens.access_expires_ms, START_MS + 20 * 60 * 1000);
    assert_eq!(h.exchanges(), 1);

    // Storage first: no request while the access token lives.
    let again = client.authorize().await.unwrap();
    assert_eq!(again.source, TokenSource::Stored);
    assert_eq!(again.tokens, first.tokens);
    assert_eq!(h.exchanges(), 1, "a stored token is reused without asking");
    let api = client.call_api().await.unwrap();
    assert_eq!(api.source, TokenSource::Stored);
    assert_eq!(api.body["client_id"], registered["client_id"]);

    // 20 minutes later the stored token has expired: the refresh token makes a new one.
    h.clock.advance(20 * 60 * 1000);
    let refreshed = client.authorize().await.unwrap();
    assert_eq!(refreshed.source, TokenSource::Refreshed);
    assert_ne!(refreshed.tokens.access_token, first.tokens.access_token);
    assert_eq!(
        refreshed.tokens.refresh_token.as_deref(),
        Some(refresh.as_str())
    );
    assert_eq!(
        h.storage.load("backend").unwrap().unwrap(),
        refreshed.tokens
    );

    // Clearing the storage makes the client authenticate again.
    client.clear().unwrap();
    let anew = client.authorize().await.unwrap();
    assert_eq!(anew.source, TokenSource::ClientCredentials);
    assert_ne!(anew.tokens.refresh_token.as_deref(), Some(refresh.as_str()));

    // Revocation clears storage and ends the grant at the server.
    let revoked = anew.tokens.clone();
    client.revoke().await.unwrap();
    assert!(h.storage.load("backend").unwrap().is_none());
    // A stored, expired access token whose refresh token was revoked: invalid_grant, the
    // storage is cleared, and the client credentials grant starts over.
    let mut stale = revoked.clone();
    stale.access_expires_ms = 0;
    h.storage.save("backend", &stale).unwrap();
    let recovered = client.authorize().await.unwrap();
    assert_eq!(recovered.source, TokenSource::ClientCredentials);

    // No exchange shows a secret.
    let events = serde_json::to_string(&h.recorder.exchanges()).unwrap();
    for secret in [
        secret.as_str(),
        &first.tokens.access_token,
        &refresh,
        &refreshed.tokens.access_token,
        &recovered.tokens.access_token,
    ] {
        assert!(!events.contains(secret), "a secret leaked into the events");
    }
    assert!(events.contains("<redacted>"));
}

#[tokio::test]
async fn device_flow_polls_at_the_interval_honours_slow_down_and_gets_refresh_token() {
    let h = Arc::new(Harness::start().await);
    let registered = h.public().await;
    let client = h.client(&registered, "till-7");
    assert!(matches!(
        client.authorize().await,
        Err(OAuthError::NeedsDeviceAuthorization)
    ));
    let code = client.start_device(DEVICE_ID).await.unwrap();
    assert_eq!(code.interval(), Duration::from_secs(5));
    assert_eq!(code.expires_in(), Duration::from_secs(600));
    assert!(code.verification_uri().ends_with("/oauth2/device"));
    assert!(!format!("{code:?}").contains(code.user_code()));

    let waits = Arc::new(Mutex::new(Vec::new()));
    let user_code = code.user_code().to_owned();
    let approver = h.clone();
    let client = client.with_sleep(clock_sleep(
        h.clock.clone(),
        waits.clone(),
        // The first wait is cut short (2 s of 5): the next poll is too fast -> slow_down.
        |n, wait| if n == 1 { Duration::from_secs(2) } else { wait },
        move |n| {
            let approver = approver.clone();
            let user_code = user_code.clone();
            (n == 2).then(|| {
                Box::pin(async move { approver.decide(&user_code, "approve").await })
                    as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
            })
        },
    ));
    let done = client.finish_device(&code).await.unwrap();
    assert_eq!(done.source, TokenSource::DeviceAuthorization);
    assert!(done.tokens.refresh_token.is_some());
    assert_eq!(done.tokens.device_id.as_deref(), Some(DEVICE_ID));
    assert_eq!(
        *waits.lock().unwrap(),
        [Duration::from_secs(5), Duration::from_secs(10)],
        "polls at the server's interval, 5 s more after slow_down"
    );
    let errors: Vec<String> = h
        .recorder
        .exchanges()
        .iter()
        .filter(|e| e.label == "oauth/token device_code")
        .map(|e| e.response_body.clone())
        .collect();
    assert!(errors[0].contains("authorization_pending"), "{errors:?}");
    assert!(errors[1].contains("slow_down"), "{errors:?}");
    let events = serde_json::to_string(&h.recorder.exchanges()).unwrap();
    assert!(
        !events.contains(code.user_code()),
        "the live user code leaked"
    );

    // The API sees the device; storage serves the next call; 20 minutes on, a refresh.
    let api = client.call_api().await.unwrap();
    assert_eq!(api.body["device_id"], DEVICE_ID);
    assert_eq!(api.source, TokenSource::Stored);
    h.clock.advance(20 * 60 * 1000);
    assert_eq!(
        client.authorize().await.unwrap().source,
        TokenSource::Refreshed
    );
}

#[tokio::test]
async fn device_flow_ends_on_access_denied_and_expired_token() {
    let h = Arc::new(Harness::start().await);
    let registered = h.public().await;

    let code = h
        .client(&registered, "a")
        .start_device(DEVICE_ID)
        .await
        .unwrap();
    let denier = h.clone();
    let user_code = code.user_code().to_owned();
    let client = h.client(&registered, "a").with_sleep(clock_sleep(
        h.clock.clone(),
        Arc::default(),
        |_, wait| wait,
        move |n| {
            let denier = denier.clone();
            let user_code = user_code.clone();
            (n == 1).then(|| {
                Box::pin(async move { denier.decide(&user_code, "deny").await })
                    as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
            })
        },
    ));
    let error = client.finish_device(&code).await.unwrap_err();
    assert_eq!(error.code(), Some("access_denied"), "{error}");
    assert!(error.to_string().contains("denied"), "{error}");
    assert!(h.storage.load("a").unwrap().is_none());

    let code = h
        .client(&registered, "b")
        .start_device(DEVICE_ID)
        .await
        .unwrap();
    let client = h.client(&registered, "b").with_sleep(clock_sleep(
        h.clock.clone(),
        Arc::default(),
        // Nobody comes: each wait takes 4 minutes.
        |_, _| Duration::from_secs(240),
        |_| None,
    ));
    let error = client.finish_device(&code).await.unwrap_err();
    assert_eq!(error.code(), Some("expired_token"), "{error}");
    assert!(!error.to_string().contains(code.user_code()));
}

#[tokio::test]
async fn faults_end_in_clear_errors_or_recover_and_keep_stored_tokens() {
    let h = Arc::new(Harness::start().await);
    let registered = h.confidential().await;
    let secret = registered["client_secret"].as_str().unwrap().to_owned();

    // wrong-secret: 401 invalid_client, with a hint and without the secret.
    let error = h
        .client(&registered, "cc")
        .with_fault(Some("wrong-secret".parse().unwrap()))
        .authorize()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("invalid_client"));
    assert!(
        matches!(error, OAuthError::Refused { status: 401, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("check the client id and secret"));
    assert!(!error.to_string().contains(&secret));

    let client = h.client(&registered, "cc");
    let stored = client.authorize().await.unwrap().tokens;

    // server-down: a refused connection, and the stored tokens stay as they were.
    h.clock.advance(20 * 60 * 1000);
    let error = h
        .client(&registered, "cc")
        .with_fault(Some(OAuthFault::ServerDown))
        .call_api()
        .await
        .unwrap_err();
    assert!(matches!(error, OAuthError::Network { .. }), "{error}");
    assert!(
        error.to_string().contains("is the sandbox running"),
        "{error}"
    );
    assert_eq!(h.storage.load("cc").unwrap().unwrap(), stored);

    // expired-token: the expired token is sent anyway, the API answers 401 invalid_token,
    // one refresh and one retry make it work.
    let answer = h
        .client(&registered, "cc")
        .with_fault(Some(OAuthFault::ExpiredToken))
        .call_api()
        .await
        .unwrap();
    assert!(answer.refreshed_after_401);
    let api_statuses: Vec<Option<u16>> = h
        .recorder
        .exchanges()
        .iter()
        .filter(|e| e.label == "oauth/api me")
        .map(|e| e.status)
        .collect();
    assert_eq!(
        api_statuses[api_statuses.len() - 2..],
        [Some(401), Some(200)]
    );

    // clock-skew 30 minutes behind: the device believes its token still lives; same recovery.
    h.clock.advance(20 * 60 * 1000);
    let answer = h
        .client(&registered, "cc")
        .with_fault(Some("clock-skew=-1800000".parse().unwrap()))
        .call_api()
        .await
        .unwrap();
    assert!(answer.refreshed_after_401);

    // replay: the revoked refresh token presented again is refused with invalid_grant.
    let error = h
        .client(&registered, "cc")
        .with_fault(Some(OAuthFault::Replay))
        .revoke()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("invalid_grant"), "{error}");
    assert!(h.storage.load("cc").unwrap().is_none());

    // replay on the device flow: the spent device code is refused with invalid_grant.
    let public = h.public().await;
    let code = h
        .client(&public, "pos")
        .start_device(DEVICE_ID)
        .await
        .unwrap();
    h.decide(code.user_code(), "approve").await;
    let error = h
        .client(&public, "pos")
        .with_fault(Some(OAuthFault::Replay))
        .finish_device(&code)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("invalid_grant"), "{error}");
    assert!(
        h.storage.load("pos").unwrap().is_some(),
        "the tokens of the first exchange are kept"
    );

    assert!("stale-counter".parse::<OAuthFault>().is_err());
}

/// `register_client` (the one registration the CLI, the app and the fleet use) against the
/// sandbox: a confidential client gets a secret that then authenticates, a point-of-sale
/// client gets none, the exchange reaches the client's events with the secret redacted,
/// and bad metadata is the server's RFC 7591 refusal.
#[tokio::test]
async fn register_client_makes_both_kinds_and_reports_the_exchange_redacted() {
    use tokensim_device::profiles::ProfileClient;
    use tokensim_device::profiles::oauth::{
        ClientRegistration, DEVICE_GRANT_TYPES, REGISTER_LABEL, register_client,
    };
    use tokensim_device::{Client, ClientConfig, Error};

    let h = Harness::start().await;
    let client = Client::new(ClientConfig::default(), h.recorder.clone()).unwrap();
    let pc = ProfileClient::new(&client, h.sandbox.url());

    let confidential = register_client(&pc, &ClientRegistration::confidential("backend", "api"))
        .await
        .unwrap();
    let secret = confidential.client_secret.clone().expect("a secret");
    assert!(!confidential.client_id.is_empty());
    assert_eq!(confidential.client_name.as_deref(), Some("backend"));
    assert_eq!(confidential.scope.as_deref(), Some("api"));
    assert_eq!(
        confidential.grant_types,
        ["client_credentials", "refresh_token"]
    );
    assert!(!format!("{confidential:?}").contains(secret.as_str()));
    let exchanges = h.recorder.exchanges();
    let exchange = exchanges.last().unwrap();
    assert_eq!(exchange.label, REGISTER_LABEL);
    assert_eq!(exchange.status, Some(201));
    assert!(exchange.response_body.contains(&confidential.client_id));
    assert!(!exchange.response_body.contains(secret.as_str()));

    // The registered secret authenticates: a token by the client credentials grant.
    let registered = json!({
        "client_id": confidential.client_id,
        "client_secret": secret.as_str(),
    });
    let authorized = h.client(&registered, "reg").authorize().await.unwrap();
    assert_eq!(authorized.source, TokenSource::ClientCredentials);

    let device = register_client(&pc, &ClientRegistration::device("Till 7", "api"))
        .await
        .unwrap();
    assert!(device.client_secret.is_none());
    assert_eq!(device.grant_types, DEVICE_GRANT_TYPES);
    assert_eq!(device.token_endpoint_auth_method.as_deref(), Some("none"));
    assert_ne!(device.client_id, confidential.client_id);

    let mut bad = ClientRegistration::confidential("backend", "api");
    bad.grant_types = Some(vec!["password".to_owned()]);
    match register_client(&pc, &bad).await {
        Err(Error::Server { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_client_metadata"));
        }
        other => panic!("expected invalid_client_metadata, got {other:?}"),
    }
}
