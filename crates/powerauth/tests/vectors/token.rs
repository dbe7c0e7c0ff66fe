//! Vectors: (in progress)
