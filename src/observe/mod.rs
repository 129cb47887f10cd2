//! What the server observes of its fleet: the access log, its own log's format, the fleet view by client address,
//! the Prometheus metrics, and the chart
//! model the dashboard draws.
//! May use `catalog`, `licenses` and `model`; never a listener or `app_state`.

pub mod access_log;
pub mod adoption_chart;
pub mod fleet;
pub mod fleet_chart;
pub mod log_file;
pub mod log_lines;
pub mod metrics;
pub mod writer_thread;
