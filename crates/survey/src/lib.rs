//! Surveys as data: the native definition, Qualtrics `.qsf` import, piped text, the
//! respondent's path through the flow, answers and exports. No I/O, nothing async.

pub mod condition;
pub mod definition;
pub mod edit;
pub mod export;
pub mod flow;
pub mod form;
pub mod html;
pub mod limits;
pub mod native;
pub mod piped;
pub mod piped_values;
pub mod qsf;
pub mod response;
pub mod sample;
pub mod validate;

pub use definition::*;
pub use response::*;
