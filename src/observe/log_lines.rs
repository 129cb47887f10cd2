//! The server's own log (env_logger), one record per line whatever a message holds. Log
//! messages quote what devices send (a line name from a URL, a serial, a header), and a
//! device that puts `%0A` in a line name must not be able to write a forged line into the
//! log an operator or a log shipper reads. So every record is written through
//! `model::one_line::escaped`.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::model::one_line::escaped;

/// Sets the logger's format: env_logger's usual `[time LEVEL target] message`, with the
/// message escaped.
pub fn one_record_per_line(builder: &mut env_logger::Builder) {
    builder.format(|out, record| {
        let mut message = String::new();
        let _ = write!(message, "{}", record.args());
        let style = out.default_level_style(record.level());
        writeln!(
            out,
            "[{} {style}{:<5}{style:#} {}] {}",
            out.timestamp(),
            record.level(),
            record.target(),
            escaped(&message)
        )
    });
}
