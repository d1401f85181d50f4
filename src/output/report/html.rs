//! The page: one HTML file with everything inline (styles, uPlot, the
//! page's script, the data). The data is JSON inside
//! `<script type="application/json">` with `<`, `>` and `&` escaped, so no
//! peer text (user agents, commands) can end the element; the script draws
//! with `textContent` only. A Content-Security-Policy admits just the two
//! inline scripts by hash and no request to any host.

use super::model::Report;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

const TEMPLATE: &str = include_str!("assets/report.html");
const STYLE: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");
/// uPlot 1.6.32 (MIT), from the npm package `uplot`: dist/uPlot.iife.min.js
/// and dist/uPlot.min.css, unchanged; its licence is in the page.
const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("assets/uPlot.LICENSE");

/// JSON that cannot end or open an HTML element: `<`, `>` and `&` as
/// `\u` escapes (the same string to `JSON.parse`).
pub fn json_for_script(report: &Report) -> String {
    let mut bytes = Vec::new();
    super::data::write(report, &mut bytes);
    // The writer writes UTF-8 (peer text is decoded lossily before).
    let json = String::from_utf8_lossy(&bytes);
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// A CSP source for an inline script: its SHA-256, base64.
fn script_hash(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Writes the page for `report`.
pub fn render(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let csp = format!(
        "default-src 'none'; script-src {} {}; style-src 'unsafe-inline'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        script_hash(UPLOT_JS),
        script_hash(SCRIPT)
    );
    // The licence goes in an HTML comment: it holds no "--".
    debug_assert!(!UPLOT_LICENSE.contains("--"));
    let data = json_for_script(report);
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.write_all(&rest.as_bytes()[..start])?;
        let part = match &rest[start + 2..start + len] {
            "CSP" => csp.as_str(),
            "STYLE" => STYLE,
            "UPLOT_CSS" => UPLOT_CSS,
            "UPLOT_LICENSE" => UPLOT_LICENSE,
            "UPLOT_JS" => UPLOT_JS,
            "SCRIPT" => SCRIPT,
            "DATA" => data.as_str(),
            other => other,
        };
        out.write_all(part.as_bytes())?;
        rest = &rest[start + len + 2..];
    }
    out.write_all(rest.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::report::Aggregator;

    #[test]
    fn no_peer_text_can_close_the_data_element() {
        let mut report = Aggregator::new().finish("btcsniff report x".into());
        report.command = "</script><script>alert(1)</script>&amp;".into();
        let json = json_for_script(&report);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["command"], "</script><script>alert(1)</script>&amp;");
        let mut page = Vec::new();
        render(&report, &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert_eq!(
            page.matches("<script").count(),
            3,
            "uPlot, data, the page's script"
        );
        assert!(!page.contains("{{"), "every placeholder filled");
    }
}
