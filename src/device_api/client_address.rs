//! Who is asking: the device's address (the peer, or what a trusted proxy says in
//! `X-Forwarded-For`), its User-Agent, and the time, as every record of a request needs.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::catalog::snapshot::Snapshot;
use crate::model::clock;

/// The device's address: the peer, or what a trusted proxy says in `X-Forwarded-For`.
pub fn client_ip(req: &HttpRequest, snapshot: &Snapshot) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    Some(snapshot.trusted_proxies.client_ip(peer, forwarded))
}

pub fn user_agent(req: &HttpRequest) -> &str {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Now, as the rules see it (`clock`), in Unix seconds.
pub fn unix_now() -> u64 {
    clock::unix_now()
}
