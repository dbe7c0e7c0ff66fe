//! Protocol benchmarks (filled in once every module has landed).

fn main() {}
