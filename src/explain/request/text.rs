//! The human-readable report of `explain --request`.

use serde_json::Value;

use super::{Candidate, RequestExplanation, name_of};

impl RequestExplanation {
    /// The human-readable report.
    pub fn to_table(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let r = &self.request;
        let _ = writeln!(
            out,
            "request: {} {}://{}{} (listener port {}, router_flavor {})",
            r.method, r.scheme, r.host, r.uri, r.listener_port, self.router_flavor
        );
        for (field, values) in &self.fields {
            let _ = writeln!(out, "  {field} = {}", values.join(", "));
        }
        match &self.matched {
            None => {
                let _ = writeln!(
                    out,
                    "\nno route matches: Kong answers 404 {{\"message\":\"no Route matched with those values\"}}"
                );
            }
            Some(m) => {
                let _ = writeln!(out, "\nroute: {} (id {})", m.route, m.id);
                if !m.paths.is_empty() {
                    let _ = writeln!(out, "  paths: {}", m.paths.join(" "));
                }
                let _ = writeln!(out, "  expression: {}", m.expression);
                let _ = writeln!(out, "  priority: {}", describe(m));
                if let Some(s) = &self.service {
                    let _ = writeln!(
                        out,
                        "service: {} ({}://{}:{}{})",
                        name_of(s).unwrap_or_default(),
                        s.get("protocol").and_then(Value::as_str).unwrap_or("http"),
                        s.get("host").and_then(Value::as_str).unwrap_or_default(),
                        s.get("port").and_then(Value::as_u64).unwrap_or(80),
                        s.get("path").and_then(Value::as_str).unwrap_or_default(),
                    );
                }
                if let Some(u) = &self.upstream {
                    let _ = writeln!(out, "upstream: {u}");
                }
                if let Some(h) = &self.hashing {
                    let _ = writeln!(
                        out,
                        "  consistent hashing on {}: key {:?} lands on {}",
                        h.hash_on,
                        h.key,
                        h.target.as_deref().unwrap_or("no target")
                    );
                    if let Some(n) = &h.note {
                        let _ = writeln!(out, "  ({n})");
                    }
                }
                if !self.plugins.is_empty() {
                    let list: Vec<String> = self
                        .plugins
                        .iter()
                        .map(|(scope, name)| format!("{name} ({scope})"))
                        .collect();
                    let _ = writeln!(out, "plugins: {}", list.join(", "));
                }
            }
        }
        if let Some(w) = &self.matched_if_compiled {
            let _ = writeln!(
                out,
                "\nwarning: with its router build JIT-compiled Kong picks route id {w} instead (Kong's priority of these routes depends on LuaJIT, see docs/explain.md)"
            );
        }
        if !self.beaten.is_empty() {
            let _ = writeln!(out, "\nalso matching, beaten (Kong's order):");
            let mut above = self.matched.as_ref();
            for b in &self.beaten {
                let why = match above {
                    Some(a) if a.priority > b.priority => "lower priority".to_string(),
                    Some(_) => "same priority, lower id".to_string(),
                    None => String::new(),
                };
                let paths = match b.paths.is_empty() {
                    true => String::new(),
                    false => format!(" paths {}", b.paths.join(" ")),
                };
                let _ = writeln!(
                    out,
                    "  {}{paths} (id {}): {}; {}",
                    b.route,
                    b.id,
                    describe(b),
                    why
                );
                above = Some(b);
            }
        }
        out
    }
}

/// A priority with what it is made of, for traditional routes.
fn describe(c: &Candidate) -> String {
    let mut text = match c.priority_if_compiled {
        Some(compiled) => format!(
            "{} ({compiled} if Kong's router build ran compiled)",
            c.priority
        ),
        None => c.priority.to_string(),
    };
    if let Some(p) = &c.weighs {
        let mut what = vec![format!("{} kind(s) of match", p.match_kinds)];
        if p.plain_host_only {
            what.push("plain hosts".into());
        }
        match p.regex {
            true => what.push(format!("regex paths, regex_priority {}", p.regex_priority)),
            false if p.path_length > 0 => what.push(format!("prefix length {}", p.path_length)),
            false => {}
        }
        if p.headers > 0 {
            what.push(format!("{} header(s)", p.headers));
        }
        text.push_str(&format!(" [{}]", what.join(", ")));
    }
    text
}
