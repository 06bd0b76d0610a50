//! Which Gateway listeners Kong really serves, as KIC v3.5.13 works it out for listener status
//! (`internal/controllers/gateway/gateway_controller.go` 744-862, cited as GW, and
//! `gateway_utils.go` 166-176 and 395-418, cited as GU): each publish Service port whose
//! container port is a Kong listener is a listen on the Service port: HTTPS or HTTP for a proxy
//! listener by `ssl`, TLS for a stream listener with `ssl` (GW 838-859), else the Service port's
//! own protocol (GW 773-785). A Gateway listener is then `Accepted=False/UnsupportedProtocol`
//! when no listen has its protocol, and `PortUnavailable` when none has it on its port
//! (GU 395-418).
//!
//! Two differences, both so that a listener is accepted only where Kong serves it: KIC makes
//! every TCP or UDP Service port a listen, whether or not Kong listens behind it; kingress
//! needs a stream listener (`udp` for a UDP port, not for a TCP one). KIC asks every replica
//! and gives up (no status) unless all report the same listeners
//! (`internal/dataplane/kong_client.go` 310-400); kingress keeps a listen only when every
//! replica that reported has it.

use std::collections::{BTreeMap, BTreeSet};

use gateway_api::apis::standard::gateways::GatewayListeners;

use crate::kong::listeners::{KongListeners, Listener};
use crate::translate::gateway::listeners::Failure;

/// One publish Service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishPort {
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    pub port: i32,
    /// The container port it reaches, when known.
    pub target: Option<u16>,
}

/// The Gateway-facing listens: protocol and Service port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KongListens(BTreeSet<(String, i32)>);

impl KongListens {
    /// One replica's listens (GW 773-785, 819-859; a Kong listener needed, see above).
    pub fn derive(ports: &[PublishPort], kong: &KongListeners) -> KongListens {
        // GW 826-833: by port, the last listener of a port wins.
        let by_port = |list: &'_ [Listener]| -> BTreeMap<u16, Listener> {
            list.iter().map(|l| (l.port, *l)).collect()
        };
        let (proxy, stream) = (by_port(&kong.proxy), by_port(&kong.stream));
        let listens = ports.iter().filter_map(|p| {
            let target = p.target?;
            // GW 852-858: a proxy listener wins over a stream one on the same port.
            if let Some(l) = proxy.get(&target) {
                let protocol = if l.ssl { "HTTPS" } else { "HTTP" };
                return Some((protocol.to_string(), p.port));
            }
            let stream = stream.get(&target)?;
            let protocol = match (stream.ssl, stream.udp, p.protocol.as_str()) {
                (true, _, _) => "TLS",
                (false, true, "UDP") => "UDP",
                (false, false, "TCP") => "TCP",
                _ => return None,
            };
            Some((protocol.to_string(), p.port))
        });
        KongListens(listens.collect())
    }

    /// The listens every replica has; None before any replica reported its listeners.
    pub fn across<'a>(
        ports: &[PublishPort],
        replicas: impl IntoIterator<Item = &'a KongListeners>,
    ) -> Option<KongListens> {
        replicas
            .into_iter()
            .map(|kong| KongListens::derive(ports, kong))
            .reduce(|a, b| KongListens(a.0.intersection(&b.0).cloned().collect()))
    }

    /// `Accepted` as far as Kong's listens decide it (GU 395-418); the messages are KIC's, with
    /// what Kong does serve.
    pub fn accepts(&self, listener: &GatewayListeners) -> Result<(), Failure> {
        let ports: Vec<i32> = self
            .0
            .iter()
            .filter(|(protocol, _)| *protocol == listener.protocol)
            .map(|(_, port)| *port)
            .collect();
        if ports.is_empty() {
            return Err((
                "UnsupportedProtocol",
                format!(
                    "no Kong listen with the requested protocol is configured: the publish Service has no port that reaches a Kong {} listener",
                    listener.protocol
                ),
            ));
        }
        if !ports.contains(&listener.port) {
            let ports: Vec<String> = ports.iter().map(i32::to_string).collect();
            return Err((
                "PortUnavailable",
                format!(
                    "no Kong listen with the requested protocol is configured for the requested port: Kong serves {} on {}",
                    listener.protocol,
                    ports.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(protocol: &str, port: i32, target: Option<u16>) -> PublishPort {
        PublishPort {
            protocol: protocol.into(),
            port,
            target,
        }
    }

    fn listener(port: u16, ssl: bool) -> Listener {
        Listener {
            port,
            ssl,
            udp: false,
        }
    }

    fn gateway_listener(protocol: &str, port: i32) -> GatewayListeners {
        serde_json::from_value(serde_json::json!({
            "name": "l", "protocol": protocol, "port": port
        }))
        .expect("listener")
    }

    /// KIC's chart layout: proxy 80→8000, 443→8443 ssl, a TCP stream port, a TLS stream port,
    /// a UDP port, and a port whose container port Kong does not listen on.
    fn kong() -> (Vec<PublishPort>, KongListeners) {
        let ports = vec![
            port("TCP", 80, Some(8000)),
            port("TCP", 443, Some(8443)),
            port("TCP", 9000, Some(9000)),
            port("TCP", 9443, Some(9443)),
            port("UDP", 9053, Some(9053)),
            port("TCP", 7000, Some(7000)),
            port("TCP", 81, None),
        ];
        let kong = KongListeners {
            proxy: vec![listener(8000, false), listener(8443, true)],
            stream: vec![
                listener(9000, false),
                listener(9443, true),
                Listener {
                    port: 9053,
                    ssl: false,
                    udp: true,
                },
            ],
        };
        (ports, kong)
    }

    #[test]
    fn service_ports_are_upgraded_by_kongs_listeners() {
        let (ports, kong) = kong();
        let got: Vec<(String, i32)> = KongListens::derive(&ports, &kong).0.into_iter().collect();
        let want: Vec<(String, i32)> = [
            ("HTTP", 80),
            ("HTTPS", 443),
            ("TCP", 9000),
            ("TLS", 9443),
            ("UDP", 9053),
            // Not 7000 and 81, where Kong has no listener (KIC would list them as TCP).
        ]
        .into_iter()
        .map(|(p, n)| (p.to_string(), n))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn listeners_are_accepted_per_protocol_and_port() {
        let (ports, kong) = kong();
        let listens = KongListens::derive(&ports, &kong);
        let reason = |protocol: &str, port: i32| {
            listens
                .accepts(&gateway_listener(protocol, port))
                .err()
                .map(|(r, _)| r)
        };
        assert_eq!(reason("HTTP", 80), None);
        assert_eq!(reason("HTTPS", 443), None);
        assert_eq!(reason("TLS", 9443), None);
        assert_eq!(reason("HTTP", 8080), Some("PortUnavailable"));
        assert_eq!(reason("TLS", 9000), Some("PortUnavailable"));
        assert_eq!(reason("UDP", 9053), None);
        assert_eq!(reason("TCP", 7000), Some("PortUnavailable"));
        let (_, message) = listens
            .accepts(&gateway_listener("HTTPS", 8443))
            .expect_err("8443 is the container port, not the Service port");
        assert!(message.ends_with("Kong serves HTTPS on 443"), "{message}");
        let no_udp = KongListens::derive(&ports[..2], &kong);
        assert_eq!(
            no_udp
                .accepts(&gateway_listener("UDP", 9053))
                .err()
                .map(|(r, _)| r),
            Some("UnsupportedProtocol")
        );
    }

    #[test]
    fn a_listen_counts_only_where_every_replica_has_it() {
        let (ports, kong) = kong();
        let mut older = kong.clone();
        older.stream.clear();
        let both = KongListens::across(&ports, [&kong, &older]).expect("replicas");
        assert!(both.accepts(&gateway_listener("HTTP", 80)).is_ok());
        // Without the stream listener 9443 is plain TCP on the older replica.
        assert_eq!(
            both.accepts(&gateway_listener("TLS", 9443))
                .err()
                .map(|(r, _)| r),
            Some("UnsupportedProtocol")
        );
        assert!(KongListens::across(&ports, []).is_none());
    }
}
