//! The decoded field tree of `-v`, from the payload's JSON form, indented
//! four spaces per level; peer strings escaped for the terminal.

use crate::output::escape::escape_str;
use std::fmt::Write as _;

/// A JSON scalar for a text line; strings escaped for the terminal.
pub fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => escape_str(s),
        other => escape_str(&other.to_string()),
    }
}

/// The decoded field tree, indented four spaces per level.
pub fn write_tree(v: &serde_json::Value, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                match child {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_)
                        if !is_empty(child) =>
                    {
                        let _ = writeln!(out, "{pad}{k}:");
                        write_tree(child, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(child));
                    }
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                match child {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_)
                        if !is_empty(child) =>
                    {
                        let _ = writeln!(out, "{pad}[{i}]");
                        write_tree(child, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}[{i}] {}", scalar(child));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(m) => m.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
