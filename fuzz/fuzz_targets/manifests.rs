//! The manifest reader on arbitrary bytes: `load_str` → translate → serialise → Kong
//! validation. Nothing may panic, hang or grow without bound, whatever the input.

#![no_main]

use std::path::Path;

use kingress::manifests::{self, Loaded};
use kingress::translate::{self, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut loaded = Loaded::default();
    manifests::load_str(&text, Path::new("fuzz.yaml"), &mut loaded);
    for p in &loaded.problems {
        let line = p.to_string();
        assert!(line.contains("fuzz.yaml (document "), "{line}");
    }
    let options = Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    };
    let translation = translate::translate(&loaded.snapshot, &options);
    for p in &translation.problems {
        let _ = p.to_string();
    }
    let json = translation
        .config
        .to_json()
        .expect("a translated config always serialises to JSON");
    translation
        .config
        .to_yaml()
        .expect("a translated config always serialises to YAML");
    let value: serde_json::Value =
        serde_json::from_str(&json).expect("the serialised config parses back");
    // Kong may reject configs built from arbitrary objects (the controller's fallback handles
    // that); the validator must still answer.
    let _ = kong_admin_double::validate(&value);
});
