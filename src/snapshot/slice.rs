//! The slim form of an EndpointSlice the snapshot keeps.

use crate::api::*;

pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// What translation reads of an EndpointSlice, kept instead of the whole object: at 100k
/// endpoints the full objects (target Pod references, node names, zones, owner references)
/// would be most of the controller's memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slice {
    /// The `kubernetes.io/service-name` label.
    pub service: Option<String>,
    /// `addressType: FQDN` (translation skips those slices).
    pub fqdn: bool,
    pub ports: Vec<SlicePort>,
    /// Endpoints with at least one address, in order.
    pub endpoints: Vec<SliceEndpoint>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlicePort {
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SliceEndpoint {
    /// `addresses[0]`: Kong targets one address per endpoint.
    pub address: Box<str>,
    pub ready: Option<bool>,
    pub terminating: Option<bool>,
}

impl Slice {
    pub fn from_endpoint_slice(slice: EndpointSlice) -> Slice {
        let service = slice
            .metadata
            .labels
            .and_then(|mut l| l.remove(SERVICE_NAME_LABEL));
        // `collect` from `into_iter` reuses the source Vec's allocation: the slim items would
        // sit in room sized for whole `Endpoint`s (~15× their size), so shrink.
        let mut ports: Vec<SlicePort> = slice
            .ports
            .into_iter()
            .flatten()
            .map(|p| SlicePort {
                name: p.name,
                protocol: p.protocol,
                port: p.port,
            })
            .collect();
        ports.shrink_to_fit();
        let mut endpoints: Vec<SliceEndpoint> = slice
            .endpoints
            .into_iter()
            .filter_map(|ep| {
                let address = ep.addresses.into_iter().next()?.into_boxed_str();
                let conditions = ep.conditions.unwrap_or_default();
                Some(SliceEndpoint {
                    address,
                    ready: conditions.ready,
                    terminating: conditions.terminating,
                })
            })
            .collect();
        endpoints.shrink_to_fit();
        Slice {
            service,
            fqdn: slice.address_type == "FQDN",
            ports,
            endpoints,
        }
    }
}
