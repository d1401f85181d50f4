//! What a probe found, per request and overall, and the exit code that
//! sums it up.
//!
//! Exit codes, by precedence (the first that applies wins):
//! 1 failure: connection or handshake failed (refused, reset, closed,
//!   wrong network magic, peer version below 31800, oversize or flooding
//!   peer, handshake not done in time), or an answer did not verify
//!   (wrong txid or block hash, merkle root mismatch);
//! 4 timeout: at least one request got no answer within the timeout;
//! 3 notfound: the peer answered `notfound` for at least one request;
//! 0 every requested object arrived and verified.

use super::Request;
use super::verify::Mismatch;
use std::time::Duration;

use crate::exit_code::{
    ERROR as EXIT_FAILURE, NOTFOUND as EXIT_NOTFOUND, OK as EXIT_OK, TIMEOUT as EXIT_TIMEOUT,
};

/// The fate of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not answered yet (only while the probe runs).
    Pending,
    /// The object arrived and its hashes check out.
    Verified { bytes: usize },
    /// The peer answered `notfound`.
    NotFound,
    /// Something came back, but not the object asked for.
    Mismatch(Mismatch),
    /// getdata was sent, no answer before the deadline.
    TimedOut,
    /// The probe ended before an answer was possible (connection or
    /// handshake failure); the reason is the outcome's `failure`.
    Unanswered,
}

/// One request and its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestResult {
    pub request: Request,
    pub status: Status,
}

/// The result of a whole probe.
#[derive(Debug)]
pub struct ProbeOutcome {
    pub results: Vec<RequestResult>,
    /// Why the connection or handshake failed, if it did.
    pub failure: Option<super::failure::Failure>,
    pub timeout: Duration,
    /// Writing to the observer sink failed (e.g. a closed pipe); the probe
    /// went on without output.
    pub output_error: Option<std::io::Error>,
    /// The transport of the session that ran (None: no connection).
    pub transport: Option<super::TransportUsed>,
}

impl Status {
    /// The sentence shown for a request with this status.
    pub(crate) fn describe(&self, request: &Request, timeout: Duration) -> String {
        match self {
            Status::Pending => format!("{request}: pending"),
            Status::Verified { bytes } => {
                format!("{request} received and verified ({bytes} bytes)")
            }
            Status::NotFound => format!(
                "{request}: notfound ({})",
                match request {
                    Request::Tx(_) => "nodes serve transactions only from their mempool",
                    Request::Block(_) => "the peer does not have this block",
                }
            ),
            Status::Mismatch(m) => format!("{request}: not accepted: {m}"),
            Status::TimedOut => format!(
                "{request}: timeout: no answer within {} s ({})",
                timeout.as_secs_f64(),
                match request {
                    Request::Tx(_) => "nodes serve transactions only from their mempool",
                    Request::Block(_) => "nodes ignore requests for blocks they do not have",
                }
            ),
            Status::Unanswered => format!("{request}: not answered"),
        }
    }
}

impl ProbeOutcome {
    /// The exit code, by the precedence in the module docs.
    pub fn exit_code(&self) -> u8 {
        let any = |f: fn(&Status) -> bool| self.results.iter().any(|r| f(&r.status));
        if self.failure.is_some()
            || any(|s| {
                matches!(
                    s,
                    Status::Mismatch(_) | Status::Unanswered | Status::Pending
                )
            })
        {
            EXIT_FAILURE
        } else if any(|s| *s == Status::TimedOut) {
            EXIT_TIMEOUT
        } else if any(|s| *s == Status::NotFound) {
            EXIT_NOTFOUND
        } else {
            EXIT_OK
        }
    }

    /// The transport used (when connected), one line per request, then
    /// the failure if any, without a prefix (the text of the probe's
    /// notes).
    pub fn result_texts(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .transport
            .iter()
            .map(|t| format!("transport: {t}"))
            .collect();
        lines.extend(
            self.results
                .iter()
                .map(|r| r.status.describe(&r.request, self.timeout)),
        );
        if let Some(f) = &self.failure {
            lines.push(format!("failed: {f}"));
        }
        lines
    }

    /// Ready-to-print lines (`probe: ...`), for a caller that ran the probe
    /// without a sink (e.g. next to a live capture).
    pub fn summary_lines(&self) -> Vec<String> {
        self.result_texts()
            .into_iter()
            .map(|t| format!("probe: {t}"))
            .collect()
    }

    /// The one-line reason for exit code 1, for stderr.
    pub fn failure_reason(&self) -> Option<String> {
        if let Some(f) = &self.failure {
            return Some(f.to_string());
        }
        self.results.iter().find_map(|r| match &r.status {
            Status::Mismatch(m) => Some(format!("{}: {m}", r.request)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::Hash256;
    use crate::probe::Failure;

    fn outcome(statuses: &[Status], failure: Option<Failure>) -> ProbeOutcome {
        ProbeOutcome {
            results: statuses
                .iter()
                .enumerate()
                .map(|(i, s)| RequestResult {
                    request: Request::Tx(Hash256([u8::try_from(i).unwrap(); 32])),
                    status: s.clone(),
                })
                .collect(),
            failure,
            timeout: Duration::from_secs(10),
            output_error: None,
            transport: None,
        }
    }

    #[test]
    fn precedence_is_failure_timeout_notfound_ok() {
        let ok = Status::Verified { bytes: 1 };
        let mismatch = Status::Mismatch(Mismatch::NoTransactions);
        assert_eq!(
            outcome(std::slice::from_ref(&ok), None).exit_code(),
            EXIT_OK
        );
        assert_eq!(
            outcome(&[ok.clone(), Status::NotFound], None).exit_code(),
            EXIT_NOTFOUND
        );
        assert_eq!(
            outcome(&[Status::NotFound, Status::TimedOut], None).exit_code(),
            EXIT_TIMEOUT
        );
        assert_eq!(
            outcome(&[Status::TimedOut, mismatch], None).exit_code(),
            EXIT_FAILURE
        );
        assert_eq!(
            outcome(&[ok], Some(Failure::ClosedBeforeAnswering)).exit_code(),
            EXIT_FAILURE
        );
        assert_eq!(
            outcome(&[Status::Unanswered], None).exit_code(),
            EXIT_FAILURE
        );
    }

    #[test]
    fn transport_line_comes_first_and_says_why() {
        let mut o = outcome(&[Status::NotFound], None);
        o.transport = Some(crate::probe::TransportUsed::V1Fallback {
            reason: "it closed the connection right after our key, without a byte".into(),
        });
        let lines = o.summary_lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "probe: transport: v1 (fallback: the peer refused v2: it closed the connection \
             right after our key, without a byte)"
        );
        o.transport = Some(crate::probe::TransportUsed::V2 {
            session_id: "ab".repeat(32),
        });
        assert_eq!(
            o.result_texts()[0],
            format!("transport: v2 (BIP324, session id {})", "ab".repeat(32))
        );
        assert_eq!(o.exit_code(), EXIT_NOTFOUND);
    }

    #[test]
    fn timeout_line_names_the_mempool_rule() {
        let o = outcome(&[Status::TimedOut], None);
        let lines = o.summary_lines();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("probe: tx "), "{}", lines[0]);
        assert!(lines[0].contains("no answer within 10 s"), "{}", lines[0]);
        assert!(lines[0].contains("only from their mempool"), "{}", lines[0]);
    }
}
