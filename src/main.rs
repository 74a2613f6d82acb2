//! `refresh-race`: run the lab from a terminal (see `cli`).

fn main() -> std::process::ExitCode {
    refresh_race::cli::main()
}
