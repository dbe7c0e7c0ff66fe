//! Device storage (in progress).
