use std::path::Path;

use super::*;
use crate::manifests;
use crate::translate::{self, Options, Severity};

#[test]
fn same_spec_same_objects_and_small_is_a_prefix_of_big() {
    let small = Spec::new(150, 10, 7);
    let big = Spec::new(400, 10, 7);
    let mut a = Vec::new();
    write_yaml(&small, &objects(&small), &mut a).expect("yaml");
    let mut b = Vec::new();
    write_yaml(&small, &objects(&small), &mut b).expect("yaml");
    assert_eq!(a, b);
    for i in 0..small.services {
        assert_eq!(small.traits(i).policy, big.traits(i).policy);
        assert_eq!(small.pod_ip(i, 3), big.pod_ip(i, 3));
    }
    let other_seed = Spec::new(150, 10, 8);
    assert_ne!(small.pod_ip(5, 0), other_seed.pod_ip(5, 0));
}

#[test]
fn counts_shares_and_slices() {
    let spec = Spec::new(1000, 250, 1);
    let objects = objects(&spec);
    let counts = summary(&objects);
    assert_eq!(counts["Service"], 1000);
    // 250 endpoints: slices of 100, 100 and 50.
    assert_eq!(counts["EndpointSlice"], 3000);
    assert_eq!(counts["Ingress"] + counts["HTTPRoute"], 1000);
    assert_eq!(counts["Gateway"], 10);
    assert_eq!(counts["KongUpstreamPolicy"], 20);
    let slices = endpoint_slices(&spec, 3, 250);
    assert_eq!(
        slices.iter().map(|s| s.endpoints.len()).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
    let traits: Vec<Traits> = (0..1000).map(|i| spec.traits(i)).collect();
    let share = |f: &dyn Fn(&Traits) -> bool| traits.iter().filter(|t| f(t)).count();
    let ingresses = share(&|t| t.routing == Routing::Ingress);
    let splits = share(&|t| matches!(t.routing, Routing::SplitHttpRoute { .. }));
    assert!((620..780).contains(&ingresses), "{ingresses}");
    assert!((60..140).contains(&splits), "{splits}");
    assert!((60..140).contains(&share(&|t| t.policy.is_some())));
    assert!((25..80).contains(&share(&|t| t.service_plugin)));
    let ips: std::collections::BTreeSet<String> = (0..1000)
        .flat_map(|i| (0..250).map(move |k| (i, k)))
        .map(|(i, k)| spec.pod_ip(i, k))
        .collect();
    assert_eq!(ips.len(), 250_000, "pod addresses are distinct");
}

/// The YAML reads back into the same snapshot, and translating it gives a clean config.
#[test]
fn yaml_round_trips_and_translates_without_errors() {
    let spec = Spec::new(300, 10, 42);
    let objects = objects(&spec);
    let mut text = Vec::new();
    write_yaml(&spec, &objects, &mut text).expect("yaml");
    let text = String::from_utf8(text).expect("utf-8");
    let mut loaded = manifests::Loaded::default();
    manifests::load_str(&text, Path::new("synthetic.yaml"), &mut loaded);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let direct = snapshot(&spec);
    // The YAML also holds the Namespaces (for kubectl apply), which kingress reads.
    assert_eq!(loaded.snapshot.len(), direct.len() + spec.namespaces());

    let options = Options::default();
    let from_yaml = translate::translate(&loaded.snapshot, &options);
    let t = translate::translate(&direct, &options);
    assert_eq!(from_yaml.config, t.config);
    let errors: Vec<String> = t
        .problems
        .iter()
        .filter(|p| p.severity != Severity::Info)
        .map(|p| p.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Every Service has its upstream with all its endpoints; splits add upstreams.
    assert_eq!(t.config.services.len(), 300);
    assert!(t.config.upstreams.iter().all(|u| u.targets.len() >= 10));
    let routes: usize = t.config.services.iter().map(|s| s.routes.len()).sum();
    assert_eq!(routes, 300);
    assert!(t.config.upstreams.iter().any(|u| u.targets.len() == 20));
    assert!(!t.config.plugins.is_empty());
}

#[test]
fn scaling_rewrites_the_same_slices() {
    let spec = Spec::new(10, 150, 3);
    let full = endpoint_slices(&spec, 2, 150);
    let fewer = endpoint_slices(&spec, 2, 90);
    let names = |s: &[crate::api::EndpointSlice]| -> Vec<Option<String>> {
        s.iter().map(|s| s.metadata.name.clone()).collect()
    };
    assert_eq!(names(&full), names(&fewer));
    assert_eq!(endpoint_count(&fewer), 90);
    assert_eq!(endpoint_count(&endpoint_slices(&spec, 2, 230)), 230);
    let p0 = upstream_policy(&spec, 0, 0, 0);
    let p1 = upstream_policy(&spec, 0, 0, 1);
    assert_eq!(p0.metadata.name, p1.metadata.name);
    assert_ne!(p0.spec, p1.spec);
}
