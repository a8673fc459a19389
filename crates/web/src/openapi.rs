//! The OpenAPI 3.1 document for `/api/v1`, derived by utoipa from the handlers' annotations and
//! the Rust types they read and answer, so a schema cannot drift from the type behind it.
//!
//! Adding an API route: annotate its handler with `#[utoipa::path]` (method, path without the
//! `/api/v1` prefix, request body and responses by type) and name it in `paths(...)` below;
//! `api_doc::` tests fail until every routed `/api/v1` operation is documented and vice versa.

use crate::{
    api, api_audit, api_credentials, api_dashboards, api_deletions, api_discover,
    api_discover_accounts, api_discover_view, api_distributions, api_opt_out_sync, api_salesforce,
    api_users, error::ApiErrorBody,
};
use axum::Json;
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, PathItem, Ref, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sonde API",
        version = "1",
        description = "Surveys, responses, the contact directory, distributions (templates, \
            email invitations with reminders, frequency rules), linked Salesforce orgs and \
            workflows. Authenticate with `Authorization: Bearer <token>` (create one with \
            `sonde tokens create EMAIL`). Every error is `{\"error\": {\"code\", \"message\", \
            \"problems\"}}`; `problems` names each refused field, or line and column."
    ),
    servers((url = "/api/v1")),
    security(("bearer" = [])),
    paths(
        document,
        api::list_surveys,
        api::create_survey,
        api::import_survey,
        api::get_survey,
        api::update_survey,
        crate::api_survey_edits::edit_survey,
        crate::api_survey_lifecycle::publish_check,
        crate::api_survey_lifecycle::publish,
        crate::api_survey_lifecycle::close,
        crate::api_survey_lifecycle::reopen,
        crate::api_survey_lifecycle::versions,
        api_deletions::archive_survey,
        api_deletions::restore_survey,
        api_deletions::purge_survey,
        api::share_survey,
        api::create_personal_link,
        api::get_link_signing,
        api::set_link_signing,
        api::rotate_link_secret,
        api::list_responses,
        api_dashboards::get_dashboard,
        api::create_response,
        api::get_response,
        api::update_response,
        api_deletions::delete_response,
        api::list_contacts,
        api::create_contact,
        api::import_contacts,
        api::get_contact,
        api::unsubscribe_contact,
        api::resubscribe_contact,
        api::contact_opt_out_events,
        api_deletions::delete_contact,
        api::list_mailing_lists,
        api::create_mailing_list,
        api::get_mailing_list,
        api_deletions::delete_mailing_list,
        api_audit::list_audit_events,
        api_salesforce::list_connections,
        api_salesforce::start_connection,
        api_salesforce::delete_connection,
        api_salesforce::check_connection,
        api_salesforce::refresh_metadata,
        api_opt_out_sync::get_opt_out_sync,
        api_opt_out_sync::put_opt_out_sync,
        api_opt_out_sync::get_survey_opt_out_sync,
        api_opt_out_sync::put_survey_opt_out_sync,
        api_salesforce::list_workflows,
        api_salesforce::create_workflow,
        api_salesforce::move_workflows,
        api_salesforce::export_bundle,
        api_salesforce::import_bundle,
        api_salesforce::get_workflow,
        api_salesforce::update_workflow,
        api_salesforce::delete_workflow,
        api_salesforce::copy_workflow,
        api_salesforce::list_runs,
        api_salesforce::list_notifications,
        api_salesforce::get_message_endpoint,
        api_salesforce::retry_run,
        api_discover::create_project,
        api_discover::list_projects,
        api_discover_view::list_documents,
        api_discover_view::get_document,
        api_discover_view::volume,
        api_discover_view::export_csv,
        api_discover::validate_query,
        api_discover::create_job,
        api_discover::list_jobs,
        api_discover::sample,
        api_discover::start_run,
        api_discover::list_runs,
        api_discover::get_run,
        api_discover::cancel_run,
        api_discover_accounts::connection_versions,
        api_discover_accounts::versions,
        api_discover_accounts::replace_credential,
        api_distributions::create_template,
        api_distributions::list_templates,
        api_distributions::get_template,
        api_distributions::update_template,
        api_distributions::delete_template,
        api_distributions::create_distribution,
        api_distributions::list_distributions,
        api_distributions::get_distribution,
        api_distributions::update_distribution,
        api_distributions::delete_distribution,
        api_distributions::list_recipients,
        api_distributions::test_send,
        api_distributions::get_test_send,
        api_distributions::list_frequency_rules,
        api_distributions::create_frequency_rule,
        api_distributions::delete_frequency_rule,
        api_credentials::list_tokens,
        api_credentials::create_token,
        api_credentials::revoke_token,
        api_credentials::change_password,
        api_credentials::list_users,
        api_credentials::deactivate_user,
        api_credentials::reactivate_user,
        api_users::update_user,
        api_users::create_invitation,
        api_users::list_invitations,
        api_users::revoke_invitation,
    ),
    components(schemas(ApiErrorBody)),
    modifiers(&Common)
)]
struct ApiDoc;

/// What every operation shares, added once here rather than on each handler: the bearer
/// scheme, the path parameters (read from the path template itself) and the error answers.
struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // A template's fields are read inside `TemplateDefinition` (beside its `channel` tag)
        // and answered flattened into `Template` (beside `id`, ...): the struct's own "no
        // other fields" (serde's deny_unknown_fields) would refuse those in the document,
        // though the server takes and answers them. Unknown fields are still refused.
        // An inbound job's settings are answered flattened into `DiscoverJob` the same way.
        for name in ["EmailTemplate", "SmsTemplate", "JobSettings"] {
            if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o))) =
                components.schemas.get_mut(name)
            {
                o.additional_properties = None;
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            item.parameters = Some(path_parameters(path));
            for op in operations(item) {
                describe_successes(op);
                add_errors(op);
            }
        }
    }
}

fn path_parameters(path: &str) -> Vec<utoipa::openapi::RefOr<utoipa::openapi::path::Parameter>> {
    let segments: Vec<&str> = path.split('/').collect();
    segments
        .iter()
        .enumerate()
        .filter_map(|(i, seg)| {
            let name = seg.strip_prefix('{')?.strip_suffix('}')?;
            let of = i
                .checked_sub(1)
                .map(|p| segments[p].trim_end_matches('s').replace('-', " "))
                .unwrap_or_default();
            Some(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(format!("The {of}'s id")))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build()
                    .into(),
            )
        })
        .collect()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Success answers say what they are even when the handler's annotation gives no words.
fn describe_successes(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        if let utoipa::openapi::RefOr::T(r) = response {
            if r.description.is_empty() {
                r.description = match status.as_str() {
                    "201" => "Created",
                    "204" => "Done; no body",
                    _ => "OK",
                }
                .to_string();
            }
        }
    }
}

fn add_errors(op: &mut Operation) {
    let errors = [
        (
            "400",
            "Invalid input: `error.problems` names each field, or line and column",
        ),
        ("401", "Missing or invalid API token"),
        ("403", "Your role does not allow this"),
        ("404", "Not found (or not visible to you)"),
        (
            "default",
            "Any other error (409 conflict, 503 briefly unavailable with Retry-After, ...)",
        ),
    ];
    for (status, description) in errors {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ApiErrorBody")))
            .build();
        op.responses.responses.entry(status.to_string()).or_insert(
            ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build()
                .into(),
        );
    }
}

/// The document, built once.
pub fn spec() -> &'static utoipa::openapi::OpenApi {
    static SPEC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    SPEC.get_or_init(ApiDoc::openapi)
}

/// This document
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(spec())
}
