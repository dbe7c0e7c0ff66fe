//! Mobile-token operations, push registration and the inbox, end to end in every version.

use crate::common::{PIN, Server};
use powerauth::ProtocolVersion;
use serde_json::{Value, json};
use tokensim_device::operations::render_operation;
use tokensim_device::{Factors, Session};

const IBAN: &str = "CZ6508000000192000145399";

async fn payment(server: &Server, user: Option<&str>) -> String {
    let mut request = json!({
        "applications": ["tokensim"],
        "templateName": "payment",
        "parameters": {"amount": "100.50", "currency": "CZK", "iban": IBAN},
    });
    if let Some(user) = user {
        request["userId"] = json!(user);
    }
    server.rest("/rest/v3/operation/create", request).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn status_of(server: &Server, id: &str) -> Value {
    server
        .rest("/rest/v3/operation/detail", json!({"operationId": id}))
        .await["status"]
        .clone()
}

#[tokio::test]
async fn operations_are_listed_rendered_approved_rejected_claimed_in_every_version() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let user = format!("user-{version}");
        let mut device = server.device(&user, version).await;
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let mut session = Session::new(&server.client, &mut device, &mut persist);

        let approve_id = payment(&server, Some(&user)).await;
        let reject_id = payment(&server, Some(&user)).await;
        let pending = session
            .list_operations()
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(pending.len(), 2, "{version}");
        let operation = session.operation_detail(&approve_id).await.unwrap();
        assert_eq!(operation.data, format!("A1*A100.50CZK*I{IBAN}"));
        let screen = render_operation(&operation);
        assert!(
            screen.contains("Confirm payment")
                && screen.contains("100.50")
                && screen.contains(IBAN),
            "{screen}"
        );

        // possession alone is not allowed for a 2FA payment: refused locally.
        let error = session
            .approve_operation(&operation, &Factors::possession(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, tokensim_device::Error::FactorNotAllowed { .. }),
            "{error:?}"
        );
        // A wrong PIN: the server refuses.
        let error = session
            .approve_operation(&operation, &Factors::pin("0000"), None)
            .await
            .unwrap_err();
        assert!(error.is_authentication_failure(), "{version}: {error}");
        assert!(
            matches!(&error, tokensim_device::Error::Server { status: 401, code, .. } if code == "POWERAUTH_AUTH_FAIL"),
            "the enrollment server's code: {error:?}"
        );
        session
            .approve_operation(&operation, &Factors::pin(PIN), None)
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(status_of(&server, &approve_id).await, "APPROVED");

        session
            .reject_operation(&reject_id, "UNEXPECTED_OPERATION")
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(status_of(&server, &reject_id).await, "REJECTED");

        // A user-less login operation, claimed by this device.
        let login = server
            .rest(
                "/rest/v3/operation/create",
                json!({"applications": ["tokensim"], "templateName": "login"}),
            )
            .await;
        let login_id = login["id"].as_str().unwrap();
        // Its detail is readable before anyone claims it.
        let unclaimed = session
            .operation_detail(login_id)
            .await
            .unwrap_or_else(|e| panic!("{version}: detail before the claim: {e}"));
        assert_eq!(unclaimed.id, login_id);
        let claimed = session
            .claim_operation(login_id)
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(claimed.data, "A2");
        assert_eq!(
            server
                .rest(
                    "/rest/v3/operation/detail",
                    json!({"operationId": login_id})
                )
                .await["userId"],
            user.as_str()
        );
        session.enroll_biometry(PIN).await.unwrap();
        session
            .approve_operation(&claimed, &Factors::biometry(), None)
            .await
            .unwrap_or_else(|e| panic!("{version}: biometry approval: {e}"));

        let history = session
            .operation_history(&Factors::pin(PIN))
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let states: Vec<_> = history.iter().filter_map(|o| o.status.clone()).collect();
        assert!(
            states.contains(&"APPROVED".to_owned()) && states.contains(&"REJECTED".to_owned()),
            "{version}: {states:?}"
        );
        assert!(session.list_operations().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn push_registration_and_inbox() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let user = format!("inbox-{version}");
        let mut device = server.device(&user, version).await;
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        session
            .register_push("fcm", "push-token-1")
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        server
            .cloud()
            .post_inbox_message(&user, "text", "Hello", "Welcome", "Welcome aboard.")
            .await
            .unwrap();
        assert_eq!(session.inbox_count().await.unwrap(), 1, "{version}");
        let list = session.inbox_list(0, 10, false).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].subject, "Hello");
        let detail = session.inbox_detail(&list[0].id).await.unwrap();
        assert_eq!(detail.body.as_deref(), Some("Welcome aboard."));
        session.inbox_read(&list[0].id).await.unwrap();
        assert_eq!(session.inbox_count().await.unwrap(), 0);
        session.inbox_read_all().await.unwrap();
    }
}

#[tokio::test]
async fn pushes_arrive_on_the_stream_for_this_device_only() {
    use tokensim_device::push::{CloudCredentials, PushStream};
    let server = Server::start().await;
    let mut device = server.device("carol", ProtocolVersion::V3_3).await;
    let mut other = server.device("dave", ProtocolVersion::V3_3).await;
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    for d in [&mut device, &mut other] {
        Session::new(&server.client, d, &mut persist)
            .register_push("fcm", "token")
            .await
            .unwrap();
    }
    let integration = server.sandbox.integration();
    let credentials = CloudCredentials {
        username: integration.username.clone(),
        password: integration.password.clone().into(),
    };
    let mut stream = PushStream::open(
        &server.client,
        server.sandbox.url(),
        &device.activation_id,
        &credentials,
    )
    .await
    .unwrap();
    for user in ["dave", "carol"] {
        server
            .cloud()
            .send_push(user, None, &format!("for {user}"), "")
            .await
            .unwrap();
    }
    let message = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .expect("a push within 5 s")
        .unwrap()
        .unwrap();
    assert_eq!(
        message.body["title"], "for carol",
        "dave's push was filtered out"
    );
    assert_eq!(
        message.activation_id.as_deref(),
        Some(device.activation_id.as_str())
    );
    let bad = CloudCredentials {
        username: "nobody".to_owned(),
        password: String::from("x").into(),
    };
    let error = PushStream::open(
        &server.client,
        server.sandbox.url(),
        &device.activation_id,
        &bad,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(error.http_status(), Some(401), "{error}");
}
