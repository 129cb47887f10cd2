//! The vocabulary every wing speaks: firmware dates (`Version`), a problem with an operator's
//! file (`Problem`), IP networks and the proxies believed about a client's address
//! (`trusted_proxies`), the reference's JSON form, Unix times, the one clock the rules read
//! (`clock`), text made fit for one line of a log (`one_line`), the nearest known key to a
//! misspelt one (`did_you_mean`), the language an operator reads (`lang`; its words are
//! in the `words` wing), a sentence in both languages (`said`), an operator's `role` and a
//! YAML text nested too deep to be given to the parser (`yaml_nesting`).
//! It uses nothing else of the crate, so anything may use it.

pub mod clock;
pub mod did_you_mean;
pub mod ip_networks;
pub mod lang;
pub mod one_line;
pub mod problem;
pub mod py_json;
pub mod role;
pub mod said;
pub mod text_file;
pub mod trusted_proxies;
pub mod unix_time;
pub mod version;
pub mod yaml_nesting;
pub mod yaml_value_kind;
