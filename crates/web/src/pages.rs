//! Server-rendered HTML: the shared layout, error pages and the respondent's survey pages.
//! Pages work without JavaScript; scripts only add conveniences (copy link, auto-advance).

use engine::responses::RespondentContext;
use engine::FieldProblem;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::collections::BTreeMap;
use survey::html::to_plain;
use survey::{Answer, Question, QuestionKind, TextContent};

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2329;background:#f6f7f9;line-height:1.5}
main{max-width:52rem;margin:0 auto;padding:1rem}
header.bar{background:#123047;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header.bar a{color:#fff;text-decoration:none}
header.bar .grow{flex:1}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
fieldset{border:0;margin:0;padding:0;min-width:0}
p > label{display:block;margin-bottom:.3rem}
legend,.qtext{font-weight:600;margin-bottom:.5rem;display:block}
label.opt{display:flex;gap:.6rem;align-items:center;padding:.45rem .5rem;border-radius:6px;cursor:pointer}
label.opt:hover{background:#eef3f8}
input[type=radio],input[type=checkbox]{width:1.2rem;height:1.2rem}
input[type=text],input[type=email],input[type=number],input[type=password],textarea,select{width:100%;padding:.55rem;border:1px solid #b9c1ca;border-radius:6px;font:inherit}
textarea{min-height:6rem}
button,.button{background:#1f6feb;color:#fff;border:0;border-radius:6px;padding:.6rem 1.2rem;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#5b6773}
:focus-visible{outline:3px solid #f0a30a;outline-offset:2px}
.error{color:#b42318;font-weight:600;margin:.3rem 0}
.card.invalid{border-color:#b42318;border-width:2px}
.nps{display:flex;flex-wrap:wrap;gap:.3rem}
.nps label{display:flex;flex-direction:column;align-items:center;min-width:2.4rem;padding:.3rem;border:1px solid #dde1e6;border-radius:6px}
.scale-ends{display:flex;justify-content:space-between;font-size:.9rem;color:#5b6773}
table{border-collapse:collapse;width:100%}
th,td{padding:.4rem;border-bottom:1px solid #e5e8ec;text-align:left;vertical-align:top}
.matrix td{text-align:center}
.matrix-wrap,.table-wrap{overflow-x:auto}
progress{width:100%;height:.6rem}
.muted{color:#5b6773}
code.link{background:#eef3f8;padding:.2rem .4rem;border-radius:4px;word-break:break-all}
.notice{background:#fff7e0;border:1px solid #f0d48a;padding:.6rem 1rem;border-radius:6px}
.ok{background:#e8f6ec;border:1px solid #9fd3ae;padding:.6rem 1rem;border-radius:6px}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;align-items:end;padding:.4rem 0;border-bottom:1px dashed #dde1e6}
.row label{font-size:.85rem;color:#5b6773}
.task{border:1px solid #b9c1ca;border-radius:8px;padding:.8rem;margin:.8rem 0}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin:.6rem 0}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.85rem;background:#eef3f8}
.badge.failed{background:#fde8e6;color:#b42318}.badge.succeeded,.badge.active{background:#e8f6ec;color:#146c2e}
.sr{position:absolute;left:-9999px}
.conn{border-bottom:1px solid #e5e8ec;padding:.5rem 0}
.wrap{word-break:break-all}
ol.tasks li{margin:.3rem 0}
form.inline{display:inline;margin:0}
"#;

/// The frame around every page.
pub fn layout(title: &str, nav: Option<(&str, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Sonde" }
                style { (PreEscaped(STYLE)) }
                link rel="stylesheet" href="/assets/admin-ui.css";
                script src="/assets/admin-ui.js" defer {}
            }
            body {
                @if let Some((email, csrf)) = nav {
                    header.bar {
                        a href="/surveys" { strong { "Sonde" } }
                        a href="/surveys" { "Surveys" }
                        a href="/contacts" { "Directory" }
                        a href="/lists" { "Mailing lists" }
                        a href="/salesforce" { "Salesforce" }
                        span.grow {}
                        span { (email) }
                        form method="post" action="/logout" style="margin:0" {
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
                p { a href="javascript:history.back()" { "Go back" } }
            }
        },
    )
}

/// A page to answer, with errors from the last try shown next to their questions.
pub struct RespondentPage<'a> {
    pub ctx: &'a RespondentContext,
    pub action: String,
    pub number: usize,
    pub progress: u8,
    pub questions: &'a [String],
    pub answers: &'a BTreeMap<String, Answer>,
    pub errors: &'a BTreeMap<String, String>,
    pub raw: &'a BTreeMap<String, String>,
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
            h1 { (def.name) }
            progress value=(p.progress) max="100" aria-label="Progress" { (p.progress) "%" }
            @if !p.errors.is_empty() {
                p.notice role="alert" { "Some answers need your attention; they are marked below." }
            }
            form method="post" action=(p.action) novalidate id="survey-form" {
                input type="hidden" name="_response" value=(p.ctx.response.id);
                input type="hidden" name="_page" value=(p.number);
                input type="hidden" name="_rendered_at" value=(p.rendered_at);
                @for qid in p.questions {
                    @if let Some(q) = def.questions.iter().find(|q| &q.id == qid) {
                        (question(q, p.answers.get(qid), p.errors.get(qid), p.raw, &text))
                    }
                }
                button type="submit" { "Next" }
            }
            @if let Some(seconds) = auto_advance {
                script { (PreEscaped(format!(
                    "setTimeout(function(){{document.getElementById('survey-form').submit();}},{});",
                    u64::from(seconds) * 1000
                ))) }
            }
        },
    )
}

pub fn end_page(title: &str, message_html: &str) -> Markup {
    layout(
        title,
        None,
        html! {
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
