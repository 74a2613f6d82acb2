fn main() {
    // Reads tauri.conf.json and capabilities/ and prepares what
    // `tauri::generate_context!` embeds (icon, ACL, frontendDist). The app's
    // one command, `keep`, gets its permission (`allow-keep`) from this
    // manifest; the shell grants it at launch to the lab's origin only.
    let manifest = tauri_build::AppManifest::new().commands(&["keep"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed");
}
