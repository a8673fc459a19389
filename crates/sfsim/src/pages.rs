//! Lightning look-alike pages that host the org's Canvas app the way Salesforce does: a record
//! page (`/lightning/r/{Object}/{Id}/view`) and a list view (`/lightning/o/{Object}/list`).
//!
//! Each page holds a form aimed at the `sonde-panel` iframe that POSTs a signed request to the
//! Canvas URL on load, and answers the frame's refresh requests (protocol in `canvas`).

use crate::canvas::{self, CanvasError, Target, LIST_OBJECTS, RECORD_OBJECTS};
use crate::ids::Id;
use crate::org::OrgState;
use crate::store::Store;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

/// Rows a related list or list view shows (Salesforce selects at most 200 in a list view).
const MAX_ROWS: usize = 200;

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The query string's pairs (list views repeat `recordIds`).
fn pairs(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// `?as=…` carried on to the page's own links, so a session stays with the chosen user.
fn as_suffix(as_user: Option<&str>, lead: char) -> String {
    match as_user {
        Some(u) => format!(
            "{lead}as={}",
            url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>()
        ),
        None => String::new(),
    }
}

/// Icon colours and glyphs of the standard objects, as Lightning's record headers show them.
fn icon(object: &str) -> (&'static str, &'static str) {
    match object {
        "Contact" => ("#a094ed", "C"),
        "Lead" => ("#f88962", "L"),
        "Account" => ("#7f8de1", "A"),
        "Case" => ("#f2cf5b", "C"),
        "Campaign" => ("#f49756", "C"),
        _ => ("#54698d", "?"),
    }
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f3f3f3;color:#181818}
a{color:#0b5cab;text-decoration:none}a:hover{text-decoration:underline}
.global{display:flex;align-items:center;gap:16px;background:#fff;border-bottom:3px solid #0176d3;padding:8px 16px;flex-wrap:wrap}
.logo{font-weight:700;color:#0176d3;font-size:18px}.app{font-weight:600}
.global nav{display:flex;gap:14px;flex-wrap:wrap}.who{margin-left:auto;color:#444}
main{padding:12px;max-width:1400px;margin:0 auto}
.card{background:#fff;border:1px solid #dddbda;border-radius:6px;box-shadow:0 2px 2px rgba(0,0,0,.06);margin-bottom:12px}
.card>header{display:flex;align-items:center;gap:10px;padding:10px 14px;border-bottom:1px solid #eee}
.card>header h2{font-size:15px;margin:0;font-weight:700}
.icon{display:inline-flex;align-items:center;justify-content:center;width:32px;height:32px;border-radius:4px;color:#fff;font-weight:700;flex:none}
.icon.small{width:24px;height:24px;font-size:12px}
.record-head .title{display:flex;gap:12px;align-items:center;padding:14px}
.record-head .kind{margin:0;color:#555;font-size:12px}.record-head h1{margin:0;font-size:20px}
.highlights{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0;padding:0 14px 14px}
.highlights div{min-width:120px}.prefs{padding-top:10px}.prefs div{min-width:40%}.highlights dt{color:#555;font-size:12px}.highlights dd{margin:0;overflow-wrap:anywhere}
.columns{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:12px;align-items:start}
.columns.single{grid-template-columns:minmax(0,1fr)}
.columns.home{grid-template-columns:repeat(auto-fit,minmax(260px,1fr))}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eee;white-space:nowrap}
th{background:#fafaf9;color:#444;font-weight:600;font-size:12px}
.empty{padding:12px 14px;color:#555;margin:0}
iframe[name="sonde-panel"]{display:block;width:100%;height:900px;border:0}
.button{background:#0176d3;color:#fff;border:0;border-radius:4px;padding:7px 14px;font:inherit;cursor:pointer}
.count{color:#555;font-size:12px}.spacer{margin-left:auto}
code{background:#f3f3f3;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
@media (max-width:760px){.columns{grid-template-columns:minmax(0,1fr)}main{padding:8px}
 iframe[name="sonde-panel"]{height:760px}.highlights div{min-width:42%}}
"#;

/// Posts the signed request into the frame on load and answers the frame's refresh requests
/// (see `canvas` for the protocol): only from the frame, only with the Canvas URL's origin.
const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('sonde-canvas');
  if (!form) return;
  var frame = document.querySelector('iframe[name="sonde-panel"]');
  var origin = new URL(form.action).origin;
  window.addEventListener('message', function (event) {
    if (event.source !== frame.contentWindow || event.origin !== origin) return;
    if (!event.data || event.data.type !== 'sonde.refresh') return;
    fetch(form.dataset.refresh, {credentials: 'same-origin', cache: 'no-store'})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        frame.contentWindow.postMessage(
          {type: 'sonde.signedRequest', signedRequest: body.signedRequest}, origin);
        document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
      })
      .catch(function () {});
  });
  form.submit();
})();
"#;

fn page(
    status: StatusCode,
    title: &str,
    user: &str,
    as_user: Option<&str>,
    body: &str,
) -> Response {
    let q = as_suffix(as_user, '?');
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} | Salesforce (sfsim)</title><style>{STYLE}</style></head><body>\
         <header class=\"global\"><span class=\"logo\">sfsim</span><span class=\"app\">Sales</span>\
         <nav><a href=\"/lightning/page/home{q}\">Home</a><a href=\"/lightning/o/Contact/list{q}\">Contacts</a><a href=\"/lightning/o/Lead/list{q}\">Leads</a></nav>\
         <span class=\"who\">{user}</span></header><main>{body}</main><script>{SCRIPT}</script></body></html>",
        title = esc(title),
        user = esc(user),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn not_found(message: &str) -> Response {
    let body = format!(
        "<section class=\"card\"><header><h2>Page not found</h2></header><p class=\"empty\">{}</p></section>",
        esc(message)
    );
    page(StatusCode::NOT_FOUND, "Not found", "", None, &body)
}

/// The card hosting the Canvas app: the form that posts into the frame, and the frame. Says so
/// instead when no Canvas URL is set.
fn panel_card(state: &OrgState, heading: &str, target: &Target, as_user: Option<&str>) -> String {
    let url = state.canvas.lock().url.clone();
    let inner = match (url, canvas::signed_request(state, target, as_user)) {
        (Some(url), Ok(signed)) => format!(
            "<form id=\"sonde-canvas\" method=\"post\" action=\"{url}\" target=\"sonde-panel\" \
             data-refresh=\"/_sim/canvas/signed-request?{refresh}{as_q}\">\
             <input type=\"hidden\" name=\"signed_request\" value=\"{signed}\"></form>\
             <iframe name=\"sonde-panel\" title=\"Sonde\" src=\"about:blank\"></iframe>",
            url = esc(&url),
            refresh = esc(&target.refresh_query()),
            as_q = esc(&as_suffix(as_user, '&')),
            signed = esc(&signed),
        ),
        (_, Err(CanvasError::NotConfigured)) | (None, _) => {
            "<p class=\"empty\" id=\"no-canvas\">No Canvas app is set up in this org, so the \
             Sonde panel cannot be shown. Set its URL with <code>POST /_sim/canvas \
             {\"url\": \"http://…/panel\"}</code> or start sfsim with \
             <code>--canvas-url</code>.</p>"
                .to_string()
        }
        (_, Err(e)) => format!("<p class=\"empty\">{}</p>", esc(&e.to_string())),
    };
    format!(
        "<section class=\"card panel\"><header><span class=\"icon small\" style=\"background:#0176d3\">S</span>\
         <h2>{}</h2></header>{inner}</section>",
        esc(heading)
    )
}

/// Live records of `object` whose `field` holds `parent`, by name.
fn children(store: &Store, object: &str, field: &str, parent: Id) -> Vec<Id> {
    let Some(oi) = store.meta.object_index(object) else {
        return Vec::new();
    };
    let Some(fi) = store.meta.objects[oi].field_index(field) else {
        return Vec::new();
    };
    let parent = parent.to18();
    let mut ids: Vec<Id> = store.tables[oi]
        .records
        .values()
        .filter(|r| !r.deleted && r.get(fi).as_str() == Some(parent.as_str()))
        .map(|r| r.id)
        .collect();
    ids.sort_by_cached_key(|id| canvas::record_name(store, object, *id).to_lowercase());
    ids
}

/// A checkbox field as Lightning shows it (a ticked or empty box).
fn flag(store: &Store, object: &str, id: Id, field: &str) -> String {
    if canvas::field_text(store, object, id, field) == "true" {
        format!("<span title=\"{field}: true\" data-flag=\"{field}\">&#9745;</span>")
    } else {
        format!("<span title=\"{field}: false\">&#9744;</span>")
    }
}

fn record_link(store: &Store, object: &str, id: Id, as_user: Option<&str>) -> String {
    let name = canvas::record_name(store, object, id);
    format!(
        "<a href=\"/lightning/r/{object}/{}/view{}\">{}</a>",
        id.to18(),
        esc(&as_suffix(as_user, '?')),
        esc(if name.is_empty() { id.as15() } else { &name })
    )
}

/// A reference field shown as a link to the record it names.
fn reference(
    store: &Store,
    object: &str,
    id: Id,
    field: &str,
    to: &str,
    as_user: Option<&str>,
) -> String {
    match Id::parse(&canvas::field_text(store, object, id, field)) {
        Some(target) => record_link(store, to, target, as_user),
        None => String::new(),
    }
}

/// How many of a campaign's members name a record in `field` (ContactId or LeadId).
fn member_count(store: &Store, campaign: Id, field: &str) -> String {
    children(store, "CampaignMember", "CampaignId", campaign)
        .into_iter()
        .filter(|m| !canvas::field_text(store, "CampaignMember", *m, field).is_empty())
        .count()
        .to_string()
}

/// The highlights panel's fields for a record: (label, HTML).
fn highlights(
    store: &Store,
    object: &str,
    id: Id,
    as_user: Option<&str>,
) -> Vec<(&'static str, String)> {
    let t = |f: &str| esc(&canvas::field_text(store, object, id, f));
    match object {
        "Contact" => vec![
            ("Title", t("Title")),
            (
                "Account Name",
                reference(store, object, id, "AccountId", "Account", as_user),
            ),
            ("Email", t("Email")),
            ("Phone", t("Phone")),
            ("Mobile", t("MobilePhone")),
        ],
        "Lead" => vec![
            ("Company", t("Company")),
            ("Title", t("Title")),
            ("Email", t("Email")),
            ("Phone", t("Phone")),
            ("Lead Status", t("Status")),
        ],
        "Account" => vec![
            ("Type", t("Type")),
            ("Industry", t("Industry")),
            ("Phone", t("Phone")),
            ("Website", t("Website")),
            ("Billing City", t("BillingCity")),
        ],
        "Case" => vec![
            ("Subject", t("Subject")),
            ("Status", t("Status")),
            ("Priority", t("Priority")),
            (
                "Contact Name",
                reference(store, object, id, "ContactId", "Contact", as_user),
            ),
            (
                "Account Name",
                reference(store, object, id, "AccountId", "Account", as_user),
            ),
            ("Contact Email", t("ContactEmail")),
        ],
        "Campaign" => vec![
            ("Type", t("Type")),
            ("Status", t("Status")),
            ("Start Date", t("StartDate")),
            ("End Date", t("EndDate")),
            // Salesforce rolls these up from the members; counted here, as sfsim keeps none.
            ("Contacts in Campaign", member_count(store, id, "ContactId")),
            ("Leads in Campaign", member_count(store, id, "LeadId")),
        ],
        _ => Vec::new(),
    }
}

/// The opt-out and consent checkboxes of a Contact or Lead: what decides whether a survey
/// invitation may go out, so they sit beside the panel.
fn preferences(store: &Store, object: &str, id: Id) -> String {
    let mut fields = vec![
        ("Email Opt Out", "HasOptedOutOfEmail"),
        ("Fax Opt Out", "HasOptedOutOfFax"),
        ("Do Not Call", "DoNotCall"),
    ];
    match object {
        "Contact" => fields.push(("Email Bounced", "IsEmailBounced")),
        "Lead" => {}
        _ => return String::new(),
    }
    let rows: String = fields
        .into_iter()
        .map(|(label, field)| {
            format!(
                "<div><dt>{label}</dt><dd>{}</dd></div>",
                flag(store, object, id, field)
            )
        })
        .collect();
    format!(
        "<section class=\"card\" id=\"preferences\"><header><h2>Communication preferences</h2></header>\
         <dl class=\"highlights prefs\">{rows}</dl></section>"
    )
}

/// A related list card: a heading with the count, a table of at most [`MAX_ROWS`] rows.
fn related(id: &str, title: &str, columns: &[&str], rows: Vec<Vec<String>>) -> String {
    let total = rows.len();
    let mut html = format!(
        "<section class=\"card related\" id=\"{id}\"><header><h2>{} ({total})</h2></header>",
        esc(title)
    );
    if rows.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p></section>");
        return html;
    }
    html.push_str("<div class=\"scroll\"><table><thead><tr>");
    for c in columns {
        html.push_str(&format!("<th>{}</th>", esc(c)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows.into_iter().take(MAX_ROWS) {
        html.push_str("<tr>");
        for cell in row {
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    if total > MAX_ROWS {
        html.push_str(&format!(
            "<p class=\"empty\">Showing {MAX_ROWS} of {total}.</p>"
        ));
    }
    html.push_str("</section>");
    html
}

/// The related lists of a record: an Account's Contacts and Cases, a Campaign's members (Contacts
/// and Leads with their email and opt-out flags), a Contact's Cases.
fn related_lists(store: &Store, object: &str, id: Id, as_user: Option<&str>) -> String {
    let t = |o: &str, r: Id, f: &str| esc(&canvas::field_text(store, o, r, f));
    let cases = |field: &str| {
        let rows = children(store, "Case", field, id)
            .into_iter()
            .map(|c| {
                vec![
                    record_link(store, "Case", c, as_user),
                    t("Case", c, "Subject"),
                    t("Case", c, "Status"),
                ]
            })
            .collect();
        related(
            "related-cases",
            "Cases",
            &["Case Number", "Subject", "Status"],
            rows,
        )
    };
    match object {
        "Account" => {
            let rows = children(store, "Contact", "AccountId", id)
                .into_iter()
                .map(|c| {
                    vec![
                        record_link(store, "Contact", c, as_user),
                        t("Contact", c, "Email"),
                        t("Contact", c, "Phone"),
                        flag(store, "Contact", c, "HasOptedOutOfEmail"),
                        flag(store, "Contact", c, "DoNotCall"),
                    ]
                })
                .collect();
            related(
                "related-contacts",
                "Contacts",
                &["Name", "Email", "Phone", "Email Opt Out", "Do Not Call"],
                rows,
            ) + &cases("AccountId")
        }
        "Contact" => cases("ContactId"),
        "Campaign" => {
            let rows = children(store, "CampaignMember", "CampaignId", id)
                .into_iter()
                .filter_map(|m| {
                    let member =
                        |f: &str| Id::parse(&canvas::field_text(store, "CampaignMember", m, f));
                    let (kind, person) = match (member("ContactId"), member("LeadId")) {
                        (Some(c), _) => ("Contact", c),
                        (None, Some(l)) => ("Lead", l),
                        (None, None) => return None,
                    };
                    Some(vec![
                        kind.to_string(),
                        record_link(store, kind, person, as_user),
                        t(kind, person, "Email"),
                        t("CampaignMember", m, "Status"),
                        flag(store, kind, person, "HasOptedOutOfEmail"),
                        flag(store, kind, person, "HasOptedOutOfFax"),
                        flag(store, kind, person, "DoNotCall"),
                        if kind == "Contact" {
                            flag(store, kind, person, "IsEmailBounced")
                        } else {
                            String::new()
                        },
                    ])
                })
                .collect();
            related(
                "related-members",
                "Campaign Members",
                &[
                    "Type",
                    "Name",
                    "Email",
                    "Status",
                    "Email Opt Out",
                    "Fax Opt Out",
                    "Do Not Call",
                    "Email Bounced",
                ],
                rows,
            )
        }
        _ => String::new(),
    }
}

/// The name the global header shows for the page's user.
fn user_label(state: &OrgState, as_user: Option<&str>) -> Result<String, CanvasError> {
    let store = state.store.read();
    let id = canvas::user_id(&store, as_user)?;
    Ok(store.user(id).map(|u| u.name.clone()).unwrap_or_default())
}

/// `GET /lightning/r/{Object}/{Id}/view[?as=username]`.
pub async fn record_page(
    State(state): State<Arc<OrgState>>,
    Path((object, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = pairs(&query);
    let as_user = first(&query, "as");
    if !RECORD_OBJECTS.contains(&object.as_str()) {
        return not_found(&format!(
            "{object} record pages are not shown here (Contact, Lead, Account, Case, Campaign are)."
        ));
    }
    let user = match user_label(&state, as_user) {
        Ok(u) => u,
        Err(e) => return not_found(&e.to_string()),
    };
    let (name, head, lists, id) = {
        let store = state.store.read();
        let Some(id) = canvas::find_record(&store, &object, &raw_id) else {
            return not_found(&format!("No {object} has the id {raw_id}."));
        };
        let name = canvas::record_name(&store, &object, id);
        let (colour, glyph) = icon(&object);
        let fields: String = highlights(&store, &object, id, as_user)
            .into_iter()
            .map(|(label, value)| format!("<div><dt>{label}</dt><dd>{value}</dd></div>"))
            .collect();
        let head = format!(
            "<section class=\"card record-head\"><div class=\"title\">\
             <span class=\"icon\" style=\"background:{colour}\">{glyph}</span>\
             <div><p class=\"kind\">{object}</p><h1>{}</h1></div></div>\
             <dl class=\"highlights\">{fields}</dl></section>",
            esc(&name)
        );
        let lists = preferences(&store, &object, id) + &related_lists(&store, &object, id, as_user);
        (name, head, lists, id)
    };
    let panel = panel_card(
        &state,
        "Sonde",
        &Target::Record {
            object: object.clone(),
            id,
        },
        as_user,
    );
    // A campaign's members table is wide (opt-out flags), so it goes under the panel.
    let columns = if lists.is_empty() || object == "Campaign" {
        format!("<div class=\"columns single\"><div>{panel}</div><div>{lists}</div></div>")
    } else {
        format!("<div class=\"columns\"><div>{panel}</div><aside>{lists}</aside></div>")
    };
    page(
        StatusCode::OK,
        &format!("{name} | {object}"),
        &user,
        as_user,
        &format!("{head}{columns}"),
    )
}

/// `GET /lightning/o/{Contact|Lead}/list[?recordIds=…&recordIds=…][&as=username]`: the
/// records with checkboxes; "Send survey" reloads the page with the selection, which opens
/// the app for those records (`parameters.recordIds`, no record).
pub async fn list_view(
    State(state): State<Arc<OrgState>>,
    Path(object): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = pairs(&query);
    let as_user = first(&query, "as");
    if !LIST_OBJECTS.contains(&object.as_str()) {
        return not_found(&format!(
            "{object} has no list view here (Contact and Lead do)."
        ));
    }
    let user = match user_label(&state, as_user) {
        Ok(u) => u,
        Err(e) => return not_found(&e.to_string()),
    };
    let (table, selected, total) = {
        let store = state.store.read();
        let selected: Vec<Id> = query
            .iter()
            .filter(|(k, _)| k == "recordIds")
            .flat_map(|(_, v)| v.split(','))
            .filter_map(|raw| canvas::find_record(&store, &object, raw))
            .collect();
        let Some(oi) = store.meta.object_index(&object) else {
            return not_found(&object);
        };
        let mut ids = store.live_ids(oi);
        ids.sort_by_cached_key(|id| canvas::record_name(&store, &object, *id).to_lowercase());
        let total = ids.len();
        let t = |r: Id, f: &str| esc(&canvas::field_text(&store, &object, r, f));
        let mut rows = String::new();
        for id in ids.into_iter().take(MAX_ROWS) {
            let id18 = id.to18();
            let checked = if selected.contains(&id) {
                " checked"
            } else {
                ""
            };
            let second = if object == "Contact" {
                reference(&store, &object, id, "AccountId", "Account", as_user)
            } else {
                t(id, "Company")
            };
            rows.push_str(&format!(
                "<tr><td><input type=\"checkbox\" name=\"recordIds\" value=\"{id18}\" aria-label=\"Select\"{checked}></td>\
                 <td>{}</td><td>{second}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                record_link(&store, &object, id, as_user),
                t(id, "Email"),
                t(id, "Phone"),
                flag(&store, &object, id, "HasOptedOutOfEmail"),
                flag(&store, &object, id, "DoNotCall"),
            ));
        }
        (rows, selected, total)
    };
    let second = if object == "Contact" {
        "Account Name"
    } else {
        "Company"
    };
    let hidden_as = as_user
        .map(|u| format!("<input type=\"hidden\" name=\"as\" value=\"{}\">", esc(u)))
        .unwrap_or_default();
    let (colour, glyph) = icon(&object);
    let plural = format!("{object}s");
    let list = format!(
        "<section class=\"card list\"><form method=\"get\" action=\"/lightning/o/{object}/list\">{hidden_as}\
         <header><span class=\"icon small\" style=\"background:{colour}\">{glyph}</span><h2>{plural}</h2>\
         <span class=\"count\">{total} items</span><span class=\"spacer\"></span>\
         <button class=\"button\" type=\"submit\" id=\"send-survey\">Send survey</button></header>\
         <div class=\"scroll\"><table><thead><tr><th></th><th>Name</th><th>{second}</th><th>Email</th>\
         <th>Phone</th><th>Email Opt Out</th><th>Do Not Call</th></tr></thead><tbody>{table}</tbody></table></div>\
         </form></section>"
    );
    let panel = if selected.is_empty() {
        String::new()
    } else {
        let n = selected.len();
        panel_card(
            &state,
            &format!(
                "Sonde: send a survey to {n} selected {}",
                if n == 1 {
                    object.to_lowercase()
                } else {
                    plural.to_lowercase()
                }
            ),
            &Target::Selection {
                object: object.clone(),
                ids: selected,
            },
            as_user,
        )
    };
    page(
        StatusCode::OK,
        &plural,
        &user,
        as_user,
        &format!("{panel}{list}"),
    )
}

/// `GET /lightning/page/home[?as=username]`: where to start — the org's Accounts, Campaigns
/// and Cases, each linking to its record page, and the list views.
pub async fn home(State(state): State<Arc<OrgState>>, RawQuery(query): RawQuery) -> Response {
    let query = pairs(&query);
    let as_user = first(&query, "as");
    let user = match user_label(&state, as_user) {
        Ok(u) => u,
        Err(e) => return not_found(&e.to_string()),
    };
    let cards: String = {
        let store = state.store.read();
        [
            ("Account", "Accounts"),
            ("Campaign", "Campaigns"),
            ("Case", "Cases"),
        ]
        .into_iter()
        .filter_map(|(object, plural)| {
            let oi = store.meta.object_index(object)?;
            let mut ids = store.live_ids(oi);
            ids.sort_by_cached_key(|id| canvas::record_name(&store, object, *id).to_lowercase());
            let rows = ids
                .into_iter()
                .map(|id| vec![record_link(&store, object, id, as_user)])
                .collect();
            Some(related(
                &format!("home-{}", object.to_lowercase()),
                plural,
                &["Name"],
                rows,
            ))
        })
        .collect()
    };
    let q = as_suffix(as_user, '?');
    let body = format!(
        "<section class=\"card\"><header><h2>Sales</h2></header><p class=\"empty\">\
         <a href=\"/lightning/o/Contact/list{q}\">Contacts</a> · <a href=\"/lightning/o/Lead/list{q}\">Leads</a> \
         (select records and Send survey), or open a record below.</p></section>\
         <div class=\"columns home\">{cards}</div>"
    );
    page(StatusCode::OK, "Home", &user, as_user, &body)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            esc(r#"<a href="x">Maple & 'Finch'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Maple &amp; &#39;Finch&#39;&lt;/a&gt;"
        );
    }
}
