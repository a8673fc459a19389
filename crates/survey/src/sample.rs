//! The demo survey shipped with `sonde demo`: a customer-satisfaction survey after a support
//! case that uses every question type, a branch, embedded data from the URL and piped text.

use crate::definition::SurveyDefinition;

const SAMPLE_JSON: &str = include_str!("sample.json");

pub fn sample_definition() -> SurveyDefinition {
    crate::native::parse(SAMPLE_JSON).expect("the bundled sample definition is valid")
}

/// The sample as native JSON text, e.g. for documentation or an import example.
pub fn sample_json() -> &'static str {
    SAMPLE_JSON
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::QuestionKind;

    #[test]
    fn sample_parses_lints_clean_and_uses_every_question_type() {
        let definition = sample_definition();
        let warnings = crate::validate::check_definition(&definition).expect("valid");
        assert!(warnings.is_empty(), "{warnings:?}");
        let has =
            |pred: fn(&QuestionKind) -> bool| definition.questions.iter().any(|q| pred(&q.kind));
        assert!(has(|k| matches!(
            k,
            QuestionKind::MultipleChoice {
                multiple: false,
                ..
            }
        )));
        assert!(has(
            |k| matches!(k, QuestionKind::MultipleChoice { multiple: true, choices } if choices.iter().any(|c| c.text_entry))
        ));
        assert!(has(|k| matches!(k, QuestionKind::Nps { .. })));
        assert!(has(|k| matches!(
            k,
            QuestionKind::TextEntry {
                multiline: true,
                ..
            }
        )));
        assert!(has(|k| matches!(
            k,
            QuestionKind::TextEntry {
                multiline: false,
                content: crate::TextContent::Any
            }
        )));
        assert!(has(|k| matches!(
            k,
            QuestionKind::TextEntry {
                content: crate::TextContent::Email,
                ..
            }
        )));
        assert!(has(|k| matches!(k, QuestionKind::Matrix { .. })));
        assert!(has(|k| matches!(k, QuestionKind::Slider { .. })));
        assert!(has(|k| matches!(k, QuestionKind::Descriptive)));
        assert!(has(|k| matches!(k, QuestionKind::Timing { .. })));
        let names: Vec<&str> = crate::flow::declared_embedded_fields(&definition)
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        for name in [
            "ContactId",
            "AccountId",
            "CaseId",
            "sfContactId",
            "sfAccountId",
            "OptOut",
        ] {
            assert!(names.contains(&name), "{name} not declared");
        }
    }
}
