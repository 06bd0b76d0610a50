//! Helpers shared by the validation tests.
#![allow(dead_code)]

use kong_admin_double::validate;
use serde_json::{Value, json};

/// `fields` of the error Kong would answer; panics if the config passes.
pub fn fields(cfg: Value) -> Value {
    match validate(&cfg) {
        Ok(_) => panic!("expected Kong to reject {cfg}"),
        Err(e) => e.fields_json(),
    }
}

/// Wrap entity sections into a 3.0 declarative config.
pub fn dc(sections: Value) -> Value {
    let mut m = sections.as_object().cloned().unwrap_or_default();
    m.insert("_format_version".into(), json!("3.0"));
    Value::Object(m)
}

/// Errors of the first upstream built from `extra` fields.
pub fn upstream_errs(extra: Value) -> Value {
    let mut u = json!({"name": "u1"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        u[k] = v;
    }
    fields(dc(json!({ "upstreams": [u] })))["upstreams"][0].clone()
}
