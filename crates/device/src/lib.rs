//! The simulated token (in progress).
