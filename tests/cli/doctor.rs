//! `tokensim doctor --server`: every check against the real sandbox, and each failing on a
//! sandbox configured to fail it (3.1 only, a shifted clock, no mobile-token API, a wrong
//! master key, nothing listening).

use crate::common::{World, output};
use powerauth::config::ApplicationConfig;
use powerauth::{KeyPair, SystemRandom};
use sandbox::{Config, Sandbox, TestClock};
use serde_json::Value;
use std::sync::Arc;

async fn doctor(world: &World, server: &str, config: Option<&str>) -> (i32, Value) {
    let mut args = vec!["--json", "doctor", "--server", server];
    if let Some(config) = config {
        args.extend(["--config", config]);
    }
    let run = output(world.command(&args)).await;
    assert!(run.code == 0 || run.code == 3, "{run:?}");
    (run.code, run.json())
}

fn verdict<'a>(report: &'a Value, id: &str) -> &'a str {
    report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {report}"))["verdict"]
        .as_str()
        .unwrap()
}

async fn sandbox_with(config: Config) -> (Sandbox, String) {
    let sandbox = Sandbox::start(config).await.unwrap();
    let sdk = sandbox.default_mobile_sdk_config().await.unwrap().unwrap();
    (sandbox, sdk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_passes_every_check() {
    let world = World::start().await;
    let (code, report) = doctor(&world, world.url(), Some(&world.config)).await;
    assert_eq!(code, 0, "{report}");
    for id in [
        "reach",
        "restful-api",
        "protocol-versions",
        "clock",
        "mobile-token-api",
        "push-inbox",
        "application",
    ] {
        assert_eq!(verdict(&report, id), "ok", "{id}: {report}");
    }
    // Plain HTTP is a warning, not a failure.
    assert_eq!(verdict(&report, "tls"), "warn");
    assert_eq!(
        report["report"]["acceptedVersions"],
        serde_json::json!(["3.0", "3.1", "3.2", "3.3"])
    );
    assert!(report["report"]["clockOffsetMs"].as_i64().unwrap().abs() < 5_000);
    assert!(report["report"]["serverVersion"].is_string());
    // Without --config the application is not checked, and says so.
    let (_, report) = doctor(&world, world.url(), None).await;
    assert_eq!(verdict(&report, "application"), "skipped");
    // The text form: a line per check, what to do for each that is not ok.
    let run = world
        .run(&["doctor", "--server", world.url(), "--config", &world.config])
        .await;
    assert!(
        run.ok().contains("what to do: fine for a local sandbox"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_fails_on_a_sandbox_made_to_fail_it() {
    let world = World::start().await;

    // 3.1 only: an older server without temporary keys.
    let mut config = Config::in_memory();
    config.protocol_versions = vec![powerauth::ProtocolVersion::V3_1];
    let (old, sdk) = sandbox_with(config).await;
    let (code, report) = doctor(&world, old.url(), Some(&sdk)).await;
    assert_eq!(code, 0, "warnings only: {report}");
    assert_eq!(verdict(&report, "protocol-versions"), "warn");
    assert_eq!(
        report["report"]["acceptedVersions"],
        serde_json::json!(["3.1"])
    );
    // No temporary key to read the server's clock from: the Date header, and it says so.
    assert_eq!(verdict(&report, "clock"), "ok", "{report}");
    assert_eq!(report["report"]["clockSource"], "date-header", "{report}");
    assert!(
        check(&report, "clock")["message"]
            .as_str()
            .unwrap()
            .contains("from the HTTP Date header"),
        "{report}"
    );
    assert_eq!(verdict(&report, "application"), "skipped");

    // The same older server with a clock 40 minutes behind: its Date header shows it, and
    // this machine's tokens would land beyond the 30 minutes a server takes in its future.
    let clock = TestClock::at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            - 2_400_000,
    );
    let mut config = Config::in_memory();
    config.protocol_versions = vec![powerauth::ProtocolVersion::V3_1];
    let old_shifted = Sandbox::start_with(config, Arc::new(clock), Arc::new(SystemRandom::new()))
        .await
        .unwrap();
    let sdk = old_shifted
        .default_mobile_sdk_config()
        .await
        .unwrap()
        .unwrap();
    let (code, report) = doctor(&world, old_shifted.url(), Some(&sdk)).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "clock"), "fail", "{report}");
    assert_eq!(report["report"]["clockSource"], "date-header", "{report}");
    let offset = report["report"]["clockOffsetMs"].as_i64().unwrap();
    assert!((-2_460_000..=-2_398_000).contains(&offset), "{offset}");

    // A server clock 10 minutes behind: this machine's 3.2+ requests land in its future.
    let clock = TestClock::at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            - 600_000,
    );
    let shifted = Sandbox::start_with(
        Config::in_memory(),
        Arc::new(clock),
        Arc::new(SystemRandom::new()),
    )
    .await
    .unwrap();
    let sdk = shifted.default_mobile_sdk_config().await.unwrap().unwrap();
    let (code, report) = doctor(&world, shifted.url(), Some(&sdk)).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "clock"), "fail");
    let offset = report["report"]["clockOffsetMs"].as_i64().unwrap();
    assert!((-610_000..=-590_000).contains(&offset), "{offset}");

    // No mobile-token API: a plain PowerAuth server.
    let mut config = Config::in_memory();
    config.mobile_token_api = false;
    let (plain, sdk) = sandbox_with(config).await;
    let (code, report) = doctor(&world, plain.url(), Some(&sdk)).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "mobile-token-api"), "fail");
    assert_eq!(verdict(&report, "push-inbox"), "warn");
    assert_eq!(verdict(&report, "restful-api"), "ok");

    // A configuration whose master key is another server's.
    let rng = SystemRandom::new();
    let mut wrong = ApplicationConfig::from_mobile_sdk_config(&world.config).unwrap();
    wrong.master_server_public_key = KeyPair::make(&rng).public;
    let (code, report) = doctor(&world, world.url(), Some(&wrong.to_mobile_sdk_config())).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "application"), "fail");
    let check = report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "application")
        .unwrap();
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("master public key"),
        "{check}"
    );
    // An application the server does not know.
    let unknown = ApplicationConfig::make(KeyPair::make(&rng).public, &rng).to_mobile_sdk_config();
    let (_, report) = doctor(&world, world.url(), Some(&unknown)).await;
    assert_eq!(verdict(&report, "application"), "fail");

    // Nothing listening, and a URL that is not a PowerAuth server.
    let (code, report) = doctor(&world, "http://127.0.0.1:9", None).await;
    assert_eq!(code, 3);
    assert_eq!(verdict(&report, "reach"), "fail");
    assert_eq!(verdict(&report, "clock"), "skipped");
    let (_, report) = doctor(&world, &format!("{}/nothing-here", world.url()), None).await;
    assert_eq!(verdict(&report, "restful-api"), "fail");
}

/// `tokensim sandbox` with the policy flags of the `tokensim-sandbox` binary: a 3.1-only
/// server without the mobile-token API, as the doctor sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_subcommand_takes_the_binarys_policy_flags() {
    let world = World::start().await;
    let mut child = world
        .command(&[
            "--json",
            "sandbox",
            "--port",
            "0",
            "--protocol-versions",
            "3.1",
            "--no-mobile-token-api",
            "--look-ahead",
            "7",
        ])
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let url = info["url"].as_str().unwrap().to_owned();
    let sdk = info["mobileSdkConfig"].as_str().unwrap().to_owned();
    let (code, report) = doctor(&world, &url, Some(&sdk)).await;
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(code, 3, "{report}");
    assert_eq!(
        report["report"]["acceptedVersions"],
        serde_json::json!(["3.1"]),
        "{report}"
    );
    assert_eq!(verdict(&report, "mobile-token-api"), "fail");
    assert_eq!(verdict(&report, "restful-api"), "ok");
    // A value out of PowerAuth Server's range is refused with the flag's name.
    let run = world
        .run(&["sandbox", "--port", "0", "--look-ahead", "65"])
        .await;
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("--look-ahead"), "{run:?}");
}

/// A certificate authority made for the test, and server certificates it signs.
struct Authority {
    key: rcgen::KeyPair,
    cert: rcgen::Certificate,
}

impl Authority {
    fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "TokenSim test CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { key, cert }
    }

    /// A server certificate for `names`, valid from yesterday for `days` days from now
    /// (negative: expired).
    fn issue(&self, names: &[&str], days: i64) -> (rcgen::Certificate, rcgen::KeyPair) {
        let mut params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sandbox.tokensim.test");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(400);
        params.not_after = now + time::Duration::days(days);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert, key)
    }
}

/// The sandbox behind TLS: a rustls front on a port of its own that forwards each
/// connection to the sandbox's plain port. Dropped, it stops accepting.
struct TlsFront {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tls_front(
    backend: &str,
    authority: &Authority,
    cert: &rcgen::Certificate,
    key: &rcgen::KeyPair,
) -> TlsFront {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let chain = vec![
        CertificateDer::from(cert.der().to_vec()),
        CertificateDer::from(authority.cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let backend = backend.trim_start_matches("http://").to_owned();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate hangs up during the handshake.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    TlsFront { url, task }
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {report}"))
}

/// `doctor --server https://…` against the sandbox behind TLS with certificates made for
/// the test: the chain described, then each fault a tester meets (an authority the machine
/// does not trust, a certificate about to expire, an expired one, another host's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_of_an_https_server_is_described_and_judged() {
    let world = World::start().await;
    let authority = Authority::new();
    let ca_file = world.dir.path().join("test-ca.pem");
    std::fs::write(&ca_file, authority.cert.pem()).unwrap();
    let ca = ca_file.to_str().unwrap();
    let run_doctor = |url: String, trust: bool| {
        let world = &world;
        async move {
            let mut args = vec!["--json"];
            if trust {
                args.extend(["--ca-cert", ca]);
            }
            args.extend(["doctor", "--server", &url, "--config", &world.config]);
            let run = output(world.command(&args)).await;
            assert!(run.code == 0 || run.code == 3, "{run:?}");
            (run.code, run.json())
        }
    };

    // A good certificate from the authority the machine is told to trust.
    let (cert, key) = authority.issue(&["localhost", "127.0.0.1"], 200);
    let front = tls_front(world.url(), &authority, &cert, &key).await;
    let (code, report) = run_doctor(front.url.clone(), true).await;
    assert_eq!(code, 0, "{report}");
    for id in [
        "reach",
        "tls",
        "restful-api",
        "protocol-versions",
        "clock",
        "application",
    ] {
        assert_eq!(verdict(&report, id), "ok", "{id}: {report}");
    }
    let tls = &report["report"]["tls"];
    assert_eq!(tls["trusted"], true, "{tls}");
    assert_eq!(tls["hostMatches"], true, "{tls}");
    assert_eq!(
        tls["chain"][0]["subject"], "CN=sandbox.tokensim.test",
        "{tls}"
    );
    assert_eq!(tls["chain"][0]["issuer"], "CN=TokenSim test CA", "{tls}");
    assert_eq!(
        tls["chain"][0]["names"],
        serde_json::json!(["localhost", "127.0.0.1"])
    );
    let left = tls["chain"][0]["daysLeft"].as_i64().unwrap();
    assert!((199..=200).contains(&left), "{tls}");
    assert_eq!(tls["chain"][1]["selfSigned"], true, "{tls}");
    let details = check(&report, "tls")["details"].as_array().unwrap();
    assert!(
        details[0]
            .as_str()
            .unwrap()
            .starts_with("server: CN=sandbox.tokensim.test — issued by CN=TokenSim test CA"),
        "{details:?}"
    );
    // The text form shows the chain under the check.
    let run = world
        .run(&["--ca-cert", ca, "doctor", "--server", &front.url])
        .await;
    assert!(run.ok().contains("chain: CN=TokenSim test CA"), "{run:?}");

    // The same server, without trusting its authority: nothing else can be reached, and the
    // TLS check says why.
    let (code, report) = run_doctor(front.url.clone(), false).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "reach"), "fail");
    let tls = check(&report, "tls");
    assert_eq!(tls["verdict"], "fail", "{report}");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("does not chain to a trusted root"),
        "{tls}"
    );
    assert!(tls["hint"].as_str().unwrap().contains("--ca-cert"), "{tls}");
    assert_eq!(report["report"]["tls"]["trusted"], false);
    drop(front);

    // Ten days left: works, with a warning to renew.
    let (cert, key) = authority.issue(&["localhost", "127.0.0.1"], 10);
    let front = tls_front(world.url(), &authority, &cert, &key).await;
    let (code, report) = run_doctor(front.url.clone(), true).await;
    assert_eq!(code, 0, "{report}");
    let tls = check(&report, "tls");
    assert_eq!(tls["verdict"], "warn", "{report}");
    assert!(
        tls["message"].as_str().unwrap().contains("expires on"),
        "{tls}"
    );
    assert_eq!(verdict(&report, "restful-api"), "ok");
    drop(front);

    // Expired two days ago.
    let (cert, key) = authority.issue(&["localhost", "127.0.0.1"], -2);
    let front = tls_front(world.url(), &authority, &cert, &key).await;
    let (code, report) = run_doctor(front.url.clone(), true).await;
    assert_eq!(code, 3, "{report}");
    let tls = check(&report, "tls");
    assert_eq!(tls["verdict"], "fail", "{report}");
    assert!(
        tls["message"].as_str().unwrap().contains("expired"),
        "{tls}"
    );
    assert!(tls["hint"].as_str().unwrap().contains("renew"), "{tls}");
    drop(front);

    // Another host's certificate: the chain is trusted, the name is not this host's.
    let (cert, key) = authority.issue(&["bank.example"], 200);
    let front = tls_front(world.url(), &authority, &cert, &key).await;
    let (code, report) = run_doctor(front.url.clone(), true).await;
    assert_eq!(code, 3, "{report}");
    let tls = check(&report, "tls");
    assert_eq!(tls["verdict"], "fail", "{report}");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("is not for 127.0.0.1: it names bank.example"),
        "{tls}"
    );
    assert_eq!(report["report"]["tls"]["trusted"], true);
    assert_eq!(report["report"]["tls"]["hostMatches"], false);
}
