#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::offline_qr`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::offline_qr::run(data));
