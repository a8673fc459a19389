//! The stylesheet and script every page links to, built into the binary. Their URLs carry a
//! hash of the content, so browsers may keep them for long and still see a new version at once.

use axum::extract::{Path, RawQuery};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;

pub struct Asset {
    pub name: &'static str,
    content_type: &'static str,
    body: &'static str,
    version: OnceLock<String>,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Self {
            name,
            content_type,
            body,
            version: OnceLock::new(),
        }
    }

    fn version(&self) -> &str {
        self.version.get_or_init(|| {
            let mut h = DefaultHasher::new();
            self.body.hash(&mut h);
            format!("{:016x}", h.finish())
        })
    }

    /// The URL pages link to.
    pub fn url(&self) -> String {
        format!("/assets/{}?v={}", self.name, self.version())
    }
}

pub static STYLESHEET: Asset = Asset::new(
    "sonde.css",
    "text/css; charset=utf-8",
    include_str!("../assets/sonde.css"),
);
pub static SCRIPT: Asset = Asset::new(
    "sonde.js",
    "text/javascript; charset=utf-8",
    include_str!("../assets/sonde.js"),
);

/// `GET /assets/{name}`: cached for a year when asked for this version, else for a minute (an
/// old page asking for an old version gets today's file, briefly cached).
pub async fn serve(Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(asset) = [&STYLESHEET, &SCRIPT].into_iter().find(|a| a.name == name) else {
        return crate::error::PageError(engine::Error::NotFound("file")).into_response();
    };
    let current = query.as_deref() == Some(&format!("v={}", asset.version()));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
        ],
        asset.body,
    )
        .into_response()
}
