//! The fault catalogue: every [`Fault`] by name, with its aliases, its parameter and
//! default, whether it needs the PIN, and what it does. The CLI's `--fault`, the app's fault
//! menu and the fleet's `--faults` mix all read it, so a new fault is one entry here plus
//! its behaviour in the client and its rule in [`crate::FaultRun`].
//!
//! ```text
//! "stale-counter=40".parse::<Fault>()  -> Fault::StaleCounter(40)
//! "stale-counter".parse::<Fault>()     -> Fault::StaleCounter(25)   (the catalogue's default)
//! Fault::WrongPin.spec().needs_pin     -> true
//! ```

use serde::Serialize;

use crate::Fault;

/// A fault's numeric parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FaultParameter {
    /// What it counts: `ms` or `steps`.
    pub unit: &'static str,
    /// The value when none is given.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub default: i64,
    /// Whether it may be negative (a clock behind instead of ahead).
    pub signed: bool,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    /// The name `--fault` and the app take, e.g. `wrong-pin`.
    pub name: &'static str,
    /// A short label for a menu, e.g. `Wrong PIN`.
    pub label: &'static str,
    /// Other names accepted for it.
    #[cfg_attr(feature = "ts", ts(type = "Array<string>"))]
    pub aliases: &'static [&'static str],
    /// Its parameter, if it takes one.
    pub parameter: Option<FaultParameter>,
    /// Whether only a call that carries the PIN can have it.
    pub needs_pin: bool,
    /// The profiles whose calls it applies to: `powerauth`, or a device profile's name
    /// (`crate::profiles::PROFILES`: `jwt`, `api-key`…).
    #[cfg_attr(feature = "ts", ts(type = "Array<string>"))]
    pub profiles: &'static [&'static str],
    /// What it does, in a tester's words.
    pub description: &'static str,
}

/// Counter steps skipped by default: beyond PowerAuth Server's default look-ahead window of
/// 20 (`powerauth.service.crypto.signatureValidationLookahead`), so the server must refuse.
pub const STALE_COUNTER_STEPS: u32 = 25;
/// The default delay of `slow-network`: clearly slow next to a local round trip (a few ms),
/// well under every client timeout, and short enough for tests that run it.
pub const SLOW_NETWORK_MS: u64 = 1_500;
/// The default clock shift of `clock-skew`: 10 minutes ahead, beyond the token timestamp
/// tolerance (digest §16) and the ECIES timestamp window.
pub const CLOCK_SKEW_MS: i64 = 600_000;

/// Every fault, in menu order.
pub const CATALOGUE: &[FaultSpec] = &[
    FaultSpec {
        name: "wrong-pin",
        label: "Wrong PIN",
        aliases: &[],
        parameter: None,
        needs_pin: true,
        profiles: &["powerauth"],
        description: "Sign the knowledge factor with a key unlocked from a wrong PIN: the server must refuse and count a failed attempt.",
    },
    FaultSpec {
        name: "replay",
        label: "Replay the signature",
        aliases: &["replay-signature"],
        parameter: None,
        needs_pin: false,
        profiles: &[
            "powerauth",
            "jwt",
            "api-key",
            "signed-token",
            "facemap",
            "oauth",
        ],
        description: "Send a signed request, then the identical bytes and header again: the replay must be refused (facemap: the capture of a transaction it has just finished, sent again; oauth: a spent device code, or the revoked refresh token, presented again: the server must answer invalid_grant).",
    },
    FaultSpec {
        name: "clock-skew",
        label: "Clock ahead",
        aliases: &[],
        parameter: Some(FaultParameter {
            unit: "ms",
            default: CLOCK_SKEW_MS,
            signed: true,
        }),
        needs_pin: false,
        profiles: &[
            "powerauth",
            "jwt",
            "api-key",
            "signed-token",
            "facemap",
            "oauth",
        ],
        description: "Shift the device clock (token, ECIES and face capture timestamps) by this many ms; negative: behind (oauth: the device judges its token's expiry by the shifted clock, the server by its own).",
    },
    FaultSpec {
        name: "stale-counter",
        label: "Counter ahead",
        aliases: &[],
        parameter: Some(FaultParameter {
            unit: "steps",
            default: STALE_COUNTER_STEPS as i64,
            signed: false,
        }),
        needs_pin: false,
        profiles: &["powerauth"],
        description: "Sign with a counter this many steps ahead: accepted within the server's look-ahead window, refused beyond it.",
    },
    FaultSpec {
        name: "corrupted-mac",
        label: "Corrupt the ECIES MAC",
        aliases: &["corrupt-mac"],
        parameter: None,
        needs_pin: false,
        profiles: &["powerauth"],
        description: "Flip a bit of the ECIES request MAC: the server must refuse before decrypting.",
    },
    FaultSpec {
        name: "dropped-response",
        label: "Drop the response",
        aliases: &["drop-response"],
        parameter: None,
        needs_pin: false,
        profiles: &["powerauth"],
        description: "Send the request, then discard the response: the device stays usable and the counters in sync.",
    },
    FaultSpec {
        name: "slow-network",
        label: "Slow network",
        aliases: &[],
        parameter: Some(FaultParameter {
            unit: "ms",
            default: SLOW_NETWORK_MS as i64,
            signed: false,
        }),
        needs_pin: false,
        profiles: &["powerauth", "jwt", "api-key", "signed-token"],
        description: "Delay the request by this many ms (a timeout when it exceeds the client's). Not on oauth: its requests go through the oauth2 crate's own HTTP client, which this fault does not reach.",
    },
    FaultSpec {
        name: "expired-token",
        label: "Expired token",
        aliases: &["expired-jwt"],
        parameter: None,
        needs_pin: false,
        profiles: &["jwt", "signed-token", "facemap", "oauth"],
        description: "Get a token that is already past its expiry and send it without refreshing: the server must refuse it as expired (facemap: capture an expired transaction, superseded by a newer one when still open; oauth: the stored access token is sent without the device's expiry check; past its expiry on the sandbox's clock the API answers 401 invalid_token, then the device refreshes once).",
    },
    FaultSpec {
        name: "wrong-secret",
        label: "Wrong secret",
        aliases: &["wrong-key"],
        parameter: None,
        needs_pin: false,
        profiles: &["jwt", "api-key", "signed-token", "facemap", "oauth"],
        description: "Authenticate with a secret that is not the project's (a token signed with another key, a wrong API key, a wrong API secret in Basic auth, a wrong OAuth client secret): the server must refuse.",
    },
    FaultSpec {
        name: "server-down",
        label: "Server down",
        aliases: &[],
        parameter: None,
        needs_pin: false,
        profiles: &["jwt", "api-key", "signed-token", "facemap", "oauth"],
        description: "Send the call to a port nobody listens on: a network error, and the stored token and device stay as they were.",
    },
];

/// The catalogue's faults that apply to `profile` (`powerauth`, `jwt`…), in menu order.
pub fn for_profile(profile: &str) -> impl Iterator<Item = &'static FaultSpec> {
    CATALOGUE
        .iter()
        .filter(move |spec| spec.profiles.contains(&profile))
}

/// The catalogue entry named `name` (or one of its aliases).
pub fn find(name: &str) -> Option<&'static FaultSpec> {
    CATALOGUE
        .iter()
        .find(|spec| spec.name == name || spec.aliases.contains(&name))
}

/// The names, with their defaults, for help texts and error messages.
pub fn names() -> String {
    CATALOGUE
        .iter()
        .map(|spec| match spec.parameter {
            Some(p) => format!(
                "{}[={}] (default {})",
                spec.name,
                p.unit.to_ascii_uppercase(),
                p.default
            ),
            None => spec.name.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Fault {
    /// This fault's catalogue entry.
    pub fn spec(&self) -> &'static FaultSpec {
        let name = match self {
            Fault::WrongPin => "wrong-pin",
            Fault::ReplaySignature => "replay",
            Fault::ClockSkew(_) => "clock-skew",
            Fault::StaleCounter(_) => "stale-counter",
            Fault::CorruptMac => "corrupted-mac",
            Fault::DropResponse => "dropped-response",
            Fault::SlowNetwork(_) => "slow-network",
            Fault::ExpiredToken => "expired-token",
            Fault::WrongSecret => "wrong-secret",
            Fault::ServerDown => "server-down",
        };
        find(name).unwrap_or(&CATALOGUE[0])
    }

    /// The catalogue's spelling, which `FromStr` reads back: `NAME`, or `NAME=VALUE` for a
    /// fault with a parameter (`stale-counter=40`).
    pub fn catalogue_spelling(&self) -> String {
        let name = self.spec().name;
        match *self {
            Fault::ClockSkew(ms) => format!("{name}={ms}"),
            Fault::StaleCounter(steps) => format!("{name}={steps}"),
            Fault::SlowNetwork(ms) => format!("{name}={ms}"),
            _ => name.to_owned(),
        }
    }

    /// The fault `name` names, with its default parameter.
    pub fn named(name: &str) -> Option<Fault> {
        let spec = find(name)?;
        let value = spec.parameter.map_or(0, |p| p.default);
        Some(Self::build(spec.name, value))
    }

    fn build(name: &str, value: i64) -> Fault {
        match name {
            "replay" => Fault::ReplaySignature,
            "clock-skew" => Fault::ClockSkew(value),
            "stale-counter" => Fault::StaleCounter(u32::try_from(value).unwrap_or(u32::MAX)),
            "corrupted-mac" => Fault::CorruptMac,
            "dropped-response" => Fault::DropResponse,
            "slow-network" => Fault::SlowNetwork(u64::try_from(value).unwrap_or(0)),
            "expired-token" => Fault::ExpiredToken,
            "wrong-secret" => Fault::WrongSecret,
            "server-down" => Fault::ServerDown,
            _ => Fault::WrongPin,
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = String;

    /// `NAME` or `NAME=VALUE`, by the catalogue: `wrong-pin`, `stale-counter=40`,
    /// `clock-skew=-5000`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, value) = match text.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (text.trim(), None),
        };
        let spec =
            find(name).ok_or_else(|| format!("unknown fault {name:?}; faults: {}", names()))?;
        let value = match (spec.parameter, value) {
            (None, Some(_)) => return Err(format!("{name} takes no value")),
            (None, None) => 0,
            (Some(p), None) => p.default,
            (Some(p), Some(v)) => {
                let number: i64 = v
                    .parse()
                    .map_err(|_| format!("{name} takes a whole number, not {v:?}"))?;
                if !p.signed && number < 0 {
                    return Err(format!("{name} takes a positive number"));
                }
                if spec.name == "stale-counter" && u32::try_from(number).is_err() {
                    return Err("stale-counter is too large".to_owned());
                }
                number
            }
        };
        Ok(Fault::build(spec.name, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_one_entry_and_parses_back_from_its_name_and_aliases() {
        let faults = [
            Fault::WrongPin,
            Fault::ReplaySignature,
            Fault::ClockSkew(CLOCK_SKEW_MS),
            Fault::StaleCounter(STALE_COUNTER_STEPS),
            Fault::CorruptMac,
            Fault::DropResponse,
            Fault::SlowNetwork(SLOW_NETWORK_MS),
            Fault::ExpiredToken,
            Fault::WrongSecret,
            Fault::ServerDown,
        ];
        assert_eq!(faults.len(), CATALOGUE.len());
        for fault in faults {
            let spec = fault.spec();
            assert_eq!(spec.name.parse::<Fault>(), Ok(fault), "{spec:?}");
            assert_eq!(Fault::named(spec.name), Some(fault));
            // JSON carries the catalogue's spelling, and reads it back.
            let json = serde_json::to_string(&fault).unwrap();
            assert_eq!(json, format!("\"{}\"", fault.catalogue_spelling()));
            assert!(json.starts_with(&format!("\"{}", spec.name)), "{json}");
            assert_eq!(serde_json::from_str::<Fault>(&json).unwrap(), fault);
            assert!(fault.to_string().starts_with(spec.name), "{fault}");
            for alias in spec.aliases {
                assert_eq!(alias.parse::<Fault>(), Ok(fault), "{alias}");
            }
        }
        assert!(Fault::WrongPin.spec().needs_pin);
        assert!(!Fault::DropResponse.spec().needs_pin);
        for spec in CATALOGUE {
            assert!(
                !spec.profiles.is_empty(),
                "{} applies to no profile",
                spec.name
            );
            for profile in spec.profiles {
                assert!(
                    *profile == "powerauth" || crate::profiles::find(profile).is_some(),
                    "{}: unknown profile {profile}",
                    spec.name
                );
            }
        }
        assert!(for_profile("powerauth").any(|s| s.name == "wrong-pin"));
        assert!(!for_profile("jwt").any(|s| s.name == "wrong-pin"));
        let oauth: Vec<&str> = for_profile("oauth").map(|s| s.name).collect();
        assert_eq!(
            oauth,
            [
                "replay",
                "clock-skew",
                "expired-token",
                "wrong-secret",
                "server-down"
            ]
        );
        // A fault a profile does not take says so in its description.
        assert!(
            find("slow-network")
                .unwrap()
                .description
                .contains("Not on oauth")
        );
    }

    #[test]
    fn values_are_checked() {
        assert_eq!("clock-skew=-5000".parse(), Ok(Fault::ClockSkew(-5000)));
        assert_eq!("slow-network=10".parse(), Ok(Fault::SlowNetwork(10)));
        assert!("slow-network=-1".parse::<Fault>().is_err());
        assert!("wrong-pin=3".parse::<Fault>().is_err());
        assert!("stale-counter=x".parse::<Fault>().is_err());
        assert!("stale-counter=99999999999".parse::<Fault>().is_err());
        assert!(
            "gremlins"
                .parse::<Fault>()
                .unwrap_err()
                .contains("wrong-pin")
        );
    }
}
