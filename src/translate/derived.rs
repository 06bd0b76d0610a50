//! What every scope of a translation reads from the whole snapshot.

use super::{
    NamespacedName, Options, backends, certificates, consumers, fallback, ingress_class, routes,
    vaults,
};
use crate::snapshot::Snapshot;

/// What every scope of a translation reads from the whole snapshot, computed once.
#[derive(Debug, Default, PartialEq)]
pub struct Derived {
    pub excluded: fallback::Excluded,
    pub ca_certificates: backends::ca_certificates::CaCertificates,
    pub certificates: certificates::Certificates,
    pub consumers: consumers::Consumers,
    pub vaults: vaults::Vaults,
    pub class_parameters: ingress_class::ClassParameters,
    /// The Ingress whose default backend is the cluster's catch-all (the oldest of ours).
    pub catch_all: Option<NamespacedName>,
    /// Under the expressions router, every HTTPRoute split's priority (their relative order
    /// reaches across namespaces).
    pub httproute_orders: routes::gateway_api::httproute::expressions::Orders,
    /// The same for GRPCRoutes.
    pub grpcroute_orders: routes::gateway_api::grpc_expressions::Orders,
}

impl Derived {
    pub fn new(snapshot: &Snapshot, options: &Options) -> Self {
        let excluded = fallback::Excluded::new(snapshot, &options.excluded);
        Derived {
            ca_certificates: backends::ca_certificates::CaCertificates::new(snapshot, &excluded),
            certificates: certificates::Certificates::new(snapshot, options, &excluded),
            consumers: consumers::Consumers::new(snapshot, &options.ingress_class, &excluded),
            vaults: vaults::Vaults::new(snapshot, &options.ingress_class, &excluded),
            class_parameters: ingress_class::ClassParameters::new(snapshot, &options.ingress_class),
            catch_all: routes::ingress::catch_all(snapshot, &options.ingress_class, &excluded),
            httproute_orders: match options.router_flavor.expressions() {
                true => routes::gateway_api::httproute::expressions::cluster_orders(
                    snapshot, options, &excluded,
                ),
                false => Default::default(),
            },
            grpcroute_orders: match options.router_flavor.expressions() {
                true => routes::gateway_api::grpc_expressions::cluster_orders(
                    snapshot, options, &excluded,
                ),
                false => Default::default(),
            },
            excluded,
        }
    }
}
