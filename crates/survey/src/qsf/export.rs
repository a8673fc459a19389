//! Export of a survey definition as a Qualtrics `.qsf` document: the inverse of
//! [`super::import`]. The document keeps Qualtrics' shape (`SurveyEntry`, and
//! `SurveyElements` holding one `BL`, one `FL`, one `SO`, a `QC` and one `SQ` per question) so
//! it can be imported into Qualtrics or another Sonde, and Sonde's importer reads it back to
//! the same definition. What has no Qualtrics form the importer reads is listed in
//! [`Exported::warnings`] instead of being silently changed.

use crate::definition::{
    Block, BlockElement, Choice, Condition, EmbeddedValue, FlowElement, Question, QuestionKind,
    SurveyDefinition, TextContent,
};
use crate::html;
use logic::{logic_value, Written};
use serde_json::{json, Map, Value};

mod logic;

/// The `.qsf` document and what in the definition it could not carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub document: Value,
    pub warnings: Vec<String>,
}

/// The survey as a `.qsf` document (a JSON value).
pub fn to_qsf(def: &SurveyDefinition) -> Value {
    export(def).document
}

/// The survey as `.qsf` file text, indented as Qualtrics' own downloads are not (they are one
/// line) but readable in a diff.
pub fn to_qsf_string(def: &SurveyDefinition) -> String {
    // A `Value` holds only strings, numbers, booleans, lists and maps: writing cannot fail.
    serde_json::to_string_pretty(&to_qsf(def)).unwrap_or_default()
}

/// The document and the losses.
pub fn export(def: &SurveyDefinition) -> Exported {
    let mut exporter = Exporter {
        survey_id: survey_id(def),
        warnings: Vec::new(),
        flow_ids: 1,
    };
    let document = exporter.document(def);
    Exported {
        document,
        warnings: exporter.warnings,
    }
}

/// A Qualtrics-shaped survey id (`SV_` and 15 letters or digits), derived from the definition
/// so the same survey always exports to the same file.
fn survey_id(def: &SurveyDefinition) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // FNV-1a over the definition's JSON: stable across runs and platforms, unlike `Hash`.
    let text = serde_json::to_string(def).unwrap_or_default();
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for byte in text.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000000001000000000000000000013B);
    }
    let mut id = String::from("SV_");
    for _ in 0..15 {
        id.push(char::from(ALPHABET[(hash % 62) as usize]));
        hash /= 62;
    }
    id
}

struct Exporter {
    survey_id: String,
    warnings: Vec<String>,
    /// The last `FlowID` handed out; the root flow is `FL_1`, as Qualtrics numbers it.
    flow_ids: u32,
}

impl Exporter {
    fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    fn element(&self, kind: &str, primary: &str, secondary: Value, payload: Value) -> Value {
        json!({
            "SurveyID": self.survey_id,
            "Element": kind,
            "PrimaryAttribute": primary,
            "SecondaryAttribute": secondary,
            "TertiaryAttribute": null,
            "Payload": payload,
        })
    }

    fn document(&mut self, def: &SurveyDefinition) -> Value {
        if def.name.trim().is_empty() {
            self.warn("the survey has no name; Qualtrics and Sonde name it \"Imported survey\"");
        }
        let blocks = Value::Array(
            def.blocks
                .iter()
                .enumerate()
                .map(|(i, block)| block_payload(block, i == 0))
                .collect(),
        );
        let mut elements = vec![
            self.element("BL", "Survey Blocks", Value::Null, blocks),
            self.flow_element(def),
            self.options(def),
            self.element(
                "QC",
                "Survey Question Count",
                json!(def.questions.len().to_string()),
                Value::Null,
            ),
        ];
        for question in &def.questions {
            let payload = self.question(question, def);
            let plain: String = html::to_plain(&question.text).chars().take(100).collect();
            elements.push(self.element("SQ", &question.id, json!(plain), payload));
        }
        json!({
            "SurveyEntry": {
                "SurveyID": self.survey_id,
                "SurveyName": def.name,
                "SurveyDescription": null,
                "SurveyLanguage": def.language,
                "SurveyStatus": "Inactive",
            },
            "SurveyElements": elements,
        })
    }

    fn options(&mut self, def: &SurveyDefinition) -> Value {
        let mut o = Map::new();
        o.insert(
            "BackButton".into(),
            json!(def.options.back_button.to_string()),
        );
        o.insert("SaveAndContinue".into(), json!("true"));
        o.insert("SurveyProtection".into(), json!("PublicSurvey"));
        o.insert(
            "PartialData".into(),
            json!(partial_data(def.options.incomplete_after_hours)),
        );
        if def.options.incomplete_after_hours < crate::limits::MIN_INCOMPLETE_AFTER_HOURS {
            self.warn(format!(
                "options.incomplete_after_hours is {}; it imports as {}",
                def.options.incomplete_after_hours,
                crate::limits::MIN_INCOMPLETE_AFTER_HOURS
            ));
        }
        if def.end_message == crate::definition::default_end_message() {
            o.insert("SurveyTermination".into(), json!("DefaultMessage"));
        } else {
            if html::sanitize(&def.end_message) != def.end_message {
                self.warn("the end message is sanitized when imported");
            }
            if def.end_message.is_empty() || def.end_message.starts_with("MS_") {
                self.warn(
                    "the end message is empty or looks like a Qualtrics library message id; it imports as the default end message",
                );
            }
            o.insert("SurveyTermination".into(), json!("DisplayMessage"));
            o.insert("EOSMessage".into(), json!(def.end_message));
        }
        self.element("SO", "Survey Options", Value::Null, Value::Object(o))
    }

    /// The Qualtrics logic for `condition`, saying so when only an equivalent form exists.
    fn logic(
        &mut self,
        condition: &Condition,
        def: &SurveyDefinition,
        what: &str,
    ) -> Option<Value> {
        match logic_value(condition, def) {
            Ok(Written::Exactly(logic)) => Some(logic),
            Ok(Written::Equivalently(logic)) => {
                self.warn(format!(
                    "{what} is written in an equivalent form (flattened or reordered), which is what an import reads back"
                ));
                Some(logic)
            }
            Err(why) => {
                self.warn(format!("{what} has no Qualtrics form: {why}"));
                None
            }
        }
    }

    fn next_flow_id(&mut self) -> String {
        self.flow_ids += 1;
        format!("FL_{}", self.flow_ids)
    }

    fn flow_element(&mut self, def: &SurveyDefinition) -> Value {
        let flow = self.flow(&def.flow, def);
        let payload = json!({
            "Type": "Root",
            "FlowID": "FL_1",
            "Flow": flow,
            "Properties": { "Count": self.flow_ids },
        });
        self.element("FL", "Survey Flow", Value::Null, payload)
    }

    fn flow(&mut self, flow: &[FlowElement], def: &SurveyDefinition) -> Vec<Value> {
        let mut out = Vec::with_capacity(flow.len());
        for element in flow {
            let flow_id = self.next_flow_id();
            let value = match element {
                FlowElement::Block { block_id } => json!({
                    // Qualtrics calls the flow's reference to its default (first) block "Block".
                    "Type": if def.blocks.first().is_some_and(|b| &b.id == block_id) {
                        "Block"
                    } else {
                        "Standard"
                    },
                    "ID": block_id,
                    "FlowID": flow_id,
                    "Autofill": [],
                }),
                FlowElement::EmbeddedData { fields } => {
                    if fields.is_empty() {
                        self.warn("an embedded data element without fields is dropped on import");
                    }
                    if fields.iter().any(|f| f.name.trim().is_empty()) {
                        self.warn("an embedded data field without a name is dropped on import");
                    }
                    let fields: Vec<Value> = fields
                        .iter()
                        .map(|f| {
                            let mut field = json!({
                                "Description": f.name,
                                "Field": f.name,
                                "VariableType": "String",
                                "DataVisibility": [],
                                "AnalyzeText": false,
                            });
                            match &f.value {
                                EmbeddedValue::Url => {
                                    field["Type"] = json!("Recipient");
                                }
                                EmbeddedValue::Fixed(v) => {
                                    if v.is_empty() {
                                        self.warn(format!(
                                            "embedded data field {}: an empty fixed value imports as \"read from the link\"",
                                            f.name
                                        ));
                                    }
                                    field["Type"] = json!("Custom");
                                    field["Value"] = json!(v);
                                }
                            }
                            field
                        })
                        .collect();
                    json!({ "Type": "EmbeddedData", "FlowID": flow_id, "EmbeddedData": fields })
                }
                FlowElement::Branch { condition, flow } => {
                    let mut branch = json!({
                        "Type": "Branch",
                        "FlowID": flow_id,
                        "Description": "New Branch",
                    });
                    // "Always" has no logic in Qualtrics: a branch without any is always taken.
                    if condition != &always() {
                        if let Some(logic) = self.logic(condition, def, "a branch condition") {
                            branch["BranchLogic"] = logic;
                        } else {
                            self.warn("the branch is exported as always taken");
                        }
                    }
                    branch["Flow"] = Value::Array(self.flow(flow, def));
                    branch
                }
                FlowElement::Group { description, flow } => {
                    let inner = self.flow(flow, def);
                    json!({
                        "Type": "Group",
                        "FlowID": flow_id,
                        "Description": description,
                        "Flow": inner,
                    })
                }
                FlowElement::EndSurvey { message } => {
                    let mut end = json!({ "Type": "EndSurvey", "FlowID": flow_id });
                    if let Some(message) = message {
                        if html::sanitize(message) != *message {
                            self.warn("an end-of-survey message is sanitized when imported");
                        }
                        if message.is_empty() || message.starts_with("MS_") {
                            self.warn(
                                "an end-of-survey message is empty or looks like a Qualtrics library message id; it imports as the survey's end message",
                            );
                        }
                        end["EndingType"] = json!("Advanced");
                        end["Options"] = json!({
                            "Advanced": "true",
                            "SurveyTermination": "DisplayMessage",
                            "EOSMessage": message,
                        });
                    }
                    end
                }
            };
            out.push(value);
        }
        out
    }

    /// What the importer reads back differently for this question, before it is written.
    fn check_question(&mut self, q: &Question) {
        let id = &q.id;
        if q.export_tag.is_empty() {
            self.warn(format!(
                "question {id}: an empty export tag imports as {id}"
            ));
        }
        if !clean(&q.text) {
            self.warn(format!(
                "question {id}: the text is trimmed and sanitized when imported"
            ));
        }
        let problem = match &q.kind {
            QuestionKind::MultipleChoice { choices, .. } if choices.is_empty() => {
                Some("multiple choice without choices imports as an unsupported placeholder")
            }
            QuestionKind::Matrix { statements, scale }
                if statements.is_empty() || scale.is_empty() =>
            {
                Some("a matrix without statements or scale imports as an unsupported placeholder")
            }
            QuestionKind::Slider { min, max, step, .. }
                if !(min < max && *step > 0.0 && step.is_finite()) =>
            {
                Some("a slider with an unusable range imports as an unsupported placeholder")
            }
            QuestionKind::Slider { statements, .. } if statements.is_empty() => {
                Some("a slider without statements imports with one unnamed statement")
            }
            QuestionKind::Nps {
                low_label,
                high_label,
            } if [low_label, high_label]
                .iter()
                .any(|l| html::to_plain(&html::escape(l)) != **l) =>
            {
                Some("NPS labels are imported as plain text with whitespace collapsed")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.warn(format!("question {id}: {problem}"));
        }
    }

    fn question(&mut self, q: &Question, def: &SurveyDefinition) -> Value {
        self.check_question(q);
        let mut p = Map::new();
        p.insert("QuestionID".into(), json!(q.id));
        p.insert("DataExportTag".into(), json!(q.export_tag));
        p.insert("QuestionText".into(), json!(q.text));
        p.insert("QuestionDescription".into(), json!(html::to_plain(&q.text)));
        let mut settings = Map::new();
        settings.insert(
            "ForceResponse".into(),
            json!(if q.required { "ON" } else { "OFF" }),
        );
        settings.insert("ForceResponseType".into(), json!("ON"));
        settings.insert("Type".into(), json!("None"));
        let mut configuration = Map::new();
        configuration.insert("QuestionDescriptionOption".into(), json!("UseText"));

        let (qtype, selector, sub) = match &q.kind {
            QuestionKind::MultipleChoice { multiple, choices } => {
                self.choices(q, &mut p, "Choices", "ChoiceOrder", choices, true);
                let selector = if *multiple { "MAVR" } else { "SAVR" };
                (
                    String::from("MC"),
                    selector.to_string(),
                    Some("TX".to_string()),
                )
            }
            QuestionKind::Nps {
                low_label,
                high_label,
            } => {
                // The eleven points Qualtrics writes for an NPS question, 0 to 10.
                let mut choices = Map::new();
                for n in 0..=10 {
                    choices.insert(n.to_string(), json!({ "Display": n.to_string() }));
                }
                p.insert("Choices".into(), Value::Object(choices));
                p.insert(
                    "ChoiceOrder".into(),
                    json!((0..=10).map(|n| n.to_string()).collect::<Vec<_>>()),
                );
                if !low_label.is_empty() || !high_label.is_empty() {
                    // Read back as plain text: written escaped so `&` or `<` stay what they are.
                    p.insert(
                        "ColumnLabels".into(),
                        json!([
                            { "Display": html::escape(low_label) },
                            { "Display": html::escape(high_label) },
                        ]),
                    );
                }
                ("MC".into(), "NPS".into(), None)
            }
            QuestionKind::TextEntry { multiline, content } => {
                let kind = match content {
                    TextContent::Any => None,
                    TextContent::Number => Some("ValidNumber"),
                    TextContent::Email => Some("ValidEmail"),
                };
                if let Some(kind) = kind {
                    settings.insert("Type".into(), json!("ContentType"));
                    settings.insert("ContentType".into(), json!(kind));
                    settings.insert(
                        "ValidNumber".into(),
                        json!({ "Min": "", "Max": "", "NumDecimals": "" }),
                    );
                }
                let selector = if *multiline { "ML" } else { "SL" };
                ("TE".into(), selector.into(), None)
            }
            QuestionKind::Matrix { statements, scale } => {
                self.choices(q, &mut p, "Choices", "ChoiceOrder", statements, false);
                self.choices(q, &mut p, "Answers", "AnswerOrder", scale, false);
                (
                    "Matrix".into(),
                    "Likert".into(),
                    Some("SingleAnswer".into()),
                )
            }
            QuestionKind::Slider {
                min,
                max,
                step,
                statements,
            } => {
                self.slider(q, &mut configuration, *min, *max, *step);
                self.choices(q, &mut p, "Choices", "ChoiceOrder", statements, false);
                ("Slider".into(), "HSLIDER".into(), None)
            }
            QuestionKind::Descriptive => ("DB".into(), "TB".into(), None),
            QuestionKind::Timing {
                auto_advance_seconds,
            } => {
                if *auto_advance_seconds == Some(0) {
                    self.warn(format!(
                        "question {}: auto-advance after 0 seconds imports as no auto-advance",
                        q.id
                    ));
                }
                let max = auto_advance_seconds.unwrap_or(0);
                configuration.insert("MinSeconds".into(), json!("0"));
                configuration.insert("MaxSeconds".into(), json!(max.to_string()));
                // The four values Qualtrics records for a page timer.
                p.insert(
                    "Choices".into(),
                    json!({
                        "1": { "Display": "First Click" },
                        "2": { "Display": "Last Click" },
                        "3": { "Display": "Page Submit" },
                        "4": { "Display": "Click Count" },
                    }),
                );
                ("Timing".into(), "PageTimer".into(), None)
            }
            QuestionKind::Unsupported {
                qualtrics_type,
                selector,
            } => {
                // The placeholder keeps only the type; an unusable slider range keeps a
                // placeholder slider a placeholder when read back.
                if qualtrics_type == "Slider" {
                    configuration.insert("CSSliderMin".into(), json!(0));
                    configuration.insert("CSSliderMax".into(), json!(0));
                    configuration.insert("StarCount".into(), json!(0));
                }
                match selector.split_once('/') {
                    Some((sel, sub)) => (qualtrics_type.clone(), sel.into(), Some(sub.into())),
                    None => (qualtrics_type.clone(), selector.clone(), None),
                }
            }
        };
        p.insert("QuestionType".into(), json!(qtype));
        p.insert("Selector".into(), json!(selector));
        if let Some(sub) = sub {
            p.insert("SubSelector".into(), json!(sub));
        }
        p.insert("Configuration".into(), Value::Object(configuration));
        p.insert(
            "Validation".into(),
            json!({ "Settings": Value::Object(settings) }),
        );
        p.insert("Language".into(), json!([]));
        if let Some(condition) = &q.display_logic {
            let what = format!("question {}: display logic", q.id);
            if let Some(mut logic) = self.logic(condition, def, &what) {
                if crate::validate::same_page_references(def, &q.id, condition).is_some() {
                    self.warn(format!(
                        "{what} refers to a question on the same page; it imports as always shown"
                    ));
                }
                logic["inPage"] = json!(false);
                p.insert("DisplayLogic".into(), logic);
            } else {
                self.warn(format!("{what} is left out: the question is always shown"));
            }
        }
        Value::Object(p)
    }

    /// Choices (or matrix statements, or scale points) as Qualtrics' numbered object plus an
    /// order list; recodes go in `RecodeValues`, which Qualtrics keys by choice (for a matrix,
    /// by scale point).
    fn choices(
        &mut self,
        q: &Question,
        p: &mut Map<String, Value>,
        key: &str,
        order_key: &str,
        choices: &[Choice],
        allow_text_entry: bool,
    ) {
        let recodes_read = key == "Answers" || allow_text_entry;
        let mut map = Map::new();
        let mut order = Vec::with_capacity(choices.len());
        let mut recodes = p
            .get("RecodeValues")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for choice in choices {
            if !clean(&choice.text) {
                self.warn(format!(
                    "question {}: the text of {} is trimmed and sanitized when imported",
                    q.id, choice.id
                ));
            }
            let mut c = json!({ "Display": choice.text });
            if choice.text_entry {
                if allow_text_entry {
                    c["TextEntry"] = json!("true");
                } else {
                    self.warn(format!(
                        "question {}: text entry beside {} is not read back",
                        q.id, choice.id
                    ));
                }
            }
            if let Some(recode) = &choice.recode {
                if recodes_read {
                    recodes.insert(choice.id.clone(), json!(recode));
                } else {
                    self.warn(format!(
                        "question {}: the recode of statement {} is not read back",
                        q.id, choice.id
                    ));
                }
            }
            if map.insert(choice.id.clone(), c).is_some() {
                self.warn(format!(
                    "question {}: choice id {} appears twice; one is kept",
                    q.id, choice.id
                ));
            } else {
                order.push(json!(choice.id));
            }
        }
        p.insert(key.into(), Value::Object(map));
        p.insert(order_key.into(), Value::Array(order));
        // Qualtrics numbers the next choice it adds from these.
        let next = choices
            .iter()
            .filter_map(|c| c.id.parse::<u64>().ok())
            .max()
            .map_or(1, |n| n + 1);
        let next_key = if key == "Answers" {
            "NextAnswerId"
        } else {
            "NextChoiceId"
        };
        p.insert(next_key.into(), json!(next));
        if !recodes.is_empty() {
            p.insert("RecodeValues".into(), Value::Object(recodes));
        }
    }

    /// Qualtrics has no step: it snaps to `GridLines` divisions, or to `NumDecimals` places.
    /// Steps of 1, 0.1, … 0.000001 are written as decimals (as the importer reads them back),
    /// any other as grid lines across the range.
    fn slider(
        &mut self,
        q: &Question,
        configuration: &mut Map<String, Value>,
        min: f64,
        max: f64,
        step: f64,
    ) {
        configuration.insert("CSSliderMin".into(), number(min));
        configuration.insert("CSSliderMax".into(), number(max));
        configuration.insert("ShowValue".into(), json!(true));
        let decimals = (0..=6).find(|k| 10f64.powi(-k) == step);
        match decimals {
            Some(k) => {
                configuration.insert("GridLines".into(), json!(10));
                configuration.insert("SnapToGrid".into(), json!(false));
                configuration.insert("NumDecimals".into(), json!(k.to_string()));
            }
            None => {
                let grid = (max - min) / step;
                if (max - min) / grid != step {
                    self.warn(format!(
                        "question {}: a step of {step} over {min}–{max} is not an exact number of grid lines",
                        q.id
                    ));
                }
                configuration.insert("GridLines".into(), number(grid));
                configuration.insert("SnapToGrid".into(), json!(true));
                configuration.insert("NumDecimals".into(), json!("0"));
            }
        }
    }
}

fn block_payload(block: &Block, first: bool) -> Value {
    let elements: Vec<Value> = block
        .elements
        .iter()
        .map(|e| match e {
            BlockElement::Question { id } => json!({ "Type": "Question", "QuestionID": id }),
            BlockElement::PageBreak => json!({ "Type": "Page Break" }),
        })
        .collect();
    json!({
        // Qualtrics marks its first block "Default" and the others "Standard".
        "Type": if first { "Default" } else { "Standard" },
        "SubType": "",
        "Description": block.description,
        "ID": block.id,
        "BlockElements": elements,
    })
}

/// `PartialData` in the largest whole unit the importer reads ("+1 week", "+36 hours").
fn partial_data(hours: u32) -> String {
    let (n, unit) = if hours > 0 && hours.is_multiple_of(24 * 7) {
        (hours / (24 * 7), "week")
    } else if hours > 0 && hours.is_multiple_of(24) {
        (hours / 24, "day")
    } else {
        (hours, "hour")
    };
    format!("+{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Whole numbers as Qualtrics writes them (`10`, not `10.0`); both read back as the same `f64`.
fn number(x: f64) -> Value {
    // Below 2^53 every whole f64 is exactly an i64.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Whether the importer keeps `text` as it is: it trims and sanitizes question and choice text.
fn clean(text: &str) -> bool {
    html::sanitize(text.trim()) == text
}

fn always() -> Condition {
    Condition::All {
        conditions: Vec::new(),
    }
}
