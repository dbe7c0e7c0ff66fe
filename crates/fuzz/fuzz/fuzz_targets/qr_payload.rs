#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::qr_payload`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::qr_payload::run(data));
