//! Wultra cmd-tool status files (`tokensim import-cmdtool`), read from whatever file the user
//! names: parsing never panics, and a file that parses writes back to JSON that parses equal.

use tokensim_device::cmdtool::StatusFile;

/// One input: the file's bytes.
pub fn run(data: &[u8]) {
    let Ok(file) = StatusFile::parse(data) else {
        return;
    };
    let again = StatusFile::parse(file.to_json().as_bytes()).expect("its own JSON parses");
    assert!(again == file, "a status file survives its own JSON");
}
