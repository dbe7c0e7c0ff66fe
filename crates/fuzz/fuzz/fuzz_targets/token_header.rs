#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::token_header`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::token_header::run(data));
