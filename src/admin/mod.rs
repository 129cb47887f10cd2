//! The operator's listener (`admin_listen`): the dashboard, `/status`, `/metrics`,
//! `/healthz`, `/readyz`, the audit trail (`audit_routes`), the guard (operators' tokens,
//! Host, Origin), the operator a
//! request comes from and their role, the login form and its sessions, the forms' CSRF
//! token, `AdminError`, and which devices a read may show (`view_scope`).
//! May use `app_state` and everything below it; nothing uses it but start-up.

pub mod access_guard;
pub mod admin_error;
pub mod admission_reason;
pub mod adoption_chart;
pub mod attention;
pub mod audit_routes;
pub mod csrf;
pub mod dashboard;
pub mod dashboard_forms;
pub mod device_page;
pub mod exports;
pub mod fleet_chart;
pub mod group_metrics;
pub mod inventory_pages;
pub mod inventory_routes;
pub mod login;
pub mod login_failures;
pub mod login_page;
pub mod offer_reason;
pub mod operator;
pub mod release_actions;
pub mod release_answers;
pub mod release_routes;
pub mod release_upload;
pub mod release_views;
pub mod routes;
pub mod sessions;
pub mod stale_files;
pub mod status_report;
pub mod unmapped_builds;
pub mod view_scope;
pub mod withdraw_page;
