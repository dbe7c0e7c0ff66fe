#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::activation_code`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::activation_code::run(data));
