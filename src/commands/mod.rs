//! The commands besides serving: `check` (validate like `nginx -t`), `reload` (ask the
//! running server to rescan), `publish` and `withdraw` (write releases the safe way),
//! `service` (install the Windows service), `audit verify` (check the audit trail's
//! chain), `token new` (an operator's token), and
//! the small client the ones that talk to a running server share.
//! May use every wing below the listeners; the server's own start-up is not one of them.

pub mod audit;
pub mod check;
pub mod publish;
pub mod reload;
pub mod server_client;
pub mod service;
pub mod token;
pub mod withdraw;
