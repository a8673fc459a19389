//! The respondent's side: `/s/{survey}` pages and the opt-out link. No sign-in; the response
//! id (unguessable) travels in a hidden field and a cookie scoped to the survey's path once
//! the first page is submitted — opening a link stores nothing (`engine::form_state`).

use crate::error::PageError;
use crate::{pages, AppState};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use engine::form_state::FormState;
use engine::responses::{Arrival, PageView, Submission};
use maud::html;

fn resume_cookie_name(survey_id: &str) -> String {
    // Cookie names cannot hold every character; survey ids are alphanumeric plus '_'.
    format!(
        "sonde_r_{}",
        survey_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
    )
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// The hidden field that carries a respondent form's state (see `engine::form_state`).
fn form_field(form: &FormState) -> (&'static str, &str) {
    match form {
        FormState::Response(id) => (RESPONSE_FIELD, id),
        FormState::Start(token) => (START_FIELD, token),
        FormState::Preview(token) => (PREVIEW_FIELD, token),
    }
}

const RESPONSE_FIELD: &str = "_response";
const START_FIELD: &str = "_start";
const PREVIEW_FIELD: &str = "_preview_state";

/// `GET` (and `HEAD`) of a survey link. Writes nothing, whoever asks (mail scanners open every
/// link): the page's form carries what the first submitted page stores.
pub async fn open(
    State(state): State<AppState>,
    Path(survey_id): Path<String>,
    RawQuery(raw): RawQuery,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let pairs = query_pairs(raw.as_deref());
    let personal_link = pairs.iter().find(|(k, _)| k == "l").map(|(_, v)| v.clone());
    let preview = pairs
        .iter()
        .any(|(k, v)| k == crate::preview::PARAM && v == "1");
    let query: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| k != "l" && k != crate::preview::PARAM)
        .collect();
    let view = if preview {
        // A fresh preview always starts over.
        let actor = crate::preview::previewer(&state, &headers).await?;
        state
            .sonde
            .preview_survey(&actor, &survey_id, &query)
            .await?
    } else {
        let arrival = Arrival {
            query,
            personal_link: personal_link.clone(),
        };
        let cookie_name = resume_cookie_name(&survey_id);
        // A respondent reloading the page resumes.
        let resume = crate::auth::cookie(&headers, &cookie_name).map(str::to_string);
        let view = match state
            .sonde
            .open_survey(&survey_id, &arrival, resume.as_deref())
            .await
        {
            Err(engine::Error::NotFound("survey")) => return Ok(no_such_survey()),
            Err(engine::Error::Closed(name)) => return Ok(closed_survey(&name)),
            other => other?,
        };
        // A GET of a distribution's link counts as opened (a HEAD does not: a link checker).
        if let (Some(token), true) = (&personal_link, method == axum::http::Method::GET) {
            if let Err(e) = state.sonde.note_link_opened(token).await {
                tracing::warn!(error = %e, "recording that an invitation was opened failed");
            }
        }
        view
    };
    render(&survey_id, view).await
}

pub async fn submit(
    State(state): State<AppState>,
    Path(survey_id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let state_of_form = field(RESPONSE_FIELD)
        .map(FormState::Response)
        .or_else(|| field(START_FIELD).map(FormState::Start))
        .or_else(|| field(PREVIEW_FIELD).map(FormState::Preview))
        .ok_or(PageError(engine::Error::NotFound("response")))?;
    let submission = Submission {
        page: field("_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(usize::MAX),
        page_seconds: field("_rendered_at")
            .and_then(|t| t.parse::<i64>().ok())
            .map(|t| ((store::now_ms() - t).max(0) as f64) / 1000.0),
        fields: form
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .cloned()
            .collect(),
    };
    let view = match state
        .sonde
        .submit_page(&survey_id, &state_of_form, &submission)
        .await
    {
        Err(engine::Error::NotFound("survey")) => return Ok(no_such_survey()),
        Err(engine::Error::Closed(name)) => return Ok(closed_survey(&name)),
        other => other?,
    };
    render(&survey_id, view).await
}

async fn render(survey_id: &str, view: PageView) -> Result<Response, PageError> {
    let cookie_name = resume_cookie_name(survey_id);
    match view {
        PageView::Page(page) => {
            // Only a stored response is resumed: until then a reload shows a fresh first page.
            let cookie = page.form.response_id().map(|id| {
                let hours = page
                    .ctx
                    .survey
                    .definition
                    .options
                    .incomplete_after_hours
                    .max(survey::limits::MIN_INCOMPLETE_AFTER_HOURS);
                format!(
                    "{cookie_name}={id}; Path=/s/{survey_id}; HttpOnly; SameSite=Lax; Max-Age={}",
                    u64::from(hours) * 3600
                )
            });
            let status = if page.errors.is_empty() {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            };
            // Rendering sanitizes every authored text on the page: CPU work for a big page,
            // kept off the threads that answer everyone else.
            let action = format!("/s/{survey_id}");
            let preview = page.form.is_preview();
            let html = tokio::task::spawn_blocking(move || {
                let (name, value) = form_field(&page.form);
                pages::respondent_page(&pages::RespondentPage {
                    ctx: &page.ctx,
                    action,
                    form_field: (name, value),
                    preview: page.form.is_preview(),
                    number: page.number,
                    progress: page.progress,
                    questions: &page.questions,
                    answers: &page.answers,
                    errors: &page.errors,
                    raw: &page.raw,
                    notice: page.notice.as_deref(),
                    rendered_at: store::now_ms(),
                })
                .into_string()
            })
            .await
            .map_err(|e| PageError(engine::Error::Internal(Box::new(e))))?;
            let mut response = (status, Html(html)).into_response();
            if preview {
                response.extensions_mut().insert(builder_frame());
            }
            if let Some(cookie) = cookie {
                if let Ok(value) = header::HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        PageView::End {
            message_html,
            preview,
        } => {
            let page =
                Html(pages::survey_end_page("Thank you", &message_html, preview).into_string());
            if preview {
                return Ok((axum::Extension(builder_frame()), page).into_response());
            }
            let cookie =
                format!("{cookie_name}=; Path=/s/{survey_id}; HttpOnly; SameSite=Lax; Max-Age=0");
            Ok(([(header::SET_COOKIE, cookie)], page).into_response())
        }
        PageView::LinkRefused { reason } => {
            let body = html! {
                p { (reason) }
                p { "Nothing was recorded." }
            };
            Ok((
                axum::http::StatusCode::FORBIDDEN,
                Html(
                    pages::end_page("This link cannot be used", &body.into_string()).into_string(),
                ),
            )
                .into_response())
        }
        PageView::AlreadyCompleted => Ok(Html(
            pages::end_page(
                "Already completed",
                "<p>You have already completed this survey. Thank you!</p>",
            )
            .into_string(),
        )
        .into_response()),
    }
}

/// A preview may be framed by Sonde's own pages: the survey builder shows it beside the
/// editor. Respondents' pages stay unframeable.
fn builder_frame() -> crate::security::FramedBy {
    crate::security::FramedBy("'self'".into())
}

/// Shows what following the link will do; nothing changes until the person confirms, so
/// mail scanners that prefetch links cannot unsubscribe anyone.
pub async fn opt_out_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Html<String>, PageError> {
    state.sonde.opt_out_target(&token).await?;
    Ok(Html(
        pages::layout(
            "Unsubscribe",
            None,
            html! {
                div.card {
                    h1 { "Unsubscribe from surveys" }
                    p { "You will no longer receive survey invitations from us." }
                    form method="post" action={ "/optout/" (token) } {
                        button type="submit" { "Unsubscribe" }
                    }
                }
            },
        )
        .into_string(),
    ))
}

/// The confirmation's POST, and RFC 8058's one-click unsubscribe: a mail program's POST with
/// the body `List-Unsubscribe=One-Click` (form-encoded or multipart) and no cookie or CSRF
/// token — the signed token in the path is the only proof either needs, as it names one
/// contact and cannot be forged.
pub async fn opt_out_confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let one_click = body
        .windows(ONE_CLICK.len())
        .any(|w| w == ONE_CLICK.as_bytes());
    state.sonde.opt_out(&token, one_click).await?;
    if one_click {
        return Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "unsubscribed\n",
        )
            .into_response());
    }
    Ok(Html(
        pages::layout(
            "Unsubscribed",
            None,
            html! {
                div.card.ok role="status" {
                    h1 { "You are unsubscribed" }
                    p { "You will not receive further survey invitations from us." }
                }
            },
        )
        .into_string(),
    )
    .into_response())
}

/// A closed survey's link: said in the respondent's terms, with the survey's name so they know
/// which one (maud escapes it).
fn closed_survey(name: &str) -> Response {
    let page = pages::error_page(
        "Survey closed",
        &format!("\u{201c}{name}\u{201d} is closed and takes no more responses."),
        "Thank you for your interest.",
        &[],
    );
    (axum::http::StatusCode::GONE, page).into_response()
}

/// What RFC 8058's one-click POST carries.
const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// A survey link that leads to no survey a respondent may take. They are told so in their
/// terms; the admin UI's "not shared with you" would make no sense to them.
fn no_such_survey() -> Response {
    let page = pages::error_page(
        "Survey not available",
        "This survey does not exist or is closed.",
        "Check the link you were sent, or ask whoever sent it for a new one.",
        &[],
    );
    (axum::http::StatusCode::NOT_FOUND, page).into_response()
}
