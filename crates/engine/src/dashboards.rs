//! A survey's CX dashboard: its responses read in pages (a survey may hold 100,000), filtered by
//! start window, distribution, an embedded data value and Salesforce records (through
//! `response_records`), summed up by the `dashboards` crate over the survey's current definition (a choice only an
//! older version had counted under its old label).

use crate::panel::{is_about_record, record_key};
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use dashboards::{Dashboard, DashboardBuilder, DashboardResponse};
use store::dashboards::DashboardRowFilter;
use store::responses::ResponseStatus;
use survey::ResponseData;

/// Responses read per store query: enough to keep round trips few, few enough that one page's
/// JSON stays small in memory.
const PAGE: i64 = 1000;

/// Which responses a dashboard sums up; every part left empty selects them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardFilter {
    /// Started at or after (ms since the epoch).
    pub since: Option<i64>,
    /// Started before (ms).
    pub until: Option<i64>,
    /// Came through this distribution's personal links.
    pub distribution_id: Option<String>,
    /// This embedded data field holds exactly this value (an empty value: the field is empty
    /// or absent).
    pub embedded: Option<(String, String)>,
    /// Salesforce record ids (15 or 18 characters): when any are given, only responses whose
    /// `sf…Id` embedded data (`sfContactId`, `sfAccountId`…) names one of them count.
    pub records: Vec<String>,
}

impl Sonde {
    /// The dashboard of a survey's responses, for whoever may read them.
    pub async fn survey_dashboard(
        &self,
        actor: &Actor,
        survey_id: &str,
        filter: &DashboardFilter,
    ) -> Result<Dashboard> {
        let survey = self.survey(actor, survey_id).await?;
        let records = record_keys(&filter.records)?;
        let embedded = filter
            .embedded
            .as_ref()
            .filter(|(field, _)| !field.is_empty());
        let distribution_id = filter.distribution_id.as_deref().filter(|d| !d.is_empty());
        let rows_filter = DashboardRowFilter {
            since: filter.since,
            until: filter.until,
            distribution_id,
            records: &records,
        };
        let versions = self.all_answered_versions(&survey).await?;
        let mut builder = DashboardBuilder::new(&survey.definition);
        let mut after = None;
        loop {
            let rows = self
                .store
                .dashboard_rows(&actor.org_id, &survey.id, &rows_filter, after, PAGE)
                .await?;
            let last = rows.last().map(|r| (r.started_at, r.id.clone()));
            for row in &rows {
                let data: ResponseData = serde_json::from_str(&row.data)?;
                // An empty value asks for the responses without one: absent counts as empty.
                if let Some((field, value)) = embedded {
                    if data.embedded_data.get(field).map_or("", String::as_str) != value {
                        continue;
                    }
                }
                // `response_records` is written from this same data; read again, it keeps a
                // row whose link is stale from counting.
                if !records.is_empty()
                    && !records
                        .iter()
                        .any(|k| is_about_record(&data.embedded_data, k))
                {
                    continue;
                }
                builder.add(&DashboardResponse {
                    data: &data,
                    started_at: row.started_at,
                    ended_at: row.ended_at,
                    complete: row.status == ResponseStatus::Complete,
                    answered_under: Some(versions.at(row.survey_version)),
                });
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
            after = last;
        }
        Ok(builder.finish())
    }
}

/// The records' 15-character keys; an id that is no Salesforce id is refused.
fn record_keys(records: &[String]) -> Result<Vec<String>> {
    let mut keys = Vec::with_capacity(records.len());
    for r in records.iter().filter(|r| !r.trim().is_empty()) {
        let key = record_key(r).ok_or_else(|| {
            Error::invalid_fields(
                format!("{r:?} is not a Salesforce record id"),
                vec![FieldProblem {
                    field: "records".into(),
                    message: "a record id has 15 or 18 letters and digits".into(),
                }],
            )
        })?;
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    Ok(keys)
}
