//! The role × route matrix: one row per route and method the router registers
//! (`web::routes::table`), each called as every caller of `CALLERS`, the outcome compared
//! with the row. Adding a route without adding its row here fails `every_route_has_a_row`.

use super::{at, Body, Outcome, Row, Spend, TwilioSigning, World, CALLERS, OUTBOUND_MESSAGE};
use crate::harness::backends;
use reqwest::Method;
use std::collections::BTreeSet;

/// `METHOD "route as registered" call => anonymous other-org viewer editor admin;`
macro_rules! rows {
    ($($method:ident $route:literal $call:expr => $a:ident $b:ident $c:ident $d:ident $e:ident;)*) => {
        vec![$(Row {
            method: Method::$method,
            route: $route,
            call: $call,
            expect: [Outcome::$a, Outcome::$b, Outcome::$c, Outcome::$d, Outcome::$e],
        }),*]
    };
}

/// Ok: let through. Login: 401 or sent to sign in. Denied: 403. Hidden: 404.
/// The survey, its workflows and the connections are the editor's; the viewer collaborates on
/// the survey (and the spare and archived ones); contacts and lists belong to the organization.
/// Purging is for a survey's owner or an admin, the audit log for admins. Workflows and Salesforce
/// connections are changed by their owner only, and connections are visible to their owner
/// only (so the admin, too, is refused someone else's).
fn table() -> Vec<Row> {
    rows! {
        // ---- API (Bearer token) --------------------------------------------------------------------------- anon  other   viewer  editor  admin
        GET    "/api/v1/openapi.json" at("/api/v1/openapi.json")                                                  => Ok    Ok      Ok      Ok      Ok;
        GET    "/api/v1/surveys" at("/api/v1/surveys")                                                            => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/surveys" at("/api/v1/surveys").json("{survey_definition}")                                => Login Ok      Denied  Ok      Ok;
        POST   "/api/v1/surveys/import" at("/api/v1/surveys/import").text("application/json", "{qsf}")            => Login Ok      Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}" at("/api/v1/surveys/{survey}")                                              => Login Hidden  Ok      Ok      Ok;
        PUT    "/api/v1/surveys/{id}" at("/api/v1/surveys/{survey}").json("{survey_definition}")                  => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/edits" at("/api/v1/surveys/{survey}/edits").json(r#"{"op": "add_block"}"#)  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/publish-check" at("/api/v1/surveys/{survey}/publish-check")                  => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/surveys/{id}/publish" at("/api/v1/surveys/{survey}/publish")                              => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/close" at("/api/v1/surveys/{spare_survey}/close").spends(Spend::SpareSurvey) => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/reopen" at("/api/v1/surveys/{spare_survey}/reopen")                          => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/versions" at("/api/v1/surveys/{survey}/versions")                            => Login Hidden  Ok      Ok      Ok;
        DELETE "/api/v1/surveys/{id}" at("/api/v1/surveys/{archived_survey}").spends(Spend::ArchivedSurvey)      => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/archive" at("/api/v1/surveys/{spare_survey}/archive").spends(Spend::SpareSurvey)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/restore" at("/api/v1/surveys/{archived_survey}/restore")
                   .spends(Spend::ArchivedSurvey)                                                                 => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/collaborators" at("/api/v1/surveys/{survey}/collaborators")
                   .json(r#"{"email": "{viewer_email}"}"#)                                                        => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/links" at("/api/v1/surveys/{survey}/links")
                   .json(r#"{"contactId": "{contact}"}"#)                                                         => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/link-signing" at("/api/v1/surveys/{survey}/link-signing")                    => Login Hidden  Denied  Ok      Ok;
        PUT    "/api/v1/surveys/{id}/link-signing" at("/api/v1/surveys/{survey}/link-signing")
                   .json(r#"{"required": false}"#)                                                                => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/link-signing/rotate" at("/api/v1/surveys/{survey}/link-signing/rotate")      => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/responses" at("/api/v1/surveys/{survey}/responses")                          => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/surveys/{id}/dashboard" at("/api/v1/surveys/{survey}/dashboard?since=2020-01-01")         => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/surveys/{id}/responses" at("/api/v1/surveys/{survey}/responses")
                   .json(r#"{"answers": {answers}, "embeddedData": {"CaseId": "{case_id}"}, "finished": true}"#)  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/responses/{response_id}" at("/api/v1/surveys/{survey}/responses/{response}") => Login Hidden  Ok      Ok      Ok;
        PATCH  "/api/v1/surveys/{id}/responses/{response_id}" at("/api/v1/surveys/{survey}/responses/{response}")
                   .json(r#"{"embeddedData": {"Note": "checked {n}"}}"#)                                          => Login Hidden  Denied  Ok      Ok;
        DELETE "/api/v1/surveys/{id}/responses/{response_id}" at("/api/v1/surveys/{survey}/responses/{spare_response}")
                   .spends(Spend::SpareResponse)                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/contacts" at("/api/v1/contacts")                                                          => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/contacts" at("/api/v1/contacts").json(r#"{"email": "grace{n}@example.com"}"#)             => Login Ok      Denied  Ok      Ok;
        POST   "/api/v1/contacts/import" at("/api/v1/contacts/import")
                   .text("text/csv", "Email,FirstName\nlin{n}@example.com,Lin\n")                                 => Login Ok      Denied  Ok      Ok;
        GET    "/api/v1/contacts/{id}" at("/api/v1/contacts/{contact}")                                           => Login Hidden  Ok      Ok      Ok;
        DELETE "/api/v1/contacts/{id}" at("/api/v1/contacts/{spare_contact}").spends(Spend::SpareContact)         => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/contacts/{id}/unsubscribe" at("/api/v1/contacts/{contact}/unsubscribe")                   => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/contacts/{id}/resubscribe" at("/api/v1/contacts/{contact}/resubscribe")                   => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/contacts/{id}/opt-out-events" at("/api/v1/contacts/{contact}/opt-out-events")             => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/mailing-lists" at("/api/v1/mailing-lists")                                                => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/mailing-lists" at("/api/v1/mailing-lists").json(r#"{"name": "List {n}"}"#)                => Login Ok      Denied  Ok      Ok;
        GET    "/api/v1/mailing-lists/{id}" at("/api/v1/mailing-lists/{list}")                                    => Login Hidden  Ok      Ok      Ok;
        DELETE "/api/v1/mailing-lists/{id}" at("/api/v1/mailing-lists/{spare_list}").spends(Spend::SpareList)     => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/audit-events" at("/api/v1/audit-events?action=survey.archived")                           => Login Ok      Denied  Denied  Ok;
        GET    "/api/v1/salesforce/connections" at("/api/v1/salesforce/connections")                              => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/salesforce/connections" at("/api/v1/salesforce/connections")
                   .json(r#"{"environment": "custom", "loginUrl": "{login_url}"}"#)                               => Login Ok      Denied  Ok      Ok;
        DELETE "/api/v1/salesforce/connections/{id}" at("/api/v1/salesforce/connections/{spare_connection}")
                   .spends(Spend::SpareConnection)                                                                => Login Hidden  Denied  Ok      Hidden;
        GET    "/api/v1/salesforce/connections/{id}/check" at("/api/v1/salesforce/connections/{connection}/check")=> Login Hidden  Hidden  Ok      Hidden;
        POST   "/api/v1/salesforce/connections/{id}/refresh-metadata" at("/api/v1/salesforce/connections/{connection}/refresh-metadata")
                                                                                                                  => Login Hidden  Hidden  Ok      Hidden;
        GET    "/api/v1/salesforce/opt-out-sync" at("/api/v1/salesforce/opt-out-sync")                            => Login Ok      Ok      Ok      Ok;
        PUT    "/api/v1/salesforce/opt-out-sync" at("/api/v1/salesforce/opt-out-sync").json(r#"{"enabled": true}"#) => Login Ok      Denied  Denied  Ok;
        GET    "/api/v1/surveys/{id}/opt-out-sync" at("/api/v1/surveys/{survey}/opt-out-sync")                    => Login Hidden  Ok      Ok      Ok;
        PUT    "/api/v1/surveys/{id}/opt-out-sync" at("/api/v1/surveys/{survey}/opt-out-sync")
                   .json(r#"{"enabled": null}"#)                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/workflows" at("/api/v1/surveys/{survey}/workflows")                          => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/surveys/{id}/workflows" at("/api/v1/surveys/{survey}/workflows").json("{dir_workflow_json}")
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/bundle" at("/api/v1/surveys/{survey}/bundle")                                => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/surveys/bundle" at("/api/v1/surveys/bundle")
                   .json(r#"{"format": "sonde.survey-bundle/1", "survey": {survey_definition}}"#)                 => Login Ok      Denied  Ok      Ok;
        POST   "/api/v1/surveys/{id}/workflows/move" at("/api/v1/surveys/{survey}/workflows/move")
                   .json(r#"{"connectionId": "{connection}"}"#)                                           => Login Hidden  Denied  Ok      Hidden;
        GET    "/api/v1/workflows/{id}" at("/api/v1/workflows/{workflow}")                                        => Login Hidden  Ok      Ok      Ok;
        PUT    "/api/v1/workflows/{id}" at("/api/v1/workflows/{workflow}").json("{workflow_json}")                => Login Hidden  Denied  Ok      Denied;
        DELETE "/api/v1/workflows/{id}" at("/api/v1/workflows/{spare_workflow}").spends(Spend::SpareWorkflow)     => Login Hidden  Denied  Ok      Denied;
        POST   "/api/v1/workflows/{id}/copy" at("/api/v1/workflows/{dir_workflow}/copy")                          => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/workflows/{id}/runs" at("/api/v1/workflows/{workflow}/runs")                              => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/workflows/{id}/notifications" at("/api/v1/workflows/{message_workflow}/notifications")    => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/workflows/{id}/endpoint" at("/api/v1/workflows/{message_workflow}/endpoint")              => Login Hidden  Denied  Ok      Denied;
        POST   "/api/v1/workflows/{id}/runs/{runId}/retry" at("/api/v1/workflows/{workflow}/runs/{failed_run}/retry")
                   .spends(Spend::FailedRun)                                                                      => Login Hidden  Denied  Ok      Ok;

        // ---- distributions: templates and rules are the organization's; distributions follow their survey --- anon  other   viewer  editor  admin
        GET    "/api/v1/templates" at("/api/v1/templates")                                                        => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/templates" at("/api/v1/templates").json("{template_json}")                                => Login Ok      Denied  Ok      Ok;
        GET    "/api/v1/templates/{id}" at("/api/v1/templates/{template}")                                        => Login Hidden  Ok      Ok      Ok;
        PUT    "/api/v1/templates/{id}" at("/api/v1/templates/{template}").json("{template_json}")                => Login Hidden  Denied  Ok      Ok;
        DELETE "/api/v1/templates/{id}" at("/api/v1/templates/{spare_template}").spends(Spend::SpareTemplate)     => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/surveys/{id}/distributions" at("/api/v1/surveys/{survey}/distributions")                  => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/surveys/{id}/distributions" at("/api/v1/surveys/{survey}/distributions")
                   .json(r#"{"mailingListId": "{list}", "templateId": "{template}", "sendAt": "2099-01-01T09:00:00Z"}"#)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/distributions/test" at("/api/v1/distributions/test")
                   .json(r#"{"templateId": "{template}", "surveyId": "{survey}", "contactId": "{contact}", "to": "me@example.com"}"#)
                                                                                                                  => Login Unknown Denied  Ok      Ok;
        GET    "/api/v1/distributions/test/{id}" at("/api/v1/distributions/test/{test_send}")                     => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/distributions/{id}" at("/api/v1/distributions/{distribution}")                            => Login Hidden  Ok      Ok      Ok;
        PATCH  "/api/v1/distributions/{id}" at("/api/v1/distributions/{distribution}")
                   .json(r#"{"sendAt": "2099-01-02T09:00:00Z"}"#)                                                 => Login Hidden  Denied  Ok      Ok;
        DELETE "/api/v1/distributions/{id}" at("/api/v1/distributions/{spare_distribution}")
                   .spends(Spend::SpareDistribution)                                                              => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/distributions/{id}/recipients" at("/api/v1/distributions/{distribution}/recipients")      => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/discover/projects" at("/api/v1/discover/projects").json(r#"{"name": "Chats {n}"}"#)         => Login Ok      Denied  Ok      Ok;
        GET    "/api/v1/discover/projects" at("/api/v1/discover/projects")                                        => Login Ok      Ok      Ok      Ok;
        GET    "/api/v1/discover/projects/{id}/documents" at("/api/v1/discover/projects/{discover_project}/documents?q=kettle")
                                                                                                                  => Login Hidden  Ok      Ok      Ok;
        // Queries are checked against one's own linked org.
        GET    "/api/v1/discover/projects/{id}/documents/{naturalId}" at("/api/v1/discover/projects/{discover_project}/documents/{discover_document}")
                                                                                                                  => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/discover/projects/{id}/volume" at("/api/v1/discover/projects/{discover_project}/volume")  => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/discover/projects/{id}/export.csv" at("/api/v1/discover/projects/{discover_project}/export.csv?q=kettle")
                                                                                                                  => Login Hidden  Ok      Ok      Ok;
        POST   "/api/v1/discover/validate-query" at("/api/v1/discover/validate-query")
                   .json(r#"{"connectionId": "{connection}", "soql": "SELECT Id FROM Case"}"#)                    => Login Hidden  Hidden  Ok      Hidden;
        POST   "/api/v1/discover/jobs" at("/api/v1/discover/jobs").json("{discover_job_json}")                    => Login Unknown Denied  Ok      Hidden;
        GET    "/api/v1/discover/jobs/{id}/sample" at("/api/v1/discover/jobs/{cancel_job}/sample?rows=3")        => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/discover/jobs" at("/api/v1/discover/jobs")                                                => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/discover/jobs/{id}/runs" at("/api/v1/discover/jobs/{discover_job}/runs").spends(Spend::DiscoverRun)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/discover/jobs/{id}/runs" at("/api/v1/discover/jobs/{discover_job}/runs")                  => Login Hidden  Ok      Ok      Ok;
        GET    "/api/v1/discover/runs/{id}" at("/api/v1/discover/runs/{discover_run}")                            => Login Hidden  Ok      Ok      Ok;
        // The picker's versions are of one's own linked org; a job's credential is changed by its organization's editors.
        GET    "/api/v1/discover/connections/{id}/versions" at("/api/v1/discover/connections/{connection}/versions")
                                                                                                                  => Login Hidden  Hidden  Ok      Hidden;
        POST   "/api/v1/discover/versions" at("/api/v1/discover/versions").json(r#"{"connectionId": "{connection}"}"#)
                                                                                                                  => Login Hidden  Hidden  Ok      Hidden;
        PUT    "/api/v1/discover/jobs/{id}/credential" at("/api/v1/discover/jobs/{discover_job}/credential")
                   .json(r#"{"account": {"clientId": "{sf_client_id}", "clientSecret": "{sf_client_secret}", "username": "{sf_username}", "password": "{sf_password}", "loginUrl": "{sf_login_url}"}}"#)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/api/v1/discover/runs/{id}/cancel" at("/api/v1/discover/runs/{discover_run}/cancel").spends(Spend::CancelledRun)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/api/v1/directory/frequency-rules" at("/api/v1/directory/frequency-rules")                        => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/directory/frequency-rules" at("/api/v1/directory/frequency-rules")
                   .json(r#"{"scope": {"type": "organization"}, "maxInvitations": 50, "periodDays": 1}"#)        => Login Ok      Denied  Denied  Ok;
        DELETE "/api/v1/directory/frequency-rules/{id}" at("/api/v1/directory/frequency-rules/{spare_rule}")
                   .spends(Spend::SpareRule)                                                                      => Login Hidden  Denied  Denied  Ok;

        // ---- credentials: everyone their own tokens and password; admins their organization's users ------ anon  other   viewer  editor  admin
        GET    "/api/v1/tokens" at("/api/v1/tokens")                                                              => Login Ok      Ok      Ok      Ok;
        POST   "/api/v1/tokens" at("/api/v1/tokens").json(r#"{"name": "matrix {n}", "expiresInDays": 30}"#)       => Login Ok      Ok      Ok      Ok;
        DELETE "/api/v1/tokens/{id}" at("/api/v1/tokens/{spare_token}").spends(Spend::SpareToken)                 => Login Hidden  Hidden  Ok      Hidden;
        POST   "/api/v1/account/password" at("/api/v1/account/password")
                   .json(r#"{"currentPassword": "{password}", "newPassword": "{password}", "keepApiTokens": true}"#)
                   .spends(Spend::Session)                                                                        => Login Ok      Ok      Ok      Ok;
        GET    "/api/v1/users" at("/api/v1/users")                                                                => Login Ok      Denied  Denied  Ok;
        POST   "/api/v1/users/{id}/deactivate" at("/api/v1/users/{spare_user}/deactivate").spends(Spend::SpareUser)
                                                                                                                  => Login Hidden  Denied  Denied  Ok;
        POST   "/api/v1/users/{id}/reactivate" at("/api/v1/users/{spare_user}/reactivate")                        => Login Hidden  Denied  Denied  Ok;
        PATCH  "/api/v1/users/{id}" at("/api/v1/users/{spare_user}").json(r#"{"role": "editor"}"#)               => Login Hidden  Denied  Denied  Ok;
        GET    "/api/v1/users/invitations" at("/api/v1/users/invitations")                                        => Login Ok      Denied  Denied  Ok;
        POST   "/api/v1/users/invitations" at("/api/v1/users/invitations")
                   .json(r#"{"email": "invitee{n}@example.com", "role": "viewer"}"#)                              => Login Ok      Denied  Denied  Ok;
        DELETE "/api/v1/users/invitations/{id}" at("/api/v1/users/invitations/{spare_invitation}")
                   .spends(Spend::SpareInvitation)                                                                => Login Hidden  Denied  Denied  Ok;

        // ---- operations, Salesforce's return, respondents (no sign-in) ------------------------------------ anon  other   viewer  editor  admin
        GET    "/healthz" at("/healthz")                                                                          => Ok    Ok      Ok      Ok      Ok;
        GET    "/metrics" at("/metrics")                                                                          => Login Ok      Denied  Denied  Ok;
        GET    "/oauth/salesforce/callback" at("/oauth/salesforce/callback?{oauth_grant}").spends(Spend::OAuthGrant)
                                                                                                                  => Ok    Ok      Ok      Ok      Ok;
        GET    "/s/{survey_id}" at("/s/{survey}")                                                                 => Ok    Ok      Ok      Ok      Ok;
        POST   "/s/{survey_id}" at("/s/{survey}").form(&[("_response", "{in_progress}"), ("_page", "99")])        => Ok    Ok      Ok      Ok      Ok;
        // Salesforce's Outbound Messages: the token in the path is the credential (a wrong one is a 404)
        POST   "/hooks/salesforce/{token}" at("/hooks/salesforce/{sf_endpoint}").text("text/xml", OUTBOUND_MESSAGE)
                                                                                                                  => Ok    Ok      Ok      Ok      Ok;
        GET    "/optout/{token}" at("/optout/{optout_token}")                                                     => Ok    Ok      Ok      Ok      Ok;
        POST   "/optout/{token}" at("/optout/{optout_token}").form(&[])                                           => Ok    Ok      Ok      Ok      Ok;

        // ---- Twilio's webhooks: signed, not authenticated (each also called unsigned and wrongly
        // signed by every caller, which must be Denied) --------------------------------------- anon  other   viewer  editor  admin
        POST   "/webhooks/twilio/status" at("/webhooks/twilio/status").twilio(TWILIO_STATUS)                       => Ok    Ok      Ok      Ok      Ok;
        POST   "/webhooks/twilio/inbound" at("/webhooks/twilio/inbound").twilio(TWILIO_INBOUND)                    => Ok    Ok      Ok      Ok      Ok;

        // ---- the Canvas panel: Salesforce's signature, then the page's signed pass, are the
        // credential; no session is read, so every caller gets the same answer ------------------ anon  other   viewer  editor  admin
        POST   "/panel" at("/panel").form(&[("signed_request", "{panel_request}")])                              => Ok    Ok      Ok      Ok      Ok;
        GET    "/panel/responses/{id}" at("/panel/responses/{panel_response}?t={panel_pass}")                   => Ok    Ok      Ok      Ok      Ok;
        GET    "/panel/home" at("/panel/home?t={panel_pass}")                                                     => Ok    Ok      Ok      Ok      Ok;
        GET    "/panel/send" at("/panel/send?t={panel_pass}")                                                     => Ok    Ok      Ok      Ok      Ok;
        POST   "/panel/send" at("/panel/send").form(&[("t", "{panel_pass}")])                                     => Ok    Ok      Ok      Ok      Ok;
        GET    "/panel/dashboard" at("/panel/dashboard?t={panel_pass}")                                           => Ok    Ok      Ok      Ok      Ok;
        GET    "/panel/sent" at("/panel/sent?t={panel_pass}")                                                     => Ok    Ok      Ok      Ok      Ok;
        GET    "/panel/scheduled" at("/panel/scheduled?t={panel_pass}")                                           => Ok    Ok      Ok      Ok      Ok;
        POST   "/panel/scheduled/{id}" at("/panel/scheduled/EMD_none").form(&[("t", "{panel_pass}"), ("send_at", "2030-01-01T09:00")])
                                                                                                                  => Ok    Ok      Ok      Ok      Ok;
        POST   "/panel/scheduled/{id}/delete" at("/panel/scheduled/EMD_none/delete").form(&[("t", "{panel_pass}")])
                                                                                                                  => Ok    Ok      Ok      Ok      Ok;
        // The matrix's pass is the editor's: the Settings tab and Disconnect are for admins.
        GET    "/panel/settings" at("/panel/settings?t={panel_pass}")                                             => Denied Denied Denied  Denied  Denied;
        POST   "/panel/settings" at("/panel/settings").form(&[("t", "{panel_pass}")])                             => Denied Denied Denied  Denied  Denied;
        POST   "/panel/disconnect" at("/panel/disconnect").form(&[("t", "{panel_pass}")])                         => Denied Denied Denied  Denied  Denied;

        // ---- admin UI (session cookie; forms carry the caller's CSRF token) -------------------------------- anon  other   viewer  editor  admin
        GET    "/assets/{name}" at("/assets/sonde.css")                                                           => Ok    Ok      Ok      Ok      Ok;
        GET    "/account" at("/account")                                                                          => Login Ok      Ok      Ok      Ok;
        POST   "/account/tokens" at("/account/tokens").form(&[("name", "UI token {n}"), ("expires_in_days", "7")])  => Login Ok      Ok      Ok      Ok;
        GET    "/account/tokens/{id}/revoke" at("/account/tokens/{spare_token}/revoke")                          => Login Hidden  Hidden  Ok      Hidden;
        POST   "/account/tokens/{id}/revoke" at("/account/tokens/{spare_token}/revoke").form(&[])
                   .spends(Spend::SpareToken)                                                                     => Login Hidden  Hidden  Ok      Hidden;
        POST   "/account/password" at("/account/password")
                   .form(&[("current_password", "{password}"), ("new_password", "{password}"), ("keep_api_tokens", "1")])
                                                                                                                  => Login Ok      Ok      Ok      Ok;
        GET    "/" at("/")                                                                                        => Ok    Ok      Ok      Ok      Ok;
        GET    "/login" at("/login")                                                                              => Ok    Ok      Ok      Ok      Ok;
        POST   "/login" at("/login").form(&[("email", "{editor_email}"), ("password", "{password}")])             => Ok    Ok      Ok      Ok      Ok;
        POST   "/logout" at("/logout").form(&[]).spends(Spend::Session)                                           => Login Ok      Ok      Ok      Ok;
        GET    "/invitations/{token}" at("/invitations/{invitation_token}")                                       => Ok    Ok      Ok      Ok      Ok;
        POST   "/invitations/{token}" at("/invitations/{invitation_token}")
                   .form(&[("password", "{password}"), ("password_again", "{password}")])
                   .spends(Spend::InvitationLink)                                                                 => Ok    Ok      Ok      Ok      Ok;
        GET    "/users" at("/users")                                                                              => Login Ok      Denied  Denied  Ok;
        POST   "/users/invitations" at("/users/invitations").form(&[("email", "joiner{n}@example.com"), ("role", "editor")])
                                                                                                                  => Login Ok      Denied  Denied  Ok;
        POST   "/users/invitations/{id}/revoke" at("/users/invitations/{spare_invitation}/revoke").form(&[])
                   .spends(Spend::SpareInvitation)                                                                => Login Hidden  Denied  Denied  Ok;
        POST   "/users/{id}/role" at("/users/{spare_user}/role").form(&[("role", "editor")])                      => Login Hidden  Denied  Denied  Ok;
        GET    "/users/{id}/deactivate" at("/users/{spare_user}/deactivate")                                      => Login Hidden  Denied  Denied  Ok;
        POST   "/users/{id}/deactivate" at("/users/{spare_user}/deactivate").form(&[("confirm", "yes")])
                   .spends(Spend::SpareUser)                                                                      => Login Hidden  Denied  Denied  Ok;
        GET    "/users/{id}/reactivate" at("/users/{spare_user}/reactivate")                                      => Login Hidden  Denied  Denied  Ok;
        POST   "/users/{id}/reactivate" at("/users/{spare_user}/reactivate").form(&[("confirm", "yes")])          => Login Hidden  Denied  Denied  Ok;
        GET    "/surveys" at("/surveys")                                                                          => Login Ok      Ok      Ok      Ok;
        POST   "/surveys/import" at("/surveys/import").upload("{qsf}", &[])                                       => Login Ok      Denied  Ok      Ok;
        GET    "/surveys/{id}" at("/surveys/{survey}")                                                            => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/new" at("/surveys/new")                                                                  => Login Ok      Denied  Ok      Ok;
        POST   "/surveys/new" at("/surveys/new").form(&[("name", "Built {n}")])                                   => Login Ok      Denied  Ok      Ok;
        GET    "/surveys/{id}/builder" at("/surveys/{survey}/builder")                                            => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/builder" at("/surveys/{spare_survey}/builder")
                   .form(&[("op", "add_page_break"), ("block_id", "BL_about_you"), ("position", "0")])             => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/builder/questions/new" at("/surveys/{survey}/builder/questions/new?block=BL_about_you&type=matrix")
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/builder/questions/new" at("/surveys/{spare_survey}/builder/questions/new")
                   .form(&[("kind", "descriptive"), ("block_id", "BL_about_you"), ("text", "Thank you")])          => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/builder/questions/{question_id}" at("/surveys/{survey}/builder/questions/QID4")     => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/builder/questions/{question_id}" at("/surveys/{spare_survey}/builder/questions/QID1")
                   .form(&[("kind", "descriptive"), ("text", "Hello")])                                           => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/builder/flow" at("/surveys/{survey}/builder/flow")                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/builder/flow" at("/surveys/{spare_survey}/builder/flow")
                   .form(&[("r0.kind", "block"), ("r0.depth", "0"), ("r0.block_id", "BL_experience")])            => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/builder/end-message" at("/surveys/{survey}/builder/end-message")                    => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/builder/end-message" at("/surveys/{spare_survey}/builder/end-message")
                   .form(&[("end_message", "Thanks!")])                                                           => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/share" at("/surveys/{survey}/share").form(&[("email", "{viewer_email}")])           => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/publish" at("/surveys/{survey}/publish").form(&[])                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/close" at("/surveys/{spare_survey}/close").form(&[]).spends(Spend::SpareSurvey)      => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/reopen" at("/surveys/{spare_survey}/reopen").form(&[])                              => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/archive" at("/surveys/{spare_survey}/archive")                                      => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/archive" at("/surveys/{spare_survey}/archive").form(&[]).spends(Spend::SpareSurvey)  => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/restore" at("/surveys/{archived_survey}/restore").form(&[])
                   .spends(Spend::ArchivedSurvey)                                                                 => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/purge" at("/surveys/{archived_survey}/purge")                                       => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/purge" at("/surveys/{archived_survey}/purge").form(&[]).spends(Spend::ArchivedSurvey)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/responses" at("/surveys/{survey}/responses?status=complete")                        => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/dashboard" at("/surveys/{survey}/dashboard?from=2020-01-01")                        => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/responses/{response_id}" at("/surveys/{survey}/responses/{response}")               => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/responses/{response_id}/delete" at("/surveys/{survey}/responses/{spare_response}/delete")
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/responses/{response_id}/delete" at("/surveys/{survey}/responses/{spare_response}/delete")
                   .form(&[]).spends(Spend::SpareResponse)                                                        => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/export.csv" at("/surveys/{survey}/export.csv")                                      => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/export.json" at("/surveys/{survey}/export.json")                                    => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/bundle.json" at("/surveys/{survey}/bundle.json")                                    => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/survey.qsf" at("/surveys/{survey}/survey.qsf")                                      => Login Hidden  Ok      Ok      Ok;
        POST   "/surveys/{id}/opt-out-sync" at("/surveys/{survey}/opt-out-sync").form(&[("choice", "follow")])   => Login Hidden  Denied  Ok      Ok;
        GET    "/contacts" at("/contacts")                                                                        => Login Ok      Ok      Ok      Ok;
        POST   "/contacts/import" at("/contacts/import")
                   .upload("Email,FirstName\nmae{n}@example.com,Mae\n", &[("list_id", "")])                       => Login Ok      Denied  Ok      Ok;
        GET    "/contacts/{id}/delete" at("/contacts/{spare_contact}/delete")                                     => Login Hidden  Denied  Ok      Ok;
        POST   "/contacts/{id}/delete" at("/contacts/{spare_contact}/delete").form(&[]).spends(Spend::SpareContact) => Login Hidden  Denied  Ok      Ok;
        GET    "/lists" at("/lists")                                                                              => Login Ok      Ok      Ok      Ok;
        POST   "/lists" at("/lists").form(&[("name", "UI list {n}")])                                             => Login Ok      Denied  Ok      Ok;
        GET    "/lists/{id}" at("/lists/{list}")                                                                  => Login Hidden  Ok      Ok      Ok;
        GET    "/lists/{id}/delete" at("/lists/{spare_list}/delete")                                              => Login Hidden  Denied  Ok      Ok;
        POST   "/lists/{id}/delete" at("/lists/{spare_list}/delete").form(&[]).spends(Spend::SpareList)           => Login Hidden  Denied  Ok      Ok;
        GET    "/audit" at("/audit")                                                                              => Login Ok      Denied  Denied  Ok;
        GET    "/salesforce" at("/salesforce")                                                                    => Login Ok      Ok      Ok      Ok;
        POST   "/salesforce/link" at("/salesforce/link")
                   .form(&[("environment", "custom"), ("login_url", "{login_url}")])                              => Login Ok      Denied  Ok      Ok;
        POST   "/salesforce/opt-out-sync" at("/salesforce/opt-out-sync")
                   .form(&[("enabled", "on"), ("email_field", "HasOptedOutOfEmail")])                             => Login Ok      Denied  Denied  Ok;
        GET    "/salesforce/{id}/check" at("/salesforce/{connection}/check")                                      => Login Hidden  Hidden  Ok      Hidden;
        POST   "/salesforce/{id}/refresh-metadata" at("/salesforce/{connection}/refresh-metadata").form(&[])     => Login Hidden  Hidden  Ok      Hidden;
        GET    "/salesforce/{id}/disconnect" at("/salesforce/{connection}/disconnect")                            => Login Hidden  Hidden  Ok      Hidden;
        POST   "/salesforce/{id}/disconnect" at("/salesforce/{spare_connection}/disconnect").form(&[("confirm", "yes")])
                   .spends(Spend::SpareConnection)                                                                => Login Hidden  Denied  Ok      Hidden;
        GET    "/surveys/{id}/workflows" at("/surveys/{survey}/workflows")                                        => Login Hidden  Ok      Ok      Ok;
        GET    "/surveys/{id}/workflows/move" at("/surveys/{survey}/workflows/move?connection={connection}")      => Login Hidden  Denied  Ok      Hidden;
        POST   "/surveys/{id}/workflows/move" at("/surveys/{survey}/workflows/move").form(&[("connection", "{connection}")])
                                                                                                                  => Login Hidden  Denied  Ok      Hidden;
        GET    "/surveys/{id}/workflows/new" at("/surveys/{survey}/workflows/new")                                => Login Hidden  Denied  Ok      Ok;
        POST   "/surveys/{id}/workflows/new" at("/surveys/{survey}/workflows/new").form(DIRECTORY_WORKFLOW_FORM)   => Login Hidden  Denied  Ok      Ok;
        GET    "/workflows/{id}" at("/workflows/{workflow}")                                                      => Login Hidden  Ok      Ok      Ok;
        POST   "/workflows/{id}" at("/workflows/{dir_workflow}").form(DIRECTORY_WORKFLOW_FORM)                    => Login Hidden  Denied  Ok      Denied;
        POST   "/workflows/{id}/delete" at("/workflows/{spare_workflow}/delete").form(&[])
                   .spends(Spend::SpareWorkflow)                                                                  => Login Hidden  Denied  Ok      Denied;
        POST   "/workflows/{id}/copy" at("/workflows/{dir_workflow}/copy").form(&[])                              => Login Hidden  Denied  Ok      Ok;
        GET    "/workflows/{id}/runs" at("/workflows/{workflow}/runs")                                            => Login Hidden  Ok      Ok      Ok;
        POST   "/workflows/{id}/runs/{run_id}/retry" at("/workflows/{workflow}/runs/{failed_run}/retry").form(&[])
                   .spends(Spend::FailedRun)                                                                      => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/distributions" at("/surveys/{survey}/distributions")                                => Login Hidden  Ok      Ok      Ok;
        POST   "/surveys/{id}/distributions" at("/surveys/{survey}/distributions").form(DISTRIBUTION_FORM)         => Login Hidden  Denied  Ok      Ok;
        GET    "/surveys/{id}/distributions/new" at("/surveys/{survey}/distributions/new")                        => Login Hidden  Denied  Ok      Ok;
        GET    "/distributions/{id}" at("/distributions/{distribution}")                                          => Login Hidden  Ok      Ok      Ok;
        GET    "/distributions/{id}/edit" at("/distributions/{distribution}/edit")                                => Login Hidden  Denied  Ok      Ok;
        POST   "/distributions/{id}/edit" at("/distributions/{distribution}/edit").form(DISTRIBUTION_FORM)        => Login Hidden  Denied  Ok      Ok;
        GET    "/distributions/{id}/delete" at("/distributions/{distribution}/delete")                            => Login Hidden  Denied  Ok      Ok;
        POST   "/distributions/{id}/delete" at("/distributions/{spare_distribution}/delete").form(&[])
                   .spends(Spend::SpareDistribution)                                                              => Login Hidden  Denied  Ok      Ok;
        GET    "/templates" at("/templates")                                                                      => Login Ok      Ok      Ok      Ok;
        POST   "/templates" at("/templates").form(TEMPLATE_FORM)                                                  => Login Ok      Denied  Ok      Ok;
        GET    "/templates/new" at("/templates/new?channel=sms")                                                  => Login Ok      Denied  Ok      Ok;
        POST   "/templates/test-send" at("/templates/test-send").form(&[("template_id", "{template}"), ("survey_id", "{survey}"),
                   ("contact_id", "{contact}"), ("to", "me@example.com")])                                        => Login Unknown Denied  Ok      Ok;
        GET    "/templates/test-send/{id}" at("/templates/test-send/{test_send}")                                 => Login Hidden  Denied  Ok      Ok;
        GET    "/templates/{id}" at("/templates/{template}")                                                      => Login Hidden  Ok      Ok      Ok;
        POST   "/templates/{id}" at("/templates/{template}").form(TEMPLATE_FORM)                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/templates/{id}/delete" at("/templates/{template}/delete")                                        => Login Hidden  Denied  Ok      Ok;
        POST   "/templates/{id}/delete" at("/templates/{spare_template}/delete").form(&[])
                   .spends(Spend::SpareTemplate)                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/directory/settings" at("/directory/settings")                                                    => Login Ok      Ok      Ok      Ok;
        POST   "/directory/frequency-rules" at("/directory/frequency-rules")
                   .form(&[("scope", "organization"), ("max_invitations", "50"), ("period_days", "1")])           => Login Ok      Denied  Denied  Ok;
        GET    "/directory/frequency-rules/{id}/delete" at("/directory/frequency-rules/{spare_rule}/delete")      => Login Hidden  Denied  Denied  Ok;
        POST   "/directory/frequency-rules/{id}/delete" at("/directory/frequency-rules/{spare_rule}/delete").form(&[])
                   .spends(Spend::SpareRule)                                                                      => Login Hidden  Denied  Denied  Ok;
        GET    "/discover" at("/discover")                                                                        => Login Ok      Ok      Ok      Ok;
        POST   "/discover/projects" at("/discover/projects").form(&[("name", "UI project {n}")])                  => Login Ok      Denied  Ok      Ok;
        GET    "/discover/projects/{id}" at("/discover/projects/{discover_project}?q=kettle&from=2020-01-01")     => Login Hidden  Ok      Ok      Ok;
        GET    "/discover/projects/{id}/export.csv" at("/discover/projects/{discover_project}/export.csv")        => Login Hidden  Ok      Ok      Ok;
        GET    "/discover/projects/{id}/documents/{natural_id}" at("/discover/projects/{discover_project}/documents/{discover_document}")
                                                                                                                  => Login Hidden  Ok      Ok      Ok;
        GET    "/discover/jobs" at("/discover/jobs")                                                              => Login Ok      Ok      Ok      Ok;
        GET    "/discover/jobs/new" at("/discover/jobs/new?project={discover_project}")                           => Login Ok      Denied  Ok      Ok;
        // Saving checks the query against one's own linked org, as the API does.
        POST   "/discover/jobs/new" at("/discover/jobs/new").form(DISCOVER_JOB_FORM)                              => Login Unknown Denied  Ok      Hidden;
        GET    "/discover/jobs/{id}" at("/discover/jobs/{cancel_job}")                                            => Login Hidden  Ok      Ok      Ok;
        POST   "/discover/jobs/{id}/run" at("/discover/jobs/{discover_job}/run").form(&[]).spends(Spend::DiscoverRun)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        GET    "/discover/jobs/{id}/sample.csv" at("/discover/jobs/{cancel_job}/sample.csv")                      => Login Hidden  Ok      Ok      Ok;
        GET    "/discover/runs/{id}" at("/discover/runs/{discover_run}")                                          => Login Hidden  Ok      Ok      Ok;
        POST   "/discover/runs/{id}/cancel" at("/discover/runs/{discover_run}/cancel").form(&[]).spends(Spend::CancelledRun)
                                                                                                                  => Login Hidden  Denied  Ok      Ok;
        // No local gateways in these fixtures: the demo's Outbox is for admins, and absent here.
        GET    "/outbox" at("/outbox")                                                                            => Login Hidden  Denied  Denied  Hidden;
    }
}

/// The new-distribution form (and the edit form) for a distribution that waits for 2099.
const DISTRIBUTION_FORM: &[(&str, &str)] = &[
    ("channel", "email"),
    ("audience", "list"),
    ("mailing_list_id", "{list}"),
    ("template_id", "{template}"),
    ("when", "later"),
    ("send_at", "2099-01-03T09:00"),
    ("time_zone", "UTC"),
];

/// The Discover job form, saved: a feedback job on the fixture project.
const DISCOVER_JOB_FORM: &[(&str, &str)] = &[
    ("action", "save"),
    ("name", "UI job {n}"),
    ("project_id", "{discover_project}"),
    ("connection_id", "{connection}"),
    ("data_type", "feedback"),
    ("soql", "SELECT Id, Description, CreatedDate FROM Case"),
    ("date_field", "CreatedDate"),
    ("participants", "auto"),
    ("duplicates", "skip"),
];

/// The template editor's form for an email template.
const TEMPLATE_FORM: &[(&str, &str)] = &[
    ("channel", "email"),
    ("name", "UI template {n}"),
    ("subject", "Hi ${m://FirstName}"),
    ("body", "<p>${l://SurveyLink}</p>"),
    ("defaultLanguage", "EN"),
];

/// The workflow editor's form for a directory task adding the respondent to the list, saved.
const DIRECTORY_WORKFLOW_FORM: &[(&str, &str)] = &[
    ("action", "save"),
    ("name", "Respondents join the list {n}"),
    ("event", "response_updated"),
    ("enabled", "on"),
    ("match", "all"),
    ("t0_kind", "directory"),
    ("t0_action", "add_to_list"),
    ("t0_list", "{list}"),
    ("t0_m0_field", "email"),
    ("t0_m0_kind", "piped"),
    ("t0_m0_text", "${m://Email}"),
];

/// A status callback for a message Sonde does not know (acknowledged, nothing changes).
const TWILIO_STATUS: &[(&str, &str)] = &[
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("ApiVersion", "2010-04-01"),
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
    ("MessageStatus", "delivered"),
    ("SmsStatus", "delivered"),
    ("From", "+15005550006"),
    ("To", "+15558675310"),
];

/// A reply from a phone no conversation waits for (answered with empty TwiML).
const TWILIO_INBOUND: &[(&str, &str)] = &[
    ("MessageSid", "SM00000000000000000000000000000000"),
    ("SmsSid", "SM00000000000000000000000000000000"),
    ("SmsMessageSid", "SM00000000000000000000000000000000"),
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("From", "+15558675310"),
    ("To", "+15005550006"),
    ("Body", "hello"),
    ("SmsStatus", "received"),
    ("ApiVersion", "2010-04-01"),
];

fn key(method: &Method, path: &str) -> String {
    format!("{method} {path}")
}

#[test]
fn every_route_has_a_row() {
    let registered: BTreeSet<String> = web::routes::table()
        .iter()
        .map(|r| key(&r.method, r.path))
        .collect();
    let rows = table();
    let mut in_table = BTreeSet::new();
    for row in &rows {
        assert!(
            in_table.insert(key(&row.method, row.route)),
            "two rows for {}",
            key(&row.method, row.route)
        );
    }
    let missing: Vec<_> = registered.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the access matrix (add one to access/matrix.rs): {missing:#?}"
    );
    assert!(
        stale.is_empty(),
        "rows for routes the router does not have: {stale:#?}"
    );
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let mut all_wrong = Vec::new();
    for backend in backends() {
        let mut world = World::build(backend).await;
        let rows = table();
        let mut wrong = Vec::new();
        for row in &rows {
            for (who, caller) in CALLERS.iter().enumerate() {
                let answer = world.call(who, &row.method, &row.call).await;
                let got = answer.outcome();
                if matches!(row.call.body, Body::Twilio(_)) {
                    for signing in [TwilioSigning::Missing, TwilioSigning::Wrong] {
                        world.twilio_signing = signing;
                        let refused = world.call(who, &row.method, &row.call).await;
                        world.twilio_signing = TwilioSigning::Good;
                        if refused.outcome() != Some(Outcome::Denied) {
                            wrong.push(format!(
                                "{backend:?}: {} {} as {caller}, {signing:?} signature: expected Denied, got {}",
                                row.method, row.route, refused.status
                            ));
                        }
                    }
                }
                if got != Some(row.expect[who]) {
                    let body: String = answer.body.chars().take(300).collect();
                    wrong.push(format!(
                        "{backend:?}: {} {} as {caller}: expected {:?}, got {} {:?} ({}) {body}",
                        row.method,
                        row.route,
                        row.expect[who],
                        answer.status,
                        got,
                        answer.location.as_deref().unwrap_or("-"),
                    ));
                }
            }
        }
        let failed_rows: BTreeSet<_> = wrong
            .iter()
            .map(|w| w.split(" as ").next().unwrap().to_string())
            .collect();
        eprintln!(
            "access matrix on {backend:?}: {} routes × {} callers = {} calls; {} calls in {} rows differ",
            rows.len(),
            CALLERS.len(),
            rows.len() * CALLERS.len(),
            wrong.len(),
            failed_rows.len(),
        );
        all_wrong.extend(wrong);
        world.shutdown().await;
    }
    assert!(all_wrong.is_empty(), "{}", all_wrong.join("\n"));
}
