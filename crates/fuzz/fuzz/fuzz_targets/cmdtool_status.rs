#![no_main]
//! libFuzzer entry of `tokensim_fuzz::targets::cmdtool_status`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokensim_fuzz::targets::cmdtool_status::run(data));
