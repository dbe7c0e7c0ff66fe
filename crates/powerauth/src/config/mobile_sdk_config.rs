//! The `mobileSdkConfig` string: Base64 of
//!
//! ```text
//! u8     version = 0x01
//! DATA   appKey     (16 B)          DATA  = COUNT(len) || bytes
//! DATA   appSecret  (16 B)
//! COUNT  n
//! n × { u8 keyId, DATA keyBytes }   keyId 0x01 = P-256 master server public key
//!
//! COUNT: 0x00-0x7F one byte; 0x80-0x3FFF two bytes with 0b10 in the top bits;
//!        up to 0x3FFFFFFF four bytes with 0b11 in the top bits (all big-endian)
//! ```
//!
//! The reader follows the mobile SDK (`SessionSetup::loadFromConfiguration`): key and
//! secret must be 16 bytes, keys with an unknown id are skipped, the last P-256 key wins,
//! bytes after the key list are ignored. The writer follows the server
//! (`SdkConfigurationSerializer`): one key, id 0x01.

use super::{ApplicationConfig, ApplicationKey, ApplicationSecret, ConfigError, ConfigField};
use crate::encoding::{b64, b64_decode};
use crate::keys::PublicKey;
use zeroize::{Zeroize, Zeroizing};

const CONFIG_VERSION: u8 = 0x01;
const P256_KEY_ID: u8 = 0x01;

impl ApplicationConfig {
    /// Reads a `mobileSdkConfig` string. Whitespace around it (a pasted line break) is ignored.
    pub fn from_mobile_sdk_config(text: &str) -> Result<Self, ConfigError> {
        let bytes = Zeroizing::new(
            b64_decode(text.trim())
                .map_err(|_| ConfigError::NotBase64(ConfigField::MobileSdkConfig))?,
        );
        let mut reader = Reader(&bytes);
        let version = reader.byte(ConfigField::Version)?;
        if version != CONFIG_VERSION {
            return Err(ConfigError::UnsupportedVersion(version));
        }
        let application_key = ApplicationKey(reader.data_16(ConfigField::ApplicationKey)?);
        let application_secret = ApplicationSecret(reader.data_16(ConfigField::ApplicationSecret)?);
        let mut master = None;
        for _ in 0..reader.count(ConfigField::KeyCount)? {
            let key_id = reader.byte(ConfigField::KeyId)?;
            let key_data = reader.data(ConfigField::KeyData)?;
            if key_id == P256_KEY_ID {
                master = Some(key_data);
            }
        }
        let master = master.ok_or(ConfigError::MissingMasterKey)?;
        let master_server_public_key =
            PublicKey::from_sec1(master).map_err(|_| ConfigError::InvalidMasterKey)?;
        Ok(Self {
            application_key,
            application_secret,
            master_server_public_key,
        })
    }

    /// Writes the `mobileSdkConfig` string, as PowerAuth Server shows it per application
    /// version. The master key goes in with the bytes it was decoded from.
    pub fn to_mobile_sdk_config(&self) -> String {
        let key = self.master_server_public_key.encoded();
        let mut out = Vec::with_capacity(1 + 17 + 17 + 1 + 1 + 2 + key.len());
        out.push(CONFIG_VERSION);
        write_data(&mut out, self.application_key.as_bytes());
        write_data(&mut out, self.application_secret.expose_bytes());
        write_count(&mut out, 1);
        out.push(P256_KEY_ID);
        write_data(&mut out, key);
        let text = b64(&out);
        out.zeroize();
        text
    }
}

/// The largest value a `COUNT` holds.
const MAX_COUNT: usize = 0x3FFF_FFFF;

/// `COUNT`, big-endian in 1, 2 or 4 bytes. Only small lengths occur here (at most 65).
fn write_count(out: &mut Vec<u8>, count: usize) {
    debug_assert!(count <= MAX_COUNT, "COUNT holds at most 30 bits");
    match count {
        0..=0x7F => out.push(count as u8),
        0x80..=0x3FFF => out.extend_from_slice(&(0x8000 | count as u16).to_be_bytes()),
        _ => out.extend_from_slice(&(0xC000_0000 | (count & MAX_COUNT) as u32).to_be_bytes()),
    }
}

fn write_data(out: &mut Vec<u8>, bytes: &[u8]) {
    write_count(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Reads the configuration's fields front to back; every read names its field on failure.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize, field: ConfigField) -> Result<&'a [u8], ConfigError> {
        if length > self.0.len() {
            return Err(ConfigError::Truncated(field));
        }
        let (head, rest) = self.0.split_at(length);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self, field: ConfigField) -> Result<u8, ConfigError> {
        let byte = self.take(1, field)?.first().copied();
        byte.ok_or(ConfigError::Truncated(field))
    }

    fn count(&mut self, field: ConfigField) -> Result<usize, ConfigError> {
        let first = self.byte(field)?;
        let extra = match first & 0xC0 {
            0x00 | 0x40 => return Ok(usize::from(first)),
            0x80 => 1,
            _ => 3,
        };
        let value = self
            .take(extra, field)?
            .iter()
            .fold(usize::from(first & 0x3F), |value, &byte| {
                (value << 8) | usize::from(byte)
            });
        Ok(value)
    }

    fn data(&mut self, field: ConfigField) -> Result<&'a [u8], ConfigError> {
        let length = self.count(field)?;
        self.take(length, field)
    }

    fn data_16(&mut self, field: ConfigField) -> Result<[u8; 16], ConfigError> {
        let bytes = self.data(field)?;
        bytes.try_into().map_err(|_| ConfigError::WrongLength {
            field,
            found: bytes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    /// From powerauth-mobile-sdk `docs/Migration-from-1.7-to-1.8.md` (digest §13).
    const SDK_DOCS_EXAMPLE: &str = "ARDTWDPw20CBb+aUeIuWy25MEHy89d2ySbQR2QoCb3taB1EBAUEEPspwnZzj7AOw0emEk/J51V16ZpkDMGE3VT3vzb+3Wh9qEA8MAJBTLPJ3XgFkr6OBVQCkpBezpbXOx1xHvVAqyQ==";

    #[test]
    fn sdk_docs_example() {
        let config = ApplicationConfig::from_mobile_sdk_config(SDK_DOCS_EXAMPLE).unwrap();
        assert_eq!(config.application_key.to_b64(), "01gz8NtAgW/mlHiLlstuTA==");
        assert_eq!(
            config.application_secret.expose_b64().as_str(),
            "fLz13bJJtBHZCgJve1oHUQ=="
        );
        assert_eq!(
            b64(config.master_server_public_key.encoded()),
            "BD7KcJ2c4+wDsNHphJPyedVdemaZAzBhN1U9782/t1ofahAPDACQUyzyd14BZK+jgVUApKQXs6W1zsdcR71QKsk="
        );
        assert_eq!(config.to_mobile_sdk_config(), SDK_DOCS_EXAMPLE);
        let legacy = ApplicationConfig::from_b64_parts(
            "01gz8NtAgW/mlHiLlstuTA==",
            "fLz13bJJtBHZCgJve1oHUQ==",
            "BD7KcJ2c4+wDsNHphJPyedVdemaZAzBhN1U9782/t1ofahAPDACQUyzyd14BZK+jgVUApKQXs6W1zsdcR71QKsk=",
        )
        .unwrap();
        assert_eq!(legacy, config);
        assert!(!format!("{config:?}").contains("fLz13"));
    }

    /// The SDK's invalid configurations (powerauth-mobile-sdk `pa2SessionSetupTests.cpp`).
    #[test]
    fn sdk_invalid_configurations() {
        use ConfigField::*;
        let cases = [
            (
                "AhBQnJ1yWytWB13ARL3AqSxEEPBBidKT92P07ABl9u+UBNcBAUHu6k/wJH8c/qbczBbreF6Gui6X0gyOZYugN77sOCaDXN8r4q6MnsxNb31Xy95ZTrZrPSxEVR77oBJGhus9T9XG0w==",
                ConfigError::UnsupportedVersion(2),
            ),
            (
                "ARG2IueSajHNVygx6z42bHEE7hDpI+naUifMSpBF4IAUu9NEAQFB+giPcnJr4ZDPocgEtNLHzh4Z9L1XhCrmUzBjKNliDPqycwllAdwy2K1y+2mvYLgtlzNpGXbAzV1eQkruCE5wOQw=",
                ConfigError::WrongLength {
                    field: ApplicationKey,
                    found: 17,
                },
            ),
            (
                "AQ9MKVSquvEs7PFEoiLe9QAQIyCEpjnnw+JoAdEpqRAKBgEBQRIuf1EegLTc+6I7tjWZT/Kno6+PbX0w+GA8a1XERHbR2QSOIsoVhLHTUKn9cFWWYtOvXmXTjWzhbOojFEILzlLI",
                ConfigError::WrongLength {
                    field: ApplicationKey,
                    found: 15,
                },
            ),
            (
                "ARCEuVTbQw3ESdve/M/K9W0=",
                ConfigError::Truncated(ApplicationKey),
            ),
            (
                "ARCuz73FKX3tC4fOtPSoNGN6EfFcGuES+0e74QmfC/A9e/7uAQFBih2QT11pTEBvfAWDVcCg3cLDGK4JKP2XIb23WW2Zqo1r+9pPpG3RWER50M7iHjmjNhL2JNl1UORjFA9qoua23oo=",
                ConfigError::WrongLength {
                    field: ApplicationSecret,
                    found: 17,
                },
            ),
            (
                "ARA0Bo5m7wqALKWT/YfGg2jgD+47wy2aDInhst2BNv5sAwEBQd1Ry6YtFCaA6dyOR/BMkUigHIBdYoSLgT5ncIUJMJDYI/CGRGQq/4TSdtRKV8K69hWx/K125GjPYJnQnTVn7/G+",
                ConfigError::WrongLength {
                    field: ApplicationSecret,
                    found: 15,
                },
            ),
            (
                "ARAjrzYiRGpMWNm60rTEMSl9ECCqHMjRfeTvSWwnOZ+6yQ==",
                ConfigError::Truncated(ApplicationSecret),
            ),
            (
                "ARDBboKaM9dnPiYR9PEvYHNMEEe0apJ3QQijoU/Wairll6EA",
                ConfigError::MissingMasterKey,
            ),
            (
                "ARB7Qu2aH82o+LFF88cIDZClEBAZwMgStK1EXjub7mUQJKIBIEEkiSrBgaTZmn4H8p0NEXwmhfZrmwnHUwoaaAaSsAmoBEa1W69As59VISJMREMLUNFXdUdZALEHR1mjKDlNnVuR4g==",
                ConfigError::MissingMasterKey,
            ),
            (
                "ARAqPe4+Jnc0qpoZ96akrJWvEGVD2W4BgMYCLqN0+py/Qa0BAUHYLlvVDSRWspVFPVLOei+VVmWg34hZr4ibQgDghxG8WPUBqvseDZJUmrCuEWK41AIUwc6PAV1FB86NVFZCg+3F",
                ConfigError::Truncated(KeyData),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                ApplicationConfig::from_mobile_sdk_config(text),
                Err(expected),
                "{text}"
            );
        }
        assert_eq!(
            ApplicationConfig::from_mobile_sdk_config("not base64!"),
            Err(ConfigError::NotBase64(MobileSdkConfig))
        );
        assert_eq!(
            ApplicationConfig::from_mobile_sdk_config(""),
            Err(ConfigError::Truncated(Version))
        );
    }

    #[test]
    fn unknown_keys_are_skipped_and_the_last_p256_key_wins() {
        let rng = SeededRandom::new(b"config");
        let first = KeyPair::make(&rng).public;
        let second = KeyPair::make(&rng).public;
        let mut bytes = vec![CONFIG_VERSION];
        write_data(&mut bytes, &[1; 16]);
        write_data(&mut bytes, &[2; 16]);
        write_count(&mut bytes, 3);
        for (id, key) in [
            (1, first.encoded()),
            (0x20, &[9; 200][..]),
            (1, second.encoded()),
        ] {
            bytes.push(id);
            write_data(&mut bytes, key);
        }
        bytes.extend_from_slice(b"ignored trailing bytes");
        let config = ApplicationConfig::from_mobile_sdk_config(&b64(&bytes)).unwrap();
        assert_eq!(config.master_server_public_key, second);
    }

    /// The count encodings the SDK and the server test against each other
    /// (powerauth-server `SdkDataWriterTest`).
    #[test]
    fn count_encoding_matches_sdk() {
        let values = [
            0,
            1,
            0x7F,
            0x80,
            0xFF,
            0x100,
            0x101,
            0x3FFF,
            0x4000,
            0xFFFF,
            0x10000,
            0xFF_FFFF,
            0x100_0000,
            0x102_0304,
            0x1020_3040,
            0x3FFF_FFFF,
        ];
        let mut out = Vec::new();
        for value in values {
            write_count(&mut out, value);
        }
        assert_eq!(
            b64(&out),
            "AAF/gICA/4EAgQG//8AAQADAAP//wAEAAMD////BAAAAwQIDBNAgMED/////"
        );
        let mut reader = Reader(&out);
        for value in values {
            assert_eq!(reader.count(ConfigField::KeyCount), Ok(value));
        }
        assert_eq!(
            reader.count(ConfigField::KeyCount),
            Err(ConfigError::Truncated(ConfigField::KeyCount))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn build_then_parse(seed in any::<[u8; 8]>(), compressed in any::<bool>()) {
            let rng = SeededRandom::new(&seed);
            let public = KeyPair::make(&rng).public;
            let public = if compressed { public.compressed() } else { public };
            let config = ApplicationConfig::make(public, &rng);
            let text = config.to_mobile_sdk_config();
            let parsed = ApplicationConfig::from_mobile_sdk_config(&text).unwrap();
            prop_assert_eq!(parsed.master_server_public_key.encoded(), config.master_server_public_key.encoded());
            prop_assert_eq!(&parsed, &config);
            prop_assert_eq!(parsed.to_mobile_sdk_config(), text);
        }

        #[test]
        fn count_round_trip(value in 0usize..=MAX_COUNT) {
            let mut out = Vec::new();
            write_count(&mut out, value);
            prop_assert_eq!(Reader(&out).count(ConfigField::KeyCount), Ok(value));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(config) = ApplicationConfig::from_mobile_sdk_config(&b64(&bytes)) {
                let again = ApplicationConfig::from_mobile_sdk_config(&config.to_mobile_sdk_config());
                prop_assert_eq!(again, Ok(config));
            }
        }
    }
}
