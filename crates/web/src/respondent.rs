//! The respondent's side: `/s/{survey}` pages and the opt-out link. No sign-in; the response
//! id (unguessable) travels in a hidden field and a cookie scoped to the survey's path.

use crate::error::PageError;
use crate::{pages, AppState};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use engine::responses::{Arrival, PageView};
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

pub async fn open(
    State(state): State<AppState>,
    Path(survey_id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let pairs = query_pairs(raw.as_deref());
    let personal_link = pairs.iter().find(|(k, _)| k == "l").map(|(_, v)| v.clone());
    let preview = pairs.iter().any(|(k, v)| k == "_preview" && v == "1");
    let query = pairs
        .into_iter()
        .filter(|(k, _)| k != "l" && k != "_preview")
        .collect();
    let arrival = Arrival {
        query,
        personal_link,
        preview,
    };
    let cookie_name = resume_cookie_name(&survey_id);
    // A fresh preview always starts over; a respondent reloading the page resumes.
    let resume = if preview {
        None
    } else {
        crate::auth::cookie(&headers, &cookie_name).map(str::to_string)
    };
    let view = match state
        .sonde
        .open_survey(&survey_id, &arrival, resume.as_deref())
        .await
    {
        Err(engine::Error::NotFound("survey")) => return Ok(no_such_survey()),
        other => other?,
    };
    render(&state, &survey_id, view).await
}

pub async fn submit(
    State(state): State<AppState>,
    Path(survey_id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let response_id = field("_response");
    let page: usize = field("_page").parse().unwrap_or(0);
    let page_seconds = field("_rendered_at")
        .parse::<i64>()
        .ok()
        .map(|t| ((store::now_ms() - t).max(0) as f64) / 1000.0);
    let answers: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .cloned()
        .collect();
    let view = match state
        .sonde
        .submit_page(&survey_id, &response_id, page, page_seconds, &answers)
        .await
    {
        Err(engine::Error::NotFound("survey")) => return Ok(no_such_survey()),
        other => other?,
    };
    render(&state, &survey_id, view).await
}

async fn render(state: &AppState, survey_id: &str, view: PageView) -> Result<Response, PageError> {
    let cookie_name = resume_cookie_name(survey_id);
    match view {
        PageView::Page {
            response_id,
            number,
            progress,
            questions,
            answers,
            errors,
            raw,
            notice,
        } => {
            let ctx = state
                .sonde
                .render_for_respondent(survey_id, &response_id)
                .await?;
            let hours = ctx
                .survey
                .definition
                .options
                .incomplete_after_hours
                .max(survey::limits::MIN_INCOMPLETE_AFTER_HOURS);
            let cookie = format!(
                "{cookie_name}={response_id}; Path=/s/{survey_id}; HttpOnly; SameSite=Lax; Max-Age={}",
                u64::from(hours) * 3600
            );
            let refused = !errors.is_empty();
            // Rendering sanitizes every authored text on the page: CPU work for a big page,
            // kept off the threads that answer everyone else.
            let action = format!("/s/{survey_id}");
            let page = tokio::task::spawn_blocking(move || {
                pages::respondent_page(&pages::RespondentPage {
                    ctx: &ctx,
                    action,
                    number,
                    progress,
                    questions: &questions,
                    answers: &answers,
                    errors: &errors,
                    raw: &raw,
                    notice: notice.as_deref(),
                    rendered_at: store::now_ms(),
                })
                .into_string()
            })
            .await
            .map_err(|e| PageError(engine::Error::Internal(Box::new(e))))?;
            let status = if refused {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            } else {
                axum::http::StatusCode::OK
            };
            Ok((status, [(header::SET_COOKIE, cookie)], Html(page)).into_response())
        }
        PageView::End { message_html } => {
            let cookie =
                format!("{cookie_name}=; Path=/s/{survey_id}; HttpOnly; SameSite=Lax; Max-Age=0");
            Ok((
                [(header::SET_COOKIE, cookie)],
                Html(pages::end_page("Thank you", &message_html).into_string()),
            )
                .into_response())
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

pub async fn opt_out_confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Html<String>, PageError> {
    state.sonde.opt_out(&token).await?;
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
    ))
}

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
