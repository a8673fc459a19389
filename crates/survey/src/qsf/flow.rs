//! The survey flow (`FL`): blocks, embedded data, branches, groups, randomizers and ends of
//! survey, in authored order.

use super::logic::{always, logic};
use super::values::text_of;
use super::Importer;
use crate::definition::{EmbeddedField, EmbeddedValue, FlowElement, SurveyDefinition};
use crate::html;
use serde_json::Value;

impl Importer {
    pub(super) fn flow(
        &mut self,
        list: &[Value],
        definition: &SurveyDefinition,
    ) -> Vec<FlowElement> {
        let mut out = Vec::new();
        for element in list {
            let kind = text_of(element.get("Type")).unwrap_or_default();
            let nested = || {
                element
                    .get("Flow")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
            };
            match kind.as_str() {
                "Block" | "Standard" => {
                    let id = text_of(element.get("ID")).unwrap_or_default();
                    if definition.block(&id).is_some() {
                        out.push(FlowElement::Block { block_id: id });
                    } else {
                        self.warn(format!(
                            "the flow shows block {id}, which is not in the export; skipped"
                        ));
                    }
                }
                "EmbeddedData" => {
                    let fields: Vec<EmbeddedField> = element
                        .get("EmbeddedData")
                        .and_then(Value::as_array)
                        .map(|list| list.iter().filter_map(|f| self.embedded_field(f)).collect())
                        .unwrap_or_default();
                    if !fields.is_empty() {
                        out.push(FlowElement::EmbeddedData { fields });
                    }
                }
                "Branch" => {
                    let description = text_of(element.get("Description")).unwrap_or_default();
                    let condition = match element.get("BranchLogic").map(|l| logic(l, definition)) {
                        Some(Ok(c)) => c,
                        Some(Err(why)) => {
                            self.warn(format!(
                                "branch \"{description}\": {why}; the branch is imported as always taken"
                            ));
                            always()
                        }
                        None => {
                            self.warn(format!(
                                "branch \"{description}\" has no logic; imported as always taken"
                            ));
                            always()
                        }
                    };
                    let flow = self.flow(nested(), definition);
                    out.push(FlowElement::Branch { condition, flow });
                }
                "EndSurvey" => {
                    let options = element.get("Options");
                    let termination = options.and_then(|o| text_of(o.get("SurveyTermination")));
                    let message = options
                        .and_then(|o| text_of(o.get("EOSMessage")))
                        .filter(|m| !m.is_empty());
                    if termination.as_deref() == Some("Redirect") {
                        self.warn("an end-of-survey element redirects to a URL in Qualtrics; Sonde shows the end message instead");
                    }
                    let message = match message {
                        Some(m) if m.starts_with("MS_") => {
                            self.warn(format!(
                                "an end-of-survey element uses library message {m}, which is not in the export; the survey's end message is used"
                            ));
                            None
                        }
                        other => other.map(|m| html::sanitize(&m)),
                    };
                    out.push(FlowElement::EndSurvey { message });
                }
                "BlockRandomizer" | "Randomizer" => {
                    let subset = text_of(element.get("SubSet")).unwrap_or_default();
                    let flow = self.flow(nested(), definition);
                    self.warn(format!(
                        "a randomizer (presenting {} of {} elements in Qualtrics) is imported as a group showing all of them in authored order",
                        if subset.is_empty() { "some".to_string() } else { subset.clone() },
                        flow.len()
                    ));
                    out.push(FlowElement::Group {
                        description: format!("Randomizer (Qualtrics presented {subset})"),
                        flow,
                    });
                }
                "Group" => {
                    let flow = self.flow(nested(), definition);
                    out.push(FlowElement::Group {
                        description: text_of(element.get("Description")).unwrap_or_default(),
                        flow,
                    });
                }
                other => {
                    let inner = nested();
                    if inner.is_empty() {
                        self.warn(format!(
                            "survey flow element {other} is not supported; skipped"
                        ));
                    } else {
                        self.warn(format!(
                            "survey flow element {other} is not supported; its contents are kept as a group"
                        ));
                        let flow = self.flow(inner, definition);
                        out.push(FlowElement::Group {
                            description: other.to_string(),
                            flow,
                        });
                    }
                }
            }
        }
        out
    }

    fn embedded_field(&mut self, f: &Value) -> Option<EmbeddedField> {
        let name = text_of(f.get("Field"))
            .or_else(|| text_of(f.get("Description")))
            .filter(|n| !n.trim().is_empty())?;
        let kind = text_of(f.get("Type")).unwrap_or_default();
        let value = text_of(f.get("Value")).filter(|v| !v.is_empty());
        let value = match (kind.as_str(), value) {
            ("Custom", Some(v)) => EmbeddedValue::Fixed(v),
            ("Recipient" | "Custom" | "", _) => EmbeddedValue::Url,
            (other, v) => {
                self.warn(format!(
                    "embedded data field {name}: source {other} is not supported; {}",
                    if v.is_some() {
                        "its value is set as given"
                    } else {
                        "it is read from the link instead"
                    }
                ));
                match text_of(f.get("Value")).filter(|v| !v.is_empty()) {
                    Some(v) => EmbeddedValue::Fixed(v),
                    None => EmbeddedValue::Url,
                }
            }
        };
        Some(EmbeddedField { name, value })
    }
}
