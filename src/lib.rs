//! kkt-update-server: a firmware update server for Shtrih-M fiscal registers, answering the
//! vendor's drivers byte for byte like the vendor's server. The library holds all logic so
//! that tests can call it; `main.rs` only hands over to `run`.

pub mod admin_error;
pub mod admin_routes;
pub mod api_error;
pub mod app_state;
pub mod base_url;
pub mod byte_range;
pub mod check_command;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod device_requests;
pub mod fingerprint;
pub mod firmware_download;
pub mod firmware_offer;
pub mod fleet;
pub mod fleet_chart;
pub mod json_error;
pub mod licenses;
pub mod metrics;
pub mod problem;
pub mod py_json;
pub mod release_meta;
pub mod releases;
pub mod reloader;
pub mod request_body;
pub mod request_limits;
pub mod routes;
pub mod server;
pub mod server_info;
pub mod snapshot;
pub mod snapshot_report;
pub mod status_report;
pub mod trusted_proxies;
pub mod version;
pub mod watcher;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use config::Config;

/// Runs the program as the command line says; the exit code for `main`.
pub fn run() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,notify=warn"))
        .init();
    let cli = Cli::parse();
    let config = match Config::load(&cli.args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("kkt-update-server: {error:#}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Check => {
            let (report, ok) = check_command::run(&config);
            print!("{report}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Serve => {
            match actix_web::rt::System::new().block_on(server::serve(config, cli.args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    log::error!("{error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
