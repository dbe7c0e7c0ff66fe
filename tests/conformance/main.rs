//! Conformance of the sandbox's PowerAuth Cloud API (`/powerauth-cloud`) with Wultra's:
//! the onboarding tutorial replayed call by call with its literal payloads, the calls of
//! Wultra's SDK integration harnesses, and bad input, each answer checked for its status
//! code, field names and JSON types against the reference (`shared/docs/powerauth-cloud.md`).
//!
//! Runs on in-memory SQLite, and on PostgreSQL when `TOKENSIM_TEST_POSTGRES_URL` is set
//! (`make test-postgres`). Each test prints its check count.

mod bad_input;
mod harness;
mod harnesses;
mod tutorial;
