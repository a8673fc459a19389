//! Behaviour of the survey crate as the web server and API see it: one test binary (one link
//! step), a module per area.

mod answers;
mod export;
mod flow;
mod form;
mod piped;
mod qsf;
mod qsf_export;
mod qsf_export_logic;
mod qsf_export_prop;
mod sanitizer;

use survey::{Answer, ResponseData};

pub fn with_answers(answers: &[(&str, Answer)]) -> ResponseData {
    ResponseData {
        answers: answers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..Default::default()
    }
}

pub fn choices(ids: &[&str]) -> Answer {
    Answer::Choices {
        selected: ids.iter().map(|s| s.to_string()).collect(),
        text: Default::default(),
    }
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
