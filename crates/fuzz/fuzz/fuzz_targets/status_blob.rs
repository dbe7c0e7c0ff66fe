#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::status_blob`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::status_blob::run(data));
