//! Sonde's integration tests, in one binary so they link once. Every storage-touching test
//! runs on SQLite, and on PostgreSQL too when `SONDE_TEST_POSTGRES_URL` is set.

mod access;
mod admin_ui;
mod api;
mod api_doc;
mod browser;
mod canvas_pages;
mod cli;
mod concurrency;
mod crash;
mod credentials;
mod deletions;
mod discover;
mod discover_accounts;
mod discover_bulk;
mod discover_ui;
mod distributions;
mod harness;
mod linked_orgs;
mod moves;
mod open_link;
mod opt_out_ui;
mod panel;
mod panel_sends;
mod queue;
mod readme;
mod resilience;
mod respondent;
mod salesforce_messages;
mod sf_safety;
mod storage;
mod survey_safety;
mod ui;
mod users_admin;
mod workflow_ui;
mod workflows;
