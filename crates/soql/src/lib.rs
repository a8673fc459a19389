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

/// What a [`NameRef`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// An object after FROM (`Account`, or `Account.Contacts` in a child subquery).
    Object,
    /// A field or relationship path anywhere else (`Owner.Name`, `c.Account` in FROM).
    Field,
}

/// Where a name is written in the query text (1-based, like [`ParseError`]), so the local org can
/// point an INVALID_FIELD / INVALID_TYPE error at it the way Salesforce does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRef {
    /// The dotted path as written (aliases not resolved).
    pub name: String,
    pub kind: NameKind,
    pub line: usize,
    pub column: usize,
}

/// Like [`parse_with`], also returning every object and field name with its position, in source
/// order. The AST itself stays position-free so equality compares meaning only.
pub fn parse_with_positions(
    input: &str,
    opts: ParseOptions,
) -> Result<(Query, Vec<NameRef>), ParseError> {
    parser::parse_query_with_names(input, opts)
}
