//! # tokensim-memory
//!
//! Keeps a long-running TokenSim process (the desktop app) from holding memory it no longer
//! uses. In one process, Rust, GTK, WebKitGTK and SQLite all allocate through the C library's
//! `malloc`, and glibc's allocator keeps what they free:
//!
//! - it makes up to 8 arenas per core, one per thread that allocates at the same time, and an
//!   arena is never given back to the system while its thread pool lives;
//! - memory freed below the top of an arena (a decoded QR image, the buffers of a PBKDF2-heavy
//!   activation, a JSON body) stays resident until `malloc_trim` hands its whole pages back.
//!
//! [`bound_arenas`] caps the arena count (call it first thing in `main`, before any thread),
//! and [`release`] returns free pages to the system after a burst of work. Measured on the
//! desktop app, idle with two devices: see docs/benchmarks.md ("Desktop app").
//!
//! ## What it refuses to do
//!
//! It does not replace the allocator, change how anything allocates, or free anything that
//! is in use: both calls are glibc's own tuning knobs, and on other C libraries they do
//! nothing. This is the workspace's one crate with `unsafe` code: the two foreign calls
//! below, each with its safety argument.
#![warn(unreachable_pub)]

/// The most arenas glibc's `malloc` may make, whatever the core count. Four keeps threads
/// that allocate at once (tokio's workers, SQLite's, WebKit's) from queueing on one lock,
/// while an idle process holds at most four arenas' free pages instead of sixteen or more.
pub const ARENA_MAX: i32 = 4;

/// Caps glibc's malloc arenas at [`ARENA_MAX`]. Call it at the start of `main`, before any
/// thread starts: arenas made before the call stay. Returns whether the C library took it
/// (false on a C library other than glibc).
pub fn bound_arenas() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets a tuning parameter of the allocator; `M_ARENA_MAX`
        // with a positive value is documented for any time in a process's life.
        #[allow(unsafe_code)]
        let set = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX) };
        set == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Hands the free pages of every malloc arena back to the system (`malloc_trim(0)`): call it
/// after a burst of work whose buffers are gone (an activation, a scanned image), or when
/// the process goes idle. Takes well under a millisecond on a settled heap. Returns whether
/// any memory was released.
pub fn release() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes the arenas' own locks and only returns pages that no
        // allocation uses; it is thread-safe and may be called at any time.
        #[allow(unsafe_code)]
        let released = unsafe { libc::malloc_trim(0) };
        released == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_memory_goes_back_to_the_system() {
        assert!(bound_arenas(), "glibc takes M_ARENA_MAX");
        // 64 MB in 16 kB blocks (below the mmap threshold, so they live in an arena), each
        // followed by a small block that stays: the freed blocks lie below live memory, so
        // `free` alone cannot shrink the arena and their pages stay resident.
        let mut blocks = Vec::new();
        let mut pins = Vec::new();
        for i in 0..4096 {
            blocks.push(vec![(i % 251) as u8 + 1; 16 * 1024]);
            pins.push(vec![1u8; 64]);
        }
        let full = resident_kb();
        drop(blocks);
        let freed = resident_kb();
        assert!(
            freed + 16 * 1024 > full,
            "free alone gave the pages back ({full} kB to {freed} kB): nothing left to test"
        );
        release();
        let released = resident_kb();
        assert!(
            released + 32 * 1024 < freed,
            "RSS went from {freed} kB to {released} kB: the freed 64 MB were not returned"
        );
        assert_eq!(pins.len(), 4096);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn resident_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .expect("/proc/self/status")
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .expect("VmRSS")
    }
}
