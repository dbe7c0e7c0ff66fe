//! Device integration tests.
