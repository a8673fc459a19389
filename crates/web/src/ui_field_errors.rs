//! A refused form's problems placed next to the fields they name: the engine names fields as
//! the API spells them (`sendAt`, `reminders[0].afterHours`, `variants.FR.body`), and each form
//! says which of its inputs stands for which name; whatever no input claims is said above.

use engine::{Error, FieldProblem};
use maud::{html, Markup};
use std::sync::Mutex;

/// The problems of one refused save, handed out field by field.
#[derive(Default)]
pub(crate) struct FieldErrors {
    /// The refusal's own sentence ("the distribution has invalid fields").
    message: Option<String>,
    problems: Vec<FieldProblem>,
    /// The API's words in the messages and the form's for them, replaced in order.
    words: &'static [(&'static str, &'static str)],
    /// Which problems an input has shown already (a page is rendered by one task; the lock
    /// only makes the form's state shareable across the handler's awaits).
    shown: Mutex<Vec<bool>>,
}

impl FieldErrors {
    /// The problems of an engine refusal; None for an error that is not about the input.
    pub(crate) fn of(e: &Error) -> Option<Self> {
        match e {
            Error::Invalid { message, problems } => Some(Self {
                message: Some(message.clone()),
                shown: Mutex::new(vec![false; problems.len()]),
                problems: problems.clone(),
                words: &[],
            }),
            _ => None,
        }
    }

    /// Says the messages in the form's words: `("leave sendAt out", "choose Send now")`.
    pub(crate) fn in_words(mut self, words: &'static [(&'static str, &'static str)]) -> Self {
        self.words = words;
        self
    }

    fn say(&self, message: &str) -> String {
        self.words
            .iter()
            .fold(message.to_string(), |m, (api, ours)| m.replace(api, ours))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.message.is_none() && self.problems.is_empty()
    }

    /// The messages for the field `name` and what lies under it (`thankYou` holds
    /// `thankYou.afterHours`; `contactIds` holds `contactIds[2]`).
    fn take(&self, name: &str) -> Vec<String> {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (i, p) in self.problems.iter().enumerate() {
            let under = p.field == name
                || p.field.starts_with(&format!("{name}."))
                || p.field.starts_with(&format!("{name}["));
            if under && !shown[i] {
                shown[i] = true;
                let rest = &p.field[name.len()..];
                out.push(if rest.is_empty() {
                    self.say(&p.message)
                } else {
                    format!(
                        "{}: {}",
                        self.say(rest.trim_start_matches('.')),
                        self.say(&p.message)
                    )
                });
            }
        }
        out
    }

    /// The error line under an input, linked by `id` (`aria-describedby` of the input).
    pub(crate) fn at(&self, name: &str, id: &str) -> Markup {
        let messages = self.take(name);
        html! {
            @if !messages.is_empty() {
                p.error id=(id) data-field=(name) { (messages.join("; ")) }
            }
        }
    }

    /// Whether `name` has a problem (the input is marked `aria-invalid`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.problems.iter().any(|p| {
            p.field == name
                || p.field.starts_with(&format!("{name}."))
                || p.field.starts_with(&format!("{name}["))
        })
    }

    /// Above the form: the refusal, and every problem no input showed. Render it after the
    /// inputs have taken theirs (the page is built in two parts).
    pub(crate) fn summary(&self) -> Markup {
        let shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        let rest: Vec<&FieldProblem> = self
            .problems
            .iter()
            .zip(shown.iter())
            .filter(|(_, s)| !**s)
            .map(|(p, _)| p)
            .collect();
        html! {
            @if let Some(m) = &self.message {
                div.notice role="alert" id="form-errors" {
                    p.error { "Not saved: " (m) "." }
                    @if rest.is_empty() {
                        p { "The fields to correct are marked below." }
                    } @else {
                        ul { @for p in rest { li { strong { (p.field) } ": " (self.say(&p.message)) } } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> FieldErrors {
        let p = |f: &str, m: &str| FieldProblem {
            field: f.into(),
            message: m.into(),
        };
        FieldErrors::of(&Error::invalid_fields(
            "the distribution has invalid fields",
            vec![
                p("sendAt", "is in the past; leave sendAt out to send now"),
                p("reminders[0].afterHours", "must be from 1 to 8760"),
                p("channel", "not yet"),
            ],
        ))
        .unwrap()
        .in_words(&[("leave sendAt out", "choose Send now")])
    }

    #[test]
    fn each_problem_shows_once_beside_its_field_and_the_rest_above() {
        let e = refusal();
        let at = e.at("sendAt", "x").into_string();
        assert!(
            at.contains("is in the past; choose Send now to send now"),
            "{at}"
        );
        assert!(e.at("sendAt", "x").into_string().is_empty(), "shown once");
        let r = e.at("reminders[0]", "r").into_string();
        assert!(r.contains("afterHours: must be from 1 to 8760"), "{r}");
        assert!(e.has("reminders"));
        let summary = e.summary().into_string();
        assert!(summary.contains("channel") && summary.contains("not yet"));
        assert!(!summary.contains("in the past"), "{summary}");
    }
}
