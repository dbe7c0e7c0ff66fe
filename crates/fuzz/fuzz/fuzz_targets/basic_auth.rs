#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::basic_auth`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::basic_auth::run(data));
