//! `kingress explain -o svg` and `-o html`: the wheel as a picture. The wide ring is Kong's
//! wheel, an arc per run of positions whose keys land on one target; the thin ring inside
//! sums it, one arc per target sized by its wheel share; the legend gives each target's
//! weight beside its shares. `--key` marks where each key hashes; `--compare-with` draws
//! the compared state inside and hatches the positions whose target changes. An upstream
//! Kong does not hash for is a pie of weight shares, and its caption says so.
//!
//! The output depends on the analysis only: numbers with two decimals, colours from a
//! fixed palette in target order, ids numbered by upstream, no script. Several upstreams
//! are stacked in one SVG document; the HTML page has one `<svg>` per upstream.

mod captions;
mod geometry;

use std::fmt::Write;

use super::report::{Analysis, Explained, Explanation, RingState};
use super::table::{choice, percent, quote};
use captions::{captions, center_label, summary, wrap};
use geometry::{Arc, arcs, key_turns, moved_arcs, point, segment, share_arcs};

/// Tableau 10: distinct and readable on white; targets past the tenth reuse it in order.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Where no target is (none, or none with weight), and a wheel Kong cannot build.
const NOBODY: &str = "#d9d9d9";

const FAILED: &str = "#f2c4c4";

/// A 12px monospace advance: text widths are estimated, as nothing measures them.
const CHAR: f64 = 7.2;

const LINE: f64 = 16.0;

const MARGIN: f64 = 16.0;

const MIN_WIDTH: f64 = 640.0;

/// The square the rings, the moved band and the key marks fit in, below two header lines.
const BOX: f64 = 400.0;

const HEADER: f64 = MARGIN + 2.0 * LINE + 8.0;

const CX: f64 = MARGIN + BOX / 2.0;

const CY: f64 = HEADER + BOX / 2.0;

/// Radii (inner, outer) of a state's wheel and of its summary inside: one state alone,
/// or the first and the compared state.
const ALONE: [(f64, f64); 2] = [(110.0, 150.0), (84.0, 100.0)];

const FIRST: [(f64, f64); 2] = [(126.0, 150.0), (76.0, 88.0)];

const SECOND: [(f64, f64); 2] = [(98.0, 122.0), (62.0, 74.0)];

const MOVED: (f64, f64) = (155.0, 167.0);

const KEY_DOT: f64 = 182.0;

const BOLD: &str = " font-weight=\"bold\"";

impl Explanation {
    /// One SVG document, the upstreams stacked top to bottom.
    pub fn to_svg(&self) -> String {
        let panels: Vec<Pen> = self.upstreams.iter().enumerate().map(panel).collect();
        let width = panels.iter().map(|p| p.width).fold(MIN_WIDTH, f64::max);
        let (mut body, mut y) = (Pen::default(), 0.0);
        for (i, p) in panels.iter().enumerate() {
            let (y_, w) = (n(y), n(width));
            if i > 0 {
                body.put(&format!(
                    "<line x1=\"0\" y1=\"{y_}\" x2=\"{w}\" y2=\"{y_}\" stroke=\"#999\"/>\n"
                ));
            }
            body.put(&format!(
                "<g transform=\"translate(0 {y_})\">\n{}</g>\n",
                p.out
            ));
            y += p.height;
        }
        if panels.is_empty() {
            y = HEADER;
            body.text(MARGIN, MARGIN + LINE, "nothing to explain", "");
        }
        svg(&self.title(), width, y, &body.out)
    }

    /// A self-contained HTML5 page: one `<svg>` per upstream, then the table in a `<pre>`.
    pub fn to_html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n<style>body{{font-family:system-ui,sans-serif;margin:1.5em;\
             color:#222}}svg{{max-width:100%;height:auto}}figure{{margin:0 0 1.5em}}\
             pre{{background:#f6f6f6;padding:1em;overflow-x:auto}}</style>\n</head>\n<body>\n\
             <h1>kingress explain</h1>\n",
            escape(&self.title())
        );
        for (i, e) in self.upstreams.iter().enumerate() {
            let p = panel((i, e));
            let title = format!("upstream {}", e.upstream.name);
            let picture = svg(&title, p.width, p.height, &p.out);
            let _ = writeln!(out, "<figure>\n{picture}</figure>");
        }
        let table = escape(&self.to_table());
        out.push_str(&format!(
            "<h2>Table</h2>\n<pre>{table}</pre>\n</body>\n</html>\n"
        ));
        out
    }

    fn title(&self) -> String {
        let names: Vec<&str> = self
            .upstreams
            .iter()
            .map(|e| &e.upstream.name[..])
            .collect();
        format!("kingress explain: {}", names.join(", "))
    }
}

fn svg(title: &str, width: f64, height: f64, body: &str) -> String {
    let (w, h) = (n(width), n(height));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"ui-monospace, Menlo, Consolas, monospace\" \
         font-size=\"12\" role=\"img\">\n<title>{}</title>\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>\n{body}</svg>\n",
        escape(title)
    )
}

/// One upstream's picture being drawn, in its own coordinates.
#[derive(Default)]
struct Pen {
    out: String,
    width: f64,
    height: f64,
}

/// What leads a legend row: a colour, a key's number, or nothing (headers).
enum Mark<'a> {
    Nothing,
    Swatch(&'a str),
    Badge(usize),
}

fn panel((index, e): (usize, &Explained)) -> Pen {
    let (a, c) = (&e.analysis, e.compared.as_ref());
    // Colours follow targets: the first state's in its order, then targets new in the other.
    let mut labels: Vec<&str> = a.rows.iter().map(|r| r.target.as_str()).collect();
    for r in c.iter().flat_map(|c| &c.analysis.rows) {
        if !labels.contains(&r.target.as_str()) {
            labels.push(&r.target);
        }
    }
    let mut pen = Pen::default();
    let moved = c.and_then(|c| moved_arcs(a, &c.analysis));
    let hatch = format!("url(#moved-{index})");
    if moved.is_some() {
        pen.put(&format!(
            "<defs><pattern id=\"moved-{index}\" width=\"6\" height=\"6\" \
             patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" \
             height=\"6\" fill=\"#fff\"/><rect width=\"3\" height=\"6\" fill=\"#222\"/>\
             </pattern></defs>\n"
        ));
    }
    let title = format!("upstream {}  ({})", e.upstream.name, e.source);
    pen.text(MARGIN, MARGIN + 12.0, &title, BOLD);
    pen.text(MARGIN, MARGIN + 12.0 + LINE, &summary(a), "");
    match c {
        None => {
            pen.rings(a, &labels, ALONE, "");
            let attrs = " text-anchor=\"middle\" fill=\"#555\"";
            pen.text(CX, CY + 4.0, &center_label(a), attrs);
        }
        Some(c) => {
            pen.rings(a, &labels, FIRST, "");
            pen.rings(&c.analysis, &labels, SECOND, "-compared");
        }
    }
    if let Some((arcs, fraction)) = moved.as_ref().filter(|m| !m.0.is_empty()) {
        pen.put(&format!(
            "<g class=\"moved\" fill=\"{hatch}\" stroke=\"#222\" stroke-width=\"0.5\"><title>{} \
             of keys move: the positions whose target changes</title><path d=\"",
            percent(*fraction)
        ));
        arcs.iter()
            .for_each(|&(from, to)| segment(&mut pen.out, MOVED, from, to));
        pen.put("\"/></g>\n");
    }
    pen.key_marks(e);

    // The legend, right of the rings: each state's targets, what moves, the keys.
    let (x, mut y) = (MARGIN + BOX + 24.0, HEADER + 12.0);
    let first_min = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut width = pen.grid(x, &mut y, &targets(a, &labels), first_min, 1);
    if let Some(c) = c {
        y += LINE;
        let title = format!("compared with upstream {}  ({})", c.upstream.name, c.source);
        pen.text(x, y, &title, BOLD);
        width = width.max(CHAR * title.chars().count() as f64);
        y += LINE;
        let rows = targets(&c.analysis, &labels);
        width = width.max(pen.grid(x, &mut y, &rows, first_min, 1));
    }
    if let Some((_, fraction)) = &moved {
        y += LINE;
        let line = format!("{} of keys move (hatched)", percent(*fraction));
        pen.swatch(x, y, &hatch);
        pen.text(x + 18.0, y, &line, "");
        width = width.max(18.0 + CHAR * line.chars().count() as f64);
        y += LINE;
    }
    if !a.choices.is_empty() {
        y += LINE;
        width = width.max(pen.grid(x, &mut y, &keys(e), 0, usize::MAX));
    }

    pen.width = (x + width + MARGIN)
        .max(2.0 * MARGIN + CHAR * title.chars().count() as f64)
        .max(MIN_WIDTH);
    let columns = ((pen.width - 2.0 * MARGIN) / CHAR).floor().max(20.0) as usize;
    let mut y = y.max(HEADER + BOX) + 4.0;
    for paragraph in captions(e) {
        for line in wrap(&paragraph, columns) {
            y += LINE;
            pen.text(MARGIN, y, &line, "");
        }
        y += 4.0;
    }
    pen.height = y + MARGIN;
    pen
}

/// A state's legend rows: TARGET, WEIGHT, WEIGHT SHARE and, with a wheel, WHEEL SHARE.
fn targets<'a>(a: &Analysis, labels: &[&'a str]) -> Vec<(Mark<'a>, Vec<String>)> {
    let built = matches!(a.ring, RingState::Built(_));
    let mut header = vec!["TARGET".to_string(), "WEIGHT".into(), "WEIGHT SHARE".into()];
    if built {
        header.push("WHEEL SHARE".into());
    }
    let mut rows = vec![(Mark::Nothing, header)];
    for r in &a.rows {
        let mut cells = vec![
            r.target.clone(),
            r.weight.to_string(),
            percent(r.weight_share),
        ];
        if built {
            cells.push(r.wheel_share.map_or("-".into(), percent));
        }
        rows.push((Mark::Swatch(colour(labels, Some(&r.target))), cells));
    }
    if a.rows.is_empty() {
        rows.push((Mark::Nothing, vec!["no targets".into()]));
    }
    rows
}

/// The `--key` rows, numbered as the ticks: KEY, TARGET (and COMPARED), as the table.
fn keys(e: &Explained) -> Vec<(Mark<'static>, Vec<String>)> {
    let mut header = vec!["KEY".to_string(), "TARGET".into()];
    if e.compared.is_some() {
        header.push("COMPARED".into());
    }
    let mut rows = vec![(Mark::Nothing, header)];
    for (i, (key, before)) in e.analysis.choices.iter().enumerate() {
        let mut cells = vec![quote(key), choice(&e.analysis, before)];
        if let Some(c) = &e.compared {
            let after = c.analysis.choices.get(i).map_or(&None, |(_, t)| t);
            let mark = if before != after { "  (moved)" } else { "" };
            cells.push(format!("{}{mark}", choice(&c.analysis, after)));
        }
        rows.push((Mark::Badge(i + 1), cells));
    }
    rows
}

fn colour(labels: &[&str], label: Option<&str>) -> &'static str {
    let i = label.and_then(|l| labels.iter().position(|&x| x == l));
    i.map_or(NOBODY, |i| PALETTE[i % PALETTE.len()])
}

impl Pen {
    fn put(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn text(&mut self, x: f64, y: f64, s: &str, attrs: &str) {
        let (x, y, s) = (n(x), n(y), escape(s));
        let _ = writeln!(self.out, "<text x=\"{x}\" y=\"{y}\"{attrs}>{s}</text>");
    }

    /// A 12px square on the text line at `y`.
    fn swatch(&mut self, x: f64, y: f64, fill: &str) {
        let (x, y) = (n(x), n(y - 10.0));
        let _ = writeln!(
            self.out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{fill}\" \
             stroke=\"#222\" stroke-width=\"0.5\"/>"
        );
    }

    /// A key's number in a circle centred on (`x`, `y`).
    fn badge(&mut self, x: f64, y: f64, radius: f64, number: usize) {
        let (x, y) = (n(x), n(y));
        let _ = writeln!(
            self.out,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"{radius}\" fill=\"#fff\" stroke=\"#111\"/><text \
             x=\"{x}\" y=\"{y}\" dy=\"3.5\" text-anchor=\"middle\" font-size=\"10\">{number}</text>"
        );
    }

    /// Rows in columns two characters apart (the first column at least `first_min` wide),
    /// the first row bold; columns from `right` on (numbers) align right. Returns the width.
    fn grid(
        &mut self,
        x: f64,
        y: &mut f64,
        rows: &[(Mark, Vec<String>)],
        first_min: usize,
        right: usize,
    ) -> f64 {
        let header = rows.first().map_or(&[][..], |r| &r.1[..]);
        let (mut edges, mut at) = (Vec::new(), x + 18.0);
        for c in 0..header.len() {
            let len = |r: &(Mark, Vec<String>)| r.1.get(c).map_or(0, |s| s.chars().count());
            let widest = rows.iter().map(len).max().unwrap_or(0);
            let widest = if c == 0 {
                widest.max(first_min)
            } else {
                widest
            };
            let end = at + CHAR * widest as f64;
            edges.push((at, end, c >= right));
            at = end + 2.0 * CHAR;
        }
        for (i, (mark, cells)) in rows.iter().enumerate() {
            match mark {
                Mark::Swatch(fill) => self.swatch(x, *y, fill),
                Mark::Badge(k) => self.badge(x + 6.0, *y - 4.0, 7.0, *k),
                Mark::Nothing => {}
            }
            let bold = if i == 0 { BOLD } else { "" };
            for (cell, &(start, end, right)) in cells.iter().zip(&edges) {
                match right {
                    true => self.text(end, *y, cell, &format!("{bold} text-anchor=\"end\"")),
                    false => self.text(start, *y, cell, bold),
                }
            }
            *y += LINE;
        }
        edges.last().map_or(0.0, |e| e.1 - x)
    }

    /// A state's wheel (or pie) and its summary; `suffix` names the compared state's.
    fn rings(&mut self, a: &Analysis, labels: &[&str], radii: [(f64, f64); 2], suffix: &str) {
        let (wheel, share) = (format!("wheel{suffix}"), format!("share{suffix}"));
        self.ring(a, &arcs(a), labels, radii[0], &wheel);
        self.ring(a, &share_arcs(a), labels, radii[1], &share);
    }

    /// One `<g>` per target, one path of all its arcs, in legend order; then the unowned.
    fn ring(
        &mut self,
        a: &Analysis,
        arcs: &[Arc],
        labels: &[&str],
        radii: (f64, f64),
        class: &str,
    ) {
        let failed = matches!(a.ring, RingState::Failed { .. });
        let nobody = if failed { FAILED } else { NOBODY };
        for owner in labels.iter().map(|&l| Some(l)).chain([None]) {
            let mine = arcs.iter().filter(|x| x.0 == owner);
            if mine.clone().next().is_none() {
                continue;
            }
            let _ = match owner {
                Some(l) => write!(
                    self.out,
                    "<g class=\"{class}\" data-target=\"{}\" fill=\"{c}\" stroke=\"{c}\" \
                     stroke-width=\"0.5\"><title>{}</title><path d=\"",
                    escape(l),
                    escape(&tooltip(a, l)),
                    c = colour(labels, owner),
                ),
                None => write!(
                    self.out,
                    "<g class=\"{class}\" fill=\"{nobody}\"><title>{}</title><path d=\"",
                    escape(&center_label(a))
                ),
            };
            mine.for_each(|x| segment(&mut self.out, radii, x.1, x.2));
            self.put("\"/></g>\n");
        }
    }

    /// A tick across each wheel where a `--key` hashes, numbered as in the legend.
    fn key_marks(&mut self, e: &Explained) {
        let c = e.compared.as_ref();
        let first = if c.is_some() { FIRST[0] } else { ALONE[0] };
        for (i, (key, target)) in e.analysis.choices.iter().enumerate() {
            let here = target
                .as_ref()
                .and(key_turns(&e.upstream, &e.analysis, key));
            if let Some(t) = here {
                self.tick(first, t);
                let (x, y) = point(KEY_DOT, t);
                self.badge(x, y, 8.0, i + 1);
            }
            let Some(c) = c else { continue };
            let there = c.analysis.choices.get(i).and_then(|(_, t)| t.as_ref());
            let there = there.and(key_turns(&c.upstream, &c.analysis, key));
            if let Some(t) = there {
                self.tick(SECOND[0], t);
                // At the same position the outer number stands for both wheels.
                if here != Some(t) {
                    let (x, y) = point(SECOND[0].0 - 12.0, t);
                    self.badge(x, y, 8.0, i + 1);
                }
            }
        }
    }

    fn tick(&mut self, (r0, r1): (f64, f64), t: f64) {
        let [(x1, y1), (x2, y2)] = [r0 - 3.0, r1 + 3.0]
            .map(|r| point(r, t))
            .map(|p| (n(p.0), n(p.1)));
        let line = format!("x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"");
        let _ = writeln!(
            self.out,
            "<line {line} stroke=\"#111\" stroke-width=\"1.5\"/>"
        );
    }
}

fn tooltip(a: &Analysis, label: &str) -> String {
    let Some(r) = a.rows.iter().find(|r| r.target == label) else {
        return label.to_string();
    };
    let (weight, share) = (r.weight, percent(r.weight_share));
    let wheel = r
        .wheel_share
        .map(|s| format!(", wheel share {}", percent(s)));
    format!(
        "{label}: weight {weight}, weight share {share}{}",
        wheel.unwrap_or_default()
    )
}

/// XML and HTML text or attribute value. Control characters, which XML 1.0 cannot
/// hold even as references, are shown as Rust escapes.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.extend(c.escape_default());
            }
            c => out.push(c),
        }
    }
    out
}

/// Two decimals, never `-0.00`.
fn n(v: f64) -> String {
    let s = format!("{v:.2}");
    if s == "-0.00" { "0.00".into() } else { s }
}

#[cfg(test)]
mod tests;
