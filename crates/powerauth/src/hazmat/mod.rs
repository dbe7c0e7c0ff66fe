//! Raw cryptographic primitives the protocol is built from.
//!
//! **Hazardous material.** Nothing here knows about PowerAuth's rules (which IV, which
//! key, which padding). Use the protocol operations in the parent modules instead; this
//! module is public only so that test vectors and benchmarks can reach the primitives.
//!
//! Where `ring` has the primitive (HMAC, SHA-256) it is used; AES (raw block and CBC)
//! comes from RustCrypto because `ring` does not offer it. PBKDF2-HMAC-SHA1 comes from
//! RustCrypto too: `ring`'s SHA-1 is portable code, while the `sha1` crate uses the CPU's
//! SHA instructions where it has them. The PIN's 10,000 iterations took 4.2 ms with
//! `ring` and 0.93 ms with `pbkdf2` + `sha1` on the machines we benchmark on (`cargo bench
//! -p powerauth`, `pbkdf2_hmac_sha1_10000`), and they were the largest single cost of a
//! fleet device (see docs/benchmarks.md). Multiplication by
//! the P-256 generator uses a precomputed table ([`base_table`]) on top of `p256`'s point
//! arithmetic.

pub mod base_table;

use aes::Aes128;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding};
use ring::{digest, hmac};

/// AES block length in bytes.
pub const AES_BLOCK_LEN: usize = 16;

type CbcEnc = cbc::Encryptor<Aes128>;
type CbcDec = cbc::Decryptor<Aes128>;

/// A padding or length error from AES-CBC decryption (or NoPadding encryption of a
/// length that is not a multiple of the block size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AES-CBC: data length or padding is invalid")]
pub struct CbcError;

/// AES-128-CBC with PKCS#7 padding.
pub fn aes_cbc_pkcs7_encrypt(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    CbcEnc::new(key.into(), iv.into()).encrypt_padded_vec_mut::<block_padding::Pkcs7>(plaintext)
}

/// AES-128-CBC with PKCS#7 padding; fails on bad length or padding.
pub fn aes_cbc_pkcs7_decrypt(
    key: &[u8; 16],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CbcError> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(AES_BLOCK_LEN) {
        return Err(CbcError);
    }
    CbcDec::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<block_padding::Pkcs7>(ciphertext)
        .map_err(|_| CbcError)
}

/// AES-128-CBC without padding; the input must be a whole number of blocks.
pub fn aes_cbc_nopad_encrypt(
    key: &[u8; 16],
    iv: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, CbcError> {
    if !plaintext.len().is_multiple_of(AES_BLOCK_LEN) {
        return Err(CbcError);
    }
    Ok(CbcEnc::new(key.into(), iv.into())
        .encrypt_padded_vec_mut::<block_padding::NoPadding>(plaintext))
}

/// AES-128-CBC without padding; the input must be a whole number of blocks.
pub fn aes_cbc_nopad_decrypt(
    key: &[u8; 16],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CbcError> {
    if !ciphertext.len().is_multiple_of(AES_BLOCK_LEN) {
        return Err(CbcError);
    }
    CbcDec::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<block_padding::NoPadding>(ciphertext)
        .map_err(|_| CbcError)
}

/// One raw AES-128 block encryption (equivalent to CBC with a zero IV over one block).
pub fn aes_encrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    use aes::cipher::{BlockEncrypt, KeyInit};
    let cipher = Aes128::new(key.into());
    let mut out = aes::Block::clone_from_slice(block);
    cipher.encrypt_block(&mut out);
    out.into()
}

/// PowerAuth `KDF.derive(key, index)`: AES-128 of the block `0^8 || BE64(index)`.
///
/// The index sits in the *last* eight bytes (digest §14 #1; the prose docs say first).
pub fn kdf_aes(key: &[u8; 16], index: u64) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[8..].copy_from_slice(&index.to_be_bytes());
    aes_encrypt_block(key, &block)
}

/// `convert32Bto16B`: XOR of the two halves of a 32-byte value.
pub fn fold_32_to_16(bytes: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = bytes[i] ^ bytes[i + 16];
    }
    out
}

/// `KDF_INTERNAL(key, index) = fold(HMAC-SHA256(key, index))` (digest §2.3, §14 #2).
pub fn kdf_internal(key: &[u8], index: &[u8]) -> [u8; 16] {
    fold_32_to_16(&hmac_sha256(key, index))
}

/// HMAC-SHA256 (ring).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_sha256_parts(key, &[data])
}

/// HMAC-SHA256 over the concatenation of `parts`, without building the concatenation.
pub fn hmac_sha256_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(part);
    }
    let tag = ctx.sign();
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// HMAC-SHA512 (ring); used by the RFC 6238 TOTP vectors.
pub fn hmac_sha512(key: &[u8], data: &[u8]) -> [u8; 64] {
    let key = hmac::Key::new(hmac::HMAC_SHA512, key);
    let mut out = [0u8; 64];
    out.copy_from_slice(hmac::sign(&key, data).as_ref());
    out
}

/// SHA-256 (ring).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

/// ANSI X9.63 KDF with SHA-256: `SHA256(Z || BE32(i) || info)` for i = 1, 2, ..., truncated.
pub fn kdf_x963_sha256(secret: &[u8], info: &[u8], out_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(out_len + 32);
    let mut counter: u32 = 1;
    while out.len() < out_len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(secret);
        ctx.update(&counter.to_be_bytes());
        ctx.update(info);
        out.extend_from_slice(ctx.finish().as_ref());
        counter += 1;
    }
    out.truncate(out_len);
    out
}

/// PBKDF2-HMAC-SHA1 with a 16-byte output (RustCrypto `pbkdf2` over `sha1`, which uses
/// the CPU's SHA extensions when present). `iterations` of 0 is treated as 1.
pub fn pbkdf2_hmac_sha1(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 16] {
    let mut out = [0u8; 16];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations.max(1), &mut out);
    out
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdf_index_sits_in_last_eight_bytes() {
        let key = [7u8; 16];
        let mut block = [0u8; 16];
        block[15] = 1;
        assert_eq!(kdf_aes(&key, 1), aes_encrypt_block(&key, &block));
        let cbc = aes_cbc_pkcs7_encrypt(&key, &[0; 16], &block);
        assert_eq!(&cbc[..16], &kdf_aes(&key, 1));
    }

    #[test]
    fn cbc_rejects_bad_lengths() {
        let key = [1u8; 16];
        assert_eq!(
            aes_cbc_pkcs7_decrypt(&key, &[0; 16], &[0; 15]),
            Err(CbcError)
        );
        assert_eq!(aes_cbc_pkcs7_decrypt(&key, &[0; 16], &[]), Err(CbcError));
        assert_eq!(
            aes_cbc_nopad_encrypt(&key, &[0; 16], &[0; 17]),
            Err(CbcError)
        );
    }
}
