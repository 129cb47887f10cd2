//! The `kkt-update-server` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    kkt_update_server::run()
}
