#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::sandbox_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::sandbox_request::run(data));
