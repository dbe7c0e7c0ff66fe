//! The seeded random generator and the payloads the codes carry.

/// A small deterministic generator (SplitMix64): the whole corpus follows from one seed, on
/// every platform, with no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose output follows from `seed` alone.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    /// -1 or +1 with equal odds.
    pub fn sign(&mut self) -> f64 {
        if self.next_u64() & 1 == 0 { -1.0 } else { 1.0 }
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// One of `items` (non-empty).
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

/// What the code carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// An activation code and its signature, `AAAAA-BBBBB-CCCCC-DDDDD#<Base64 ECDSA>`, about
    /// 120 characters (a version 7 code at error correction M).
    Activation,
    /// An offline operation: seven lines (operation id, title, message, operation data,
    /// empty line, nonce, key flag and signature), about 255 characters (version 12 or 13).
    OfflineOperation,
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Payload {
    /// A fresh payload of this kind drawn from `rng`.
    pub fn generate(self, rng: &mut Rng) -> String {
        match self {
            Payload::Activation => activation(rng),
            Payload::OfflineOperation => offline_operation(rng),
        }
    }
}

fn activation(rng: &mut Rng) -> String {
    let groups: Vec<String> = (0..4)
        .map(|_| (0..5).map(|_| char::from(BASE32[rng.below(32)])).collect())
        .collect();
    format!("{}#{}", groups.join("-"), base64(&ecdsa_der(rng)))
}

fn offline_operation(rng: &mut Rng) -> String {
    let id = rng.bytes(16);
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let operation_id = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let title = rng.pick(&["Payment", "Login", "Payment approval", "Transfer"]);
    let message = rng.pick(&[
        "Please confirm this payment",
        "Confirm the transfer to your savings account",
        "Approve the login to internet banking",
    ]);
    let amount = 1 + rng.below(99_999);
    let account: String = (0..20)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect();
    let data = format!(
        "A1*A{amount}.{:02}CZK*ICZ{account}*D2026{:02}{:02}*NUtility bill {:02}/2026",
        rng.below(100),
        1 + rng.below(12),
        1 + rng.below(28),
        1 + rng.below(12)
    );
    let nonce = base64(&rng.bytes(16));
    let signature = base64(&ecdsa_der(rng));
    format!("{operation_id}\n{title}\n{message}\n{data}\n\n{nonce}\n0{signature}")
}

/// A DER-encoded ECDSA P-256 signature shape: SEQUENCE of two INTEGERs, each 32 random bytes
/// with a leading zero when the top bit is set.
fn ecdsa_der(rng: &mut Rng) -> Vec<u8> {
    let mut integers = Vec::new();
    for _ in 0..2 {
        let mut value = rng.bytes(32);
        if value.first().is_some_and(|b| b & 0x80 != 0) {
            value.insert(0, 0);
        }
        integers.push(0x02);
        integers.push(value.len() as u8);
        integers.extend(value);
    }
    let mut der = vec![0x30, integers.len() as u8];
    der.extend(integers);
    der
}

/// Standard Base64 with padding.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.next_u64(), b.next_u64());
        let mean: f64 = (0..10_000).map(|_| a.unit()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        let variance: f64 = (0..10_000).map(|_| a.normal().powi(2)).sum::<f64>() / 10_000.0;
        assert!((variance - 1.0).abs() < 0.1, "{variance}");
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn payloads_have_the_expected_shape() {
        let mut rng = Rng::new(1);
        let code = Payload::Activation.generate(&mut rng);
        assert!((116..=124).contains(&code.len()), "{code}");
        assert_eq!(code.as_bytes()[23], b'#');
        assert!(code[24..].starts_with("ME"), "{code}");
        let offline = Payload::OfflineOperation.generate(&mut rng);
        assert_eq!(offline.lines().count(), 7, "{offline}");
        assert!((200..=300).contains(&offline.len()), "{}", offline.len());
    }
}
