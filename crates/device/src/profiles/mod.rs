//! Device-authentication profiles beside PowerAuth: the device's side of each, reporting
//! to the same [`Events`](crate::Events) stream.

pub mod facemap;
pub mod oauth;
