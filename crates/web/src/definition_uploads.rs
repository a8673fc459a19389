//! Requests that turn a body of up to 32 MiB into a survey definition (create, edit, `.qsf`
//! import; API and admin UI) wait for one of a few permits before their body is read: many at
//! once hold that many bodies in memory, not all of them (the parsing behind them runs two at
//! a time in the engine anyway).

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Definition uploads read at once, per router.
const AT_ONCE: usize = 2;

pub(crate) fn permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(AT_ONCE))
}

fn is_upload(method: &Method, route: &str) -> bool {
    matches!(
        (method, route),
        (
            &Method::POST,
            "/api/v1/surveys" | "/api/v1/surveys/import" | "/surveys/import"
        ) | (&Method::PUT, "/api/v1/surveys/{id}")
    )
}

pub(crate) async fn one_of_few(
    State(permits): State<Arc<Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    let upload = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| is_upload(req.method(), p.as_str()));
    // The semaphore is never closed, so a permit always comes.
    let _permit = if upload {
        permits.acquire_owned().await.ok()
    } else {
        None
    };
    next.run(req).await
}
