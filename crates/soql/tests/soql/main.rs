//! Integration tests for the soql crate: conformance corpus, round trips, errors, analysis.
//! One test binary (modules below) so the workspace links it once.

mod analysis;
mod conformance;
mod corpus;
mod errors;
mod props;
mod roundtrip;
