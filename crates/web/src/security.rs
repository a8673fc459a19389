//! Security headers on every answer: a Content-Security-Policy that allows only Sonde's own
//! scripts and styles (pages carry no inline code; it lives in `/assets`), no framing, no MIME
//! sniffing and no full URLs in `Referer` (respondent links carry tokens).
//!
//! A page that must be framed (the Salesforce Canvas panel, later) says so with
//! [`framed_by`]: its answer then names the origins allowed to frame it instead of refusing all.

use axum::extract::Request;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Images may come from anywhere over HTTPS: authored survey text links to them (the
/// sanitizer keeps `img src`). Everything else is Sonde's own.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' https: data:; object-src 'none'; base-uri 'none'";

/// Marks an answer as one that the given origins (e.g. `https://*.force.com`) may frame.
#[derive(Debug, Clone)]
pub struct FramedBy(pub String);

/// Lets `origins` (space-separated CSP sources) frame this answer: add the result to a
/// response's extensions (`(framed_by("https://*.force.com"), page)`).
pub fn framed_by(origins: &str) -> axum::Extension<FramedBy> {
    axum::Extension(FramedBy(origins.to_string()))
}

/// The middleware: sets each header unless the handler set it already.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let framed_by = response.extensions().get::<FramedBy>().cloned();
    let headers = response.headers_mut();
    let csp = match &framed_by {
        Some(FramedBy(origins)) => format!("{POLICY}; frame-ancestors {origins}"),
        None => format!("{POLICY}; frame-ancestors 'none'"),
    };
    let mut set = |name: HeaderName, value: &str| {
        if !headers.contains_key(&name) {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &csp);
    // Browsers that predate frame-ancestors; it has no "allow these" form, so it is left out
    // for a framed page.
    if framed_by.is_none() {
        set(header::X_FRAME_OPTIONS, "DENY");
    }
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn answer(path: &str) -> Response {
        let app = Router::new()
            .route("/page", get(|| async { "page" }))
            .route(
                "/panel",
                get(|| async { (framed_by("https://*.force.com"), "panel") }),
            )
            .layer(axum::middleware::from_fn(headers));
        app.oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn pages_refuse_framing_unless_they_name_who_may_frame_them() {
        let page = answer("/page").await;
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

        let panel = answer("/panel").await;
        let csp = panel.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.ends_with("frame-ancestors https://*.force.com"),
            "{csp}"
        );
        assert!(panel.headers().get(header::X_FRAME_OPTIONS).is_none());
        assert!(csp.contains("script-src 'self'"), "{csp}");
    }
}
