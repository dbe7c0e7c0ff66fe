//! The server doctor's look at an https server's certificate: one TLS handshake of its own
//! (rustls, the roots the device's client trusts), which records the chain the server sent
//! and what verification said of it instead of stopping at the first fault, so an expired,
//! untrusted or misnamed certificate is described rather than just refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::oid::AssociatedOid;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// A certificate closer than this to its end is a warning (30 days).
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// One certificate of the chain the server sent, as a person reads it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// Subject, RFC 4514 (`CN=host,O=Bank`).
    pub subject: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// DNS names and IP addresses it is for (subjectAltName).
    pub names: Vec<String>,
    /// Valid from (Unix ms).
    pub not_before_ms: i64,
    /// Valid until (Unix ms).
    pub not_after_ms: i64,
    /// Whole days until `not_after`, negative once it has passed.
    pub days_left: i64,
    /// Issued by itself (subject = issuer).
    pub self_signed: bool,
}

/// What the handshake showed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsReport {
    /// The host name the certificate must be for.
    pub host: String,
    /// TLS version negotiated (`TLSv1_3`).
    pub protocol: Option<String>,
    /// Cipher suite negotiated.
    pub cipher_suite: Option<String>,
    /// The chain as sent, the server's own certificate first.
    pub chain: Vec<CertificateInfo>,
    /// Whether the chain leads to a root the client trusts (validity dates included).
    pub trusted: bool,
    /// Whether the server's certificate names the host.
    pub host_matches: bool,
    /// What verification refused, in words; `None` when it passed.
    pub problem: Option<String>,
    /// What kind of refusal: `untrusted`, `expired`, `not-yet-valid`, `wrong-host`,
    /// `other`.
    pub problem_kind: Option<&'static str>,
}

/// The certificates in `bytes`, PEM (any number of `CERTIFICATE` blocks) or one DER
/// certificate, as DER: what `--ca-cert` reads.
pub fn read_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use rustls::pki_types::pem::PemObject;
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        Certificate::from_der(bytes)
            .map_err(|e| format!("neither PEM nor a DER certificate: {e}"))?;
        return Ok(vec![bytes.to_vec()]);
    }
    let all = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the PEM cannot be read: {e}"))?;
    if all.is_empty() {
        return Err("the PEM holds no CERTIFICATE block".to_owned());
    }
    Ok(all)
}

/// Opens a TLS connection to `host:port`, trusting the built-in roots and `extra_roots`
/// (DER), and reports the certificate chain; `now_ms` dates the expiry. An error is a
/// connection or handshake that failed before any certificate arrived.
pub async fn inspect(
    host: &str,
    port: u16,
    extra_roots: &[Vec<u8>],
    now_ms: u64,
    timeout: Duration,
) -> Result<TlsReport, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("an extra root certificate cannot be used: {e}"))?;
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let recorder = Arc::new(Recorder {
        inner,
        seen: Mutex::default(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host:?} is not a host name TLS can check: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        connector
            .connect(name.clone(), tcp)
            .await
            .map_err(|e| format!("the TLS handshake with {host}:{port} failed: {e}"))
    };
    let outcome = tokio::time::timeout(timeout, handshake).await;
    let (protocol, cipher_suite) = match &outcome {
        Ok(Ok(stream)) => {
            let (_, session) = stream.get_ref();
            (
                session.protocol_version().map(|v| format!("{v:?}")),
                session
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite())),
            )
        }
        _ => (None, None),
    };
    let Some((chain, verdict)) = recorder.seen.lock().map(|mut s| s.take()).ok().flatten() else {
        return Err(match outcome {
            Err(_) => format!("no TLS answer from {host}:{port} within {timeout:?}"),
            Ok(Err(e)) => e,
            Ok(Ok(_)) => "the server sent no certificate".to_owned(),
        });
    };
    let host_matches = chain
        .first()
        .and_then(|leaf| ParsedCertificate::try_from(leaf).ok())
        .is_some_and(|leaf| verify_server_name(&leaf, &name).is_ok());
    let chain: Vec<CertificateInfo> = chain
        .iter()
        .map(|der| describe(der, now_ms))
        .collect::<Result<_, _>>()?;
    // The chain is checked before the name: a certificate refused for its name alone
    // chains to a trusted root.
    let trusted = match &verdict {
        Ok(()) => true,
        Err(rustls::Error::InvalidCertificate(e)) => matches!(
            e,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        Err(_) => false,
    };
    let (problem_kind, problem) = match verdict.err().map(|e| explain(&e, host, &chain)) {
        Some((kind, text)) => (Some(kind), Some(text)),
        None => (None, None),
    };
    Ok(TlsReport {
        host: host.to_owned(),
        protocol,
        cipher_suite,
        trusted,
        host_matches,
        chain,
        problem,
        problem_kind,
    })
}

fn explain(error: &rustls::Error, host: &str, chain: &[CertificateInfo]) -> (&'static str, String) {
    let leaf = chain.first();
    let rustls::Error::InvalidCertificate(e) = error else {
        return ("other", format!("the certificate was refused: {error}"));
    };
    match e {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
            "expired",
            format!(
                "the certificate expired {} day(s) ago",
                leaf.map_or(0, |l| -l.days_left)
            ),
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
            "not-yet-valid",
            "the certificate is not valid yet (its start date is in the future)".to_owned(),
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
            "wrong-host",
            format!(
                "the certificate is not for {host}: it names {}",
                leaf.map_or_else(String::new, |l| l.names.join(", "))
            ),
        ),
        CertificateError::UnknownIssuer => (
            "untrusted",
            match leaf {
                Some(l) if l.self_signed => {
                    "the certificate is self-signed, and no trusted root vouches for it".to_owned()
                }
                Some(l) => format!(
                    "the certificate's issuer ({}) does not chain to a trusted root",
                    l.issuer
                ),
                None => "no trusted root vouches for the certificate".to_owned(),
            },
        ),
        CertificateError::Revoked => ("other", "the certificate was revoked".to_owned()),
        CertificateError::BadSignature => (
            "other",
            "a signature in the certificate chain does not verify".to_owned(),
        ),
        other => ("other", format!("the certificate was refused: {other:?}")),
    }
}

/// Reads one certificate.
fn describe(der: &CertificateDer<'_>, now_ms: u64) -> Result<CertificateInfo, String> {
    let cert = Certificate::from_der(der.as_ref())
        .map_err(|e| format!("the server sent a certificate that cannot be read: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let ms = |t: &x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_millis()).unwrap_or(i64::MAX)
    };
    let not_before_ms = ms(&tbs.validity.not_before);
    let not_after_ms = ms(&tbs.validity.not_after);
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let mut names = Vec::new();
    for extension in tbs.extensions.iter().flatten() {
        if extension.extn_id != SubjectAltName::OID {
            continue;
        }
        if let Ok(san) = SubjectAltName::from_der(extension.extn_value.as_bytes()) {
            for name in san.0 {
                match name {
                    GeneralName::DnsName(dns) => names.push(dns.to_string()),
                    GeneralName::IpAddress(ip) => {
                        let bytes = ip.as_bytes();
                        if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
                            names.push(std::net::Ipv4Addr::from(v4).to_string());
                        } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
                            names.push(std::net::Ipv6Addr::from(v6).to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(CertificateInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        names,
        not_before_ms,
        not_after_ms,
        // Whole days, toward zero: 2 days and a minute past the end is "expired 2 days ago".
        days_left: (not_after_ms - now) / 86_400_000,
        self_signed: tbs.subject == tbs.issuer,
    })
}

/// Records the chain and the verifier's verdict, and lets the handshake finish either way
/// (the doctor sends nothing over it). Handshake signatures are still checked.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Seen>>,
}

/// The chain the server sent, and the verifier's verdict on it.
type Seen = (Vec<CertificateDer<'static>>, Result<(), rustls::Error>);

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(drop);
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((chain, verdict));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
