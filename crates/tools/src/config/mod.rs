//! The `config` tools, and the restore engine `config.plan_restore` runs on a snapshot.

crate::toolkit::tools! {
    export,
    plan_desired_state,
}

pub mod restore;

#[cfg(test)]
mod desired_tests;

pub use export::hide_in_export;
