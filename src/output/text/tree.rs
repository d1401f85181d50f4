//! Text from the field walk ([`crate::output::json::fields`]), the same
//! walk the JSON lines are written from: the decoded field tree of `-v`
//! ([`Tree`], four spaces per level) and the `key=value` pairs of a
//! finding line ([`Pairs`]). Peer strings are escaped for the terminal.

use crate::output::escape::push_escaped;
use crate::output::json::fields::{Fields, Key, decimal_text};
use crate::p2p::Hash256;
use crate::p2p::hash::Hex;
use std::fmt::Write as _;

/// Where a value sits in its parent: after a key, or at an index.
#[derive(Clone)]
enum Label {
    Root,
    Key(&'static str),
    /// A key that is data (escaped for the terminal).
    Text(String),
    Index(usize),
}

/// An object or array being written.
struct Level {
    label: Label,
    /// The label's indentation (children are one level deeper).
    depth: usize,
    array: bool,
    /// Children so far (the next array index).
    children: usize,
}

/// The `-v` tree: `key: value` per scalar, `key:` above a non-empty
/// object or array (its children one level deeper), `[i]` for array
/// elements; an empty object or array shows as `{}` or `[]`. Every line
/// ends with a newline.
pub struct Tree<'s> {
    out: &'s mut String,
    levels: Vec<Level>,
    key: Option<Label>,
    /// Depth of the children of the root value.
    base: usize,
}

impl<'s> Tree<'s> {
    /// A tree whose top-level fields are indented `depth` levels.
    pub fn new(out: &'s mut String, depth: usize) -> Self {
        Tree {
            out,
            levels: Vec::new(),
            key: None,
            base: depth,
        }
    }

    /// The next value's label, and its depth; the parent's own line is
    /// written first if this is its first child.
    fn next_label(&mut self) -> (Label, usize) {
        let key = self.key.take();
        let Some(parent) = self.levels.last_mut() else {
            return (Label::Root, self.base.saturating_sub(1));
        };
        let label = if parent.array {
            Label::Index(parent.children)
        } else {
            key.unwrap_or(Label::Key(""))
        };
        parent.children += 1;
        let parent_depth = parent.depth;
        if parent.children == 1 {
            let parent_label = parent.label.clone();
            self.head(parent_label, parent_depth, None);
        }
        (label, parent_depth + 1)
    }

    /// A value's line: `key: value`, `[i] value`, or the heading of a
    /// container without the value.
    fn head(&mut self, label: Label, depth: usize, value: Option<&dyn Fn(&mut String)>) {
        match label {
            Label::Root => return,
            Label::Key(key) => {
                indent(self.out, depth);
                self.out.push_str(key);
                self.out.push(':');
            }
            Label::Text(key) => {
                indent(self.out, depth);
                push_escaped(self.out, key.as_bytes());
                self.out.push(':');
            }
            Label::Index(i) => {
                indent(self.out, depth);
                let _ = write!(self.out, "[{i}]");
            }
        }
        if let Some(value) = value {
            self.out.push(' ');
            value(self.out);
        }
        self.out.push('\n');
    }

    fn scalar(&mut self, value: &dyn Fn(&mut String)) {
        let (label, depth) = self.next_label();
        if let Label::Root = label {
            indent(self.out, depth);
            value(self.out);
            self.out.push('\n');
        } else {
            self.head(label, depth, Some(value));
        }
    }

    fn begin(&mut self, array: bool) {
        let (label, depth) = self.next_label();
        self.levels.push(Level {
            label,
            depth,
            array,
            children: 0,
        });
    }

    fn end(&mut self) {
        let Some(level) = self.levels.pop() else {
            return;
        };
        if level.children == 0 {
            let empty = if level.array { "[]" } else { "{}" };
            self.head(level.label, level.depth, Some(&|out| out.push_str(empty)));
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

/// The text of every scalar, shared by [`Tree`] and [`Pairs`]: numbers
/// as JSON writes them, strings escaped for the terminal.
macro_rules! scalars {
    ($self:ident, $write:ident) => {
        fn u64(&mut $self, n: u64) {
            $self.$write(&|out| out.push_str(itoa::Buffer::new().format(n)));
        }
        fn i64(&mut $self, n: i64) {
            $self.$write(&|out| out.push_str(itoa::Buffer::new().format(n)));
        }
        fn f64(&mut $self, x: f64) {
            $self.$write(&|out| {
                if x.is_finite() {
                    out.push_str(zmij::Buffer::new().format_finite(x))
                } else {
                    out.push_str("null")
                }
            });
        }
        fn decimal(&mut $self, whole: u64, frac: u64, digits: usize) {
            $self.$write(&|out| out.push_str(&decimal_text(whole, frac, digits)));
        }
        fn bool(&mut $self, b: bool) {
            $self.$write(&|out| out.push_str(if b { "true" } else { "false" }));
        }
        fn null(&mut $self) {
            $self.$write(&|out| out.push_str("null"));
        }
        fn str(&mut $self, s: &str) {
            $self.$write(&|out| push_escaped(out, s.as_bytes()));
        }
        fn hex(&mut $self, bytes: &[u8]) {
            $self.$write(&|out| {
                let _ = write!(out, "{}", Hex(bytes));
            });
        }
        fn hash(&mut $self, hash: &Hash256) {
            $self.$write(&|out| {
                let _ = write!(out, "{hash}");
            });
        }
        fn id64(&mut $self, n: u64) {
            $self.$write(&|out| out.push_str(itoa::Buffer::new().format(n)));
        }
    };
}

impl Fields for Tree<'_> {
    fn begin_object(&mut self) {
        self.begin(false);
    }
    fn end_object(&mut self) {
        self.end();
    }
    fn begin_array(&mut self) {
        self.begin(true);
    }
    fn end_array(&mut self) {
        self.end();
    }
    fn key(&mut self, key: Key) {
        self.key = Some(Label::Key(key.name));
    }
    fn key_text(&mut self, key: &str) {
        self.key = Some(Label::Text(key.to_string()));
    }
    scalars!(self, scalar);
}

/// ` key=value` per field, on one line (a finding's values). Findings
/// hold only scalars.
pub struct Pairs<'s> {
    pub out: &'s mut String,
}

impl Pairs<'_> {
    fn value(&mut self, value: &dyn Fn(&mut String)) {
        value(self.out);
    }
}

impl Fields for Pairs<'_> {
    fn begin_object(&mut self) {
        self.out.push('{');
    }
    fn end_object(&mut self) {
        self.out.push('}');
    }
    fn begin_array(&mut self) {
        self.out.push('[');
    }
    fn end_array(&mut self) {
        self.out.push(']');
    }
    fn key(&mut self, key: Key) {
        self.out.push(' ');
        self.out.push_str(key.name);
        self.out.push('=');
    }
    fn key_text(&mut self, key: &str) {
        self.out.push(' ');
        push_escaped(self.out, key.as_bytes());
        self.out.push('=');
    }
    scalars!(self, value);
}
