//! The vocabulary every wing speaks: firmware dates (`Version`), a problem with an operator's
//! file (`Problem`), IP networks, the reference's JSON form and the `{"error": …}` answer, Unix times,
//! the one clock the rules read (`clock`), text made fit for one line of a log (`one_line`).
//! It uses nothing else of the crate, so anything may use it.

pub mod clock;
pub mod ip_networks;
pub mod json_error;
pub mod one_line;
pub mod problem;
pub mod py_json;
pub mod text_file;
pub mod unix_time;
pub mod version;
