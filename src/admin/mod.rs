//! The operator's listener (`admin_listen`): the dashboard, `/status`, `/metrics`,
//! `/healthz`, `/readyz`, the guard (token, Host, Origin), and `AdminError`.
//! May use `app_state` and everything below it; nothing uses it but start-up.

pub mod access_guard;
pub mod admin_error;
pub mod admission_reason;
pub mod adoption_chart;
pub mod attention;
pub mod dashboard;
pub mod device_page;
pub mod exports;
pub mod fleet_chart;
pub mod inventory_pages;
pub mod inventory_routes;
pub mod offer_reason;
pub mod operator;
pub mod release_routes;
pub mod release_upload;
pub mod routes;
pub mod status_report;
