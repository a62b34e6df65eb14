//! The RouterOS command interpreter: parsing and running console commands and scripts against
//! the configuration model, console print formats and `/export`.

pub mod ast;
pub mod error;
pub mod export;
pub mod host;
pub mod interp;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod tree;
pub mod value;

pub use error::{CliError, Pos};
pub use export::{ExportOptions, export};
pub use interp::{Confirm, Device, Globals, ScriptOutput, Session, is_write, run};
