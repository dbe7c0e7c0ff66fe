#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::public_key`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::public_key::run(data));
