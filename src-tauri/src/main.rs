//! The `tokensim-app` binary: the desktop window, or the same flow in the terminal when
//! there is no display.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    tokensim_app::main()
}
