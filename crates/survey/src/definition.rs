//! The native survey definition: questions in blocks and a flow over blocks.
//! This JSON shape is the documented format (`docs/survey-definition.md`); `.qsf` imports into it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A whole survey as authored. Question ids (`QID1`) and block ids are stable across edits,
/// so responses and workflow mappings keep pointing at the right thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub name: String,
    #[serde(default = "default_language")]
    pub language: String,
    pub blocks: Vec<Block>,
    pub questions: Vec<Question>,
    /// The order respondents move through blocks; empty means "every block in order".
    #[serde(default)]
    pub flow: Vec<FlowElement>,
    /// Shown on the end page (piped text allowed).
    #[serde(default = "default_end_message")]
    pub end_message: String,
    #[serde(default)]
    pub options: SurveyOptions,
}

impl SurveyDefinition {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    pub fn block(&self, id: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.id == id)
    }
}

impl Question {
    /// Whether a respondent sees anything for this question; timing questions are invisible,
    /// so a page holding only those is skipped.
    pub fn is_displayed(&self) -> bool {
        !matches!(self.kind, QuestionKind::Timing { .. })
    }

    pub fn choice(&self, id: &str) -> Option<&Choice> {
        match &self.kind {
            QuestionKind::MultipleChoice { choices, .. } => choices.iter().find(|c| c.id == id),
            _ => None,
        }
    }
}

fn default_language() -> String {
    "EN".into()
}

pub(crate) fn default_end_message() -> String {
    "Thank you for taking our survey. Your response has been recorded.".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyOptions {
    /// An unfinished response is closed as incomplete after this many hours without activity.
    #[serde(default = "default_incomplete_after_hours")]
    pub incomplete_after_hours: u32,
    #[serde(default)]
    pub back_button: bool,
}

fn default_incomplete_after_hours() -> u32 {
    168
}

impl Default for SurveyOptions {
    fn default() -> Self {
        Self {
            incomplete_after_hours: default_incomplete_after_hours(),
            back_button: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub id: String,
    #[serde(default)]
    pub description: String,
    pub elements: Vec<BlockElement>,
}

/// A block lists its questions in order; a page break starts a new page within the block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BlockElement {
    Question { id: String },
    PageBreak,
}

// No `deny_unknown_fields` here: serde cannot combine it with `#[serde(flatten)]` (every
// question was rejected with "unknown field `type`").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Question {
    /// Internal id, `QID` + number, as in Qualtrics.
    pub id: String,
    /// The label used in exports (`Q1`, or whatever the author named it).
    pub export_tag: String,
    /// Question text (piped text allowed; may hold simple HTML from imports).
    pub text: String,
    /// Force response: the page is refused until this question is answered.
    #[serde(default)]
    pub required: bool,
    /// Display logic: the question is shown only when this holds for the answers given on
    /// earlier pages. Without JavaScript a condition on the same page cannot be evaluated,
    /// so validation warns about that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_logic: Option<Condition>,
    #[serde(flatten)]
    pub kind: QuestionKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Single or multiple answer; choices keep their authored order.
    MultipleChoice {
        #[serde(default)]
        multiple: bool,
        choices: Vec<Choice>,
    },
    /// Net Promoter Score, 0–10.
    Nps {
        #[serde(default)]
        low_label: String,
        #[serde(default)]
        high_label: String,
    },
    TextEntry {
        #[serde(default)]
        multiline: bool,
        #[serde(default)]
        content: TextContent,
    },
    /// Likert matrix: one answer per statement from a shared scale.
    Matrix {
        statements: Vec<Choice>,
        scale: Vec<Choice>,
    },
    /// One slider per statement (a single unnamed statement when there is just one).
    Slider {
        min: f64,
        max: f64,
        #[serde(default = "default_step")]
        step: f64,
        statements: Vec<Choice>,
    },
    /// Text only; nothing to answer.
    Descriptive,
    /// Records time on page; moves on by itself after `auto_advance_seconds` when set.
    Timing {
        #[serde(default)]
        auto_advance_seconds: Option<u32>,
    },
    /// A Qualtrics question type Sonde does not render yet, kept so nothing is lost on import.
    Unsupported {
        qualtrics_type: String,
        #[serde(default)]
        selector: String,
    },
}

fn default_step() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextContent {
    #[default]
    Any,
    Number,
    Email,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable id within its question (`"1"`, `"2"`, ... in Qualtrics exports).
    pub id: String,
    pub text: String,
    /// The value exported and compared in logic; defaults to the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recode: Option<String>,
    /// The respondent may type text beside this choice ("Other: ____").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_entry: bool,
}

impl Choice {
    pub fn recode_value(&self) -> &str {
        self.recode.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FlowElement {
    Block {
        block_id: String,
    },
    /// Declares embedded data fields and where each gets its value.
    EmbeddedData {
        fields: Vec<EmbeddedField>,
    },
    /// The nested flow runs only when the condition holds for the answers so far.
    Branch {
        condition: Condition,
        #[schema(no_recursion)]
        flow: Vec<FlowElement>,
    },
    /// Runs its flow in order. Imported Qualtrics groups and randomizers land here; Sonde keeps
    /// the authored order (the import warns when a randomizer is flattened this way).
    Group {
        #[serde(default)]
        description: String,
        #[schema(no_recursion)]
        flow: Vec<FlowElement>,
    },
    /// Ends the survey here, optionally with its own message.
    EndSurvey {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedField {
    pub name: String,
    #[serde(default)]
    pub value: EmbeddedValue,
}

/// Where an embedded data field's value comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "from", content = "value", rename_all = "snake_case")]
pub enum EmbeddedValue {
    /// The link's query string (`?ContactId=003...`), or the contact's embedded data.
    #[default]
    Url,
    /// A fixed value, itself piped text.
    Fixed(String),
}

/// Conditions used by branches (and by workflows): tests on answers, embedded data and metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    // Conditions nest: the schema refers to itself instead of unfolding for ever.
    All {
        #[schema(no_recursion)]
        conditions: Vec<Condition>,
    },
    Any {
        #[schema(no_recursion)]
        conditions: Vec<Condition>,
    },
    Not {
        #[schema(no_recursion)]
        condition: Box<Condition>,
    },
    /// `question` is a question id; `choice`/`statement` narrow to a choice or matrix row.
    Answer {
        question: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        statement: Option<String>,
        op: Operator,
        #[serde(default)]
        value: String,
    },
    EmbeddedData {
        field: String,
        op: Operator,
        #[serde(default)]
        value: String,
    },
    /// Response metadata such as `Finished`, `DistributionChannel`, `Duration`.
    Metadata {
        field: String,
        op: Operator,
        #[serde(default)]
        value: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// For choices: the choice (by id or recode) is selected.
    Selected,
    NotSelected,
    Displayed,
    Equals,
    NotEquals,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    Contains,
    DoesNotContain,
    IsEmpty,
    IsNotEmpty,
}
