#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::ecies_envelope`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::ecies_envelope::run(data));
