//! Redaction of sensitive data in inbound text (Salesforce chats, feedback) before anything is
//! stored. Pure code: no I/O, no clock, no async. A [`Redactor`] is built once per job from
//! [`RedactionRules`] and redacts millions of texts; each [`Redacted`] holds the text with
//! typed masks (`[CARD]`, `[EMAIL]`, an admin's `[ORDER_ID]`) and the counts of what was
//! masked. The original text is not kept anywhere: not in the result, not in an error, not in
//! the redactor.
//!
//! The order of operations on one text:
//!
//! 1. The built-in detectors and the custom patterns all look at the original text.
//! 2. Overlaps are decided: card numbers, IBANs and emails first (checksums and a grammar make
//!    them the most certain), leftmost, then longest, then card before IBAN before email. Then
//!    SSNs, phones and custom patterns, the same way among themselves (SSN before phone before
//!    custom patterns in their given order), only where nothing is kept yet. So a phone or a
//!    custom pattern never takes digits out of a card number or an IBAN.
//! 3. Substitutions apply to the text between what was kept, leftmost and longest first, whole
//!    words only, and never across a mask.
//! 4. Masks and replacements are written once; nothing written is looked at again, so a
//!    replacement is never itself redacted or substituted.
//!
//! Detectors run before substitutions so that no word list can break up a card number or an
//! address before it is found, and so that no replacement text can look like one.
//!
//! ```
//! use redaction::{CustomPattern, Detector, RedactionRules, Redactor, Substitutions};
//!
//! let redactor = Redactor::new(RedactionRules {
//!     detectors: vec![Detector::Card, Detector::Email, Detector::Phone],
//!     custom: vec![CustomPattern::new("order_id", r"\bORD-\d{8}\b")],
//!     substitutions: Substitutions::parse("Acme Bank: [BANK]").unwrap(),
//! })
//! .unwrap();
//! let redacted = redactor.redact("Acme Bank charged 4111 1111 1111 1111 for ORD-12345678");
//! assert_eq!(redacted.text, "[BANK] charged [CARD] for [ORDER_ID]");
//! assert_eq!(redacted.applied.total(), 3);
//! ```
//!
//! - [`Detector`]: the built-ins, what each finds and its mask.
//! - [`CustomPattern`]: an admin's regular expression, name and mask.
//! - [`Substitutions`]: `phrase: replacement` lines, as XM Discover takes them.

mod detect;
mod redactor;
mod rules;
mod substitution;

pub use redactor::{Applied, Redacted, Redactor};
pub use rules::{
    CustomPattern, Detector, PatternProblem, RedactionRules, RulesError, UnknownDetector,
};
pub use substitution::{Substitution, SubstitutionError, SubstitutionProblem, Substitutions};
