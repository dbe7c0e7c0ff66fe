#![no_main]
//! (in progress)
use libfuzzer_sys::fuzz_target;
fuzz_target!(|_data: &[u8]| {});
