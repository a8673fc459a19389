//! The question editor's form as data: read from a question or from what was posted (every
//! row kept as typed), changed by its row buttons, and turned into the `Question` an edit
//! carries — or into the problems of what cannot be one (a number that is not a number),
//! named as the engine names them (`question.min`), so both show beside the same input.

use super::rows::{self, RowOp};
use super::Fields;
use engine::FieldProblem;
use survey::{Choice, Condition, Operator, Question, QuestionKind, TextContent};

/// The question types the editor builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    MultipleChoice,
    Nps,
    TextEntry,
    Matrix,
    Slider,
    Descriptive,
    Timing,
    /// An imported type Sonde does not render: its text and settings are edited, its kind kept.
    Unsupported,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "multiple_choice" => Self::MultipleChoice,
            "nps" => Self::Nps,
            "text_entry" => Self::TextEntry,
            "matrix" => Self::Matrix,
            "slider" => Self::Slider,
            "descriptive" => Self::Descriptive,
            "timing" => Self::Timing,
            "unsupported" => Self::Unsupported,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::MultipleChoice => "multiple_choice",
            Self::Nps => "nps",
            Self::TextEntry => "text_entry",
            Self::Matrix => "matrix",
            Self::Slider => "slider",
            Self::Descriptive => "descriptive",
            Self::Timing => "timing",
            Self::Unsupported => "unsupported",
        }
    }

    /// The row lists this type has: (form name, heading, recodes offered, "other" offered).
    pub(crate) fn lists(self) -> &'static [(&'static str, &'static str, bool, bool)] {
        match self {
            Self::MultipleChoice => &[("choices", "Choices", true, true)],
            Self::Matrix => &[
                ("statements", "Statements (rows)", false, false),
                ("scale", "Scale points (columns)", true, false),
            ],
            Self::Slider => &[("statements", "Statements (one slider each)", false, false)],
            _ => &[],
        }
    }
}

/// One choice, statement or scale point as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Row {
    pub id: String,
    pub text: String,
    pub recode: String,
    pub other: bool,
}

/// Display logic as the form edits it: none, one test on an earlier answer or an embedded data
/// field, or a condition the form cannot show (an import's And/Or) kept as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Logic {
    /// "", "answer", "embedded" or "kept".
    pub mode: String,
    pub question: String,
    pub field: String,
    pub op: String,
    pub value: String,
    /// The kept condition, as JSON.
    pub kept: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuestionForm {
    pub kind: Kind,
    pub text: String,
    pub export_tag: String,
    pub required: bool,
    pub multiple: bool,
    pub choices: Vec<Row>,
    pub statements: Vec<Row>,
    pub scale: Vec<Row>,
    pub low_label: String,
    pub high_label: String,
    pub multiline: bool,
    pub content: String,
    pub min: String,
    pub max: String,
    pub step: String,
    pub auto_advance: String,
    pub logic: Logic,
    /// An unsupported question's Qualtrics type and selector, carried through.
    pub unsupported: (String, String),
    /// After a row button, the input or button (by name or value) the keyboard continues
    /// from: the moved row's same button, the new row's text.
    pub focus: String,
}

fn row(id: &str, text: &str) -> Row {
    Row {
        id: id.into(),
        text: text.into(),
        ..Default::default()
    }
}

fn number(n: f64) -> String {
    // 10.0 is shown as "10", as the author typed it.
    format!("{n}")
}

/// The operators a test can use, as the definition names them, with the words shown.
pub(crate) const OPERATORS: &[(&str, &str)] = &[
    ("selected", "is selected (choice id or recode)"),
    ("not_selected", "is not selected"),
    ("displayed", "was answered"),
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("greater_than", "is greater than"),
    ("greater_or_equal", "is at least"),
    ("less_than", "is less than"),
    ("less_or_equal", "is at most"),
    ("contains", "contains"),
    ("does_not_contain", "does not contain"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
];

pub(crate) fn op_name(op: Operator) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(crate) fn parse_op(s: &str) -> Option<Operator> {
    serde_json::from_value(serde_json::Value::String(s.into())).ok()
}

impl Logic {
    pub(crate) fn of(c: Option<&Condition>) -> Self {
        match c {
            None => Self::default(),
            Some(Condition::Answer {
                question,
                statement: None,
                op,
                value,
            }) => Self {
                mode: "answer".into(),
                question: question.clone(),
                op: op_name(*op),
                value: value.clone(),
                ..Default::default()
            },
            Some(Condition::EmbeddedData { field, op, value }) => Self {
                mode: "embedded".into(),
                field: field.clone(),
                op: op_name(*op),
                value: value.clone(),
                ..Default::default()
            },
            Some(other) => Self {
                mode: "kept".into(),
                kept: serde_json::to_string(other).unwrap_or_default(),
                ..Default::default()
            },
        }
    }

    /// Reads the test posted under `prefix` (`logic` for display logic, `r3.cond` in a flow).
    pub(crate) fn read(form: &Fields, prefix: &str) -> Self {
        let get = |k: &str| form.get(&format!("{prefix}.{k}")).to_string();
        Self {
            mode: get("mode"),
            question: get("question"),
            field: get("field"),
            op: get("op"),
            value: get("value"),
            kept: get("kept"),
        }
    }

    /// The condition, None for none; problems are named `field` (the engine's name for it).
    pub(crate) fn condition(
        &self,
        field: &str,
        problems: &mut Vec<FieldProblem>,
    ) -> Option<Condition> {
        let mut problem = |message: &str| {
            problems.push(FieldProblem {
                field: field.into(),
                message: message.into(),
            })
        };
        let op = || parse_op(&self.op);
        match self.mode.as_str() {
            "answer" => {
                if self.question.trim().is_empty() {
                    problem("choose the question the test is on");
                    return None;
                }
                let Some(op) = op() else {
                    problem("choose how to compare");
                    return None;
                };
                Some(Condition::Answer {
                    question: self.question.trim().into(),
                    statement: None,
                    op,
                    value: self.value.trim().into(),
                })
            }
            "embedded" => {
                if self.field.trim().is_empty() {
                    problem("type the embedded data field the test is on");
                    return None;
                }
                let Some(op) = op() else {
                    problem("choose how to compare");
                    return None;
                };
                Some(Condition::EmbeddedData {
                    field: self.field.trim().into(),
                    op,
                    value: self.value.trim().into(),
                })
            }
            "kept" => match serde_json::from_str(&self.kept) {
                Ok(c) => Some(c),
                Err(_) => {
                    problem("the kept condition could not be read; choose a test instead");
                    None
                }
            },
            _ => None,
        }
    }
}

impl QuestionForm {
    /// A new question of `kind`, ready to fill in.
    pub(crate) fn new(kind: Kind) -> Self {
        let likert = [
            "Strongly disagree",
            "Disagree",
            "Neither agree nor disagree",
            "Agree",
            "Strongly agree",
        ];
        let mut f = Self {
            kind,
            text: String::new(),
            export_tag: String::new(),
            required: false,
            multiple: false,
            choices: Vec::new(),
            statements: Vec::new(),
            scale: Vec::new(),
            low_label: String::new(),
            high_label: String::new(),
            multiline: false,
            content: "any".into(),
            min: "0".into(),
            max: "10".into(),
            step: "1".into(),
            auto_advance: String::new(),
            logic: Logic::default(),
            unsupported: Default::default(),
            focus: String::new(),
        };
        match kind {
            Kind::MultipleChoice => f.choices = (1..=3).map(|i| row(&i.to_string(), "")).collect(),
            Kind::Matrix => {
                f.statements = (1..=2).map(|i| row(&i.to_string(), "")).collect();
                f.scale = likert
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Row {
                        recode: (i + 1).to_string(),
                        ..row(&(i + 1).to_string(), t)
                    })
                    .collect();
            }
            Kind::Slider => f.statements = vec![row("1", "")],
            Kind::Nps => {
                f.low_label = "Not at all likely".into();
                f.high_label = "Extremely likely".into();
            }
            Kind::Timing => f.text = "Timing".into(),
            _ => {}
        }
        f
    }

    pub(crate) fn of(q: &Question) -> Self {
        let rows = |list: &[Choice]| {
            list.iter()
                .map(|c| Row {
                    id: c.id.clone(),
                    text: c.text.clone(),
                    recode: c.recode.clone().unwrap_or_default(),
                    other: c.text_entry,
                })
                .collect::<Vec<_>>()
        };
        let kind = match &q.kind {
            QuestionKind::MultipleChoice { .. } => Kind::MultipleChoice,
            QuestionKind::Nps { .. } => Kind::Nps,
            QuestionKind::TextEntry { .. } => Kind::TextEntry,
            QuestionKind::Matrix { .. } => Kind::Matrix,
            QuestionKind::Slider { .. } => Kind::Slider,
            QuestionKind::Descriptive => Kind::Descriptive,
            QuestionKind::Timing { .. } => Kind::Timing,
            QuestionKind::Unsupported { .. } => Kind::Unsupported,
        };
        let mut f = Self::new(kind);
        f.text = q.text.clone();
        f.export_tag = q.export_tag.clone();
        f.required = q.required;
        f.logic = Logic::of(q.display_logic.as_ref());
        match &q.kind {
            QuestionKind::MultipleChoice { multiple, choices } => {
                f.multiple = *multiple;
                f.choices = rows(choices);
            }
            QuestionKind::Nps {
                low_label,
                high_label,
            } => {
                f.low_label = low_label.clone();
                f.high_label = high_label.clone();
            }
            QuestionKind::TextEntry { multiline, content } => {
                f.multiline = *multiline;
                f.content = match content {
                    TextContent::Any => "any",
                    TextContent::Number => "number",
                    TextContent::Email => "email",
                }
                .into();
            }
            QuestionKind::Matrix { statements, scale } => {
                f.statements = rows(statements);
                f.scale = rows(scale);
            }
            QuestionKind::Slider {
                min,
                max,
                step,
                statements,
            } => {
                f.min = number(*min);
                f.max = number(*max);
                f.step = number(*step);
                f.statements = rows(statements);
            }
            QuestionKind::Timing {
                auto_advance_seconds,
            } => {
                f.auto_advance = auto_advance_seconds
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            }
            QuestionKind::Unsupported {
                qualtrics_type,
                selector,
            } => f.unsupported = (qualtrics_type.clone(), selector.clone()),
            QuestionKind::Descriptive => {}
        }
        f
    }

    /// What was posted, rows in their posted order.
    pub(crate) fn read(form: &Fields, kind: Kind) -> Self {
        let mut f = Self::new(kind);
        f.text = form.get("text").to_string();
        f.export_tag = form.get("export_tag").to_string();
        f.required = form.has("required");
        f.multiple = form.get("multiple") == "1";
        f.low_label = form.get("low_label").to_string();
        f.high_label = form.get("high_label").to_string();
        f.multiline = form.get("multiline") == "1";
        f.content = form.get("content").to_string();
        f.min = form.get("min").to_string();
        f.max = form.get("max").to_string();
        f.step = form.get("step").to_string();
        f.auto_advance = form.get("auto_advance_seconds").to_string();
        f.logic = Logic::read(form, "logic");
        f.unsupported = (
            form.get("qualtrics_type").to_string(),
            form.get("selector").to_string(),
        );
        for (list, ..) in kind.lists() {
            *f.list_mut(list) = read_rows(form, list);
        }
        f
    }

    pub(crate) fn list(&self, name: &str) -> &[Row] {
        match name {
            "choices" => &self.choices,
            "statements" => &self.statements,
            _ => &self.scale,
        }
    }

    fn list_mut(&mut self, name: &str) -> &mut Vec<Row> {
        match name {
            "choices" => &mut self.choices,
            "statements" => &mut self.statements,
            _ => &mut self.scale,
        }
    }

    /// A row button pressed: true when it named one of this form's lists.
    pub(crate) fn row_op(&mut self, list: &str, op: RowOp) -> bool {
        if !self.kind.lists().iter().any(|(l, ..)| *l == list) {
            return false;
        }
        rows::apply(self.list_mut(list), op, |rows| Row {
            id: rows::next_id(rows.iter().map(|r| r.id.as_str())),
            ..Default::default()
        });
        let len = self.list(list).len();
        self.focus = match op {
            RowOp::Add => format!("{list}[{}].text", len.saturating_sub(1)),
            RowOp::Up(i) if i > 0 => format!("{list}:up:{}", i - 1),
            RowOp::Down(i) if i + 1 < len => format!("{list}:down:{}", i + 1),
            RowOp::Remove(i) if len > 0 => format!("{list}[{}].text", i.min(len - 1)),
            _ => format!("{list}:add"),
        };
        true
    }

    /// The same question as another type: text, tag, force response and display logic stay;
    /// rows move to the new type's first list (a choice question's choices become a matrix's
    /// statements); what the new type needs and lacks is its new question's default.
    pub(crate) fn retype(&mut self, to: Kind) {
        if to == self.kind || to == Kind::Unsupported {
            return;
        }
        let fresh = Self::new(to);
        let carried: Vec<Row> = self
            .kind
            .lists()
            .first()
            .map(|(l, ..)| self.list(l).to_vec())
            .unwrap_or_default();
        let mut next = Self {
            kind: to,
            text: self.text.clone(),
            export_tag: self.export_tag.clone(),
            required: self.required,
            logic: self.logic.clone(),
            ..fresh
        };
        if let Some((first, ..)) = to.lists().first() {
            if !carried.is_empty() {
                *next.list_mut(first) = carried;
            }
        }
        *self = next;
    }

    /// The question this form describes (id left for the edit to set), or what stops it.
    pub(crate) fn question(&self) -> Result<Question, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut num = |name: &str, value: &str| -> f64 {
            match value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => n,
                _ => {
                    problems.push(FieldProblem {
                        field: format!("question.{name}"),
                        message: format!("{:?} is not a number", value.trim()),
                    });
                    0.0
                }
            }
        };
        let choices = |list: &[Row], recodes: bool, other: bool| -> Vec<Choice> {
            let mut ids: Vec<String> = Vec::new();
            list.iter()
                .map(|r| {
                    // A row the script added has no id yet: the next free number.
                    let id = if r.id.trim().is_empty() {
                        rows::next_id(
                            list.iter()
                                .map(|r| r.id.as_str())
                                .chain(ids.iter().map(String::as_str)),
                        )
                    } else {
                        r.id.trim().to_string()
                    };
                    ids.push(id.clone());
                    Choice {
                        id,
                        text: r.text.trim().to_string(),
                        recode: Some(r.recode.trim().to_string())
                            .filter(|r| recodes && !r.is_empty()),
                        text_entry: other && r.other,
                    }
                })
                .collect()
        };
        let kind = match self.kind {
            Kind::MultipleChoice => QuestionKind::MultipleChoice {
                multiple: self.multiple,
                choices: choices(&self.choices, true, true),
            },
            Kind::Nps => QuestionKind::Nps {
                low_label: self.low_label.trim().into(),
                high_label: self.high_label.trim().into(),
            },
            Kind::TextEntry => QuestionKind::TextEntry {
                multiline: self.multiline,
                content: match self.content.as_str() {
                    "number" => TextContent::Number,
                    "email" => TextContent::Email,
                    _ => TextContent::Any,
                },
            },
            Kind::Matrix => QuestionKind::Matrix {
                statements: choices(&self.statements, false, false),
                scale: choices(&self.scale, true, false),
            },
            Kind::Slider => QuestionKind::Slider {
                min: num("min", &self.min),
                max: num("max", &self.max),
                step: num("step", &self.step),
                statements: choices(&self.statements, false, false),
            },
            Kind::Descriptive => QuestionKind::Descriptive,
            Kind::Timing => QuestionKind::Timing {
                auto_advance_seconds: match self.auto_advance.trim() {
                    "" => None,
                    s => match s.parse::<u32>() {
                        Ok(n) => Some(n),
                        Err(_) => {
                            problems.push(FieldProblem {
                                field: "question.auto_advance_seconds".into(),
                                message: format!("{s:?} is not a whole number of seconds"),
                            });
                            None
                        }
                    },
                },
            },
            Kind::Unsupported => QuestionKind::Unsupported {
                qualtrics_type: self.unsupported.0.clone(),
                selector: self.unsupported.1.clone(),
            },
        };
        let display_logic = self
            .logic
            .condition("question.display_logic", &mut problems);
        if self.text.trim().is_empty() && self.kind != Kind::Timing {
            problems.insert(
                0,
                FieldProblem {
                    field: "question.text".into(),
                    message: "type the question's text".into(),
                },
            );
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Question {
            id: String::new(),
            export_tag: self.export_tag.trim().into(),
            text: self.text.trim().into(),
            required: self.required,
            display_logic,
            kind,
        })
    }
}

/// The rows posted as `list[i].id`, `list[i].text`, … in index order.
fn read_rows(form: &Fields, list: &str) -> Vec<Row> {
    let prefix = format!("{list}[");
    let mut indexes: Vec<usize> = form
        .0
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split(']').next()?.parse().ok())
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    indexes
        .into_iter()
        .map(|i| {
            let get = |field: &str| form.get(&format!("{list}[{i}].{field}")).to_string();
            Row {
                id: get("id"),
                text: get("text"),
                recode: get("recode"),
                other: form.has(&format!("{list}[{i}].other")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_posted_choice_question_keeps_its_rows_and_becomes_a_question() {
        let f = QuestionForm::read(
            &fields(&[
                ("text", "Which drink?"),
                ("multiple", "1"),
                ("choices[0].id", "1"),
                ("choices[0].text", "Tea"),
                ("choices[1].id", ""),
                ("choices[1].text", "Other"),
                ("choices[1].recode", "99"),
                ("choices[1].other", "on"),
            ]),
            Kind::MultipleChoice,
        );
        assert_eq!(f.choices.len(), 2);
        let q = f.question().unwrap();
        let QuestionKind::MultipleChoice { multiple, choices } = q.kind else {
            panic!("a multiple choice question")
        };
        assert!(multiple);
        assert_eq!(choices[1].id, "2", "a new row gets the next free id");
        assert_eq!(choices[1].recode.as_deref(), Some("99"));
        assert!(choices[1].text_entry);
    }

    #[test]
    fn a_choice_question_retyped_as_a_matrix_keeps_its_rows_as_statements() {
        let mut f = QuestionForm::new(Kind::MultipleChoice);
        f.text = "Rate".into();
        f.choices[0].text = "Speed".into();
        f.retype(Kind::Matrix);
        assert_eq!(f.kind, Kind::Matrix);
        assert_eq!(f.text, "Rate");
        assert_eq!(f.statements[0].text, "Speed");
        assert_eq!(f.scale.len(), 5, "the default scale");
        f.retype(Kind::Nps);
        assert_eq!(f.low_label, "Not at all likely");
    }

    #[test]
    fn a_bad_number_is_named_by_its_field_and_a_kept_condition_survives() {
        let mut f = QuestionForm::new(Kind::Slider);
        f.text = "How easy?".into();
        f.min = "low".into();
        let problems = f.question().unwrap_err();
        assert_eq!(problems[0].field, "question.min");
        let c = Condition::Not {
            condition: Box::new(Condition::Metadata {
                field: "Finished".into(),
                op: Operator::Equals,
                value: "1".into(),
            }),
        };
        let logic = Logic::of(Some(&c));
        assert_eq!(logic.mode, "kept");
        assert_eq!(logic.condition("x", &mut Vec::new()), Some(c));
    }
}
