//! Protocol micro-benchmarks (criterion), each reported as a ratio to the raw primitive
//! it is built on: ECIES against one ECDH, signatures against one HMAC-SHA256, the status
//! blob against one AES block, the token digest against one HMAC-SHA256, a key pair (the
//! precomputed-table `k·G`) against `p256`'s generic `G·k`, and unlocking the PIN-protected
//! knowledge key against its 10,000-iteration PBKDF2.
//!
//! `make bench` runs them; the ratio table is printed after criterion's own report.

use criterion::Criterion;
use powerauth::ecies::{Recipient, Scope};
use powerauth::hazmat;
use powerauth::signature::{
    FactorKeys, RequestData, SignatureFormat, SignatureType, Verifier, compute_signature,
};
use powerauth::status::{StatusExchange, StatusRecord};
use powerauth::token::token_digest;
use powerauth::vault::ProtectedKnowledgeKey;
use powerauth::{
    ActivationKeys, ActivationState, ActivationStatusBlob, CtrData, Encryptor, KeyPair,
    ProtocolVersion, SeededRandom, SharedInfo1, SymmetricKey,
};
use std::hint::black_box;
use std::path::PathBuf;

const APP_KEY: &str = "T8uNaz2WpHmJm8btsQuZgg==";
const APP_SECRET: &str = "fLz13bJJtBHZCgJve1oHUQ==";
const NOW_MS: u64 = 1_764_000_000_000;
const BODY: &[u8] = br#"{"requestObject":{"id":"3699a9c0-1d5a-4b4e-9b0a-6a8e0a5e2c11","data":"A1*A100CZK*Q238400856/0300**D20190629*NUtility Bill Payment - 05/2019"}}"#;

/// (benchmark, the primitive it is built on, how many of that primitive it needs at least)
const RATIOS: &[(&str, &str, &str)] = &[
    (
        "ecies_v3.2_round_trip",
        "ecdh",
        "3 P-256 scalar mults (1 keygen + 2 ECDH)",
    ),
    (
        "ecies_v3.3_round_trip",
        "ecdh",
        "3 P-256 scalar mults (1 keygen + 2 ECDH)",
    ),
    ("signature_compute_2fa", "hmac_sha256", "6 HMAC"),
    (
        "signature_verify_lookahead20_last",
        "hmac_sha256",
        "up to 20 x 6 HMAC + 20 SHA-256",
    ),
    (
        "signature_verify_lookahead20_miss",
        "hmac_sha256",
        "20 x 6 HMAC + 20 SHA-256",
    ),
    (
        "status_blob_decrypt_decode",
        "aes_block",
        "2 AES blocks + KDF + HMAC",
    ),
    ("token_digest", "hmac_sha256", "1 HMAC"),
    (
        "keypair_make",
        "p256_generic_base_mul",
        "1 P-256 multiplication by G (ours: table, 64 additions)",
    ),
    (
        "knowledge_key_unlock",
        "pbkdf2_hmac_sha1_10000",
        "1 PBKDF2 (10,000 iterations) + 1 AES block",
    ),
];

fn primitives(c: &mut Criterion) {
    let rng = SeededRandom::new(b"bench");
    let a = KeyPair::make(&rng);
    let b = KeyPair::make(&rng);
    let key = [7u8; 16];
    let mut group = c.benchmark_group("protocol");
    group.bench_function("ecdh", |bench| {
        bench.iter(|| black_box(a.private.ecdh(black_box(&b.public))))
    });
    group.bench_function("hmac_sha256", |bench| {
        bench.iter(|| black_box(hazmat::hmac_sha256(black_box(&key), black_box(BODY))))
    });
    group.bench_function("p256_generic_base_mul", |bench| {
        let scalar = p256::Scalar::from(0x1234_5678_9abc_def0_u64) * p256::Scalar::from(u64::MAX);
        bench.iter(|| black_box(p256::ProjectivePoint::GENERATOR * black_box(&scalar)))
    });
    group.bench_function("keypair_make", |bench| {
        bench.iter(|| black_box(KeyPair::make(&rng)))
    });
    group.bench_function("pbkdf2_hmac_sha1_10000", |bench| {
        bench.iter(|| black_box(hazmat::pbkdf2_hmac_sha1(b"1234", black_box(&key), 10_000)))
    });
    let protected = ProtectedKnowledgeKey::protect(&SymmetricKey::make(&rng), "1234", &rng);
    group.bench_function("knowledge_key_unlock", |bench| {
        bench.iter(|| black_box(protected.unlock(black_box("1234"))))
    });
    group.bench_function("aes_block", |bench| {
        bench.iter(|| {
            black_box(hazmat::aes_encrypt_block(
                black_box(&key),
                black_box(&[1; 16]),
            ))
        })
    });
    group.finish();
}

fn ecies(c: &mut Criterion) {
    let rng = SeededRandom::new(b"ecies");
    let master = KeyPair::make(&rng);
    let mut group = c.benchmark_group("protocol");
    for version in [ProtocolVersion::V3_2, ProtocolVersion::V3_3] {
        let encryptor = Encryptor::new(
            version,
            SharedInfo1::ApplicationScopeGeneric,
            APP_KEY,
            APP_SECRET,
            Scope::Application,
        )
        .expect("application scope constant");
        let recipient = if version.uses_temporary_keys() {
            Recipient::Temporary {
                id: "9fbf38b5-78af-446e-a7b2-72120c41a37e",
                public_key: &master.public,
            }
        } else {
            Recipient::Static(&master.public)
        };
        group.bench_function(format!("ecies_v{version}_round_trip"), |bench| {
            bench.iter(|| {
                let (request, context) = encryptor
                    .encrypt_request(recipient, BODY, &rng, NOW_MS)
                    .expect("encrypt");
                let (plain, responder) = encryptor
                    .decrypt_request(&master.private, &request)
                    .expect("decrypt");
                let response = responder.encrypt_response(&plain, &rng, NOW_MS);
                black_box(
                    context
                        .decrypt_response(&response)
                        .expect("decrypt response"),
                )
            })
        });
    }
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let keys = ActivationKeys::derive(&SymmetricKey::from_bytes([3; 16]));
    let factor_keys = FactorKeys::from(&keys);
    let base = RequestData::new("POST", "/operation/authorize", &[9; 16], BODY)
        .with_application_secret(APP_SECRET);
    let format = SignatureFormat::online(ProtocolVersion::V3_3);
    let start = CtrData::from_bytes([1; 16]);
    let kind = SignatureType::PossessionKnowledge;
    // The device is 19 steps ahead: the server finds it at the last step of its window.
    let mut ahead = start.advanced(19);
    let last = compute_signature(&factor_keys, kind, &mut ahead, &base, format).expect("keys");
    let verifier = Verifier::new(FactorKeys::from(&keys)).with_lookahead(20);

    let mut group = c.benchmark_group("protocol");
    group.bench_function("signature_compute_2fa", |bench| {
        bench.iter(|| {
            let mut ctr = start.clone();
            black_box(compute_signature(&factor_keys, kind, &mut ctr, &base, format).expect("keys"))
        })
    });
    group.bench_function("signature_verify_lookahead20_last", |bench| {
        bench.iter(|| {
            let found = verifier.verify_online(&start, kind, &last, &base, ProtocolVersion::V3_3);
            assert_eq!(found.map(|v| v.steps_ahead), Some(19));
        })
    });
    group.bench_function("signature_verify_lookahead20_miss", |bench| {
        let wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        bench.iter(|| {
            let found = verifier.verify_online(&start, kind, wrong, &base, ProtocolVersion::V3_3);
            assert!(found.is_none());
        })
    });
    group.finish();
}

fn status_and_token(c: &mut Criterion) {
    let rng = SeededRandom::new(b"status");
    let transport = SymmetricKey::from_bytes([5; 16]);
    let record = StatusRecord {
        state: ActivationState::Active,
        current_version: 3,
        upgrade_version: StatusRecord::SERVER_UPGRADE_VERSION,
        failed_attempts: 1,
        max_failed_attempts: 5,
        ctr_look_ahead: 20,
        counter: 42,
        ctr_data: Some(CtrData::from_bytes([8; 16])),
    };
    let challenge = [4u8; 16];
    let status = powerauth::status::encrypt_status(&record, &transport, Some(challenge), &rng);
    let exchange =
        StatusExchange::from_response(Some(challenge), status.nonce.as_ref().map(|n| &n[..]))
            .expect("nonce present");
    let token_secret = SymmetricKey::from_bytes([6; 16]);

    let mut group = c.benchmark_group("protocol");
    group.bench_function("status_blob_decrypt_decode", |bench| {
        bench.iter(|| {
            black_box(
                ActivationStatusBlob::decrypt(&status.encrypted_status_blob, &transport, &exchange)
                    .expect("valid blob"),
            )
        })
    });
    group.bench_function("token_digest", |bench| {
        bench.iter(|| {
            black_box(token_digest(
                &token_secret,
                &[2; 16],
                NOW_MS,
                ProtocolVersion::V3_3,
            ))
        })
    });
    group.finish();
}

/// Where criterion writes its estimates: `$CARGO_TARGET_DIR/criterion`, else `target/criterion`.
fn criterion_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("criterion")
}

/// The median of one benchmark in nanoseconds, from criterion's `estimates.json`.
fn median_ns(dir: &std::path::Path, name: &str) -> Option<f64> {
    let path = dir
        .join("protocol")
        .join(name)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"].as_f64()
}

fn print_ratios(dir: &std::path::Path) {
    println!("\nRatios to the primitive each operation is built on (medians):");
    println!(
        "{:<36} {:>12}  {:<12} {:>12} {:>8}  minimum work",
        "operation", "time", "primitive", "time", "ratio"
    );
    for (name, base, work) in RATIOS {
        match (median_ns(dir, name), median_ns(dir, base)) {
            (Some(t), Some(b)) => println!(
                "{name:<36} {:>10.2}µs  {base:<12} {:>10.3}µs {:>7.1}x  {work}",
                t / 1000.0,
                b / 1000.0,
                t / b
            ),
            _ => println!("{name:<36} (not measured in this run)"),
        }
    }
}

fn main() {
    let dir = criterion_dir();
    let mut criterion = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    benches_with(&mut criterion);
    criterion.final_summary();
    // `cargo test --benches` runs each benchmark once without measuring: no table then.
    if std::env::args().any(|a| a == "--bench") {
        print_ratios(&dir);
    }
}

fn benches_with(criterion: &mut Criterion) {
    primitives(criterion);
    ecies(criterion);
    signatures(criterion);
    status_and_token(criterion);
}
