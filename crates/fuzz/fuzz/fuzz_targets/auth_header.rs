#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::auth_header`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::auth_header::run(data));
