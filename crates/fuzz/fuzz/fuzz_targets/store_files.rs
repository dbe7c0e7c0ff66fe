#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::store_files`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::store_files::run(data));
