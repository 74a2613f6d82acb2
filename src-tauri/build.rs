fn main() {
    // Reads tauri.conf.json and capabilities/ and prepares what
    // `tauri::generate_context!` embeds (icon, ACL, frontendDist).
    tauri_build::build()
}
