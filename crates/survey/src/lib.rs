//! Surveys as data: the native definition, Qualtrics `.qsf` import, piped text, the
//! respondent's path through the flow, answers and exports. No I/O, nothing async.

pub mod definition;
pub mod response;

pub use definition::*;
pub use response::*;
