//! The fuzz targets of TokenSim: one function per parser of untrusted bytes, each taking
//! one input and panicking only on a bug (a crash, or a property the parser promises that
//! does not hold).
//!
//! The same functions run in two ways:
//!
//! - under libFuzzer, with coverage feedback, in `fuzz/` (a cargo-fuzz crate outside the
//!   workspace, one binary per target; `make fuzz`);
//! - in every `make test` (`tests/corpus.rs`): each target's committed seed corpus
//!   (`corpus/<target>/`) is replayed, then a few thousand deterministic mutations of it are
//!   run ([`mutate`]), so a target that stops compiling or starts crashing on its seeds fails
//!   the build without a nightly-flags build.
//!
//! What it refuses to do: it holds no parser of its own and asserts nothing the parsers do
//! not promise in their own documentation.
#![warn(unreachable_pub)]

/// The targets, one module each, each with `pub fn run(data: &[u8])`.
pub mod targets {
    pub mod activation_code;
    pub mod auth_header;
    pub mod basic_auth;
    pub mod cmdtool_status;
    pub mod device_reply;
    pub mod ecies_envelope;
    pub mod facemap_initiate;
    pub mod offline_qr;
    pub mod public_key;
    pub mod qr_payload;
    pub mod sandbox_request;
    pub mod status_blob;
    pub mod store_files;
    pub mod temporary_key_jwt;
    pub mod token_header;
}

/// A fuzz target: its name (the libFuzzer binary's and the corpus folder's) and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("activation_code", targets::activation_code::run),
    ("auth_header", targets::auth_header::run),
    ("basic_auth", targets::basic_auth::run),
    ("cmdtool_status", targets::cmdtool_status::run),
    ("device_reply", targets::device_reply::run),
    ("ecies_envelope", targets::ecies_envelope::run),
    ("facemap_initiate", targets::facemap_initiate::run),
    ("offline_qr", targets::offline_qr::run),
    ("public_key", targets::public_key::run),
    ("qr_payload", targets::qr_payload::run),
    ("sandbox_request", targets::sandbox_request::run),
    ("status_blob", targets::status_blob::run),
    ("store_files", targets::store_files::run),
    ("temporary_key_jwt", targets::temporary_key_jwt::run),
    ("token_header", targets::token_header::run),
];

/// The `n`-th mutation of `seed`, deterministic (a xorshift stream seeded with `n`): a few
/// of libFuzzer's moves (flip a bit, set a byte to an interesting value, insert, delete,
/// duplicate a slice, splice in `other`). No coverage feedback: this is the short run
/// `make test` can afford, not a substitute for `make fuzz`.
pub fn mutate(seed: &[u8], other: &[u8], n: u64) -> Vec<u8> {
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if bound == 0 {
            0
        } else {
            (state % bound as u64) as usize
        }
    };
    const INTERESTING: [u8; 10] = [0, 1, 0x7F, 0x80, 0xFF, b'"', b'\\', b'{', b'}', b'\n'];
    let mut out = seed.to_vec();
    for _ in 0..=next(4) {
        let len = out.len();
        match next(6) {
            0 if len > 0 => {
                let at = next(len);
                out[at] ^= 1 << next(8);
            }
            1 if len > 0 => {
                let at = next(len);
                out[at] = INTERESTING[next(INTERESTING.len())];
            }
            2 => {
                let at = next(len + 1);
                out.insert(at, INTERESTING[next(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let from = next(len);
                let to = (from + 1 + next(16)).min(len);
                out.drain(from..to);
            }
            4 if len > 0 => {
                let from = next(len);
                let to = (from + 1 + next(32)).min(len);
                let piece = out[from..to].to_vec();
                let at = next(len + 1);
                out.splice(at..at, piece);
            }
            _ if !other.is_empty() => {
                let from = next(other.len());
                let to = (from + 1 + next(64)).min(other.len());
                let at = next(len + 1);
                out.splice(at..at, other[from..to].iter().copied());
            }
            _ => {}
        }
    }
    out
}
