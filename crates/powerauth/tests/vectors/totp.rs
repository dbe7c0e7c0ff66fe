//! Vectors: the RFC 6238 table (HMAC-SHA256 and HMAC-SHA512 rows, 8 digits, 30 s steps).

use crate::common::read;
use powerauth::totp::{Totp, TotpAlgorithm};

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex seed"))
        .collect()
}

#[test]
fn rfc6238_table() {
    let file = "powerauth-crypto/totp/data.csv";
    let text = read(file);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().expect("header row");
    assert!(
        header.contains("TOTP") && header.contains("Seed"),
        "{file}: unexpected header {header:?}"
    );

    let mut counts = (0, 0);
    for (index, line) in lines.enumerate() {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [seconds, _utc, step_hex, expected, algorithm, seed] = cols[..] else {
            panic!("{file} row {index}: expected 6 columns, got {line:?}");
        };
        let algorithm = match algorithm {
            "HmacSHA256" => {
                counts.0 += 1;
                TotpAlgorithm::HmacSha256
            }
            "HmacSHA512" => {
                counts.1 += 1;
                TotpAlgorithm::HmacSha512
            }
            other => panic!("{file} row {index}: unknown algorithm {other}"),
        };
        let seconds: u64 = seconds.parse().expect("seconds");
        let seed = unhex(seed);
        let totp = Totp::new(algorithm, 8, 30).expect("valid parameters");

        let step = u64::from_str_radix(step_hex, 16).expect("hex step");
        assert_eq!(totp.step_at(seconds), step, "row {index}: time step");
        assert_eq!(totp.generate(&seed, seconds), expected, "row {index}: TOTP");
        assert!(totp.validate(expected, &seed, seconds, 0), "row {index}");
        assert!(
            totp.validate(expected, &seed, seconds + 30, 1),
            "row {index}: one step late"
        );
        assert!(
            !totp.validate(expected, &seed, seconds + 60, 1),
            "row {index}: two steps late"
        );
    }
    assert_eq!(counts, (6, 6), "{file}: SHA256 and SHA512 row counts");
}
