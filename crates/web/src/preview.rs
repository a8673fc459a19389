//! Previews of a survey (`/s/{survey}?_preview=1`, the admin UI's "Preview" button): for a
//! signed-in member of the organization who can see the survey, since a preview shows a
//! survey as it is before anyone was sent a link. Nothing of a preview is stored (the engine
//! keeps its answers in the form), and every page of it says so.

use crate::auth::{cookie, SESSION_COOKIE};
use crate::error::PageError;
use crate::AppState;
use axum::http::HeaderMap;
use engine::{Actor, Error};
use maud::{html, Markup};

/// The query parameter that asks for a preview.
pub const PARAM: &str = "_preview";

/// What every preview page says at its top.
pub const BANNER: &str = "Preview — nothing is recorded";

/// The person asking for a preview: signed in to the web UI (else they are sent to sign in).
pub async fn previewer(state: &AppState, headers: &HeaderMap) -> Result<Actor, PageError> {
    let session = cookie(headers, SESSION_COOKIE).ok_or(PageError(Error::Unauthenticated))?;
    let (actor, _) = state.sonde.web_session(session).await?;
    Ok(actor)
}

/// The banner at the top of every preview page.
pub fn banner() -> Markup {
    html! {
        p.preview-banner role="status" { strong { (BANNER) } }
    }
}
