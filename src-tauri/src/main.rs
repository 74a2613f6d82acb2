// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        // WebKitGTK's DMA-BUF renderer needs GPU buffer sharing that Xvfb, VMs and some drivers lack (blank window); set it to 0 to opt back in.
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    refresh_race_desktop::run();
}
