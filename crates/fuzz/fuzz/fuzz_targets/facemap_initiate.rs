#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::facemap_initiate`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::facemap_initiate::run(data));
