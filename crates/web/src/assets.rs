//! Static files Sonde serves itself — the admin UI's stylesheet and script — embedded at build
//! time, so pages carry no inline script or style and a Content-Security-Policy can forbid both.

use crate::error::PageError;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Name, content type and contents of every file under `/assets/`.
const FILES: &[(&str, &str, &str)] = &[
    (
        "admin-ui.css",
        "text/css; charset=utf-8",
        include_str!("assets/admin-ui.css"),
    ),
    (
        "admin-ui.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/admin-ui.js"),
    ),
];

/// `GET /assets/{name}`: no sign-in (the sign-in page uses them too), nothing secret in them.
pub async fn asset(Path(name): Path<String>) -> Result<Response, PageError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(PageError(engine::Error::NotFound("file")))?;
    Ok((
        [
            (header::CONTENT_TYPE, *content_type),
            // Short: a new version's files are picked up within minutes, without versioned names.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        *body,
    )
        .into_response())
}
