//! The contact directory's domain: parsed contact fields, contact input from the API and from
//! CSV files, and signed opt-out tokens. Pure code — no I/O, no database.
//!
//! Everything here follows "parse, don't validate": an [`EmailAddress`], [`PhoneNumber`] or
//! [`Language`] can only be obtained through its `parse`, so code holding one never re-checks it.
//! Parse failures are [`FieldError`]s naming the field, so the API and the CSV import report every
//! bad field at once instead of stopping at the first.

#![forbid(unsafe_code)]

mod contact;
mod csv_import;
mod email;
mod error;
mod language;
mod opt_out;
mod phone;

pub use contact::ContactInput;
pub use csv_import::{import_csv, CsvContacts, CsvImport, RowError};
pub use email::EmailAddress;
pub use error::FieldError;
pub use language::Language;
pub use opt_out::{OptOutClaim, OptOutError, OptOutSigner};
pub use phone::PhoneNumber;
