//! The runbook library's tests, in one binary: the built-in runbooks, the format, validation,
//! substitution, expect gates, the index, search, diff and the dry run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builtins;
mod diff;
mod dry_run;
mod expect;
mod format;
mod index;
mod search;
mod substitute;

use std::sync::{Arc, OnceLock};

use catalog::Catalog;

/// The catalog built into the server.
pub fn catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Arc::new(Catalog::embedded().expect("the embedded catalog loads")))
        .clone()
}

/// A valid runbook with one variable, for tests that change one thing at a time.
pub const MINIMAL: &str = r#"---
name: minimal
title: Minimal runbook
description: A small runbook used by the tests.
version: 1.0.0
status: draft
tags: [test]
tier: free
risk: low
variables:
  device: {type: device, description: The router, required: true}
last_reviewed: 2026-12-06
---
# Minimal runbook

## Symptom
Something is wrong.

## Diagnosis
1. Look at the router.
```tool system.get_overview
{"device_id": "{var.device}"}
```

## Remediation
Fix it by hand.

## Verify
```tool system.get_overview
{"device_id": "{var.device}"}
```
```expect
/cpu/load_percent < 80
```
"#;
