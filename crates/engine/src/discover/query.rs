//! "Validate query" for inbound jobs: the SOQL parsed (errors with line and column), refused
//! when it summarises instead of returning records (aggregates, GROUP BY, …), every field it
//! reads checked against the org's describe (unknown or unreadable ones named, with where they
//! are written), and the date fields an incremental pull can follow offered.

use crate::{Actor, Error, Result, Sonde};
use salesforce::rest::SObjectDescribe;
use serde::{Deserialize, Serialize};
use soql::analysis::FieldKind;
use std::collections::HashMap;
use std::sync::Arc;

/// What was asked: a query against one of the caller's linked orgs, or through a job's own
/// Salesforce account (one of the two), at an API version the org serves.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryToValidate {
    #[serde(default)]
    pub connection_id: Option<String>,
    #[serde(default)]
    pub account: Option<super::source::JobAccount>,
    #[serde(default)]
    pub api_version: Option<String>,
    pub soql: String,
}

/// Where a problem is in the query text (1-based; absent when it is about the whole query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryProblem {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// The answer: valid or not, the object read, the fields, and the date fields to pick from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidatedQuery {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The fields read, as dotted paths from the object (`Account.Name`).
    pub fields: Vec<String>,
    /// Date and date/time fields an incremental pull can follow, best first.
    pub date_fields: Vec<String>,
    /// The first problem (what the form shows beside the query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<QueryProblem>,
    pub problems: Vec<QueryProblem>,
}

impl ValidatedQuery {
    fn refused(problems: Vec<QueryProblem>, object: Option<String>) -> Self {
        ValidatedQuery {
            valid: false,
            object,
            fields: Vec::new(),
            date_fields: Vec::new(),
            error: problems.first().cloned(),
            problems,
        }
    }
}

fn whole(message: impl Into<String>) -> QueryProblem {
    QueryProblem {
        message: message.into(),
        field: None,
        line: None,
        column: None,
    }
}

/// The describes one validation needs, fetched once each.
struct Describes<'a> {
    conn: &'a salesforce::Connection,
    got: HashMap<String, std::result::Result<Arc<SObjectDescribe>, String>>,
}

impl Describes<'_> {
    async fn of(&mut self, object: &str) -> std::result::Result<Arc<SObjectDescribe>, String> {
        let key = object.to_ascii_lowercase();
        if let Some(d) = self.got.get(&key) {
            return d.clone();
        }
        let d = self.conn.describe(object).await.map_err(|e| e.to_string());
        self.got.insert(key, d.clone());
        d
    }

    /// Why `path` (relative to `object`) cannot be read, if it cannot: each step but the last
    /// must be a lookup's relationship name (or a child relationship, for a subquery's field),
    /// and the last a field of the object reached.
    async fn check(&mut self, object: &str, path: &[String]) -> Option<String> {
        let mut current = object.to_string();
        for (i, part) in path.iter().enumerate() {
            let d = match self.of(&current).await {
                Ok(d) => d,
                Err(e) => return Some(format!("{current} could not be described: {e}")),
            };
            if i + 1 == path.len() {
                return match d.field(part) {
                    Some(_) => None,
                    None => Some(format!(
                        "{current} has no field {part} that the linked user can read"
                    )),
                };
            }
            let parent = d.fields.iter().find(|f| {
                f.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(part))
            });
            let child = d.child_relationships.iter().find(|c| {
                c.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(part))
            });
            current = match (parent, child) {
                (Some(f), _) => match f.reference_to.first() {
                    Some(target) => target.clone(),
                    None => return Some(format!("{current}.{part} leads to no object")),
                },
                (None, Some(c)) => c.child_sobject.clone(),
                (None, None) => {
                    return Some(format!("{current} has no relationship {part}"));
                }
            };
        }
        None
    }
}

/// The date kinds of a describe's fields, as the soql crate's incremental helpers take them.
fn kind_of(d: &SObjectDescribe, name: &str) -> Option<FieldKind> {
    d.field(name).map(|f| match f.kind.as_str() {
        "date" => FieldKind::Date,
        "datetime" => FieldKind::DateTime,
        _ => FieldKind::Other,
    })
}

impl Sonde {
    /// Validates an inbound query against one of the caller's linked orgs or an account.
    /// Only a caller error (an org that is not theirs, an account Salesforce refuses, a
    /// version the org does not serve) is an `Err`; a refused query is a `valid: false`.
    pub async fn validate_discover_query(
        &self,
        actor: &Actor,
        asked: &QueryToValidate,
    ) -> Result<ValidatedQuery> {
        let (q, names) = match soql::parse_with_positions(&asked.soql, Default::default()) {
            Ok(parsed) => parsed,
            Err(e) => {
                return Ok(ValidatedQuery::refused(
                    vec![QueryProblem {
                        message: e.message,
                        field: None,
                        line: Some(e.line),
                        column: Some(e.column),
                    }],
                    None,
                ))
            }
        };
        let object = soql::analysis::queried_object(&q).to_string();
        if let Err(refusal) = soql::analysis::connector_check(&q) {
            return Ok(ValidatedQuery::refused(
                vec![whole(refusal.to_string())],
                Some(object),
            ));
        }
        if q.select
            .iter()
            .any(|i| matches!(i, soql::ast::SelectItem::Fields(_)))
        {
            return Ok(ValidatedQuery::refused(
                vec![whole(
                    "FIELDS(…) reads whatever the org has today; list the fields to import, so a field added later does not change what the job stores",
                )],
                Some(object),
            ));
        }
        let conn = self
            .asked_connection(
                actor,
                super::source::Source {
                    connection_id: asked.connection_id.as_deref(),
                    account: asked.account.as_ref(),
                    api_version: asked.api_version.as_deref(),
                },
            )
            .await?;
        let mut describes = Describes {
            conn: &conn,
            got: HashMap::new(),
        };
        let described = match describes.of(&object).await {
            Ok(d) => d,
            Err(e) => {
                let at = names.iter().find(|n| n.kind == soql::NameKind::Object);
                return Ok(ValidatedQuery::refused(
                    vec![QueryProblem {
                        message: format!("{object} cannot be read: {e}"),
                        field: Some(object.clone()),
                        line: at.map(|n| n.line),
                        column: at.map(|n| n.column),
                    }],
                    Some(object),
                ));
            }
        };
        let fields = soql::analysis::selected_fields(&q);
        let mut problems = Vec::new();
        for path in &fields {
            let parts: Vec<String> = path.split('.').map(str::to_string).collect();
            if let Some(why) = describes.check(&object, &parts).await {
                let last = parts.last().map(String::as_str).unwrap_or_default();
                let at = names.iter().find(|n| {
                    n.kind == soql::NameKind::Field
                        && n.name
                            .rsplit('.')
                            .next()
                            .is_some_and(|s| s.eq_ignore_ascii_case(last))
                });
                problems.push(QueryProblem {
                    message: why,
                    field: Some(path.clone()),
                    line: at.map(|n| n.line),
                    column: at.map(|n| n.column),
                });
            }
        }
        if !problems.is_empty() {
            return Ok(ValidatedQuery::refused(problems, Some(object)));
        }
        // Audit fields first (SystemModstamp moves on every change: the best cursor), then
        // the query's own date fields (a chat's EndTime, a case's ClosedDate) in its order.
        let date_fields =
            soql::analysis::date_filter_candidates(&q, |name| kind_of(&described, name));
        Ok(ValidatedQuery {
            valid: true,
            object: Some(described.name.clone()),
            fields,
            date_fields,
            error: None,
            problems: Vec::new(),
        })
    }
}

/// A query as a job stores it, checked without an org: parsed and not summarising. The run
/// checks fields against the org when it starts.
pub(crate) fn parse_for_job(soql: &str) -> Result<soql::ast::Query> {
    let q = soql::parse(soql).map_err(|e| {
        Error::invalid_fields(
            "the query does not parse",
            vec![crate::FieldProblem {
                field: "soql".into(),
                message: e.to_string(),
            }],
        )
    })?;
    soql::analysis::connector_check(&q).map_err(|r| {
        Error::invalid_fields(
            "the query cannot be imported",
            vec![crate::FieldProblem {
                field: "soql".into(),
                message: r.to_string(),
            }],
        )
    })?;
    Ok(q)
}
