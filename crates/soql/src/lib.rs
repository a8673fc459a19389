//! SOQL for Sonde: lexer, parser into a typed AST, canonical printer and analysis helpers.
//! Pure library (no I/O): the connector, workflows, the CLI and the local org all build on it.
//!
//! ```
//! let q = soql::parse("select Id, Account.Name from Contact where Name like 'A%'").unwrap();
//! assert_eq!(q.to_string(), "SELECT Id, Account.Name FROM Contact WHERE Name LIKE 'A%'");
//! ```
#![forbid(unsafe_code)]

pub mod analysis;
pub mod ast;
pub mod cli;
mod lexer;
mod parser;
mod printer;

use std::fmt;

pub use ast::Query;

/// What the parser accepts beyond the Salesforce API grammar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Accept Apex-only syntax: bind variables (`:name`, `:obj.field`) and `ALL ROWS`.
    pub apex: bool,
}

/// A refusal with the 1-based line and column (in characters) of the offending token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses one query with the API grammar (Apex-only syntax refused).
pub fn parse(input: &str) -> Result<Query, ParseError> {
    parse_with(input, ParseOptions::default())
}

/// Parses one query with the given options.
pub fn parse_with(input: &str, opts: ParseOptions) -> Result<Query, ParseError> {
    parser::parse_query(input, opts)
}
