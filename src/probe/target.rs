//! `HOST[:PORT]` as typed on the command line, and its resolution into
//! socket addresses within the probe's time budget.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

/// A host (IPv4, IPv6 or name) and an optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: Option<u16>,
}

impl FromStr for Target {
    type Err = String;

    /// Accepts `1.2.3.4`, `1.2.3.4:8333`, `[::1]`, `[::1]:18444`, `::1`
    /// (a bare IPv6 address has no port) and `name` / `name:port`.
    fn from_str(s: &str) -> Result<Target, String> {
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{s}': missing ']' after an IPv6 address"))?;
            if inside.parse::<Ipv6Addr>().is_err() {
                return Err(format!("'{inside}' is not an IPv6 address"));
            }
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("'{s}': expected ':PORT' after ']'"))?,
                ),
            };
            (inside, port)
        } else if s.matches(':').count() >= 2 {
            if s.parse::<Ipv6Addr>().is_err() {
                return Err(format!(
                    "'{s}' is not an IPv6 address (write [ADDRESS]:PORT to give a port)"
                ));
            }
            (s, None)
        } else {
            match s.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        if host.is_empty() {
            return Err(format!("'{s}': empty host"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("'{p}' is not a TCP port (1-65535)"))?,
            ),
        };
        Ok(Target {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = self.host.contains(':');
        match (bracket, self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// Resolves `target` (with `default_port` when it names none). Names go
/// through the system resolver on a helper thread so that a hanging lookup
/// is cut at `timeout` like the rest of the probe.
pub fn resolve(
    target: &Target,
    default_port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, String> {
    let port = target.port.unwrap_or(default_port);
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host = target.host.clone();
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("probe-resolve".into())
        .spawn(move || {
            let result = (host.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>());
            // The receiver may have given up: nothing to do then.
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(format!("cannot start the resolver thread: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(format!("{}: the name has no address", target.host)),
        Ok(Err(e)) => Err(format!("{}: {e}", target.host)),
        Err(_) => Err(format!(
            "{}: name resolution did not finish within {} s",
            target.host,
            timeout.as_secs_f64()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Result<(String, Option<u16>), String> {
        s.parse::<Target>().map(|t| (t.host, t.port))
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(t("1.2.3.4"), Ok(("1.2.3.4".into(), None)));
        assert_eq!(t("1.2.3.4:8333"), Ok(("1.2.3.4".into(), Some(8333))));
        assert_eq!(t("[::1]:18444"), Ok(("::1".into(), Some(18444))));
        assert_eq!(t("[::1]"), Ok(("::1".into(), None)));
        assert_eq!(t("::1"), Ok(("::1".into(), None)));
        assert_eq!(t("fe80::1:2"), Ok(("fe80::1:2".into(), None)));
        assert_eq!(
            t("node.example:8333"),
            Ok(("node.example".into(), Some(8333)))
        );
        assert_eq!(t("localhost"), Ok(("localhost".into(), None)));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            ":8333",
            "1.2.3.4:",
            "1.2.3.4:0",
            "1.2.3.4:65536",
            "[::1",
            "[x]:1",
            "[::1]8333",
            "a:b:c",
            "h:port",
        ] {
            assert!(t(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["1.2.3.4:8333", "[::1]:18444", "::1", "host"] {
            assert_eq!(s.parse::<Target>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn literal_addresses_resolve_without_lookup() {
        let target: Target = "[::1]".parse().unwrap();
        let addrs = resolve(&target, 18444, Duration::from_secs(1)).unwrap();
        assert_eq!(addrs, vec!["[::1]:18444".parse().unwrap()]);
    }
}
