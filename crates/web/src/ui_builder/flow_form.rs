//! The flow editor's form as data. The flow is a tree (a branch holds a flow of its own); the
//! form is a flat list of rows, each with its depth, in the order the tree reads — so moving,
//! removing and adding rows are list operations, and every row knows the path the engine
//! names it by (`flow[2].flow[0].condition`, `flow[0].fields[1].name`) to show its problems.

use super::question_form::Logic;
use super::rows::{self, RowOp};
use super::Fields;
use engine::FieldProblem;
use survey::{Condition, EmbeddedField, EmbeddedValue, FlowElement, SurveyDefinition};

/// The fields the Salesforce preset declares, read from the survey link.
pub(crate) const SALESFORCE_FIELDS: [&str; 3] = ["sfContactId", "sfAccountId", "sfSurveyId"];

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Field {
    pub name: String,
    /// "url" or "fixed".
    pub from: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Element {
    Block { block_id: String },
    Embedded { fields: Vec<Field> },
    Branch { condition: Logic },
    Group { description: String },
    End { message: String },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub depth: usize,
    pub element: Element,
}

impl Element {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Block { .. } => "block",
            Self::Embedded { .. } => "embedded_data",
            Self::Branch { .. } => "branch",
            Self::Group { .. } => "group",
            Self::End { .. } => "end_survey",
        }
    }

    /// Whether rows may sit inside this one.
    pub(crate) fn holds(&self) -> bool {
        matches!(self, Self::Branch { .. } | Self::Group { .. })
    }
}

/// The rows of a flow; an empty flow shows as what it means, every block in order.
pub(crate) fn rows_of(def: &SurveyDefinition) -> Vec<Row> {
    let mut out = Vec::new();
    if def.flow.is_empty() {
        for b in &def.blocks {
            out.push(Row {
                depth: 0,
                element: Element::Block {
                    block_id: b.id.clone(),
                },
            });
        }
    } else {
        flatten(&def.flow, 0, &mut out);
    }
    out
}

fn flatten(flow: &[FlowElement], depth: usize, out: &mut Vec<Row>) {
    for e in flow {
        let (element, inner) = match e {
            FlowElement::Block { block_id } => (
                Element::Block {
                    block_id: block_id.clone(),
                },
                None,
            ),
            FlowElement::EmbeddedData { fields } => (
                Element::Embedded {
                    fields: fields
                        .iter()
                        .map(|f| match &f.value {
                            EmbeddedValue::Url => Field {
                                name: f.name.clone(),
                                from: "url".into(),
                                value: String::new(),
                            },
                            EmbeddedValue::Fixed(v) => Field {
                                name: f.name.clone(),
                                from: "fixed".into(),
                                value: v.clone(),
                            },
                        })
                        .collect(),
                },
                None,
            ),
            FlowElement::Branch { condition, flow } => (
                Element::Branch {
                    condition: Logic::of(Some(condition)),
                },
                Some(flow),
            ),
            FlowElement::Group { description, flow } => (
                Element::Group {
                    description: description.clone(),
                },
                Some(flow),
            ),
            FlowElement::EndSurvey { message } => (
                Element::End {
                    message: message.clone().unwrap_or_default(),
                },
                None,
            ),
        };
        out.push(Row { depth, element });
        if let Some(inner) = inner {
            flatten(inner, depth + 1, out);
        }
    }
}

/// The rows as posted (`r0.kind`, `r0.depth`, `r0.block_id`, `r0.fields[1].name`, …).
pub(crate) fn read(form: &Fields) -> Vec<Row> {
    let mut indexes: Vec<usize> = form
        .0
        .iter()
        .filter_map(|(k, _)| k.strip_prefix('r')?.strip_suffix(".kind")?.parse().ok())
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    let mut out: Vec<Row> = Vec::new();
    for i in indexes {
        let get = |k: &str| form.get(&format!("r{i}.{k}")).to_string();
        let element = match get("kind").as_str() {
            "block" => Element::Block {
                block_id: get("block_id"),
            },
            "embedded_data" => {
                let prefix = format!("r{i}.fields[");
                let mut js: Vec<usize> = form
                    .0
                    .iter()
                    .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split(']').next()?.parse().ok())
                    .collect();
                js.sort_unstable();
                js.dedup();
                Element::Embedded {
                    fields: js
                        .into_iter()
                        .map(|j| Field {
                            name: get(&format!("fields[{j}].name")),
                            from: get(&format!("fields[{j}].from")),
                            value: get(&format!("fields[{j}].value")),
                        })
                        .collect(),
                }
            }
            "branch" => Element::Branch {
                condition: Logic::read(form, &format!("r{i}.cond")),
            },
            "group" => Element::Group {
                description: get("description"),
            },
            "end_survey" => Element::End {
                message: get("message"),
            },
            _ => continue,
        };
        // A row can only sit one level inside the branch or group above it.
        let most = match out.last() {
            Some(prev) if prev.element.holds() => prev.depth + 1,
            Some(prev) => prev.depth,
            None => 0,
        };
        let depth = get("depth").parse::<usize>().unwrap_or(0).min(most);
        out.push(Row { depth, element });
    }
    out
}

/// Where row `i`'s subtree ends (exclusive): the rows after it that sit deeper.
fn subtree_end(rows: &[Row], i: usize) -> usize {
    let d = rows[i].depth;
    let mut end = i + 1;
    while end < rows.len() && rows[end].depth > d {
        end += 1;
    }
    end
}

/// The sibling before row `i` (same depth, same parent), if any.
fn previous_sibling(rows: &[Row], i: usize) -> Option<usize> {
    let d = rows[i].depth;
    (0..i)
        .rev()
        .take_while(|&j| rows[j].depth >= d)
        .find(|&j| rows[j].depth == d)
}

/// A button of the flow editor: `add:block`, `up:3`, `remove:3`, `inside:block:2`,
/// `field:add:1`, `field:remove:1:0`, `salesforce`. Answers where the keyboard goes on from
/// (the moved row's same button, `title:3` for a row's heading, an input's name), or None for
/// an unknown button.
pub(crate) fn apply(rows: &mut Vec<Row>, def: &SurveyDefinition, button: &str) -> Option<String> {
    let parts: Vec<&str> = button.split(':').collect();
    let index = |k: usize| parts.get(k).and_then(|p| p.parse::<usize>().ok());
    let fresh = |kind: &str| -> Option<Element> {
        Some(match kind {
            "block" => Element::Block {
                block_id: def.blocks.first().map(|b| b.id.clone()).unwrap_or_default(),
            },
            "embedded_data" => Element::Embedded {
                fields: vec![Field {
                    from: "url".into(),
                    ..Default::default()
                }],
            },
            "branch" => Element::Branch {
                condition: Logic {
                    mode: "answer".into(),
                    op: "selected".into(),
                    ..Default::default()
                },
            },
            "group" => Element::Group {
                description: String::new(),
            },
            "end_survey" => Element::End {
                message: String::new(),
            },
            _ => return None,
        })
    };
    match parts.as_slice() {
        ["add", kind] => {
            let element = fresh(kind)?;
            rows.push(Row { depth: 0, element });
            Some(format!("title:{}", rows.len() - 1))
        }
        ["inside", kind, _] => {
            let (Some(i), Some(element)) = (index(2), fresh(kind)) else {
                return None;
            };
            if i >= rows.len() || !rows[i].element.holds() {
                return None;
            }
            let at = subtree_end(rows, i);
            let depth = rows[i].depth + 1;
            rows.insert(at, Row { depth, element });
            Some(format!("title:{at}"))
        }
        ["remove", _] => {
            let i = index(1).filter(|&i| i < rows.len())?;
            let end = subtree_end(rows, i);
            rows.drain(i..end);
            Some(match rows.len() {
                0 => "add:block".to_string(),
                n => format!("title:{}", i.min(n - 1)),
            })
        }
        ["up", _] => {
            let i = index(1).filter(|&i| i < rows.len())?;
            let Some(p) = previous_sibling(rows, i) else {
                return Some(format!("up:{i}"));
            };
            let end = subtree_end(rows, i);
            let moved: Vec<Row> = rows.drain(i..end).collect();
            rows.splice(p..p, moved);
            Some(format!("up:{p}"))
        }
        ["down", _] => {
            let i = index(1).filter(|&i| i < rows.len())?;
            let end = subtree_end(rows, i);
            if end == rows.len() || rows[end].depth != rows[i].depth {
                return Some(format!("down:{i}"));
            }
            let next_end = subtree_end(rows, end);
            let moved: Vec<Row> = rows.drain(end..next_end).collect();
            rows.splice(i..i, moved);
            Some(format!("down:{}", i + (next_end - end)))
        }
        ["field", op, ..] => {
            let i = index(2).filter(|&i| i < rows.len())?;
            let Element::Embedded { fields } = &mut rows[i].element else {
                return None;
            };
            let op = match (*op, index(3)) {
                ("add", _) => RowOp::Add,
                ("remove", Some(j)) => RowOp::Remove(j),
                _ => return None,
            };
            rows::apply(fields, op, |_| Field {
                from: "url".into(),
                ..Default::default()
            });
            Some(match op {
                RowOp::Add => format!("r{i}.fields[{}].name", fields.len() - 1),
                _ => format!("field:add:{i}"),
            })
        }
        ["salesforce"] => {
            let declared: Vec<String> = rows
                .iter()
                .flat_map(|r| match &r.element {
                    Element::Embedded { fields } => fields.iter().map(|f| f.name.clone()).collect(),
                    _ => Vec::new(),
                })
                .collect();
            let fields: Vec<Field> = SALESFORCE_FIELDS
                .iter()
                .filter(|n| !declared.iter().any(|d| d == *n))
                .map(|n| Field {
                    name: n.to_string(),
                    from: "url".into(),
                    value: String::new(),
                })
                .collect();
            // Declared first, so every block after it can pipe them.
            if !fields.is_empty() {
                rows.insert(
                    0,
                    Row {
                        depth: 0,
                        element: Element::Embedded { fields },
                    },
                );
            }
            Some("title:0".into())
        }
        _ => None,
    }
}

/// The engine's path of each row (`flow[2].flow[0]`), in row order.
pub(crate) fn paths(rows: &[Row]) -> Vec<String> {
    // For each depth, the path of the open container and how many children it has so far.
    let mut stack: Vec<(String, usize)> = vec![("flow".into(), 0)];
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        stack.truncate(r.depth + 1);
        let (parent, count) = stack.last_mut().expect("the top level is never popped");
        let path = format!("{parent}[{count}]");
        *count += 1;
        out.push(path.clone());
        stack.push((format!("{path}.flow"), 0));
    }
    out
}

/// The flow the rows stand for, or the problems of rows that cannot be one, by engine path.
pub(crate) fn flow(rows: &[Row]) -> Result<Vec<FlowElement>, Vec<FieldProblem>> {
    let paths = paths(rows);
    let mut problems = Vec::new();
    let mut elements: Vec<(usize, FlowElement)> = Vec::new();
    for (r, path) in rows.iter().zip(&paths) {
        let e = match &r.element {
            Element::Block { block_id } => FlowElement::Block {
                block_id: block_id.trim().into(),
            },
            Element::Embedded { fields } => FlowElement::EmbeddedData {
                fields: fields
                    .iter()
                    .map(|f| EmbeddedField {
                        name: f.name.trim().into(),
                        value: if f.from == "fixed" {
                            EmbeddedValue::Fixed(f.value.clone())
                        } else {
                            EmbeddedValue::Url
                        },
                    })
                    .collect(),
            },
            Element::Branch { condition } => FlowElement::Branch {
                condition: (if condition.mode.is_empty() {
                    problems.push(FieldProblem {
                        field: format!("{path}.condition"),
                        message: "choose the test that decides the branch".into(),
                    });
                    None
                } else {
                    condition.condition(&format!("{path}.condition"), &mut problems)
                })
                // A branch left without a test is refused above; this only fills the slot.
                .unwrap_or(Condition::All {
                    conditions: Vec::new(),
                }),
                flow: Vec::new(),
            },
            Element::Group { description } => FlowElement::Group {
                description: description.trim().into(),
                flow: Vec::new(),
            },
            Element::End { message } => FlowElement::EndSurvey {
                message: Some(message.trim().to_string()).filter(|m| !m.is_empty()),
            },
        };
        elements.push((r.depth, e));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(nest(&mut elements.into_iter().peekable(), 0))
}

fn nest(
    items: &mut std::iter::Peekable<impl Iterator<Item = (usize, FlowElement)>>,
    depth: usize,
) -> Vec<FlowElement> {
    let mut out = Vec::new();
    while let Some((d, _)) = items.peek() {
        if *d < depth {
            break;
        }
        let Some((_, mut e)) = items.next() else {
            break;
        };
        if let FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } = &mut e {
            *flow = nest(items, depth + 1);
        }
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> SurveyDefinition {
        survey::sample::sample_definition()
    }

    #[test]
    fn a_flow_reads_back_as_itself_through_its_rows() {
        let d = def();
        let rows = rows_of(&d);
        assert_eq!(flow(&rows).unwrap(), d.flow);
        let p = paths(&rows);
        assert_eq!(p[2], "flow[2]");
        assert_eq!(p[3], "flow[2].flow[0]");
        assert_eq!(p[4], "flow[3]");
    }

    #[test]
    fn a_branch_moves_with_what_it_holds_and_the_preset_adds_only_what_is_missing() {
        let d = def();
        let mut rows = rows_of(&d);
        assert_eq!(apply(&mut rows, &d, "up:2").as_deref(), Some("up:1"));
        assert!(matches!(rows[1].element, Element::Branch { .. }));
        assert_eq!(rows[2].depth, 1, "the branch's block moved with it");
        assert!(apply(&mut rows, &d, "inside:end_survey:1").is_some());
        assert_eq!(rows[3].depth, 1);
        assert!(matches!(rows[3].element, Element::End { .. }));
        let before = rows.len();
        assert!(apply(&mut rows, &d, "salesforce").is_some());
        let Element::Embedded { fields } = &rows[0].element else {
            panic!("the preset comes first")
        };
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["sfSurveyId"], "the sample declares the other two");
        assert_eq!(rows.len(), before + 1);
        assert!(apply(&mut rows, &d, "remove:2").is_some());
        assert_eq!(rows.len(), 4, "the removed branch took its rows");
        assert!(matches!(rows[2].element, Element::Block { .. }));
        assert_eq!(rows[2].depth, 0);
    }
}
