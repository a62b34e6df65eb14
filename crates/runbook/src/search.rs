//! Finding the runbook for a symptom sentence ("clients on the LAN get no IP address"): a small,
//! deterministic ranked search that says why each runbook matched.
//!
//! Text is split into lowercase words, common words are dropped ("the", "no", "get") and each
//! word is stemmed lightly ("leases" → "leas", "resolving" → "resolv"). A query word matches a
//! runbook word when the stems are equal, or, less strongly, when one is a prefix of the other
//! ("addr" → "address", "exhaust" → "exhaustion"). Each field has a weight — name and title 3,
//! tags 2.5, symptom 2, description 1.5, step text and tool names 1 — and a query word counts
//! its best field fully and its other fields a quarter, times how rare the word is among the
//! runbooks (`ln(1 + N / runbooks matching it)`). The sum is scaled by the share of query words
//! that matched at all, so a runbook matching most of the sentence beats one matching a single
//! word many times. Ties are broken by name.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::format::{Runbook, StepKind};

/// A searchable part of a runbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Name,
    Title,
    Tags,
    Symptom,
    Description,
    Steps,
}

impl Field {
    const ALL: [Field; 6] = [
        Field::Name,
        Field::Title,
        Field::Tags,
        Field::Symptom,
        Field::Description,
        Field::Steps,
    ];

    fn weight(self) -> f64 {
        match self {
            Field::Name | Field::Title => 3.0,
            Field::Tags => 2.5,
            Field::Symptom => 2.0,
            Field::Description => 1.5,
            Field::Steps => 1.0,
        }
    }
}

/// Why a runbook matched: a query word found in a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    pub field: Field,
    /// The query word (lowercased).
    pub query: String,
    /// The runbook's word it matched.
    pub word: String,
    /// Same stem (true) or a prefix match (false).
    pub exact: bool,
}

/// A ranked result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub name: String,
    pub title: String,
    /// Higher is better; rounded to three decimals.
    pub score: f64,
    /// Every field each matching query word was found in, strongest first.
    pub matched: Vec<Match>,
}

impl Hit {
    /// The query words that matched, in query order.
    pub fn words(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in &self.matched {
            if !out.contains(&m.query.as_str()) {
                out.push(&m.query);
            }
        }
        out
    }
}

/// Most query words considered.
const MAX_QUERY_WORDS: usize = 32;
/// A prefix match counts this much of an exact one.
const PREFIX: f64 = 0.6;
/// Shortest stem that may match as a prefix.
const MIN_PREFIX: usize = 3;

const STOP: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "but", "by", "can", "cannot", "cant", "could", "did", "do",
    "does", "doesn", "doesnt", "don", "dont", "each", "for", "from", "get", "gets", "getting",
    "got", "had", "has", "have", "having", "how", "i", "if", "in", "into", "is", "isn", "isnt",
    "it", "its", "just", "keep", "keeps", "me", "my", "no", "nor", "not", "of", "on", "or", "our",
    "out", "s", "seem", "seems", "so", "some", "still", "t", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "too", "up", "very", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "won",
    "wont", "would", "you", "your",
];

/// Strips a common English suffix, keeping at least three letters.
pub fn stem(word: &str) -> String {
    let w = word;
    let keep = |rest: &str| rest.chars().count() >= 3;
    if let Some(r) = w.strip_suffix("ies")
        && keep(r)
    {
        return format!("{r}y");
    }
    if w.ends_with("ss") || w.ends_with("us") || w.ends_with("is") {
        return w.to_owned();
    }
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if let Some(r) = w.strip_suffix(suffix)
            && keep(r)
        {
            return r.to_owned();
        }
    }
    w.to_owned()
}

/// Lowercase words of `text` without common words, each with its stem.
pub fn words(text: &str) -> Vec<(String, String)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| {
            let s = stem(&w);
            (w, s)
        })
        .collect()
}

/// One runbook's words per field, deduplicated by stem.
struct Doc<'r> {
    runbook: &'r Runbook,
    fields: Vec<(Field, Vec<(String, String)>)>,
}

fn doc(runbook: &Runbook) -> Doc<'_> {
    let m = &runbook.meta;
    let mut steps = String::new();
    for s in &runbook.steps {
        match &s.kind {
            StepKind::Prose { text } => steps.push_str(text),
            StepKind::Tool(t) => {
                steps.push_str(&t.tool);
                if let Some(d) = &t.description {
                    steps.push(' ');
                    steps.push_str(d);
                }
            }
        }
        steps.push('\n');
    }
    let fields = Field::ALL
        .iter()
        .map(|f| {
            let text = match f {
                Field::Name => m.name.clone(),
                Field::Title => m.title.clone(),
                Field::Tags => m.tags.join(" "),
                Field::Symptom => runbook.symptom.clone(),
                Field::Description => m.description.clone(),
                Field::Steps => steps.clone(),
            };
            let mut seen = BTreeSet::new();
            let ws = words(&text)
                .into_iter()
                .filter(|(_, s)| seen.insert(s.clone()))
                .collect();
            (*f, ws)
        })
        .collect();
    Doc { runbook, fields }
}

/// How well a query stem matches a runbook stem: 1 for the same stem, [`PREFIX`] when one is a
/// prefix of the other.
fn quality(q: &str, d: &str) -> f64 {
    if q == d {
        1.0
    } else if (q.len() >= MIN_PREFIX && d.starts_with(q))
        || (d.len() > MIN_PREFIX && q.starts_with(d))
    {
        PREFIX
    } else {
        0.0
    }
}

/// The best match of a query stem in each field of a document.
fn field_matches(doc: &Doc<'_>, q: &str, q_word: &str) -> Vec<(Match, f64)> {
    let mut out = Vec::new();
    for (field, ws) in &doc.fields {
        let best = ws
            .iter()
            .map(|(w, s)| (w, quality(q, s)))
            .filter(|(_, x)| *x > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
        if let Some((w, x)) = best {
            out.push((
                Match {
                    field: *field,
                    query: q_word.to_owned(),
                    word: w.clone(),
                    exact: x >= 1.0,
                },
                x * field.weight(),
            ));
        }
    }
    out
}

/// Ranks runbooks for `query`; at most `limit` hits with a score above zero.
pub fn search<'r, I: IntoIterator<Item = &'r Runbook>>(
    runbooks: I,
    query: &str,
    limit: usize,
) -> Vec<Hit> {
    let docs: Vec<Doc<'r>> = runbooks.into_iter().map(doc).collect();
    let mut seen = BTreeSet::new();
    let terms: Vec<(String, String)> = words(query)
        .into_iter()
        .filter(|(_, s)| seen.insert(s.clone()))
        .take(MAX_QUERY_WORDS)
        .collect();
    if terms.is_empty() || docs.is_empty() {
        return Vec::new();
    }
    let per_doc: Vec<Vec<Vec<(Match, f64)>>> = docs
        .iter()
        .map(|d| terms.iter().map(|(w, s)| field_matches(d, s, w)).collect())
        .collect();
    let n = docs.len() as f64;
    let idf: Vec<f64> = (0..terms.len())
        .map(|t| {
            let df = per_doc.iter().filter(|d| !d[t].is_empty()).count();
            if df == 0 {
                0.0
            } else {
                (1.0 + n / df as f64).ln()
            }
        })
        .collect();
    let mut hits: Vec<Hit> = docs
        .iter()
        .zip(&per_doc)
        .filter_map(|(doc, matches)| {
            let mut score = 0.0;
            let mut matched_terms = 0usize;
            let mut why = Vec::new();
            for (t, fields) in matches.iter().enumerate() {
                if fields.is_empty() {
                    continue;
                }
                matched_terms += 1;
                let best = fields.iter().map(|(_, s)| *s).fold(0.0, f64::max);
                let all: f64 = fields.iter().map(|(_, s)| *s).sum();
                score += idf[t] * (best + 0.25 * (all - best));
                let mut ordered: Vec<&(Match, f64)> = fields.iter().collect();
                ordered.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.field.cmp(&b.0.field)));
                why.extend(ordered.into_iter().map(|(m, _)| m.clone()));
            }
            if matched_terms == 0 {
                return None;
            }
            let coverage = matched_terms as f64 / terms.len() as f64;
            let score = score * (0.5 + 0.5 * coverage);
            Some(Hit {
                name: doc.runbook.meta.name.clone(),
                title: doc.runbook.meta.title.clone(),
                score: (score * 1000.0).round() / 1000.0,
                matched: why,
            })
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.name.cmp(&b.name))
    });
    hits.truncate(limit);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_lightly() {
        for (w, s) in [
            ("leases", "leas"),
            ("lease", "leas"),
            ("resolving", "resolv"),
            ("resolve", "resolv"),
            ("addresses", "address"),
            ("address", "address"),
            ("policies", "policy"),
            ("dns", "dns"),
            ("status", "status"),
            ("neighbors", "neighbor"),
            ("timeouts", "timeout"),
        ] {
            assert_eq!(stem(w), s, "{w}");
        }
    }

    #[test]
    fn drops_common_words() {
        let w: Vec<String> = words("Clients on the LAN get no IP address!")
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(w, ["clients", "lan", "ip", "address"]);
    }
}
