//! The `/metrics` endpoint: tiny_http on a thread of its own, answering
//! each scrape with the current exposition text.

use super::{Metrics, encode};
use std::net::SocketAddr;

/// OpenMetrics text, which prometheus-client writes (Prometheus asks for
/// it first in its Accept header).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Listens on `addr` and serves `/metrics` until the process ends.
/// Returns the address bound (port 0 picks one).
pub fn serve(addr: SocketAddr, metrics: Metrics) -> anyhow::Result<SocketAddr> {
    let server = tiny_http::Server::http(addr)
        .map_err(|e| anyhow::anyhow!("--metrics {addr}: cannot listen: {e}"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| anyhow::anyhow!("--metrics {addr}: not an IP socket"))?;
    let registry = metrics.registry();
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = if request.url() == "/metrics" {
                    metrics.refresh();
                    let header = tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE)
                        .expect("a valid header");
                    tiny_http::Response::from_string(encode(&registry)).with_header(header)
                } else {
                    tiny_http::Response::from_string("btcsniff: see /metrics\n")
                        .with_status_code(404)
                };
                // A scraper that went away: nothing to do.
                let _ = request.respond(response);
            }
        })?;
    Ok(bound)
}
