//! The `config` tools.

crate::toolkit::tools! {
    export,
}

pub use export::hide_in_export;
