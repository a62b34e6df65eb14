//! The RouterOS command interpreter: parsing and running console commands and scripts against
//! the configuration model, console print formats and `/export`.

pub mod ast;
pub mod error;
pub mod lexer;
pub mod parser;
pub mod tree;
pub mod value;
