//! Survey bundles in the admin UI: a survey with its workflows, templates and opt-out
//! override downloaded as one JSON file, and read back through the surveys page's import form
//! (which tells a bundle from a `.qsf` by its `format`).

use crate::auth::WebUser;
use crate::error::PageError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use engine::survey_bundles::{SurveyBundle, BUNDLE_FORMAT};
use engine::Error;

/// The download, named after the survey so several bundles can sit in one folder.
pub async fn export(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let bundle = state.sonde.export_bundle(&user.actor, &id).await?;
    let json = serde_json::to_string_pretty(&bundle).map_err(Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-bundle.json\""),
            ),
        ],
        json,
    )
        .into_response())
}

/// The upload as a bundle, when it says it is one; `None` for anything else (a `.qsf`).
/// A file that names the bundle format but does not read as one is refused as a bundle, so
/// its problems are about the bundle and not about Qualtrics.
pub(crate) fn as_bundle(text: &str) -> Option<Result<SurveyBundle, Error>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let format = value.get("format")?.as_str()?;
    if !format.starts_with("sonde.survey-bundle") {
        return None;
    }
    if format != BUNDLE_FORMAT {
        return Some(Err(Error::invalid(format!(
            "this bundle is {format:?}; this Sonde reads {BUNDLE_FORMAT}"
        ))));
    }
    Some(
        serde_json::from_value(value)
            .map_err(|e| Error::invalid(format!("the bundle could not be read: {e}"))),
    )
}

/// The survey as a Qualtrics `.qsf` file (the survey page's Export button).
pub async fn export_qsf(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let s = state.sonde.survey(&user.actor, &id).await?;
    Ok(crate::api::qsf_download(&s).into_response())
}
