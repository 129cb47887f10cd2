//! kkt-update-server: a firmware update server for Shtrih-M fiscal registers, answering the
//! vendor's drivers byte for byte like the vendor's server. The library holds all logic so
//! that tests can call it; `main.rs` only hands over to `run`.

// The wings, in alphabetical order (rustfmt keeps them so). Which may use which is a matter
// of levels: README "Where a change belongs" draws the map bottom-up, and
// tests/integration/architecture.rs holds the code to it.
pub mod admin;
pub mod app_state;
pub mod catalog;
pub mod commands;
pub mod config;
pub mod device_api;
pub mod licenses;
pub mod model;
pub mod observe;
pub mod platform;
pub mod publishing;
pub mod reload;
pub mod rollout;
pub mod server;
pub mod store;

use std::process::ExitCode;

use config::cli::{Cli, Command, ServiceAction};
use config::Config;

/// Runs the program as the command line says; the exit code for `main`.
pub fn run() -> ExitCode {
    let cli = Cli::from_process();
    let mut logger = env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,notify=warn"),
    );
    observe::log_lines::one_record_per_line(&mut logger);
    let config = match Config::load(&cli.args).and_then(|config| {
        config.require_firmware_dir()?;
        Ok(config)
    }) {
        Ok(config) => config,
        Err(error) => {
            logger.init();
            eprintln!("kkt-update-server: {error:#}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if command == Command::Service(ServiceAction::Run) {
        // A service has no terminal: its log goes to a file next to server.yaml.
        let path = commands::service::log_path(&config);
        match observe::log_file::RotatingFile::open(&path) {
            Ok(file) => {
                logger.target(env_logger::Target::Pipe(Box::new(file)));
            }
            Err(e) => eprintln!(
                "kkt-update-server: cannot write the log {}: {e}",
                path.display()
            ),
        }
    }
    logger.init();
    match command {
        Command::Check => {
            let (report, ok) = commands::check::run(&config);
            print!("{report}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Publish(args) => outcome(commands::publish::run(
            &config,
            &args,
            &mut std::io::stdout(),
        )),
        Command::Withdraw(args) => outcome(commands::withdraw::run(
            &config,
            &args,
            &mut std::io::stdout(),
        )),
        Command::Service(ServiceAction::Run) => {
            let shutdown = config.shutdown_timeout;
            let args = cli.args.clone();
            let body = move || {
                actix_web::rt::System::new()
                    .block_on(server::serve(config.clone(), args.clone()))
                    .map_err(|error| log::error!("{error:#}"))
                    .is_ok()
            };
            outcome(platform::windows_service::run(
                commands::service::SERVICE_NAME,
                platform::service_control::stop_wait_hint(shutdown),
                Box::new(body),
            ))
        }
        Command::Service(action) => match commands::service::run(&config, action) {
            Ok(said) => {
                print!("{said}");
                ExitCode::SUCCESS
            }
            Err(refusal) => outcome(Err(refusal)),
        },
        Command::Reload => match commands::reload::run(&config) {
            Ok(answer) => {
                println!("{answer}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("kkt-update-server: {error:#}");
                ExitCode::FAILURE
            }
        },
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

/// The exit code of a command that either did what it says or refused in one sentence.
fn outcome(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(refusal) => {
            eprintln!("kkt-update-server: {refusal}");
            ExitCode::FAILURE
        }
    }
}
