//! Server-rendered HTML: the shared layout, error pages and the respondent's survey pages.
//! Pages work without JavaScript; `/assets/sonde.js` only adds conveniences (copy link,
//! auto-advance), wired by data attributes: no page carries inline script or style.

use engine::responses::RespondentContext;
use engine::FieldProblem;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::BTreeMap;
use survey::html::to_plain;
use survey::{Answer, Question, QuestionKind, TextContent};

/// The header of a signed-in page: whose it is, the token its sign-out form carries, and
/// whether the admin's links show.
pub struct Nav<'a> {
    pub email: &'a str,
    pub csrf: &'a str,
    pub admin: bool,
    /// The demo's Outbox page exists (shown to admins).
    pub outbox: bool,
}

/// The frame around every page.
pub fn layout(title: &str, nav: Option<Nav>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Sonde" }
                link rel="stylesheet" href=(crate::assets::STYLESHEET.url());
                script src=(crate::assets::SCRIPT.url()) defer {}
            }
            body {
                @if let Some(Nav { email, csrf, admin, outbox }) = nav {
                    header.bar {
                        a href="/surveys" { strong { "Sonde" } }
                        a href="/surveys" { "Surveys" }
                        a href="/contacts" { "Directory" }
                        a href="/lists" { "Mailing lists" }
                        a href="/templates" { "Templates" }
                        a href="/salesforce" { "Salesforce" }
                        a href="/discover" { "Discover" }
                        @if admin { a href="/audit" { "Audit log" } }
                        @if admin { a href="/users" { "Users" } }
                        @if admin && outbox { a href="/outbox" { "Outbox" } }
                        span.grow {}
                        a href="/account" title="Your account: password and API tokens" { (email) }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn error_page(title: &str, detail: &str, advice: &str, problems: &[FieldProblem]) -> Markup {
    layout(
        title,
        None,
        html! {
            div.card role="alert" {
                h1 { (title) }
                @if !detail.is_empty() { p { (detail) } }
                @if !problems.is_empty() {
                    ul { @for p in problems { li { strong { (p.field) } ": " (p.message) } } }
                }
                @if !advice.is_empty() { p.muted { (advice) } }
                p { a href="/" data-back { "Go back" } }
            }
        },
    )
}

/// A page to answer, with errors from the last try shown next to their questions.
pub struct RespondentPage<'a> {
    pub ctx: &'a RespondentContext,
    pub action: String,
    /// The hidden field (name, value) that says whose answers the form carries.
    pub form_field: (&'a str, &'a str),
    /// A preview: the banner says nothing is recorded.
    pub preview: bool,
    pub number: usize,
    pub progress: u8,
    pub questions: &'a [String],
    pub answers: &'a BTreeMap<String, Answer>,
    pub errors: &'a BTreeMap<String, String>,
    pub raw: &'a BTreeMap<String, String>,
    /// Said above the questions (the respondent was moved: the survey changed).
    pub notice: Option<&'a str>,
    pub rendered_at: i64,
}

pub fn respondent_page(p: &RespondentPage) -> Markup {
    let def = &p.ctx.survey.definition;
    let pipe = p.ctx.pipe();
    let text = |t: &str| {
        PreEscaped(survey::html::sanitize(&survey::piped::render_html(
            t, &pipe,
        )))
    };
    let auto_advance = p
        .questions
        .iter()
        .filter_map(|id| def.questions.iter().find(|q| &q.id == id))
        .find_map(|q| match q.kind {
            QuestionKind::Timing {
                auto_advance_seconds: Some(s),
            } => Some(s),
            _ => None,
        });
    layout(
        &def.name,
        None,
        html! {
            @if p.preview { (crate::preview::banner()) }
            h1 { (def.name) }
            progress value=(p.progress) max="100" aria-label="Progress" { (p.progress) "%" }
            @if let Some(notice) = p.notice {
                p.notice role="status" { (notice) }
            }
            @if !p.errors.is_empty() {
                p.notice role="alert" { "Some answers need your attention; they are marked below." }
            }
            form method="post" action=(p.action) novalidate id="survey-form"
                data-auto-advance=[auto_advance.map(|s| u64::from(s) * 1000)] {
                input type="hidden" name=(p.form_field.0) value=(p.form_field.1);
                input type="hidden" name="_page" value=(p.number);
                input type="hidden" name="_rendered_at" value=(p.rendered_at);
                @if p.questions.is_empty() {
                    // Nothing (left) to answer: submitting records the response as complete.
                    p { "There are no questions to answer. Submit to finish." }
                }
                @for qid in p.questions {
                    @if let Some(q) = def.questions.iter().find(|q| &q.id == qid) {
                        (question(q, p.answers.get(qid), p.errors.get(qid), p.raw, &text))
                    }
                }
                button type="submit" { @if p.questions.is_empty() { "Submit" } @else { "Next" } }
            }
        },
    )
}

pub fn end_page(title: &str, message_html: &str) -> Markup {
    survey_end_page(title, message_html, false)
}

/// The end of a survey; a preview's says above it that nothing was recorded.
pub fn survey_end_page(title: &str, message_html: &str, preview: bool) -> Markup {
    layout(
        title,
        None,
        html! {
            @if preview { (crate::preview::banner()) }
            div.card role="status" { (PreEscaped(message_html)) }
        },
    )
}

fn selected_choices(answer: Option<&Answer>) -> (Vec<String>, BTreeMap<String, String>) {
    match answer {
        Some(Answer::Choices { selected, text }) => (selected.clone(), text.clone()),
        _ => (Vec::new(), BTreeMap::new()),
    }
}

fn question(
    q: &Question,
    answer: Option<&Answer>,
    error: Option<&String>,
    raw: &BTreeMap<String, String>,
    text: &dyn Fn(&str) -> PreEscaped<String>,
) -> Markup {
    let err_id = format!("{}-error", q.id);
    let described = error.map(|_| err_id.clone());
    let required = q.required;
    let error_markup = html! {
        @if let Some(e) = error { p.error id=(err_id) { (e) } }
    };
    let body = match &q.kind {
        QuestionKind::MultipleChoice { multiple, choices } => {
            let (selected, typed) = selected_choices(answer);
            let kind = if *multiple { "checkbox" } else { "radio" };
            html! {
                fieldset aria-describedby=[described.as_deref()] aria-required=(required) {
                    legend { (text(&q.text)) @if required { span aria-hidden="true" { " *" } } }
                    (error_markup)
                    @for c in choices {
                        @let id = format!("{}-{}", q.id, c.id);
                        label.opt for=(id) {
                            input type=(kind) id=(id) name=(q.id) value=(c.id) checked[selected.contains(&c.id)];
                            span { (text(&c.text)) }
                        }
                        @if c.text_entry {
                            @let name = format!("{}_{}_TEXT", q.id, c.id);
                            input type="text" name=(name) aria-label={ (to_plain(&c.text)) " (please specify)" }
                                value=(raw.get(&name).cloned().or_else(|| typed.get(&c.id).cloned()).unwrap_or_default());
                        }
                    }
                }
            }
        }
        QuestionKind::Nps {
            low_label,
            high_label,
        } => {
            let current = match answer {
                Some(Answer::Number(n)) => Some(*n as i64),
                _ => None,
            };
            html! {
                fieldset aria-describedby=[described.as_deref()] aria-required=(required) {
                    legend { (text(&q.text)) @if required { span aria-hidden="true" { " *" } } }
                    (error_markup)
                    div.nps {
                        @for n in 0..=10i64 {
                            @let id = format!("{}-{}", q.id, n);
                            label for=(id) {
                                span { (n) }
                                input type="radio" id=(id) name=(q.id) value=(n) checked[current == Some(n)];
                            }
                        }
                    }
                    div.scale-ends { span { (low_label) } span { (high_label) } }
                }
            }
        }
        QuestionKind::TextEntry { multiline, content } => {
            let value = raw.get(&q.id).cloned().unwrap_or_else(|| match answer {
                Some(Answer::Text(t)) => t.clone(),
                Some(Answer::Number(n)) => n.to_string(),
                _ => String::new(),
            });
            let input_type = match content {
                TextContent::Email => "email",
                TextContent::Number => "text",
                TextContent::Any => "text",
            };
            let mode = match content {
                TextContent::Number => Some("decimal"),
                _ => None,
            };
            html! {
                div {
                    label.qtext for=(q.id) { (text(&q.text)) @if required { span aria-hidden="true" { " *" } } }
                    (error_markup)
                    @if *multiline {
                        textarea id=(q.id) name=(q.id) aria-describedby=[described.as_deref()] aria-required=(required) { (value) }
                    } @else {
                        input type=(input_type) id=(q.id) name=(q.id) inputmode=[mode] value=(value)
                            aria-describedby=[described.as_deref()] aria-required=(required);
                    }
                }
            }
        }
        QuestionKind::Matrix { statements, scale } => {
            let rows = match answer {
                Some(Answer::Matrix { rows }) => rows.clone(),
                _ => BTreeMap::new(),
            };
            html! {
                fieldset aria-describedby=[described.as_deref()] aria-required=(required) {
                    legend { (text(&q.text)) @if required { span aria-hidden="true" { " *" } } }
                    (error_markup)
                    div.matrix-wrap {
                        table.matrix {
                            thead { tr { th { span.muted { "Statement" } } @for s in scale { th scope="col" { (text(&s.text)) } } } }
                            tbody {
                                @for st in statements {
                                    tr {
                                        th scope="row" { (text(&st.text)) }
                                        @for s in scale {
                                            td {
                                                input type="radio" name={ (q.id) "_" (st.id) } value=(s.id)
                                                    aria-label={ (to_plain(&st.text)) ": " (to_plain(&s.text)) }
                                                    checked[rows.get(&st.id) == Some(&s.id)];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        QuestionKind::Slider {
            min,
            max,
            step,
            statements,
        } => {
            let values = match answer {
                Some(Answer::Slider { values }) => values.clone(),
                _ => BTreeMap::new(),
            };
            html! {
                fieldset aria-describedby=[described.as_deref()] aria-required=(required) {
                    legend { (text(&q.text)) @if required { span aria-hidden="true" { " *" } } }
                    (error_markup)
                    @for st in statements {
                        @let id = format!("{}_{}", q.id, st.id);
                        @let v = raw.get(&id).cloned().or_else(|| values.get(&st.id).map(|v| v.to_string()));
                        div {
                            label for=(id) { (text(&st.text)) }
                            input type="number" id=(id) name=(id) min=(min) max=(max) step=(step)
                                value=[v] placeholder={ (min) "–" (max) };
                        }
                    }
                }
            }
        }
        QuestionKind::Descriptive => html! { div { (text(&q.text)) } },
        QuestionKind::Timing { .. } => html! {},
        QuestionKind::Unsupported { qualtrics_type, .. } => html! {
            div.muted { (text(&q.text)) p { "(This question type, " (qualtrics_type) ", is not shown by Sonde yet.)" } }
        },
    };
    let class = if error.is_some() {
        "card invalid"
    } else {
        "card"
    };
    if matches!(q.kind, QuestionKind::Timing { .. }) {
        return body;
    }
    html! { div class=(class) id={ "q-" (q.id) } { (body) } }
}
