//! kkt-update-server: a firmware update server for Shtrih-M fiscal registers, answering the
//! vendor's drivers byte for byte like the vendor's server. The library holds all logic so
//! that tests can call it; `main.rs` only hands over to `run`.

// The wings, in alphabetical order (rustfmt keeps them so). Which may use which is a matter
// of levels: README "Where a change belongs" draws the map bottom-up, and
// tests/integration/architecture.rs holds the code to it.
pub mod admin;
pub mod app_state;
pub mod commands;
pub mod config;
pub mod device_api;
pub mod json_error;
pub mod observe;
pub mod publishing;
pub mod reload;
pub mod rollout;
pub mod server;
pub mod store;

// The wings that live in crates of their own (crates/), under the names the server's code
// has always used: the compiler keeps them from using anything of the server.
pub use kkt_core::{audit, catalog, groups, licenses, model, words};
pub use kkt_platform as platform;

use std::process::ExitCode;

use config::cli::{Cli, Command, RawArgs, ServiceAction, TokenAction};
use config::Config;

/// Runs the program as the command line says; the exit code for `main`.
pub fn run() -> ExitCode {
    let cli = Cli::from_process();
    let mut logger = env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,notify=warn"),
    );
    observe::log_lines::one_record_per_line(&mut logger);
    if let Some(Command::Token(TokenAction::New(args))) = &cli.command {
        return token_new(args, &cli.args);
    }
    let serves = matches!(
        cli.command,
        None | Some(Command::Serve) | Some(Command::Service(ServiceAction::Run))
    );
    let config = match load_config(&cli.args) {
        Ok(config) => {
            model::lang::Lang::choose_for_process(config.language);
            config
        }
        Err(error) => {
            model::lang::Lang::choose_for_process(language_without_config(&cli.args));
            logger.init();
            let said = words::chain_in(&*error, model::lang::Lang::operator());
            eprintln!("kkt-update-server: {said}");
            if serves && observe::start_failure::wanted() {
                let log =
                    observe::start_failure::log_path_without_config(cli.args.config.as_deref());
                observe::start_failure::record(&log, "did not start", &said);
            }
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if command == Command::Service(ServiceAction::Run) {
        log_to_service_file(&mut logger, &config);
    }
    logger.init();
    config.found.announce(&command);
    match command {
        Command::Check => check(&config),
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
        Command::Service(ServiceAction::Run) => run_as_service(config, cli.args),
        Command::Service(action) => match commands::service::run(&config, action) {
            Ok(said) => {
                print!("{said}");
                ExitCode::SUCCESS
            }
            Err(refusal) => {
                eprintln!(
                    "kkt-update-server: {}",
                    model::lang::InLanguage::in_language(&refusal, model::lang::Lang::operator())
                );
                ExitCode::FAILURE
            }
        },
        Command::Audit(config::cli::AuditAction::Verify { head }) => {
            audit_verify(&config, head.as_deref())
        }
        Command::Reload(args) => reload(&config, &args),
        // Answered above, before the configuration is read.
        Command::Token(_) => ExitCode::SUCCESS,
        Command::Serve => serve(config, cli.args),
    }
}

/// `token new`: needs no configuration (it may run before there is one), only a language.
fn token_new(args: &config::cli::TokenNewArgs, raw: &RawArgs) -> ExitCode {
    let lang = language_without_config(raw);
    model::lang::Lang::choose_for_process(lang);
    match commands::token::new(args, lang) {
        Ok(said) => {
            print!("{said}");
            ExitCode::SUCCESS
        }
        Err(refusal) => {
            eprintln!("kkt-update-server: {refusal}");
            ExitCode::from(2)
        }
    }
}

/// The settings, with a `firmware_dir` that exists (every command needs one).
fn load_config(args: &RawArgs) -> anyhow::Result<Config> {
    let config = Config::load(args)?;
    config.require_firmware_dir()?;
    Ok(config)
}

/// The operator's language when the configuration did not load: `--language` or
/// `KKT_LANGUAGE` if given and valid, else the file's `language` if the file itself reads,
/// else the system's.
fn language_without_config(args: &RawArgs) -> model::lang::Lang {
    args.given()
        .text(&config::settings::LANGUAGE)
        .flatten()
        .and_then(|text| model::lang::LanguageChoice::parse(&text))
        .or_else(|| config::file_language(args))
        .unwrap_or_default()
        .resolve()
}

/// A service has no terminal: its log goes to a file next to server.yaml (or, when that
/// cannot be written, stays on standard error, which is said there).
fn log_to_service_file(logger: &mut env_logger::Builder, config: &Config) {
    let path = commands::service::log_path(config);
    match observe::log_file::RotatingFile::open(&path) {
        Ok(file) => {
            logger.target(env_logger::Target::Pipe(Box::new(file)));
        }
        Err(e) => eprintln!(
            "kkt-update-server: {}",
            model::lang::fill(
                words::Words::of(model::lang::Lang::operator())
                    .operator
                    .service_log_unwritable,
                &[("file", &path.display()), ("why", &e)],
            )
        ),
    }
}

/// `check`: prints the report; fails when it found something wrong.
fn check(config: &Config) -> ExitCode {
    let (report, ok) = commands::check::run(config);
    print!("{report}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `service run`: serves under Windows' service manager until it says stop.
fn run_as_service(config: Config, args: RawArgs) -> ExitCode {
    let shutdown = config.shutdown_timeout;
    let body = move || {
        actix_web::rt::System::new()
            .block_on(server::serve(config.clone(), args.clone()))
            .map_err(|error| log::error!("{error:#}"))
            .is_ok()
    };
    match platform::windows_service::run(
        commands::service::SERVICE_NAME,
        platform::service_control::stop_wait_hint(shutdown),
        Box::new(body),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let words = words::Words::of(model::lang::Lang::operator());
            eprintln!(
                "kkt-update-server: {}",
                commands::service::manager_said(&error, words)
            );
            ExitCode::FAILURE
        }
    }
}

/// `reload`: asks the running server to read its files again; prints its answer (the JSON,
/// the same in every language, for scripts) and says what it did in the operator's
/// language on standard error.
fn reload(config: &Config, args: &config::cli::ReloadArgs) -> ExitCode {
    let lang = model::lang::Lang::operator();
    match commands::reload::run(config, args) {
        Ok(answer) => {
            println!("{}", answer.body);
            eprintln!("kkt-update-server: {}", answer.said(lang));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("kkt-update-server: {}", words::chain_in(&*error, lang));
            ExitCode::FAILURE
        }
    }
}

/// `audit verify`: prints whether the trail's chain holds (standard output), or why it
/// could not be read (standard error); fails unless it holds.
fn audit_verify(config: &Config, head: Option<&str>) -> ExitCode {
    let lang = model::lang::Lang::operator();
    match commands::audit::verify_trail(config, head) {
        Ok(outcome) => {
            println!("{}", outcome.said(lang));
            match outcome {
                commands::audit::Outcome::Ok { .. } => ExitCode::SUCCESS,
                commands::audit::Outcome::Bad(_) => ExitCode::FAILURE,
            }
        }
        Err(error) => {
            eprintln!("kkt-update-server: {}", error.said(lang));
            ExitCode::FAILURE
        }
    }
}

/// `serve` (also the command when none is given): serves until stopped. Why it stopped
/// (a port taken, most often at start) also goes to the log file on Windows, where a
/// double-clicked `.exe` has no console to say it on.
fn serve(config: Config, args: RawArgs) -> ExitCode {
    let log = config.service_log();
    match actix_web::rt::System::new().block_on(server::serve(config, args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let said = words::chain_in(&*error, model::lang::Lang::operator());
            log::error!("{said}");
            if observe::start_failure::wanted() {
                observe::start_failure::record(&log, "stopped", &said);
            }
            ExitCode::FAILURE
        }
    }
}

/// The exit code of a command that either did what it says or refused in one sentence,
/// said in the operator's language.
fn outcome(result: Result<(), impl model::lang::InLanguage>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(refusal) => {
            let said = refusal.in_language(model::lang::Lang::operator());
            eprintln!("kkt-update-server: {said}");
            ExitCode::FAILURE
        }
    }
}
