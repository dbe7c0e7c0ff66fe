//! Tauri's build step: embeds the capabilities, the icons and the built UI. The UI is built
//! by `npm run build` in `ui/` (the Makefile does it first); if `ui/dist` is missing, a
//! placeholder page says how to build it, so `cargo build` alone still works.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    if !dist.join("index.html").exists() {
        let _ = std::fs::create_dir_all(&dist);
        let _ = std::fs::write(
            dist.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>TokenSim</title>\
             <p>The UI is not built: run <code>make run</code> (or <code>npm ci &amp;&amp; npm run build</code> in ui/).</p>",
        );
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build()
}
