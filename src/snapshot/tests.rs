use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn slice(name: &str, service: &str) -> Object {
    let mut labels = BTreeMap::new();
    labels.insert(SERVICE_NAME_LABEL.to_string(), service.to_string());
    Object::EndpointSlice(Box::new(EndpointSlice {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            labels: Some(labels),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints: vec![],
        ports: None,
    }))
}

#[test]
fn slice_index_follows_label_changes_and_removal() {
    let mut s = Snapshot::new();
    s.apply(slice("a", "svc1"));
    s.apply(slice("b", "svc1"));
    assert_eq!(s.slices_for_service("ns", "svc1").count(), 2);
    s.apply(slice("a", "svc2"));
    assert_eq!(s.slices_for_service("ns", "svc1").count(), 1);
    assert_eq!(s.slices_for_service("ns", "svc2").count(), 1);
    s.remove(Kind::EndpointSlice, "ns", "b");
    assert_eq!(s.slices_for_service("ns", "svc1").count(), 0);
    // A relist that delivers only `c`.
    s.apply(slice("c", "svc3"));
    let seen = BTreeSet::from([("ns".to_string(), "c".to_string())]);
    let gone = s.remove_unseen(Kind::EndpointSlice, None, &seen);
    assert_eq!(gone, BTreeSet::from(["ns".to_string()]));
    assert_eq!(s.slices_for_service("ns", "svc2").count(), 0);
    assert_eq!(s.slices_for_service("ns", "svc3").count(), 1);
    assert_eq!(s.len(), 1);
}

#[test]
fn a_namespace_relist_removes_only_that_namespaces_unseen_objects() {
    let service = |ns: &str, name: &str| {
        Object::Service(Box::new(Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..Default::default()
            },
            ..Default::default()
        }))
    };
    let mut s = Snapshot::new();
    for (ns, name) in [("a", "kept"), ("a", "gone"), ("b", "other")] {
        s.apply(service(ns, name));
    }
    let seen = BTreeSet::from([("a".to_string(), "kept".to_string())]);
    let gone = s.remove_unseen(Kind::Service, Some("a"), &seen);
    assert_eq!(gone, BTreeSet::from(["a".to_string()]));
    let left: Vec<&Key> = s.services.keys().collect();
    assert_eq!(
        left,
        [
            &("a".to_string(), "kept".to_string()),
            &("b".to_string(), "other".to_string())
        ]
    );
    // Nothing unseen: nothing removed, no namespace reported.
    let seen = BTreeSet::from([("b".to_string(), "other".to_string())]);
    assert!(s.remove_unseen(Kind::Service, Some("b"), &seen).is_empty());
}
