//! Every route Sonde serves, in the one table the router is built from. The role × route test
//! walks this same table, so a route cannot be added without the access matrix knowing of it.

use crate::{
    account, api, api_audit, api_credentials, api_dashboards, api_deletions, api_discover,
    api_discover_accounts, api_discover_view, api_distributions, api_opt_out_sync, api_salesforce,
    api_survey_edits, api_survey_lifecycle, api_users, assets, invitation, openapi, panel,
    panel_dashboard, panel_send, panel_sent, panel_settings, respondent, salesforce_hooks, sign_in,
    twilio_webhooks, ui, ui_audit, ui_builder, ui_dashboards, ui_deletions, ui_discover,
    ui_discover_job_form, ui_discover_jobs, ui_distributions, ui_frequency_rules, ui_linked_orgs,
    ui_opt_out_sync, ui_outbox, ui_responses, ui_salesforce, ui_survey_bundles,
    ui_survey_lifecycle, ui_templates, ui_test_sends, ui_users, ui_workflow_editor,
    ui_workflow_moves, ui_workflows, AppState,
};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};

/// Where the API lives: its routes are nested there and every error it answers is JSON.
pub const API_PREFIX: &str = "/api/v1";

/// One method on one path, as the router registers it.
pub struct Route {
    pub method: Method,
    /// The full path template, `{name}` for each path parameter.
    pub path: &'static str,
    pub(crate) endpoint: MethodRouter<AppState>,
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method the router serves");
    Route {
        method,
        path,
        endpoint: on(filter, handler),
    }
}

fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::GET, path, handler)
}

fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::POST, path, handler)
}

fn put<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::PUT, path, handler)
}

fn patch<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::PATCH, path, handler)
}

fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    route(Method::DELETE, path, handler)
}

/// The methods a path template is served with (for a 405's message).
pub fn methods_of(path: &str) -> Vec<Method> {
    static ROUTES: std::sync::OnceLock<Vec<(Method, &'static str)>> = std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| table().into_iter().map(|r| (r.method, r.path)).collect())
        .iter()
        .filter(|(_, p)| *p == path)
        .map(|(m, _)| m.clone())
        .collect()
}

/// The routes, API first, then the operational endpoints, the respondent's pages and the
/// admin UI. Adding a route here is all the router needs; the access matrix then asks for its
/// row.
pub fn table() -> Vec<Route> {
    vec![
        get("/api/v1/openapi.json", openapi::document),
        get("/api/v1/surveys", api::list_surveys),
        post("/api/v1/surveys", api::create_survey),
        post("/api/v1/surveys/import", api::import_survey),
        get("/api/v1/surveys/{id}", api::get_survey),
        put("/api/v1/surveys/{id}", api::update_survey),
        post("/api/v1/surveys/{id}/edits", api_survey_edits::edit_survey),
        get(
            "/api/v1/surveys/{id}/publish-check",
            api_survey_lifecycle::publish_check,
        ),
        post(
            "/api/v1/surveys/{id}/publish",
            api_survey_lifecycle::publish,
        ),
        post("/api/v1/surveys/{id}/close", api_survey_lifecycle::close),
        post("/api/v1/surveys/{id}/reopen", api_survey_lifecycle::reopen),
        get(
            "/api/v1/surveys/{id}/versions",
            api_survey_lifecycle::versions,
        ),
        delete("/api/v1/surveys/{id}", api_deletions::purge_survey),
        post(
            "/api/v1/surveys/{id}/archive",
            api_deletions::archive_survey,
        ),
        post(
            "/api/v1/surveys/{id}/restore",
            api_deletions::restore_survey,
        ),
        post("/api/v1/surveys/{id}/collaborators", api::share_survey),
        post("/api/v1/surveys/{id}/links", api::create_personal_link),
        get("/api/v1/surveys/{id}/link-signing", api::get_link_signing),
        put("/api/v1/surveys/{id}/link-signing", api::set_link_signing),
        post(
            "/api/v1/surveys/{id}/link-signing/rotate",
            api::rotate_link_secret,
        ),
        get("/api/v1/surveys/{id}/responses", api::list_responses),
        get(
            "/api/v1/surveys/{id}/dashboard",
            api_dashboards::get_dashboard,
        ),
        post("/api/v1/surveys/{id}/responses", api::create_response),
        get(
            "/api/v1/surveys/{id}/responses/{response_id}",
            api::get_response,
        ),
        patch(
            "/api/v1/surveys/{id}/responses/{response_id}",
            api::update_response,
        ),
        delete(
            "/api/v1/surveys/{id}/responses/{response_id}",
            api_deletions::delete_response,
        ),
        get("/api/v1/contacts", api::list_contacts),
        post("/api/v1/contacts", api::create_contact),
        post("/api/v1/contacts/import", api::import_contacts),
        get("/api/v1/contacts/{id}", api::get_contact),
        delete("/api/v1/contacts/{id}", api_deletions::delete_contact),
        post(
            "/api/v1/contacts/{id}/unsubscribe",
            api::unsubscribe_contact,
        ),
        post(
            "/api/v1/contacts/{id}/resubscribe",
            api::resubscribe_contact,
        ),
        get(
            "/api/v1/contacts/{id}/opt-out-events",
            api::contact_opt_out_events,
        ),
        get("/api/v1/mailing-lists", api::list_mailing_lists),
        post("/api/v1/mailing-lists", api::create_mailing_list),
        get("/api/v1/mailing-lists/{id}", api::get_mailing_list),
        delete(
            "/api/v1/mailing-lists/{id}",
            api_deletions::delete_mailing_list,
        ),
        get("/api/v1/audit-events", api_audit::list_audit_events),
        get(
            "/api/v1/salesforce/connections",
            api_salesforce::list_connections,
        ),
        post(
            "/api/v1/salesforce/connections",
            api_salesforce::start_connection,
        ),
        delete(
            "/api/v1/salesforce/connections/{id}",
            api_salesforce::delete_connection,
        ),
        get(
            "/api/v1/salesforce/connections/{id}/check",
            api_salesforce::check_connection,
        ),
        post(
            "/api/v1/salesforce/connections/{id}/refresh-metadata",
            api_salesforce::refresh_metadata,
        ),
        get(
            "/api/v1/salesforce/opt-out-sync",
            api_opt_out_sync::get_opt_out_sync,
        ),
        put(
            "/api/v1/salesforce/opt-out-sync",
            api_opt_out_sync::put_opt_out_sync,
        ),
        get(
            "/api/v1/surveys/{id}/opt-out-sync",
            api_opt_out_sync::get_survey_opt_out_sync,
        ),
        put(
            "/api/v1/surveys/{id}/opt-out-sync",
            api_opt_out_sync::put_survey_opt_out_sync,
        ),
        get(
            "/api/v1/surveys/{id}/workflows",
            api_salesforce::list_workflows,
        ),
        post(
            "/api/v1/surveys/{id}/workflows",
            api_salesforce::create_workflow,
        ),
        post(
            "/api/v1/surveys/{id}/workflows/move",
            api_salesforce::move_workflows,
        ),
        get("/api/v1/surveys/{id}/bundle", api_salesforce::export_bundle),
        post("/api/v1/surveys/bundle", api_salesforce::import_bundle),
        get("/api/v1/workflows/{id}", api_salesforce::get_workflow),
        put("/api/v1/workflows/{id}", api_salesforce::update_workflow),
        delete("/api/v1/workflows/{id}", api_salesforce::delete_workflow),
        post("/api/v1/workflows/{id}/copy", api_salesforce::copy_workflow),
        get("/api/v1/workflows/{id}/runs", api_salesforce::list_runs),
        get(
            "/api/v1/workflows/{id}/notifications",
            api_salesforce::list_notifications,
        ),
        get(
            "/api/v1/workflows/{id}/endpoint",
            api_salesforce::get_message_endpoint,
        ),
        post(
            "/api/v1/workflows/{id}/runs/{runId}/retry",
            api_salesforce::retry_run,
        ),
        post("/api/v1/discover/projects", api_discover::create_project),
        get("/api/v1/discover/projects", api_discover::list_projects),
        get(
            "/api/v1/discover/projects/{id}/documents",
            api_discover_view::list_documents,
        ),
        get(
            "/api/v1/discover/projects/{id}/documents/{naturalId}",
            api_discover_view::get_document,
        ),
        get(
            "/api/v1/discover/projects/{id}/volume",
            api_discover_view::volume,
        ),
        get(
            "/api/v1/discover/projects/{id}/export.csv",
            api_discover_view::export_csv,
        ),
        post(
            "/api/v1/discover/validate-query",
            api_discover::validate_query,
        ),
        post("/api/v1/discover/jobs", api_discover::create_job),
        get("/api/v1/discover/jobs", api_discover::list_jobs),
        get("/api/v1/discover/jobs/{id}/sample", api_discover::sample),
        post("/api/v1/discover/jobs/{id}/runs", api_discover::start_run),
        get("/api/v1/discover/jobs/{id}/runs", api_discover::list_runs),
        get("/api/v1/discover/runs/{id}", api_discover::get_run),
        post(
            "/api/v1/discover/runs/{id}/cancel",
            api_discover::cancel_run,
        ),
        get(
            "/api/v1/discover/connections/{id}/versions",
            api_discover_accounts::connection_versions,
        ),
        post("/api/v1/discover/versions", api_discover_accounts::versions),
        put(
            "/api/v1/discover/jobs/{id}/credential",
            api_discover_accounts::replace_credential,
        ),
        get("/api/v1/templates", api_distributions::list_templates),
        post("/api/v1/templates", api_distributions::create_template),
        get("/api/v1/templates/{id}", api_distributions::get_template),
        put("/api/v1/templates/{id}", api_distributions::update_template),
        delete("/api/v1/templates/{id}", api_distributions::delete_template),
        get(
            "/api/v1/surveys/{id}/distributions",
            api_distributions::list_distributions,
        ),
        post(
            "/api/v1/surveys/{id}/distributions",
            api_distributions::create_distribution,
        ),
        post("/api/v1/distributions/test", api_distributions::test_send),
        get(
            "/api/v1/distributions/test/{id}",
            api_distributions::get_test_send,
        ),
        get(
            "/api/v1/distributions/{id}",
            api_distributions::get_distribution,
        ),
        patch(
            "/api/v1/distributions/{id}",
            api_distributions::update_distribution,
        ),
        delete(
            "/api/v1/distributions/{id}",
            api_distributions::delete_distribution,
        ),
        get(
            "/api/v1/distributions/{id}/recipients",
            api_distributions::list_recipients,
        ),
        get(
            "/api/v1/directory/frequency-rules",
            api_distributions::list_frequency_rules,
        ),
        post(
            "/api/v1/directory/frequency-rules",
            api_distributions::create_frequency_rule,
        ),
        delete(
            "/api/v1/directory/frequency-rules/{id}",
            api_distributions::delete_frequency_rule,
        ),
        get("/api/v1/tokens", api_credentials::list_tokens),
        post("/api/v1/tokens", api_credentials::create_token),
        delete("/api/v1/tokens/{id}", api_credentials::revoke_token),
        post("/api/v1/account/password", api_credentials::change_password),
        get("/api/v1/users", api_credentials::list_users),
        patch("/api/v1/users/{id}", api_users::update_user),
        get("/api/v1/users/invitations", api_users::list_invitations),
        post("/api/v1/users/invitations", api_users::create_invitation),
        delete(
            "/api/v1/users/invitations/{id}",
            api_users::revoke_invitation,
        ),
        post(
            "/api/v1/users/{id}/deactivate",
            api_credentials::deactivate_user,
        ),
        post(
            "/api/v1/users/{id}/reactivate",
            api_credentials::reactivate_user,
        ),
        get("/healthz", crate::healthz),
        get("/metrics", crate::metrics_page),
        get("/oauth/salesforce/callback", ui_salesforce::oauth_callback),
        get("/s/{survey_id}", respondent::open),
        post("/s/{survey_id}", respondent::submit),
        post("/hooks/salesforce/{token}", salesforce_hooks::receive),
        post("/webhooks/twilio/status", twilio_webhooks::status),
        post("/webhooks/twilio/inbound", twilio_webhooks::inbound),
        post("/panel", panel::open),
        get("/panel/responses/{id}", panel::response),
        get("/panel/home", panel::home),
        get("/panel/send", panel_send::show),
        post("/panel/send", panel_send::submit),
        get("/panel/sent", panel_sent::sent),
        get("/panel/scheduled", panel_sent::scheduled),
        post("/panel/scheduled/{id}", panel_sent::reschedule),
        post("/panel/scheduled/{id}/delete", panel_sent::delete),
        get("/panel/dashboard", panel_dashboard::show),
        get("/panel/settings", panel_settings::show),
        post("/panel/settings", panel_settings::save),
        post("/panel/disconnect", panel_settings::disconnect),
        get("/optout/{token}", respondent::opt_out_page),
        post("/optout/{token}", respondent::opt_out_confirm),
        get("/assets/{name}", assets::serve),
        get("/", ui::home),
        get("/login", sign_in::login_form),
        post("/login", sign_in::login),
        post("/logout", sign_in::logout),
        get("/invitations/{token}", invitation::show),
        post("/invitations/{token}", invitation::accept),
        get("/account", account::show),
        post("/account/tokens", account::create_token),
        post("/account/tokens/{id}/revoke", account::revoke_token),
        get(
            "/account/tokens/{id}/revoke",
            ui_deletions::confirm_revoke_token,
        ),
        post("/account/password", account::change_password),
        get("/users", ui_users::show),
        post("/users/invitations", ui_users::invite),
        post(
            "/users/invitations/{id}/revoke",
            ui_users::revoke_invitation,
        ),
        post("/users/{id}/role", ui_users::save_role),
        get("/users/{id}/deactivate", ui_users::confirm_deactivate),
        post("/users/{id}/deactivate", ui_users::deactivate),
        get("/users/{id}/reactivate", ui_users::confirm_reactivate),
        post("/users/{id}/reactivate", ui_users::reactivate),
        get("/surveys", ui::surveys),
        post("/surveys/import", ui::import_survey),
        get("/surveys/new", ui_builder::new_survey),
        post("/surveys/new", ui_builder::create_survey),
        get("/surveys/{id}", ui::survey_detail),
        get("/surveys/{id}/builder", ui_builder::builder),
        post("/surveys/{id}/builder", ui_builder::change),
        get(
            "/surveys/{id}/builder/questions/new",
            ui_builder::question_page::new_question,
        ),
        post(
            "/surveys/{id}/builder/questions/new",
            ui_builder::question_page::save_new_question,
        ),
        get(
            "/surveys/{id}/builder/questions/{question_id}",
            ui_builder::question_page::edit_question,
        ),
        post(
            "/surveys/{id}/builder/questions/{question_id}",
            ui_builder::question_page::save_question,
        ),
        get("/surveys/{id}/builder/flow", ui_builder::flow_page::flow),
        post(
            "/surveys/{id}/builder/flow",
            ui_builder::flow_page::save_flow,
        ),
        get(
            "/surveys/{id}/builder/end-message",
            ui_builder::end_message_form,
        ),
        post(
            "/surveys/{id}/builder/end-message",
            ui_builder::save_end_message,
        ),
        post("/surveys/{id}/share", ui::share_survey),
        post("/surveys/{id}/publish", ui_survey_lifecycle::publish),
        post("/surveys/{id}/close", ui_survey_lifecycle::close),
        post("/surveys/{id}/reopen", ui_survey_lifecycle::reopen),
        get("/surveys/{id}/archive", ui_deletions::confirm_archive),
        post("/surveys/{id}/archive", ui_deletions::archive),
        post("/surveys/{id}/restore", ui_deletions::restore),
        get("/surveys/{id}/purge", ui_deletions::confirm_purge),
        post("/surveys/{id}/purge", ui_deletions::purge),
        get("/surveys/{id}/responses", ui_responses::responses),
        get("/surveys/{id}/dashboard", ui_dashboards::dashboard),
        get(
            "/surveys/{id}/responses/{response_id}",
            ui_responses::response,
        ),
        get(
            "/surveys/{id}/responses/{response_id}/delete",
            ui_deletions::confirm_delete_response,
        ),
        post(
            "/surveys/{id}/responses/{response_id}/delete",
            ui_deletions::delete_response,
        ),
        get("/surveys/{id}/export.csv", ui::export_csv),
        get("/surveys/{id}/export.json", ui::export_json),
        get("/surveys/{id}/bundle.json", ui_survey_bundles::export),
        get("/surveys/{id}/survey.qsf", ui_survey_bundles::export_qsf),
        get("/contacts", ui::contacts),
        post("/contacts/import", ui::import_contacts),
        get(
            "/contacts/{id}/delete",
            ui_deletions::confirm_delete_contact,
        ),
        post("/contacts/{id}/delete", ui_deletions::delete_contact),
        get("/lists", ui::lists),
        post("/lists", ui::create_list),
        get("/lists/{id}", ui::list_detail),
        get("/lists/{id}/delete", ui_deletions::confirm_delete_list),
        post("/lists/{id}/delete", ui_deletions::delete_list),
        get("/audit", ui_audit::audit_log),
        get("/salesforce", ui_salesforce::connections),
        post("/salesforce/link", ui_salesforce::link),
        post("/salesforce/opt-out-sync", ui_opt_out_sync::save_org),
        get("/salesforce/{id}/check", ui_salesforce::check),
        post(
            "/salesforce/{id}/refresh-metadata",
            ui_salesforce::refresh_metadata,
        ),
        get(
            "/salesforce/{id}/disconnect",
            ui_linked_orgs::confirm_disconnect,
        ),
        post("/salesforce/{id}/disconnect", ui_salesforce::disconnect),
        get("/surveys/{id}/workflows", ui_workflows::workflows),
        post("/surveys/{id}/opt-out-sync", ui_opt_out_sync::save_survey),
        get("/surveys/{id}/workflows/move", ui_workflow_moves::move_page),
        post(
            "/surveys/{id}/workflows/move",
            ui_workflow_moves::apply_move,
        ),
        get(
            "/surveys/{id}/workflows/new",
            ui_workflow_editor::new_workflow,
        ),
        post(
            "/surveys/{id}/workflows/new",
            ui_workflow_editor::create_workflow,
        ),
        get("/workflows/{id}", ui_workflow_editor::workflow),
        post("/workflows/{id}", ui_workflow_editor::update_workflow),
        post("/workflows/{id}/delete", ui_workflows::delete_workflow),
        post("/workflows/{id}/copy", ui_workflows::copy_workflow),
        get("/workflows/{id}/runs", ui_workflows::runs),
        post("/workflows/{id}/runs/{run_id}/retry", ui_workflows::retry),
        get(
            "/surveys/{id}/distributions",
            ui_distributions::distributions,
        ),
        post(
            "/surveys/{id}/distributions",
            ui_distributions::create_distribution,
        ),
        get(
            "/surveys/{id}/distributions/new",
            ui_distributions::new_distribution,
        ),
        get("/distributions/{id}", ui_distributions::distribution),
        get(
            "/distributions/{id}/edit",
            ui_distributions::edit_distribution,
        ),
        post(
            "/distributions/{id}/edit",
            ui_distributions::update_distribution,
        ),
        get(
            "/distributions/{id}/delete",
            ui_distributions::confirm_delete,
        ),
        post(
            "/distributions/{id}/delete",
            ui_distributions::delete_distribution,
        ),
        get("/templates", ui_templates::templates),
        post("/templates", ui_templates::create_template),
        get("/templates/new", ui_templates::new_template),
        post("/templates/test-send", ui_templates::test_send),
        get("/templates/test-send/{id}", ui_test_sends::test_send),
        get("/templates/{id}", ui_templates::template),
        post("/templates/{id}", ui_templates::update_template),
        get("/templates/{id}/delete", ui_templates::confirm_delete),
        post("/templates/{id}/delete", ui_templates::delete_template),
        get("/directory/settings", ui_frequency_rules::settings),
        post(
            "/directory/frequency-rules",
            ui_frequency_rules::create_rule,
        ),
        get(
            "/directory/frequency-rules/{id}/delete",
            ui_frequency_rules::confirm_delete,
        ),
        post(
            "/directory/frequency-rules/{id}/delete",
            ui_frequency_rules::delete_rule,
        ),
        get("/outbox", ui_outbox::outbox),
        get("/discover", ui_discover::projects),
        post("/discover/projects", ui_discover::create_project),
        get("/discover/projects/{id}", ui_discover::project),
        get(
            "/discover/projects/{id}/export.csv",
            ui_discover::export_csv,
        ),
        get(
            "/discover/projects/{id}/documents/{natural_id}",
            ui_discover::document,
        ),
        get("/discover/jobs", ui_discover_jobs::jobs),
        get("/discover/jobs/new", ui_discover_job_form::new_job),
        post("/discover/jobs/new", ui_discover_job_form::submit_job),
        get("/discover/jobs/{id}", ui_discover_jobs::job),
        post("/discover/jobs/{id}/run", ui_discover_jobs::run_now),
        get("/discover/jobs/{id}/sample.csv", ui_discover_jobs::sample),
        get("/discover/runs/{id}", ui_discover_jobs::run),
        post("/discover/runs/{id}/cancel", ui_discover_jobs::cancel),
    ]
}
