//! What the server observes of its fleet and of itself: the access log, its own log's
//! format (`log_lines`) and, as a service with no terminal, its rotating log file
//! (`log_file`) where a failed start is said too (`start_failure`), the fleet view by client address, the Prometheus metrics, and the writer
//! thread the logs share. What it remembers across restarts is in `store`; the charts the
//! dashboard draws from it are in `admin`.
//! May use `config`, `catalog`, `licenses` and `model`; never the store, a listener or
//! `app_state`.

pub mod access_log;
pub mod fleet;
pub mod log_file;
pub mod log_lines;
pub mod metrics;
pub mod start_failure;
pub mod writer_thread;
