//! What a cluster that ran KIC v3.5.13 carries besides routes, end to end on the real apiserver
//! and the Kong admin API double: two controllers of two ingress classes side by side, the
//! migration from a KongIngress (`konghq.com/override`) to a KongUpstreamPolicy, and
//! KongServiceFacades.

mod support;

use kingress::controller;
use kong_admin_double::{KongAdminDouble, ValidConfig};
use serde_json::Value;
use support::controlplane;
use support::run::WAIT;

/// The names of a config's `ty` entities' `field`, sorted.
fn names_of(config: &ValidConfig, ty: &str, field: &str) -> Vec<String> {
    let mut names: Vec<String> = config
        .entities(ty)
        .iter()
        .filter_map(|e| e[field].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Two controllers of two ingress classes on one cluster (an internal and an external
/// gateway): each configures its Kong with its own class's Ingresses, global
/// KongClusterPlugins, plugins named by annotation, KongConsumers and KongVaults only, as KIC v3.5.13's
/// class filters do (`internal/store/store.go` 647-696, `MatchesIngressClass`), and neither
/// writes status on the other's KongClusterPlugins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_controllers_of_two_classes_each_configure_only_their_own() {
    let cp = controlplane::shared();
    let (a, b) = (cp.unique_name("internal"), cp.unique_name("external"));
    let class_a = a.clone();
    let env = support::run::start_with("two-classes", |mut options| {
        options.translate.ingress_class = class_a;
        options
    })
    .await;
    let kong_b = KongAdminDouble::start()
        .await
        .expect("start the second Kong");
    let mut options_b = support::run::options(&env.ns, &kong_b);
    options_b.translate.ingress_class = b.clone();
    let _controller_b = controller::start(env.client.clone(), options_b)
        .await
        .expect("start the second controller");
    // Cluster-scoped names are unique per run; the classes are neither default.
    let per_class = |class: &str, path: &str, header: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {{name: {class}}}\nspec: {{controller: ingress-controllers.konghq.com/kong}}\n---\napiVersion: configuration.konghq.com/v1\nkind: KongClusterPlugin\nmetadata: {{name: {class}-global, labels: {{global: \"true\"}}, annotations: {{kubernetes.io/ingress.class: {class}}}}}\nplugin: correlation-id\nconfig: {{header_name: {header}}}\n---\napiVersion: configuration.konghq.com/v1\nkind: KongClusterPlugin\nmetadata: {{name: {class}-terminate, annotations: {{kubernetes.io/ingress.class: {class}}}}}\nplugin: request-termination\nconfig: {{status_code: 503}}\n---\napiVersion: configuration.konghq.com/v1\nkind: KongConsumer\nmetadata: {{name: {header}, annotations: {{kubernetes.io/ingress.class: {class}}}}}\nusername: {header}\n---\napiVersion: configuration.konghq.com/v1alpha1\nkind: KongVault\nmetadata: {{name: {class}-vault, annotations: {{kubernetes.io/ingress.class: {class}}}}}\nspec: {{backend: env, prefix: {class}-env}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {header}, annotations: {{konghq.com/plugins: {a}-terminate}}}}\nspec:\n  ingressClassName: {class}\n  rules:\n  - http:\n      paths:\n      - {{path: {path}, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}\n---\n"
        )
    };
    env.apply(&format!(
        "{}{}apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n",
        per_class(&a, "/in", "x-internal"),
        per_class(&b, "/out", "x-external"),
    ))
    .await;
    let ns = env.ns.clone();
    // Everything of the class in (the objects arrive through separate watches): its route,
    // consumer, vault and global plugin; the assertions below check nothing else came.
    let settled = |mine: &'static str| {
        let ns = ns.clone();
        move |c: &ValidConfig| {
            c.route(&format!("{ns}.{mine}.web..80")).is_some()
                && c.consumers().iter().any(|u| u["username"] == mine)
                && !c.entities("vaults").is_empty()
                && c.plugins()
                    .iter()
                    .any(|p| p["config"]["header_name"] == mine)
        }
    };
    let config_a = env
        .wait(
            "the internal Ingress in the internal Kong",
            settled("x-internal"),
        )
        .await;
    let config_b = match kong_b.wait_for_config(settled("x-external"), WAIT).await {
        Some(c) => c,
        None => panic!(
            "the external Kong never got its Ingress: {:?}",
            kong_b.current().map(|c| c.to_kong_json())
        ),
    };
    let routes = |c: &ValidConfig| names_of(c, "routes", "name");
    assert_eq!(
        routes(&config_a),
        [format!("{}.x-internal.web..80", env.ns)]
    );
    assert_eq!(
        routes(&config_b),
        [format!("{}.x-external.web..80", env.ns)]
    );
    assert_eq!(names_of(&config_a, "consumers", "username"), ["x-internal"]);
    assert_eq!(names_of(&config_b, "consumers", "username"), ["x-external"]);
    assert_eq!(
        names_of(&config_a, "vaults", "prefix"),
        [format!("{a}-env")]
    );
    assert_eq!(
        names_of(&config_b, "vaults", "prefix"),
        [format!("{b}-env")]
    );
    let global_headers = |c: &ValidConfig| -> Vec<String> {
        c.plugins()
            .iter()
            .filter(|p| p["name"] == "correlation-id")
            .filter_map(|p| p["config"]["header_name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(global_headers(&config_a), ["x-internal"]);
    assert_eq!(global_headers(&config_b), ["x-external"]);
    // Both Ingresses name the internal class's plugin: only the internal Kong runs it.
    let terminations = |c: &ValidConfig| {
        c.plugins()
            .iter()
            .filter(|p| p["name"] == "request-termination")
            .count()
    };
    assert_eq!((terminations(&config_a), terminations(&config_b)), (1, 0));
    // The external controller says why, naming the plugin's class.
    let note = support::observe::eventually("an Event on the external Ingress", async || {
        let found = support::observe::events(
            &env.client,
            &env.ns,
            "Ingress",
            "x-external",
            "KongConfigurationTranslationFailed",
        )
        .await;
        found
            .iter()
            .find_map(|e| e.note.clone().filter(|n| n.contains("-terminate")))
            .ok_or_else(|| format!("{} Events", found.len()))
    })
    .await;
    assert!(
        note.contains(&format!("is of ingress class \"{a}\"")),
        "{note}"
    );
    // Each class's unreferenced-or-used plugin status comes from its own controller only.
    let plugins: kube::Api<kingress::api::KongClusterPlugin> = kube::Api::all(env.client.clone());
    for (name, reason) in [
        (format!("{a}-global"), "Programmed"),
        (format!("{b}-global"), "Programmed"),
        (format!("{a}-terminate"), "Programmed"),
        (format!("{b}-terminate"), "Unused"),
    ] {
        support::observe::eventually(&format!("{name} Programmed {reason}"), async || {
            let p = plugins.get(&name).await.map_err(|e| e.to_string())?;
            let status = serde_json::to_value(p.status).unwrap_or_default();
            match support::observe::condition(&status, "Programmed") {
                Some((_, r, _)) if r == reason => Ok(()),
                _ => Err(status.to_string()),
            }
        })
        .await;
    }
    // Each class's KongVault Programmed by its own controller (another class's Pending or
    // Unused from the other would flip it).
    let vaults: kube::Api<kingress::api::KongVault> = kube::Api::all(env.client.clone());
    for class in [&a, &b] {
        let name = format!("{class}-vault");
        support::observe::eventually(&format!("{name} Programmed"), async || {
            let v = vaults.get(&name).await.map_err(|e| e.to_string())?;
            let status = serde_json::to_value(v.status).unwrap_or_default();
            match support::observe::is(&status, "Programmed", "True", "Programmed") {
                true => Ok(()),
                false => Err(status.to_string()),
            }
        })
        .await;
    }
}

/// The upstream `name` of the config, without its tags (which name the Service either way).
fn upstream(config: &ValidConfig, name: &str) -> Option<Value> {
    let mut u = config
        .entities("upstreams")
        .iter()
        .find(|u| u["name"] == name)?
        .clone();
    u.as_object_mut()?.remove("tags");
    Some(u)
}

/// A Service's KongIngress replaced by the equivalent KongUpstreamPolicy (KIC's documented
/// migration): Kong's upstream is the same before and after; while the KongIngress is used the
/// Service gets KIC's deprecation message as a warning Event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kongingress_migrated_to_a_kongupstreampolicy_changes_nothing_in_kong() {
    let env = support::run::start("kongingress").await;
    env.apply(
        "apiVersion: configuration.konghq.com/v1\nkind: KongIngress\nmetadata: {name: hashing}\nupstream:\n  algorithm: consistent-hashing\n  slots: 100\n  hash_on: header\n  hash_on_header: x-user\n  hash_fallback: ip\n  healthchecks:\n    threshold: 25\n    active:\n      type: http\n      http_path: /healthz\n      healthy: {interval: 5, successes: 2}\n      unhealthy: {interval: 5, http_failures: 3}\n    passive:\n      unhealthy: {http_failures: 5}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, annotations: {konghq.com/override: hashing}}\nspec: {ports: [{name: http, port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  ingressClassName: kong\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n",
    )
    .await;
    let name = format!("web.{}.80.svc", env.ns);
    let hashed = |c: &ValidConfig| {
        upstream(c, &name)
            .is_some_and(|u| u["hash_on"] == "header" && u["healthchecks"]["threshold"] == 25)
    };
    let before = upstream(
        &env.wait("the KongIngress's upstream in Kong", hashed).await,
        &name,
    );
    let deprecation = async |present: bool| {
        support::observe::eventually("the deprecation Event", async || {
            let found = support::observe::events(
                &env.client,
                &env.ns,
                "Service",
                "web",
                "KongConfigurationWarning",
            )
            .await;
            let any = found.iter().any(|e| {
                e.note
                    .as_deref()
                    .is_some_and(|n| n.contains("migrate to konghq.com/upstream-policy"))
            });
            match any == present {
                true => Ok(()),
                false => Err(format!("{} Events", found.len())),
            }
        })
        .await
    };
    deprecation(true).await;

    // The migration: the policy, the Service's annotation switched, the KongIngress deleted.
    env.apply(
        "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: hashing}\nspec:\n  algorithm: consistent-hashing\n  slots: 100\n  hashOn: {header: x-user}\n  hashOnFallback: {input: ip}\n  healthchecks:\n    threshold: 25\n    active:\n      type: http\n      httpPath: /healthz\n      healthy: {interval: 5, successes: 2}\n      unhealthy: {interval: 5, httpFailures: 3}\n    passive:\n      unhealthy: {httpFailures: 5}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, annotations: {konghq.com/upstream-policy: hashing}}\nspec: {ports: [{name: http, port: 80}]}\n",
    )
    .await;
    let kong_ingresses: kube::Api<kingress::api::KongIngress> =
        kube::Api::namespaced(env.client.clone(), &env.ns);
    kong_ingresses
        .delete("hashing", &Default::default())
        .await
        .expect("delete the KongIngress");
    // The policy holds the upstream once a replica took it (its ancestor Programmed)...
    let policies: kube::Api<kingress::api::KongUpstreamPolicy> =
        kube::Api::namespaced(env.client.clone(), &env.ns);
    support::observe::eventually("the policy Programmed for Service web", async || {
        let policy = policies.get("hashing").await.map_err(|e| e.to_string())?;
        let ancestors =
            serde_json::to_value(policy.status.map(|s| s.ancestors)).unwrap_or_default();
        let programmed = ancestors.as_array().into_iter().flatten().any(|a| {
            a["ancestorRef"]["name"] == "web"
                && support::observe::is(a, "Programmed", "True", "Programmed")
        });
        match programmed {
            true => Ok(()),
            false => Err(ancestors.to_string()),
        }
    })
    .await;
    // ...and with the KongIngress gone, Kong's upstream is the one it had before.
    support::observe::eventually("the same upstream after the migration", async || {
        let now = env.kong.current().and_then(|c| upstream(&c, &name));
        match now == before {
            true => Ok(()),
            false => Err(format!("before {before:?}, now {now:?}")),
        }
    })
    .await;
}

/// A KongServiceFacade with KIC's gate on: the Ingress backend naming it gets a Kong service of
/// its own (`<ns>.<facade>.svc.facade`, the facade's tags and plugins, the Service's targets),
/// beside the Service's own Kong service, and the facade gets KIC's `Programmed` condition once
/// Kong holds it; the KongUpstreamPolicy it names hashes its upstream only, and lists the facade
/// as an ancestor (KIC's `ancestorRef` for facades). A facade the Ingress names that does not exist leaves its path out with an
/// Event on the Ingress, the rest applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_facade_gets_its_own_kong_service_and_status() {
    let env = support::run::start_with("facade", |mut options| {
        options.translate.feature_gates = "KongServiceFacade=true".parse().expect("gates");
        options
    })
    .await;
    env.apply(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: http, port: 80}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\nendpoints:\n- addresses: [10.1.0.1]\n---\napiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {name: terminate}\nplugin: request-termination\nconfig: {status_code: 403}\n---\napiVersion: incubator.ingress-controller.konghq.com/v1alpha1\nkind: KongServiceFacade\nmetadata: {name: locked, annotations: {kubernetes.io/ingress.class: kong, konghq.com/plugins: terminate, konghq.com/upstream-policy: hashing}}\nspec: {backendRef: {name: web, port: 80}}\n---\napiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: hashing}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {header: x-user}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  ingressClassName: kong\n  rules:\n  - http:\n      paths:\n      - {path: /open, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n      - {path: /locked, pathType: Prefix, backend: {resource: {apiGroup: incubator.ingress-controller.konghq.com, kind: KongServiceFacade, name: locked}}}\n      - {path: /ghost, pathType: Prefix, backend: {resource: {apiGroup: incubator.ingress-controller.konghq.com, kind: KongServiceFacade, name: ghost}}}\n",
    )
    .await;
    let ns = env.ns.clone();
    let facade_service = format!("{ns}.locked.svc.facade");
    // Everything in (the objects arrive through separate watches): both Kong services, the
    // facade's plugin and its policy's hashing; the assertions below check what else holds.
    let config = env
        .wait("the facade's Kong service, plugin and policy", |c| {
            c.service(&facade_service).is_some()
                && c.service(&format!("{ns}.web.80")).is_some()
                && c.plugins()
                    .iter()
                    .any(|p| p["name"] == "request-termination")
                && c.upstream(&facade_service)
                    .is_some_and(|u| u["hash_on"] == "header")
        })
        .await;
    let service = config.service(&facade_service).expect("facade service");
    assert!(
        service["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "k8s-kind:KongServiceFacade")),
        "{service}"
    );
    // Its plugin is on the facade's Kong service only; both Kong services reach the same pod.
    let on: Vec<&Value> = config
        .plugins()
        .iter()
        .filter(|p| p["name"] == "request-termination")
        .map(|p| &p["service"]["id"])
        .collect();
    assert_eq!(on, [&service["id"]], "{:?}", config.plugins());
    let targets = |u: &str| -> Vec<String> {
        let mut t: Vec<String> = config
            .targets_of(u)
            .iter()
            .filter_map(|t| t["target"].as_str().map(str::to_string))
            .collect();
        t.sort();
        t
    };
    assert_eq!(targets(&facade_service), ["10.1.0.1:8080"]);
    assert_eq!(targets(&format!("web.{ns}.80.svc")), ["10.1.0.1:8080"]);
    let hash_on = |u: &str| config.upstream(u).map(|u| u["hash_on"].clone());
    assert_eq!(hash_on(&facade_service), Some(Value::from("header")));
    assert_eq!(
        hash_on(&format!("web.{ns}.80.svc")),
        Some(Value::from("none"))
    );
    let policies: kube::Api<kingress::api::KongUpstreamPolicy> =
        kube::Api::namespaced(env.client.clone(), &ns);
    support::observe::eventually("the policy's facade ancestor Programmed", async || {
        let policy = policies.get("hashing").await.map_err(|e| e.to_string())?;
        let ancestors =
            serde_json::to_value(policy.status.map(|s| s.ancestors)).unwrap_or_default();
        let listed = ancestors.as_array().into_iter().flatten().any(|a| {
            a["ancestorRef"]["kind"] == "KongServiceFacade"
                && a["ancestorRef"]["group"] == "incubator.ingress-controller.konghq.com"
                && a["ancestorRef"]["name"] == "locked"
                && support::observe::is(a, "Programmed", "True", "Programmed")
        });
        match listed {
            true => Ok(()),
            false => Err(ancestors.to_string()),
        }
    })
    .await;
    assert!(
        config
            .route(&format!("{ns}.web..ghost.svc.facade"))
            .is_none()
    );

    let facades: kube::Api<kingress::api::KongServiceFacade> =
        kube::Api::namespaced(env.client.clone(), &ns);
    support::observe::eventually("the facade Programmed", async || {
        let facade = facades.get("locked").await.map_err(|e| e.to_string())?;
        let status = serde_json::to_value(&facade.status).unwrap_or_default();
        match support::observe::is(&status, "Programmed", "True", "Programmed") {
            true => Ok(()),
            false => Err(status.to_string()),
        }
    })
    .await;
    support::observe::eventually("the missing facade's Event on the Ingress", async || {
        let found = support::observe::events(
            &env.client,
            &ns,
            "Ingress",
            "web",
            "KongConfigurationTranslationFailed",
        )
        .await;
        match found.iter().any(|e| {
            e.note
                .as_deref()
                .is_some_and(|n| n.contains("KongServiceFacade") && n.contains("ghost"))
        }) {
            true => Ok(()),
            false => Err(format!("{} Events", found.len())),
        }
    })
    .await;
}

/// KIC's `--enable-controller-kongplugin=false` (v3.5.13 `cli.go` 152): KongPlugins are not
/// read, so an Ingress naming one gets no plugin (and the missing plugin is reported), while
/// everything else is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_turned_off_with_kics_flag_is_not_read() {
    let env = support::run::start_with("toggles", |mut options| {
        options.scope.disabled = [kingress::kinds::Kind::KongPlugin].into();
        options
    })
    .await;
    let ingress = |name: &str, annotations: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, annotations: {{{annotations}}}}}\nspec:\n  ingressClassName: kong\n  rules:\n  - http:\n      paths:\n      - {{path: /{name}, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}\n"
        )
    };
    env.apply(&format!(
        "apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: terminate}}\nplugin: request-termination\nconfig: {{status_code: 403}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n---\n{}",
        ingress("first", "")
    ))
    .await;
    let ns = env.ns.clone();
    let has_route = |c: &ValidConfig, name: &str| {
        names_of(c, "routes", "name")
            .iter()
            .any(|r| r.starts_with(&format!("{ns}.{name}.")))
    };
    env.wait("the first Ingress's route", |c| has_route(c, "first"))
        .await;
    // Applied well after the KongPlugin: were KongPlugins watched, it would be there by now.
    env.apply(&ingress("second", "konghq.com/plugins: terminate"))
        .await;
    let config = env
        .wait("the second Ingress's route", |c| has_route(c, "second"))
        .await;
    assert!(
        !names_of(&config, "plugins", "name").contains(&"request-termination".to_string()),
        "{:?}",
        names_of(&config, "plugins", "name")
    );
    let state = env.controller.state.borrow().clone();
    assert!(
        state
            .problems
            .iter()
            .any(|p| p.to_string().contains("terminate")),
        "the missing KongPlugin is reported: {:?}",
        state.problems
    );
}

/// KIC's `--gateway-to-reconcile ns/name` (v3.5.13 `cli.go` 160, `route_predicates.go`
/// 56-72): only that Gateway is read and given status, and only routes naming it are
/// configured; a route of another Gateway of the same class is ignored without a warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_gateway_to_reconcile_and_its_routes_are_read() {
    let env = support::run::start_with("one-gateway", |mut options| {
        let ns = options.scope.namespaces[0].clone();
        let gateway = Some((ns, "kong".to_string()));
        options.translate.gateway_to_reconcile = gateway.clone();
        options.scope.gateway = gateway;
        options
    })
    .await;
    let class = controlplane::shared().unique_name("kong-class");
    let gateway = |name: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
        )
    };
    let route = |name: &str, parent: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}}}\nspec:\n  parentRefs: [{{name: {parent}}}]\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /{name}}}}}]\n    backendRefs: [{{name: web, port: 80}}]\n"
        )
    };
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n---\n{}---\n{}",
        kingress::translate::DEFAULT_CONTROLLER_NAME,
        gateway("other"),
        route("elsewhere", "other"),
    ))
    .await;
    // Applied after the other Gateway and its route: were they read, they would be by now.
    env.apply(&format!(
        "{}---\n{}",
        gateway("kong"),
        route("here", "kong")
    ))
    .await;
    let ns = env.ns.clone();
    let config = env
        .wait("the route of the Gateway to reconcile", |c| {
            names_of(c, "routes", "name")
                .iter()
                .any(|r| r.starts_with(&format!("httproute.{ns}.here.")))
        })
        .await;
    let routes = names_of(&config, "routes", "name");
    assert!(
        !routes.iter().any(|r| r.contains(".elsewhere.")),
        "{routes:?}"
    );
    let state = env.controller.state.borrow().clone();
    assert!(
        !state
            .problems
            .iter()
            .any(|p| p.to_string().contains("elsewhere")),
        "nothing said of the other Gateway's route: {:?}",
        state.problems
    );
    // Status: ours on the Gateway to reconcile, none on the other.
    let gateways: kube::Api<kingress::api::Gateway> =
        kube::Api::namespaced(env.client.clone(), &env.ns);
    support::observe::eventually("the Gateway to reconcile accepted", async || {
        let gw = gateways.get("kong").await.map_err(|e| e.to_string())?;
        let status = serde_json::to_value(&gw.status).map_err(|e| e.to_string())?;
        match support::observe::is(&status, "Accepted", "True", "Accepted") {
            true => Ok(()),
            false => Err(status.to_string()),
        }
    })
    .await;
    let other = gateways.get("other").await.expect("the other Gateway");
    let status = serde_json::to_value(&other.status).expect("status");
    assert!(
        !support::observe::is(&status, "Accepted", "True", "Accepted"),
        "{status}"
    );
}
