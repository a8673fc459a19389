//! The native JSON definition format (`docs/survey-definition.md`): parsing with errors that
//! say where, validation, and pretty printing.

use crate::definition::SurveyDefinition;
pub use crate::validate::DefinitionError;

/// Parses and validates a native definition. Syntax and shape errors carry the line, column
/// and JSON path; validation errors carry the path of the offending element. Only the first
/// validation error is returned (its message counts the rest); `validate::check_definition`
/// lists them all.
pub fn parse(json: &str) -> Result<SurveyDefinition, DefinitionError> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let definition: SurveyDefinition = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            json_error(e.inner(), path)
        })?;
    // Trailing content after the document is a mistake too (a pasted second copy, say).
    deserializer
        .end()
        .map_err(|e| json_error(&e, String::new()))?;
    if let Err(mut errors) = crate::validate::check_definition(&definition) {
        let more = errors.len() - 1;
        let mut first = errors.swap_remove(0);
        if more > 0 {
            first.message = format!("{} (and {more} more problems)", first.message);
        }
        return Err(first);
    }
    Ok(definition)
}

fn json_error(e: &serde_json::Error, path: String) -> DefinitionError {
    // serde_json appends " at line L column C"; the position has its own fields.
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    DefinitionError {
        line: e.line(),
        column: e.column(),
        message: if path.is_empty() {
            message.to_string()
        } else {
            format!("{message} (at {path})")
        },
        path,
    }
}

/// Pretty-printed JSON, the same shape [`parse`] reads.
pub fn to_json(definition: &SurveyDefinition) -> String {
    serde_json::to_string_pretty(definition).expect("a definition always serializes")
}
