#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::device_reply`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::device_reply::run(data));
