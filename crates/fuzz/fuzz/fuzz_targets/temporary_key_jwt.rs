#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::temporary_key_jwt`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::temporary_key_jwt::run(data));
