//! Import of Qualtrics `.qsf` survey exports into the native definition. Supported parts map
//! faithfully (ids, choice order, recodes, blocks, flow); the rest becomes marked placeholders
//! and warnings, so a valid export never fails to import.

use crate::definition::{
    Block, BlockElement, Choice, Question, QuestionKind, SurveyDefinition, SurveyOptions,
    TextContent,
};
use crate::html;
use logic::logic;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use values::{
    label, list_or_object_values, number_of, numeric_key, partial_hours, text_of, truthy,
};

pub mod export;
mod flow;
mod logic;
mod values;

/// The imported survey and what did not carry over exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub definition: SurveyDefinition,
    pub warnings: Vec<String>,
}

/// The file is not JSON, or not a Qualtrics survey export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct QsfError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The file's outline. Its parts stay raw JSON text borrowed from the file and are parsed
/// one element at a time, so a big export never exists as one JSON tree in memory (a 30 MiB
/// file made a tree of several hundred MiB).
#[derive(serde::Deserialize)]
struct Outline<'a> {
    #[serde(rename = "SurveyEntry", borrow, default)]
    entry: Option<&'a RawValue>,
    #[serde(rename = "SurveyElements", borrow, default)]
    elements: Option<&'a RawValue>,
}

/// One of `SurveyElements`: its kind (`SQ`, `BL`, `FL`, `SO`, ...) and its payload, unparsed.
#[derive(serde::Deserialize)]
struct Element<'a> {
    #[serde(rename = "Element", default)]
    kind: Option<String>,
    #[serde(rename = "Payload", borrow, default)]
    payload: Option<&'a RawValue>,
}

impl Element<'_> {
    /// The payload as JSON; `None` when absent or nested too deeply to read.
    fn payload(&self) -> Option<Value> {
        serde_json::from_str(self.payload?.get()).ok()
    }
}

pub fn import(text: &str) -> Result<Imported, QsfError> {
    // Exports saved by some editors start with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let not_qsf = |message: &str| QsfError {
        line: 1,
        column: 1,
        message: format!("not a Qualtrics survey export (.qsf): {message}"),
    };
    let outline: Outline = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => not_qsf("the file is not a JSON object"),
        _ => QsfError {
            line: e.line(),
            column: e.column(),
            message: format!(
                "not valid JSON: {}",
                e.to_string().split(" at line ").next().unwrap_or_default()
            ),
        },
    })?;
    let elements: Vec<&RawValue> = outline
        .elements
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .ok_or_else(|| not_qsf("no SurveyElements list"))?;
    // An element that is not an object, or whose kind is not text, is no part of a survey.
    let elements: Vec<Element> = elements
        .iter()
        .filter_map(|raw| serde_json::from_str(raw.get()).ok())
        .collect();
    let entry: Option<Map<String, Value>> = outline
        .entry
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    if entry.is_none() && elements.is_empty() {
        return Err(not_qsf("no SurveyEntry and no survey elements"));
    }
    let mut importer = Importer::default();
    Ok(importer.run(entry.as_ref(), &elements))
}

#[derive(Default)]
struct Importer {
    warnings: Vec<String>,
    /// Question id and its raw `DisplayLogic`, mapped after blocks and questions exist.
    display_logic: Vec<(String, Value)>,
}

impl Importer {
    fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    fn run(&mut self, entry: Option<&Map<String, Value>>, elements: &[Element]) -> Imported {
        // Payloads of one kind, each parsed when it is reached and dropped after use.
        let of_kind = |kind: &'static str| {
            elements
                .iter()
                .filter(move |e| e.kind.as_deref() == Some(kind))
                .filter_map(Element::payload)
        };

        let options = of_kind("SO").next();
        let options_payload = options.as_ref().and_then(Value::as_object);
        let name = entry
            .and_then(|e| text_of(e.get("SurveyName")))
            .or_else(|| options_payload.and_then(|o| text_of(o.get("SurveyName"))))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Imported survey".into());
        let language = entry
            .and_then(|e| text_of(e.get("SurveyLanguage")))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "EN".into());

        // Questions first: blocks and flow conditions refer to them.
        let mut questions = Vec::new();
        let mut question_ids = BTreeSet::new();
        for payload in of_kind("SQ") {
            let Some(p) = payload.as_object() else {
                continue;
            };
            let Some(question) = self.question(p) else {
                continue;
            };
            if question_ids.insert(question.id.clone()) {
                questions.push(question);
            } else {
                self.warn(format!(
                    "question {} appears twice in the export; the first is kept",
                    question.id
                ));
            }
        }

        let block_payloads: Vec<Value> = of_kind("BL").collect();
        let (blocks, trashed) = self.blocks(block_payloads.iter(), &question_ids);
        if !trashed.is_empty() {
            questions.retain(|q| !trashed.contains(&q.id));
            self.warn(format!(
                "{} question(s) in the Qualtrics trash were not imported",
                trashed.len()
            ));
        }

        let mut definition = SurveyDefinition {
            name,
            language,
            blocks,
            questions,
            flow: Vec::new(),
            end_message: crate::definition::default_end_message(),
            options: SurveyOptions::default(),
        };

        drop(block_payloads);
        if let Some(flow) = of_kind("FL").next() {
            let list = flow
                .get("Flow")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            definition.flow = self.flow(list, &definition);
        }
        if let Some(options) = options_payload {
            self.options(options, &mut definition);
        }
        self.resolve_display_logic(&mut definition);

        // A last guard: anything the mapping above missed is reported, never fatal.
        match crate::validate::check_definition(&definition) {
            Ok(_) => {}
            Err(errors) => {
                for e in errors {
                    self.warn(format!("imported survey has a problem: {e}"));
                }
            }
        }
        Imported {
            definition,
            warnings: std::mem::take(&mut self.warnings),
        }
    }

    fn resolve_display_logic(&mut self, definition: &mut SurveyDefinition) {
        let same_page = "display logic on answers from the same page needs JavaScript, which Sonde pages do not use; the question is always shown";
        for (id, raw) in std::mem::take(&mut self.display_logic) {
            if truthy(raw.get("inPage")) {
                self.warn(format!("question {id}: {same_page}"));
                continue;
            }
            let condition = match logic(&raw, definition) {
                Ok(c) => c,
                Err(why) => {
                    self.warn(format!(
                        "question {id}: display logic: {why}; the question is always shown"
                    ));
                    continue;
                }
            };
            if crate::validate::same_page_references(definition, &id, &condition).is_some() {
                self.warn(format!("question {id}: {same_page}"));
                continue;
            }
            if let Some(q) = definition.questions.iter_mut().find(|q| q.id == id) {
                q.display_logic = Some(condition);
            }
        }
    }

    fn options(&mut self, o: &Map<String, Value>, definition: &mut SurveyDefinition) {
        definition.options.back_button = truthy(o.get("BackButton"));
        if let Some(partial) = text_of(o.get("PartialData")) {
            if let Some(hours) = partial_hours(&partial) {
                // An export is imported, not refused: a window shorter than Sonde allows is
                // raised to the shortest one, saying so.
                let min = crate::limits::MIN_INCOMPLETE_AFTER_HOURS;
                if hours < min {
                    self.warn(format!(
                        "unfinished responses close after {partial:?} in Qualtrics; Sonde closes them after at least {min} hour, so options.incomplete_after_hours is {min}"
                    ));
                }
                definition.options.incomplete_after_hours = hours.max(min);
            }
        }
        match text_of(o.get("SurveyTermination")).as_deref() {
            Some("Redirect") => self.warn(
                "the survey redirects to a URL at the end in Qualtrics; Sonde shows the end message instead",
            ),
            Some("DisplayMessage") | Some("Message") => {
                if let Some(message) = text_of(o.get("EOSMessage")).filter(|m| !m.is_empty()) {
                    if message.starts_with("MS_") {
                        self.warn(format!(
                            "the end-of-survey message {message} lives in a Qualtrics message library and was not exported; the default end message is used"
                        ));
                    } else {
                        definition.end_message = html::sanitize(&message);
                    }
                }
            }
            _ => {}
        }
    }

    fn blocks<'a>(
        &mut self,
        payloads: impl Iterator<Item = &'a Value>,
        question_ids: &BTreeSet<String>,
    ) -> (Vec<Block>, BTreeSet<String>) {
        let mut blocks = Vec::new();
        let mut trashed = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for payload in payloads {
            for raw in list_or_object_values(payload) {
                let Some(b) = raw.as_object() else {
                    continue;
                };
                let Some(id) = text_of(b.get("ID")) else {
                    continue;
                };
                let raw_elements = b
                    .get("BlockElements")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if text_of(b.get("Type")).as_deref() == Some("Trash") {
                    trashed.extend(
                        raw_elements
                            .iter()
                            .filter_map(|e| text_of(e.get("QuestionID"))),
                    );
                    continue;
                }
                if !seen.insert(id.clone()) {
                    self.warn(format!("block {id} appears twice; the first is kept"));
                    continue;
                }
                if let Some(options) = b.get("Options") {
                    if truthy(options.get("RandomizeQuestions"))
                        || options.get("Randomization").is_some_and(|r| !r.is_null())
                    {
                        self.warn(format!(
                            "block {id}: question randomization is not supported; questions keep their authored order"
                        ));
                    }
                }
                let mut elements = Vec::new();
                for element in raw_elements {
                    match text_of(element.get("Type")).as_deref() {
                        Some("Question") => {
                            let Some(qid) = text_of(element.get("QuestionID")) else {
                                continue;
                            };
                            if question_ids.contains(&qid) {
                                elements.push(BlockElement::Question { id: qid });
                            } else {
                                self.warn(format!(
                                    "block {id} lists question {qid}, which is not in the export; skipped"
                                ));
                            }
                        }
                        Some("Page Break") | Some("PageBreak") => {
                            elements.push(BlockElement::PageBreak)
                        }
                        other => self.warn(format!(
                            "block {id}: element type {} is not supported; skipped",
                            other.unwrap_or("(none)")
                        )),
                    }
                }
                blocks.push(Block {
                    id,
                    description: text_of(b.get("Description")).unwrap_or_default(),
                    elements,
                });
            }
        }
        // A question listed in the trash and in a live block stays.
        for block in &blocks {
            for element in &block.elements {
                if let BlockElement::Question { id } = element {
                    trashed.remove(id);
                }
            }
        }
        (blocks, trashed)
    }

    fn question(&mut self, p: &Map<String, Value>) -> Option<Question> {
        let Some(id) = text_of(p.get("QuestionID")).filter(|s| !s.is_empty()) else {
            self.warn("a question without QuestionID was skipped");
            return None;
        };
        let export_tag = text_of(p.get("DataExportTag"))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| id.clone());
        let text = html::sanitize(text_of(p.get("QuestionText")).unwrap_or_default().trim());
        let qtype = text_of(p.get("QuestionType")).unwrap_or_default();
        let selector = text_of(p.get("Selector")).unwrap_or_default();
        let sub = text_of(p.get("SubSelector")).unwrap_or_default();
        let settings = p
            .get("Validation")
            .and_then(|v| v.get("Settings"))
            .and_then(Value::as_object);
        let required = settings
            .and_then(|s| text_of(s.get("ForceResponse")))
            .is_some_and(|f| f == "ON");
        let recodes: BTreeMap<String, String> = p
            .get("RecodeValues")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), text_of(Some(v))?)))
                    .collect()
            })
            .unwrap_or_default();
        let config = p.get("Configuration").and_then(Value::as_object);

        if let Some(logic) = p.get("DisplayLogic").filter(|d| d.is_object()) {
            // Resolved once every question and block is known.
            self.display_logic.push((id.clone(), logic.clone()));
        }
        if p.get("SkipLogic")
            .is_some_and(|d| !d.is_null() && d != &Value::Bool(false))
        {
            self.warn(format!(
                "question {id}: skip logic is not supported and was ignored"
            ));
        }
        if p.get("Randomization")
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t != "None")
        {
            self.warn(format!(
                "question {id}: choice randomization is not supported; choices keep their authored order"
            ));
        }

        let unsupported = |me: &mut Self, why: &str| {
            me.warn(format!(
                "question {id} ({export_tag}): {why}; imported as an unsupported placeholder"
            ));
            QuestionKind::Unsupported {
                qualtrics_type: qtype.clone(),
                selector: if sub.is_empty() {
                    selector.clone()
                } else {
                    format!("{selector}/{sub}")
                },
            }
        };

        let kind = match qtype.as_str() {
            "MC" => {
                let choices = self.choices(&id, p, "Choices", "ChoiceOrder", &recodes, true);
                match selector.as_str() {
                    "NPS" => QuestionKind::Nps {
                        low_label: label(p, true),
                        high_label: label(p, false),
                    },
                    _ if choices.is_empty() => unsupported(self, "multiple choice without choices"),
                    "SAVR" | "SAHR" | "SACOL" | "DL" | "SB" => QuestionKind::MultipleChoice {
                        multiple: false,
                        choices,
                    },
                    "MAVR" | "MAHR" | "MACOL" | "MSB" => QuestionKind::MultipleChoice {
                        multiple: true,
                        choices,
                    },
                    other => {
                        let multiple = other.starts_with("MA") || other.starts_with("MS");
                        self.warn(format!(
                            "question {id}: multiple choice layout {other} is shown as a plain {} list",
                            if multiple { "multiple-answer" } else { "single-answer" }
                        ));
                        QuestionKind::MultipleChoice { multiple, choices }
                    }
                }
            }
            "NPS" => QuestionKind::Nps {
                low_label: label(p, true),
                high_label: label(p, false),
            },
            "TE" => {
                let content = match settings.and_then(|s| text_of(s.get("ContentType"))) {
                    Some(c) if c == "ValidNumber" => TextContent::Number,
                    Some(c) if c == "ValidEmail" => TextContent::Email,
                    Some(c)
                        if settings.and_then(|s| text_of(s.get("Type"))).as_deref()
                            == Some("ContentType") =>
                    {
                        self.warn(format!(
                            "question {id}: content validation {c} is not supported; any text is accepted"
                        ));
                        TextContent::Any
                    }
                    _ => TextContent::Any,
                };
                if content == TextContent::Number {
                    if let Some(range) = settings.and_then(|s| s.get("ValidNumber")) {
                        let bound = |k: &str| text_of(range.get(k)).filter(|v| !v.is_empty());
                        if bound("Min").is_some() || bound("Max").is_some() {
                            self.warn(format!(
                                "question {id}: the number range is not enforced; any number is accepted"
                            ));
                        }
                    }
                }
                match selector.as_str() {
                    "SL" | "PW" | "AUTO" | "" => QuestionKind::TextEntry {
                        multiline: false,
                        content,
                    },
                    "ML" | "ESTB" => QuestionKind::TextEntry {
                        multiline: true,
                        content,
                    },
                    "FORM" => unsupported(self, "text entry form with several fields"),
                    other => {
                        self.warn(format!(
                            "question {id}: text entry layout {other} is shown as a single line"
                        ));
                        QuestionKind::TextEntry {
                            multiline: false,
                            content,
                        }
                    }
                }
            }
            "Matrix" => {
                let single = selector == "Likert"
                    && matches!(sub.as_str(), "SingleAnswer" | "DL" | "DND" | "");
                if single {
                    let statements =
                        self.choices(&id, p, "Choices", "ChoiceOrder", &BTreeMap::new(), false);
                    let scale = self.choices(&id, p, "Answers", "AnswerOrder", &recodes, false);
                    if statements.is_empty() || scale.is_empty() {
                        unsupported(self, "matrix without statements or scale")
                    } else {
                        if sub == "DND" || sub == "DL" {
                            self.warn(format!(
                                "question {id}: matrix layout {sub} is shown as a standard Likert matrix"
                            ));
                        }
                        QuestionKind::Matrix { statements, scale }
                    }
                } else {
                    unsupported(
                        self,
                        &format!("matrix type {selector}/{sub} is not supported"),
                    )
                }
            }
            "Slider" => {
                let num = |k: &str| config.and_then(|c| number_of(c.get(k)));
                let (min, max) = match selector.as_str() {
                    "STAR" => (0.0, num("StarCount").unwrap_or(5.0)),
                    _ => (
                        num("CSSliderMin").unwrap_or(0.0),
                        num("CSSliderMax").unwrap_or(100.0),
                    ),
                };
                let grid = num("GridLines").filter(|g| *g > 0.0);
                let snap = config.is_some_and(|c| truthy(c.get("SnapToGrid")));
                let step = match (snap, grid) {
                    (true, Some(g)) => (max - min) / g,
                    _ => 10f64.powi(-(num("NumDecimals").unwrap_or(0.0).clamp(0.0, 6.0) as i32)),
                };
                let mut statements =
                    self.choices(&id, p, "Choices", "ChoiceOrder", &BTreeMap::new(), false);
                if statements.is_empty() {
                    statements.push(Choice {
                        id: "1".into(),
                        text: String::new(),
                        recode: None,
                        text_entry: false,
                    });
                }
                if min < max && step > 0.0 && step.is_finite() {
                    if !matches!(selector.as_str(), "HSLIDER" | "HBAR") {
                        self.warn(format!(
                            "question {id}: slider style {selector} is shown as a plain slider"
                        ));
                    }
                    QuestionKind::Slider {
                        min,
                        max,
                        step,
                        statements,
                    }
                } else {
                    unsupported(self, "slider with an unusable range")
                }
            }
            "DB" => {
                if selector != "TB" && selector != "PTB" {
                    self.warn(format!(
                        "question {id}: descriptive content {selector} is shown as text only"
                    ));
                }
                QuestionKind::Descriptive
            }
            "Timing" => {
                let seconds = config
                    .and_then(|c| number_of(c.get("MaxSeconds")))
                    .filter(|s| *s > 0.0)
                    .map(|s| s as u32);
                QuestionKind::Timing {
                    auto_advance_seconds: seconds,
                }
            }
            other => unsupported(self, &format!("question type {other} is not supported")),
        };

        Some(Question {
            id,
            export_tag,
            text,
            required,
            display_logic: None,
            kind,
        })
    }

    /// Choices (or matrix answers) in display order: the `order` list when present, then any
    /// left out of it, by numeric id.
    fn choices(
        &mut self,
        qid: &str,
        p: &Map<String, Value>,
        key: &str,
        order_key: &str,
        recodes: &BTreeMap<String, String>,
        allow_text_entry: bool,
    ) -> Vec<Choice> {
        let raw: Vec<(String, &Value)> = match p.get(key) {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            // Old exports list choices; Qualtrics numbers them from 1.
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, v)| ((i + 1).to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        let mut order: Vec<String> = p
            .get(order_key)
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(|v| text_of(Some(v))).collect())
            .unwrap_or_default();
        // Looked up by id, not searched: a question with thousands of choices stays quick.
        let by_id: HashMap<&str, &Value> = raw.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        order.retain(|id| by_id.contains_key(id.as_str()));
        let ordered: HashSet<&str> = order.iter().map(String::as_str).collect();
        let mut rest: Vec<&String> = raw
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !ordered.contains(k.as_str()))
            .collect();
        rest.sort_by_key(|k| numeric_key(k));
        let rest: Vec<String> = rest.into_iter().cloned().collect();
        drop(ordered);
        order.extend(rest);
        let mut seen = HashSet::new();
        let mut dropped_text = false;
        let choices = order
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .filter_map(|id| {
                let v = *by_id.get(id.as_str())?;
                let text = html::sanitize(text_of(v.get("Display")).unwrap_or_default().trim());
                let wants_text = truthy(v.get("TextEntry"));
                dropped_text |= wants_text && !allow_text_entry;
                Some(Choice {
                    recode: recodes.get(&id).cloned(),
                    id,
                    text,
                    text_entry: wants_text && allow_text_entry,
                })
            })
            .collect();
        if dropped_text {
            self.warn(format!(
                "question {qid}: text entry beside a statement is not supported and was dropped"
            ));
        }
        choices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_files_say_where() {
        let err = import("{\n  \"SurveyEntry\": {,\n}").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string()
                .starts_with("line 2, column 19: not valid JSON"),
            "{err}"
        );
        let err = import("[1, 2]").unwrap_err();
        assert!(err.message.contains("not a Qualtrics survey export"));
        let err = import("{\"SurveyEntry\": {}}").unwrap_err();
        assert!(err.message.contains("SurveyElements"));
    }

    #[test]
    fn partial_data_periods() {
        assert_eq!(partial_hours("+1 week"), Some(168));
        assert_eq!(partial_hours("+2 days"), Some(48));
        assert_eq!(partial_hours("never"), None);
    }
}
