//! The YAML subset runbooks use (front matter and `env.yaml`): mappings, sequences and scalars,
//! each with the line it starts on, built from the parser's events.
//!
//! Working from events rather than a loaded document lets a hostile file be refused early and
//! cheaply: nesting deeper than [`MAX_DEPTH`], more than [`MAX_NODES`] values, anchors and aliases
//! (a few lines of aliases can expand to gigabytes), tags, complex keys, duplicate keys and
//! several documents are errors, reported with their line.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Deepest nesting of mappings and sequences accepted.
pub(crate) const MAX_DEPTH: usize = 16;
/// Most values (scalars, mappings, sequences) in one document.
pub(crate) const MAX_NODES: usize = 10_000;

/// A value with the line it starts on.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// `plain` is false for quoted and block scalars, whose text is never read as a number,
    /// boolean or null.
    Scalar {
        text: String,
        plain: bool,
        line: usize,
    },
    Seq {
        items: Vec<Node>,
        line: usize,
    },
    Map {
        entries: Vec<(Key, Node)>,
        line: usize,
    },
}

/// A mapping key (always a scalar here).
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) text: String,
    pub(crate) line: usize,
}

/// Why a document was refused, and where.
#[derive(Debug, Clone)]
pub(crate) struct YamlError {
    pub(crate) line: usize,
    pub(crate) reason: String,
}

impl Node {
    pub(crate) fn line(&self) -> usize {
        match self {
            Node::Scalar { line, .. } | Node::Seq { line, .. } | Node::Map { line, .. } => *line,
        }
    }

    /// The scalar's text, if this is a scalar.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } => Some(text),
            Node::Seq { .. } | Node::Map { .. } => None,
        }
    }

    /// Whether this is a plain `~`, `null` or empty scalar.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, plain: true, .. } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What kind of value this is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Scalar { .. } => "a scalar",
            Node::Seq { .. } => "a list",
            Node::Map { .. } => "a mapping",
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        line: usize,
    },
    Map {
        entries: Vec<(Key, Node)>,
        key: Option<Key>,
        line: usize,
    },
}

/// Opens a mapping or sequence, unless the limits or the subset forbid it.
fn open(
    stack: &mut Vec<Frame>,
    frame: Frame,
    anchor: usize,
    tagged: bool,
    nodes: &mut usize,
) -> Result<(), String> {
    if anchor > 0 {
        return Err("YAML anchors (&name) are not allowed".into());
    }
    if tagged {
        return Err("YAML tags (!name) are not allowed".into());
    }
    if let Some(Frame::Map { key: None, .. }) = stack.last() {
        return Err("mapping keys must be plain text".into());
    }
    if stack.len() >= MAX_DEPTH {
        return Err(format!(
            "nested deeper than {MAX_DEPTH} levels; runbook front matter is shallow"
        ));
    }
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(format!("more than {MAX_NODES} values"));
    }
    stack.push(frame);
    Ok(())
}

/// Parses one YAML document; `first_line` is the file line the text starts on. An empty
/// document is `None`.
pub(crate) fn parse(text: &str, first_line: usize) -> Result<Option<Node>, YamlError> {
    let at = |line: usize| line + first_line - 1;
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    let mut nodes = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            line: at(e.marker().line()),
            reason: format!("not valid YAML: {}", e.info()),
        })?;
        let line = at(mark.line());
        let refuse = |reason: String| YamlError { line, reason };
        let complete = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(refuse("only one YAML document is allowed here".into()));
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(refuse(
                    "YAML aliases (*name) are not allowed; write the value out".into(),
                ));
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor > 0 {
                    return Err(refuse("YAML anchors (&name) are not allowed".into()));
                }
                if tag.is_some() {
                    return Err(refuse("YAML tags (!name) are not allowed".into()));
                }
                Node::Scalar {
                    text,
                    plain: matches!(style, TScalarStyle::Plain),
                    line,
                }
            }
            Event::SequenceStart(anchor, tag) => {
                let frame = Frame::Seq {
                    items: Vec::new(),
                    line,
                };
                open(&mut stack, frame, anchor, tag.is_some(), &mut nodes).map_err(refuse)?;
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                let frame = Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    line,
                };
                open(&mut stack, frame, anchor, tag.is_some(), &mut nodes).map_err(refuse)?;
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { items, line }) => Node::Seq { items, line },
                Some(Frame::Map { entries, line, .. }) => Node::Map { entries, line },
                None => return Err(refuse("unbalanced YAML".into())),
            },
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(YamlError {
                line,
                reason: format!("more than {MAX_NODES} values"),
            });
        }
        match stack.last_mut() {
            None => root = Some(complete),
            Some(Frame::Seq { items, .. }) => items.push(complete),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, complete)),
                None => {
                    let Node::Scalar { text, line, .. } = complete else {
                        return Err(YamlError {
                            line,
                            reason: "mapping keys must be plain text".into(),
                        });
                    };
                    if entries.iter().any(|(k, _)| k.text == text) {
                        return Err(YamlError {
                            line,
                            reason: format!("duplicate key {}", crate::quote(&text, 60)),
                        });
                    }
                    *key = Some(Key { text, line });
                }
            },
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_nodes_with_lines() {
        let n = parse("a: 1\nb:\n  - x\n  - 'y'\nc: {d: true}\n", 2)
            .ok()
            .flatten();
        let Some(Node::Map { entries, .. }) = n else {
            unreachable!("{n:?}")
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].0.line, 3);
        let Node::Seq { items, .. } = &entries[1].1 else {
            unreachable!()
        };
        assert!(matches!(
            &items[1],
            Node::Scalar {
                plain: false,
                line: 5,
                ..
            }
        ));
    }

    #[test]
    fn refuses_aliases_depth_duplicates_and_tags() {
        for (text, want) in [
            ("a: &x 1\nb: *x\n", "anchors"),
            ("a: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]\n", "deeper"),
            ("a: 1\na: 2\n", "duplicate key"),
            ("a: !!str 1\n", "tags"),
            ("a: 1\n---\nb: 2\n", "one YAML document"),
            ("? [a]\n: 1\n", "plain text"),
            ("a: [1\n", "not valid YAML"),
        ] {
            let e = parse(text, 1).err().map(|e| e.reason).unwrap_or_default();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}
