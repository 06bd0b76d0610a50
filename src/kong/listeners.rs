//! The ports a Kong replica serves, as its `GET /` reports them: `configuration.proxy_listeners`
//! and `configuration.stream_listeners`, Kong's parse of `proxy_listen` and `stream_listen`
//! (Kong 3.10 kong/conf_loader/listeners.lua:148-172, shown by kong/api/routes/kong.lua:127).
//! KIC v3.5.13 reads the same fields through go-kong v0.78.0 (`kong/listeners.go`).

use serde_json::Value;

/// One replica's listeners.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KongListeners {
    pub proxy: Vec<Listener>,
    pub stream: Vec<Listener>,
}

/// One `ip:port [flags]` entry: the flags kingress needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listener {
    pub port: u16,
    pub ssl: bool,
    /// Stream listeners only.
    pub udp: bool,
}

impl KongListeners {
    /// From the `GET /` body. A missing list, or Kong's `{}` for an empty one (cjson writes an
    /// empty table as an object: `stream_listen = off`), is no listener, as go-kong reads it
    /// (listeners.go: anything but an array is skipped). An entry without a usable port is
    /// skipped; Kong writes a port given with a host name as a string (listeners.lua:116), so
    /// numeric strings count.
    pub fn from_root(body: &Value) -> KongListeners {
        let list = |key: &str| -> Vec<Listener> {
            body["configuration"][key]
                .as_array()
                .map(|entries| entries.iter().filter_map(listener).collect())
                .unwrap_or_default()
        };
        KongListeners {
            proxy: list("proxy_listeners"),
            stream: list("stream_listeners"),
        }
    }
}

fn listener(entry: &Value) -> Option<Listener> {
    let port = match &entry["port"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    Some(Listener {
        port: u16::try_from(port?).ok()?,
        ssl: entry["ssl"].as_bool().unwrap_or(false),
        udp: entry["udp"].as_bool().unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_kongs_root_shape() {
        let body = json!({"configuration": {
            "proxy_listeners": [
                {"ip": "0.0.0.0", "port": 8000, "ssl": false, "listener": "0.0.0.0:8000"},
                {"ip": "kong.local", "port": "8443", "ssl": true},
                {"ip": "0.0.0.0", "port": "x"},
            ],
            "stream_listeners": {},
        }});
        let l = KongListeners::from_root(&body);
        assert_eq!(
            l.proxy,
            [
                Listener {
                    port: 8000,
                    ssl: false,
                    udp: false
                },
                Listener {
                    port: 8443,
                    ssl: true,
                    udp: false
                },
            ]
        );
        assert!(l.stream.is_empty());
        assert_eq!(
            KongListeners::from_root(&json!({})),
            KongListeners::default()
        );
    }
}
