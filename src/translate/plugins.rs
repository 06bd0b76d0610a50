//! Kong plugins kingress generates itself (KongPlugin translation comes with its own issue).

use super::names::{self, Entity};
use crate::kong::config::Plugin;

/// KIC's answer for a rule whose backendRefs all fail to resolve: HTTP 500.
pub fn no_backend_termination(service_name: &str) -> Plugin {
    let mut config = serde_json::Map::new();
    config.insert("message".into(), "no existing backendRef provided".into());
    config.insert("status_code".into(), 500.into());
    Plugin {
        config,
        enabled: true,
        id: names::entity_id(
            Entity::Plugin,
            &format!("request-termination:service/{service_name}"),
        ),
        instance_name: None,
        name: "request-termination".into(),
        protocols: vec!["http".into(), "https".into()],
        tags: vec![],
    }
}
