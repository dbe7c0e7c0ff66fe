//! Fault injection as data: a [`Fault`] armed on a [`Client`] for one call, and a
//! [`FaultReport`] saying what was sent, what the server answered, what the protocol
//! requires, and whether the two match.
//!
//! ```text
//! let run = FaultRun::start(&client, &mut device, &mut persist, Fault::WrongPin).await?;
//! let result = Session::new(run.client(), &mut device, &mut persist).validate_signature(..).await;
//! let report = run.finish(&mut device, &mut persist, &result).await;
//! ```

use crate::client::Client;
use crate::events::{Events, Exchange, Recorder, Warning};
use crate::session::{Persist, Session};
use crate::state::{ActiveDevice, StatusSnapshot};
use crate::{Error, Result};
use powerauth::CtrData;
use serde::Serialize;
use std::sync::Arc;

/// A fault the client applies to one call. In JSON it is its catalogue spelling, the one
/// `FromStr` reads: `"corrupted-mac"`, `"stale-counter=40"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Sign the knowledge factor with a key unlocked from a wrong PIN.
    WrongPin,
    /// Send a signed (or token-authenticated) request, then the identical bytes and
    /// header again.
    ReplaySignature,
    /// Shift the device clock by this many ms (timestamps of tokens and ECIES).
    ClockSkew(i64),
    /// Sign with a counter this many steps ahead (signatures computed but never sent).
    StaleCounter(u32),
    /// Flip a bit of the ECIES request MAC.
    CorruptMac,
    /// Send the request, then discard the response.
    DropResponse,
    /// Delay the request by this many ms.
    SlowNetwork(u64),
    /// Send a token that is already past its expiry, without refreshing it (device
    /// profiles).
    ExpiredToken,
    /// Authenticate with a secret that is not the project's: a token signed with another
    /// key, a wrong API key (device profiles).
    WrongSecret,
    /// Send the call where no server listens (device profiles).
    ServerDown,
}

impl std::fmt::Display for Fault {
    /// The catalogue's name, with the parameter and its unit: `corrupted-mac`,
    /// `clock-skew(600000 ms)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.spec().name;
        match self {
            Fault::ClockSkew(ms) => write!(f, "{name}({ms} ms)"),
            Fault::StaleCounter(steps) => write!(f, "{name}({steps} steps)"),
            Fault::SlowNetwork(ms) => write!(f, "{name}({ms} ms)"),
            _ => f.write_str(name),
        }
    }
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.catalogue_spelling())
    }
}

impl<'de> serde::Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a faulted call showed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultReport {
    /// The fault.
    pub fault: Fault,
    /// What was sent: `METHOD URL` per exchange.
    pub sent: Vec<String>,
    /// What the server answered, in words.
    pub answered: String,
    /// What the protocol requires.
    pub required: String,
    /// Whether the answer is what the protocol requires.
    pub matched: bool,
    /// The exchanges, as the inspector saw them.
    pub exchanges: Vec<Exchange>,
}

/// One faulted call in progress.
pub struct FaultRun {
    base: Client,
    faulted: Client,
    recorder: Arc<Recorder>,
    fault: Fault,
    before: Option<StatusSnapshot>,
    ctr_before: CtrData,
    ctr_byte_before: Option<u8>,
    counter_before: u64,
}

struct Forward(Arc<dyn Events>, Arc<Recorder>);

impl Events for Forward {
    fn exchange(&self, exchange: &Exchange) {
        self.0.exchange(exchange);
        self.1.exchange(exchange);
    }
    fn warning(&self, warning: &Warning) {
        self.0.warning(warning);
        self.1.warning(warning);
    }
}

impl FaultRun {
    /// Fetches the status (for failed attempts and the look-ahead window), then arms
    /// `fault` on a copy of `client`.
    pub async fn start(
        client: &Client,
        device: &mut ActiveDevice,
        persist: &mut dyn Persist,
        fault: Fault,
    ) -> Result<Self> {
        let before = Session::new(client, device, persist)
            .status()
            .await?
            .snapshot;
        let recorder = Arc::new(Recorder::default());
        let events: Arc<dyn Events> = Arc::new(Forward(client.events(), recorder.clone()));
        Ok(Self {
            base: client.clone(),
            faulted: client.with_fault(fault).with_events(events),
            recorder,
            fault,
            before: Some(before),
            ctr_before: device.ctr_data.clone(),
            ctr_byte_before: device.ctr_byte,
            counter_before: device.counter,
        })
    }

    /// Arms `fault` for a call without an activated device (activation itself): the
    /// report is made by [`Self::judge`], with no status before or after.
    pub fn detached(client: &Client, fault: Fault) -> Self {
        let recorder = Arc::new(Recorder::default());
        let events: Arc<dyn Events> = Arc::new(Forward(client.events(), recorder.clone()));
        Self {
            base: client.clone(),
            faulted: client.with_fault(fault).with_events(events),
            recorder,
            fault,
            before: None,
            ctr_before: CtrData::from_bytes([0; 16]),
            ctr_byte_before: None,
            counter_before: 0,
        }
    }

    /// The client to make the faulted call with.
    pub fn client(&self) -> &Client {
        &self.faulted
    }

    /// Judges the call's `result` from what was sent and answered, without touching the
    /// device.
    pub fn judge<T>(&self, result: &Result<T>) -> FaultReport {
        let exchanges = self.recorder.exchanges();
        let first = exchanges
            .iter()
            .find(|e| e.label != "replay" && !e.label.starts_with("keystore"));
        let status_of = |e: Option<&Exchange>| e.and_then(|e| e.status);
        let look_ahead = self
            .before
            .as_ref()
            .filter(|s| !s.legacy)
            .map_or(20, |s| s.ctr_look_ahead);
        let rejected =
            |code: u16| matches!(result, Err(Error::Server { status, .. }) if *status == code);
        // A refused signature is 401, except on vault unlock: 400 ERR_SECURE_VAULT (§16.3).
        let vault = first.is_some_and(|e| e.label == "vault/unlock");
        let (refused, refusal) = if vault {
            (400, "HTTP 400 ERR_SECURE_VAULT")
        } else {
            (401, "HTTP 401")
        };
        let (required, matched) = match self.fault {
            Fault::WrongPin => match first.map(|e| e.label) {
                // A wrong factor on vault unlock is 400 ERR_SECURE_VAULT (digest §16.3).
                Some("vault/unlock") => (
                    "HTTP 400 ERR_SECURE_VAULT and the server's failed attempts +1".to_owned(),
                    rejected(400),
                ),
                _ => ("HTTP 401 and the server's failed attempts +1".to_owned(), rejected(401)),
            },
            Fault::ReplaySignature => {
                let replay = exchanges.iter().find(|e| e.label == "replay");
                // A replayed approval fails its signature, so the enrollment server counts a
                // failed approval (`operation/approve/fail`) on an operation that is already
                // APPROVED: PowerAuth Server answers OPERATION_INVALID_STATE, which the
                // mobile API turns into 400 INVALID_OPERATION (MobileTokenController).
                let (refused, refusal) = if first.is_some_and(|e| e.label == "operation/authorize") {
                    (400, "HTTP 400 INVALID_OPERATION (the operation is no longer PENDING)")
                } else {
                    (refused, refusal)
                };
                (
                    format!("the first request accepted, its identical replay rejected with {refusal}"),
                    result.is_ok() && status_of(replay) == Some(refused),
                )
            }
            Fault::ClockSkew(ms) => clock_skew_rule(ms, first, result.is_ok()),
            Fault::StaleCounter(steps) => {
                let accept = steps < u32::from(look_ahead);
                let rule = if accept {
                    format!("accepted: {steps} skipped steps are within the look-ahead window of {look_ahead}")
                } else {
                    format!("{refusal}: {steps} skipped steps are beyond the look-ahead window of {look_ahead}")
                };
                (rule, if accept { result.is_ok() } else { rejected(refused) })
            }
            Fault::CorruptMac => {
                let encrypted = first.is_some_and(|e| e.request_plaintext.is_some());
                // The RESTful layer maps every token/create failure to 401 (digest §16.3).
                let (code, rule) = match first.map(|e| e.label) {
                    Some("token/create") => (401, "HTTP 401 POWER_AUTH_TOKEN_ERROR: token/create maps every failure to 401"),
                    Some("activation/create") => (400, "HTTP 400 ERR_ACTIVATION: the layer does not decrypt"),
                    _ => (400, "HTTP 400 (ERR_ENCRYPTION or the endpoint's own code): the server verifies the MAC before decrypting"),
                };
                (rule.to_owned(), encrypted && rejected(code))
            }
            Fault::DropResponse => (
                "the request reaches the server; the device stays usable with its counter already advanced, and the next status shows the counters in sync".to_owned(),
                matches!(result, Err(Error::ResponseDropped { .. })),
            ),
            Fault::SlowNetwork(ms) => {
                let timeout = self.base.config().timeout;
                if u128::from(ms) >= timeout.as_millis() {
                    (format!("a timeout error after {timeout:?}; the device stays usable"),
                        matches!(result, Err(Error::Timeout { .. })))
                } else {
                    (format!("the answer arrives after at least {ms} ms"),
                        first.is_some_and(|e| e.elapsed.as_millis() >= u128::from(ms)))
                }
            }
            // Faults of the device profiles: their clients judge them
            // (`crate::profiles::judge`); a PowerAuth call never carries one (the runner
            // refuses them first).
            Fault::ExpiredToken | Fault::WrongSecret | Fault::ServerDown => (
                format!("{} applies to the device profiles, not to PowerAuth calls", self.fault.spec().name),
                false,
            ),
        };
        FaultReport {
            fault: self.fault,
            sent: exchanges
                .iter()
                .map(|e| format!("{} {}", e.method, e.url))
                .collect(),
            answered: match result {
                Ok(_) => "success".to_owned(),
                Err(e) => e.to_string(),
            },
            required,
            matched,
            exchanges,
        }
    }

    /// [`Self::judge`], then repairs what the fault alone broke (a counter the server
    /// never saw), and fetches the status again to show the device is usable.
    pub async fn finish<T>(
        self,
        device: &mut ActiveDevice,
        persist: &mut dyn Persist,
        result: &Result<T>,
    ) -> FaultReport {
        let mut report = self.judge(result);
        // A stale counter the server refused never moved the server: take it back.
        if matches!(self.fault, Fault::StaleCounter(_)) && result.is_err() {
            device.ctr_data = self.ctr_before.next();
            device.ctr_byte = self.ctr_byte_before.map(|b| b.wrapping_add(1));
            device.counter = self.counter_before + 1;
            let _ = persist.persist(device);
        }
        let after = Session::new(&self.base, device, persist).status().await;
        let (answered, matched) = (&mut report.answered, &mut report.matched);
        match (&after, &self.before) {
            (Ok(after), Some(before)) => {
                answered.push_str(&format!(
                    "; then status {} with {} of {} failed attempts ({})",
                    after.snapshot.state,
                    after.snapshot.failed_attempts,
                    after.snapshot.max_failed_attempts,
                    after
                ));
                if self.fault == Fault::WrongPin {
                    let blocked = after.snapshot.state == "BLOCKED";
                    *matched &=
                        blocked || after.snapshot.failed_attempts == before.failed_attempts + 1;
                }
                if self.fault == Fault::DropResponse {
                    *matched &= after.in_sync();
                }
            }
            (Err(e), _) => {
                answered.push_str(&format!("; then the status failed: {e}"));
                *matched = false;
            }
            _ => {}
        }
        report
    }
}

fn clock_skew_rule(ms: i64, first: Option<&Exchange>, ok: bool) -> (String, bool) {
    let header = |name: &str| {
        first.is_some_and(|e| {
            e.request_headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        })
    };
    let ecies_timestamp = first
        .is_some_and(|e| e.request_plaintext.is_some() && e.request_body.contains("\"timestamp\""));
    if header("X-PowerAuth-Token") {
        let accept = (-7_200_000..=1_800_000).contains(&ms);
        let rule = "a token timestamp is accepted from 2 h in the past to 30 min in the future";
        (
            format!("{}: {rule}", if accept { "accepted" } else { "HTTP 401" }),
            ok == accept,
        )
    } else if ecies_timestamp {
        let accept = ms <= 60_000;
        let rule = "an ECIES timestamp more than 60 s in the future is rejected; old ones pass (the nonce store stops replays)";
        (
            format!(
                "{}: {rule}",
                if accept { "accepted" } else { "HTTP 400/401" }
            ),
            ok == accept,
        )
    } else {
        ("accepted: this call carries no timestamp".to_owned(), ok)
    }
}
