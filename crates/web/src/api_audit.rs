//! `GET /api/v1/audit-events`: the organization's audit log for admins, newest first, paged
//! and filtered by action or subject.

use crate::api::ApiResult;
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use engine::audit::{AuditEvent, AuditQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The query string of `GET /audit-events`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditEventsQuery {
    /// Only this action: survey.archived, survey.restored, survey.purged, contact.deleted,
    /// mailing_list.deleted, response.deleted, api_token.revoked, invitation.created,
    /// invitation.revoked, invitation.accepted, user.role_changed, user.deactivated,
    /// user.reactivated.
    pub action: Option<String>,
    /// Only acts on this kind of thing: survey, contact, mailing_list, response, api_token,
    /// invitation, user.
    pub subject_kind: Option<String>,
    /// Only acts on the thing with this id.
    pub subject_id: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<usize>,
}

/// One page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditEventPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next (older) page; null on the last.
    pub next: Option<String>,
}

/// The organization's audit log, newest first (admins)
///
/// One event per administrative act: archiving, restoring and purging surveys, deleting
/// responses, contacts and mailing lists, revoking API tokens.
#[utoipa::path(get, path = "/audit-events", tag = "audit", params(AuditEventsQuery),
    responses((status = 200, body = AuditEventPage)))]
pub async fn list_audit_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<AuditEventsQuery>,
) -> ApiResult<Json<AuditEventPage>> {
    let (events, next) = state
        .sonde
        .audit_events(
            &actor,
            &AuditQuery {
                action: q.action.as_deref(),
                subject_kind: q.subject_kind.as_deref(),
                subject_id: q.subject_id.as_deref(),
                after: q.after.as_deref(),
                limit: q.limit.unwrap_or(100),
            },
        )
        .await?;
    Ok(Json(AuditEventPage { events, next }))
}
