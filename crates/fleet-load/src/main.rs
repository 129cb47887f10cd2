//! fleet-load: the benchmark's load client (bench/run.sh, bench/tls.sh). wrk cannot bind
//! source addresses, so it cannot play a fleet: this plays `--registers` registers polling
//! a server on this machine, each from its own loopback address, over HTTP or HTTPS (full
//! handshakes, or TLS 1.3 resumption), and prints one line of `key=value` results:
//!
//! `requests=123456 errors=0 rps=12345.6 p50_ms=1.234 p99_ms=5.678 full_handshakes=64 resumed=123392 duration_s=10.00`
//!
//! One thread (the bench pins it to one CPU). Exit status 1, with the reasons on stderr,
//! when a request failed or got another status than `--expect-status`, or a source address
//! could not be bound; 2 for a command line it refuses.

mod addresses;
mod args;
mod histogram;
mod http;
mod load;
mod tls;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let plan = match args::Plan::from_cli(args::Cli::parse()) {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("fleet-load: {why}");
            return ExitCode::from(2);
        }
    };
    let connector = match &plan.tls {
        Some(settings) => match tls::connector(&settings.ca, settings.resume, plan.connections) {
            Ok(connector) => Some(connector),
            Err(why) => {
                eprintln!("fleet-load: {why}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fleet-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(load::run(plan, connector));
    println!("{}", outcome.line);
    for why in &outcome.failures {
        eprintln!("fleet-load: {why}");
    }
    if outcome.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
