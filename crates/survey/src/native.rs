//! The native JSON definition format (`docs/survey-definition.md`): parsing with errors that
//! say where, validation, and pretty printing.

use crate::definition::SurveyDefinition;
pub use crate::validate::DefinitionError;

/// Parses and validates a native definition. Syntax and shape errors carry the line and
/// column; validation errors carry the path of the offending element. Only the first
/// validation error is returned (its message counts the rest); `validate::check_definition`
/// lists them all.
pub fn parse(json: &str) -> Result<SurveyDefinition, DefinitionError> {
    let definition: SurveyDefinition = serde_json::from_str(json).map_err(|e| DefinitionError {
        line: e.line(),
        column: e.column(),
        path: String::new(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    })?;
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

/// Pretty-printed JSON, the same shape [`parse`] reads.
pub fn to_json(definition: &SurveyDefinition) -> String {
    serde_json::to_string_pretty(definition).expect("a definition always serializes")
}
