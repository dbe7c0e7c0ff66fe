//! Server-side verification with counter look-ahead (digest §5.6, §14 #23).

use super::compute::{
    ComponentLength, SignatureFormat, components_at, signature_at, split_components,
};
use super::data::SignatureBase;
use super::factors::{Factor, FactorKeys, SignatureType};
use crate::counter::CtrData;
use crate::hazmat::constant_time_eq;
use crate::version::ProtocolVersion;

/// PowerAuth Server's default `signatureValidationLookahead`.
pub const DEFAULT_LOOKAHEAD: u32 = 20;

/// A signature that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Verified {
    /// The type that matched (for offline verification, which of the tried types).
    pub signature_type: SignatureType,
    /// How many counter values the client was ahead of the server (0 = in sync).
    pub steps_ahead: u32,
    /// The `CTR_DATA` to store: the value after the one that matched.
    pub next_ctr_data: CtrData,
}

impl Verified {
    /// How much the numeric `counter` advances: `steps_ahead + 1`.
    pub fn counter_increment(&self) -> u64 {
        u64::from(self.steps_ahead) + 1
    }
}

/// Why an online signature did not verify, for a log: what the look-ahead window found.
/// Holds no key, counter data or signature value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// How many counter values were tried from the stored one.
    pub window: u32,
    /// The factors the signature type needs that this verifier has no key for.
    pub missing_keys: Vec<Factor>,
    /// The signature is not of the version's shape (components, Base64).
    pub malformed: bool,
    /// The first counter step at which some factors matched but not all: the step and
    /// the factors whose components did not match. A component also folds in the keys
    /// of the factors before it (past possession), so with three factors a wrong PIN
    /// fails knowledge and biometry both: the first failed factor is the one to blame.
    pub partial: Option<(u32, Vec<Factor>)>,
}

impl Diagnosis {
    /// The factor to blame: the first failed one of a partial match; `None` when nothing
    /// matched in the window (wrong keys or data, or a counter outside the window).
    pub fn failed_factor(&self) -> Option<Factor> {
        self.partial
            .as_ref()
            .and_then(|(_, failed)| failed.first().copied())
    }
}

/// Offline verification settings (`/rest/v3/signature/offline/verify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfflineOptions {
    /// Also try `possession_biometry` (the QR's `B` flag), after `possession_knowledge`.
    pub allow_biometry: bool,
    /// Digits per component; the server default is 8.
    pub component_length: ComponentLength,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        Self {
            allow_biometry: false,
            component_length: ComponentLength::DEFAULT,
        }
    }
}

/// Verifies signatures against the keys of one activation.
#[derive(Clone, Copy, Debug)]
pub struct Verifier<'a> {
    keys: FactorKeys<'a>,
    lookahead: u32,
}

impl<'a> Verifier<'a> {
    /// A verifier with the default look-ahead of 20 counter values.
    pub fn new(keys: FactorKeys<'a>) -> Self {
        Self {
            keys,
            lookahead: DEFAULT_LOOKAHEAD,
        }
    }

    /// Changes how many counter values are tried (0 accepts nothing).
    pub fn with_lookahead(self, lookahead: u32) -> Self {
        Self { lookahead, ..self }
    }

    /// Verifies an online signature of the header's type, in the format its version
    /// selects (3.0 decimal, 3.1+ Base64), starting from the stored `ctr_data`.
    pub fn verify_online(
        &self,
        ctr_data: &CtrData,
        signature_type: SignatureType,
        signature: &str,
        base: &SignatureBase,
        version: ProtocolVersion,
    ) -> Option<Verified> {
        let format = SignatureFormat::online(version);
        self.verify(ctr_data, &[signature_type], signature, base, format)
    }

    /// Explains why [`Verifier::verify_online`] refused `signature`: for each counter value
    /// in the window, which factors' components match. Call it only after a refusal.
    pub fn diagnose_online(
        &self,
        ctr_data: &CtrData,
        signature_type: SignatureType,
        signature: &str,
        base: &SignatureBase,
        version: ProtocolVersion,
    ) -> Diagnosis {
        let format = SignatureFormat::online(version);
        let factors = signature_type.factors();
        let mut diagnosis = Diagnosis {
            window: self.lookahead,
            missing_keys: factors
                .iter()
                .copied()
                .filter(|&f| self.keys.key(f).is_none())
                .collect(),
            malformed: false,
            partial: None,
        };
        let Ok(keys) = self.keys.select(signature_type) else {
            return diagnosis;
        };
        let Some(given) = split_components(signature, format).filter(|c| c.len() == keys.len())
        else {
            diagnosis.malformed = true;
            return diagnosis;
        };
        let mut ctr = ctr_data.clone();
        for step in 0..self.lookahead {
            let expected = components_at(&keys, &ctr, base.as_bytes(), format);
            let failed: Vec<Factor> = factors
                .iter()
                .zip(expected.iter().zip(&given))
                .filter(|(_, (e, g))| !constant_time_eq(e, g))
                .map(|(&f, _)| f)
                .collect();
            if !failed.is_empty() && failed.len() < factors.len() {
                diagnosis.partial = Some((step, failed));
                break;
            }
            ctr = ctr.next();
        }
        diagnosis
    }

    /// Verifies an offline (decimal) signature as PowerAuth Server does: for each counter
    /// value it tries `possession_knowledge`, then `possession_biometry` when allowed.
    pub fn verify_offline(
        &self,
        ctr_data: &CtrData,
        signature: &str,
        base: &SignatureBase,
        options: OfflineOptions,
    ) -> Option<Verified> {
        let types: &[SignatureType] = if options.allow_biometry {
            &[
                SignatureType::PossessionKnowledge,
                SignatureType::PossessionBiometry,
            ]
        } else {
            &[SignatureType::PossessionKnowledge]
        };
        let format = SignatureFormat::Decimal(options.component_length);
        self.verify(ctr_data, types, signature, base, format)
    }

    /// The general loop: for `k` in `0..lookahead`, for each type in order, compare the
    /// signature at `hash^k(ctr_data)` in constant time. The first match wins. Types
    /// whose keys this verifier lacks never match.
    pub fn verify(
        &self,
        ctr_data: &CtrData,
        types: &[SignatureType],
        signature: &str,
        base: &SignatureBase,
        format: SignatureFormat,
    ) -> Option<Verified> {
        let candidates: Vec<_> = types
            .iter()
            .filter_map(|&t| self.keys.select(t).ok().map(|keys| (t, keys)))
            .collect();
        let mut ctr = ctr_data.clone();
        for steps_ahead in 0..self.lookahead {
            let next = ctr.next();
            for (signature_type, keys) in &candidates {
                let expected = signature_at(keys, &ctr, base.as_bytes(), format);
                if constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
                    return Some(Verified {
                        signature_type: *signature_type,
                        steps_ahead,
                        next_ctr_data: next,
                    });
                }
            }
            ctr = next;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{ActivationKeys, SymmetricKey};
    use crate::signature::compute::compute_signature;
    use proptest::prelude::*;

    fn keys(seed: u8) -> ActivationKeys {
        ActivationKeys::derive(&SymmetricKey::from_bytes([seed; 16]))
    }

    fn sign(
        keys: &ActivationKeys,
        t: SignatureType,
        ctr: &mut CtrData,
        base: &SignatureBase,
        format: SignatureFormat,
    ) -> String {
        compute_signature(&FactorKeys::from(keys), t, ctr, base, format).unwrap()
    }

    #[test]
    fn offline_tries_biometry_only_when_allowed() {
        let keys = keys(3);
        let base = SignatureBase::from_bytes(b"POST&x&y&z&offline".to_vec());
        let start = CtrData::from_bytes([1; 16]);
        let format = SignatureFormat::Decimal(ComponentLength::DEFAULT);
        let sig = sign(
            &keys,
            SignatureType::PossessionBiometry,
            &mut start.clone(),
            &base,
            format,
        );
        let verifier = Verifier::new(FactorKeys::from(&keys));
        assert_eq!(
            verifier.verify_offline(&start, &sig, &base, OfflineOptions::default()),
            None
        );
        let allowed = OfflineOptions {
            allow_biometry: true,
            ..Default::default()
        };
        let found = verifier
            .verify_offline(&start, &sig, &base, allowed)
            .unwrap();
        assert_eq!(found.signature_type, SignatureType::PossessionBiometry);
        assert_eq!(found.next_ctr_data, start.next());
        assert_eq!(found.counter_increment(), 1);
    }

    #[test]
    fn a_diagnosis_names_the_factor_that_failed() {
        let stranger = keys(6);
        let keys = keys(5);
        let other = keys_with_other_knowledge(&keys);
        let base = SignatureBase::from_bytes(b"POST&x&y&z".to_vec());
        let start = CtrData::from_bytes([2; 16]);
        let verifier = Verifier::new(FactorKeys::from(&keys));
        for version in [ProtocolVersion::V3_0, ProtocolVersion::V3_3] {
            let format = SignatureFormat::online(version);
            let mut ahead = start.clone();
            ahead = ahead.next().next();
            for t in [
                SignatureType::PossessionKnowledge,
                SignatureType::PossessionKnowledgeBiometry,
            ] {
                let wrong_pin = sign(&other, t, &mut ahead.clone(), &base, format);
                assert_eq!(
                    verifier.verify_online(&start, t, &wrong_pin, &base, version),
                    None
                );
                let diagnosis = verifier.diagnose_online(&start, t, &wrong_pin, &base, version);
                assert_eq!(
                    diagnosis.failed_factor(),
                    Some(Factor::Knowledge),
                    "{t} {version}"
                );
                assert_eq!(diagnosis.partial.as_ref().unwrap().0, 2, "two steps ahead");
                assert_eq!(diagnosis.window, DEFAULT_LOOKAHEAD);
            }
            let nothing = verifier.diagnose_online(
                &start,
                SignatureType::PossessionKnowledge,
                &sign(
                    &stranger,
                    SignatureType::PossessionKnowledge,
                    &mut start.clone(),
                    &base,
                    format,
                ),
                &base,
                version,
            );
            assert_eq!(nothing.failed_factor(), None);
            assert!(!nothing.malformed);
            let malformed = verifier.diagnose_online(
                &start,
                SignatureType::PossessionKnowledge,
                "not a signature",
                &base,
                version,
            );
            assert!(malformed.malformed);
        }
    }

    /// The same keys with another knowledge key: a wrong PIN.
    fn keys_with_other_knowledge(keys: &ActivationKeys) -> ActivationKeys {
        let mut other = keys.clone();
        other.knowledge = SymmetricKey::from_bytes([0xEE; 16]);
        other
    }

    #[test]
    fn missing_keys_never_match() {
        let keys = keys(4);
        let base = SignatureBase::from_bytes(b"d".to_vec());
        let start = CtrData::from_bytes([0; 16]);
        let sig = sign(
            &keys,
            SignatureType::PossessionKnowledge,
            &mut start.clone(),
            &base,
            SignatureFormat::Base64,
        );
        let partial = FactorKeys {
            knowledge: None,
            ..FactorKeys::from(&keys)
        };
        let verifier = Verifier::new(partial);
        assert_eq!(
            verifier.verify(
                &start,
                &[SignatureType::PossessionKnowledge],
                &sig,
                &base,
                SignatureFormat::Base64
            ),
            None
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn sign_then_verify_for_every_type_and_version(
            seed in any::<u8>(),
            ctr in any::<[u8; 16]>(),
            data in prop::collection::vec(any::<u8>(), 0..64),
            type_index in 0..6usize,
            version_index in 0..4usize,
            ahead in 0..DEFAULT_LOOKAHEAD,
        ) {
            let keys = keys(seed);
            let signature_type = SignatureType::ALL[type_index];
            let version = ProtocolVersion::ALL[version_index];
            let base = SignatureBase::from_bytes(data);
            let server_ctr = CtrData::from_bytes(ctr);
            let mut client_ctr = server_ctr.advanced(ahead);
            let sig = sign(&keys, signature_type, &mut client_ctr, &base, SignatureFormat::online(version));
            let verifier = Verifier::new(FactorKeys::from(&keys));
            let found = verifier.verify_online(&server_ctr, signature_type, &sig, &base, version);
            prop_assert_eq!(found, Some(Verified {
                signature_type,
                steps_ahead: ahead,
                next_ctr_data: client_ctr.clone(),
            }));
            // Replaying the same signature after the server moved on fails.
            prop_assert_eq!(verifier.verify_online(&client_ctr, signature_type, &sig, &base, version), None);
        }

        #[test]
        fn counters_outside_the_window_are_rejected(
            seed in any::<u8>(),
            ctr in any::<[u8; 16]>(),
            beyond in 0..5u32,
            type_index in 0..6usize,
        ) {
            let keys = keys(seed);
            let signature_type = SignatureType::ALL[type_index];
            let base = SignatureBase::from_bytes(b"body".to_vec());
            let server_ctr = CtrData::from_bytes(ctr);
            let lookahead = 5;
            let mut client_ctr = server_ctr.advanced(lookahead + beyond);
            let sig = sign(&keys, signature_type, &mut client_ctr, &base, SignatureFormat::Base64);
            let verifier = Verifier::new(FactorKeys::from(&keys)).with_lookahead(lookahead);
            prop_assert_eq!(
                verifier.verify_online(&server_ctr, signature_type, &sig, &base, ProtocolVersion::V3_3),
                None
            );
            // A client *behind* the server is never accepted either.
            let behind = Verifier::new(FactorKeys::from(&keys));
            prop_assert_eq!(
                behind.verify_online(&server_ctr.advanced(lookahead + beyond + 1), signature_type, &sig, &base, ProtocolVersion::V3_3),
                None
            );
        }
    }
}
