//! A `kingress run` controller for one test: its own namespace on the shared control plane,
//! its own Kong admin API double, watching only that namespace.

use std::time::Duration;

use kingress::controller::{self, ControllerOptions, Running, watch::WatchScope};
use kingress::kong::admin_api::AdminApiOptions;
use kingress::translate::Options;
use kong_admin_double::{KongAdminDouble, ValidConfig};

use super::apply::apply_yaml;
use super::controlplane;

/// How long tests wait for the controller to reach an expected state.
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Env {
    pub ns: String,
    pub client: kube::Client,
    pub kong: KongAdminDouble,
    pub controller: Running,
}

/// An admin API at `url` with a 5 s timeout.
pub fn admin_api(url: String) -> AdminApiOptions {
    AdminApiOptions {
        timeout: Duration::from_secs(5),
        ..AdminApiOptions::for_url(url)
    }
}

/// The options every test starts from: watch `ns`, push to `admin_apis`, 5 ms debounce,
/// probes and metrics on a free port.
pub fn options_with(ns: &str, admin_apis: Vec<AdminApiOptions>) -> ControllerOptions {
    ControllerOptions {
        translate: Options::default(),
        scope: WatchScope {
            namespaces: vec![ns.to_string()],
            ..WatchScope::default()
        },
        admin_apis,
        debounce: Duration::from_millis(5),
        probe_addr: Some(([127, 0, 0, 1], 0).into()),
        ..ControllerOptions::default()
    }
}

/// [`options_with`] one replica, `kong`.
pub fn options(ns: &str, kong: &KongAdminDouble) -> ControllerOptions {
    options_with(ns, vec![admin_api(kong.url())])
}

/// A controller with [`options`].
pub async fn start(prefix: &str) -> Env {
    start_with(prefix, |options| options).await
}

/// A controller with [`options`] as `adjust` changes them (it sees the namespace in
/// `scope.namespaces[0]`).
pub async fn start_with(
    prefix: &str,
    adjust: impl FnOnce(ControllerOptions) -> ControllerOptions,
) -> Env {
    start_with_kong(prefix, kong_admin_double::Options::default(), adjust).await
}

/// [`start_with`], the double started with `kong` (e.g. its listen settings).
pub async fn start_with_kong(
    prefix: &str,
    kong: kong_admin_double::Options,
    adjust: impl FnOnce(ControllerOptions) -> ControllerOptions,
) -> Env {
    let cp = controlplane::shared();
    let ns = cp.namespace(prefix).await;
    let client = cp.client().await;
    let kong = KongAdminDouble::start_with(kong)
        .await
        .expect("start the admin API double");
    let controller = controller::start(client.clone(), adjust(options(&ns, &kong)))
        .await
        .expect("start the controller");
    Env {
        ns,
        client,
        kong,
        controller,
    }
}

/// A controller pushing to [`Env::kong`] and to a second replica, returned beside it.
pub async fn start_with_second_replica(prefix: &str) -> (Env, KongAdminDouble) {
    let second = KongAdminDouble::start()
        .await
        .expect("start the second replica");
    let url = second.url();
    let env = start_with(prefix, |mut options| {
        options.admin_apis.push(admin_api(url));
        options
    })
    .await;
    (env, second)
}

impl Env {
    /// Applies multi-document YAML in the test's namespace.
    pub async fn apply(&self, yaml: &str) -> Vec<kube::api::DynamicObject> {
        apply_yaml(&self.client, Some(&self.ns), yaml).await
    }

    /// Waits until Kong holds a config where `pred` holds; panics with what it holds.
    pub async fn wait(&self, what: &str, pred: impl Fn(&ValidConfig) -> bool) -> ValidConfig {
        match self.kong.wait_for_config(pred, WAIT).await {
            Some(c) => c,
            None => panic!(
                "Kong never got a config where {what}; it holds:\n{}",
                self.kong
                    .current()
                    .map(|c| serde_json::to_string_pretty(&c.to_kong_json()).unwrap_or_default())
                    .unwrap_or_else(|| "nothing".into())
            ),
        }
    }
}
