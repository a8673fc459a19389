//! The OpenAPI 3.1 document for `/api/v1`, written by hand next to the routes it describes;
//! a test checks that every documented operation is routed.

use axum::Json;
use serde_json::{json, Value};

/// Every documented operation: (method, path, summary). The router test walks this list.
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    ("get", "/surveys", "List the surveys you can see"),
    (
        "post",
        "/surveys",
        "Create a survey from the native JSON definition",
    ),
    (
        "post",
        "/surveys/import",
        "Import a Qualtrics .qsf export (raw file as the body)",
    ),
    ("get", "/surveys/{id}", "A survey with its definition"),
    ("put", "/surveys/{id}", "Replace a survey's definition"),
    (
        "post",
        "/surveys/{id}/collaborators",
        "Share a survey with a colleague ({\"email\"})",
    ),
    (
        "post",
        "/surveys/{id}/links",
        "Create a unique personal link for a contact ({\"contactId\"})",
    ),
    (
        "get",
        "/surveys/{id}/link-signing",
        "Signed links (editors): the HMAC-SHA256 secret, whether unsigned link parameters are refused, and how the signed string is formed (docs/signed-links.md)",
    ),
    (
        "put",
        "/surveys/{id}/link-signing",
        "Require signed link parameters or not ({\"required\"}); creates the secret on first use",
    ),
    (
        "post",
        "/surveys/{id}/link-signing/rotate",
        "A new signing secret: links signed with the old one stop working",
    ),
    (
        "get",
        "/surveys/{id}/responses",
        "List responses (paged JSON) or export them (?format=csv)",
    ),
    (
        "post",
        "/surveys/{id}/responses",
        "Create a response as a respondent's submission would",
    ),
    (
        "get",
        "/surveys/{id}/responses/{responseId}",
        "One response",
    ),
    (
        "get",
        "/contacts",
        "List contacts (optionally of one mailing list)",
    ),
    (
        "post",
        "/contacts",
        "Add or update a contact (matched by email, case-insensitively, else by extRef); \
         `unsubscribed: true` unsubscribes, but no upsert ever clears an opt-out (see resubscribe)",
    ),
    (
        "post",
        "/contacts/import",
        "Import contacts from CSV (body) in batches that let other writes in; the report \
         {errors: [{line, column, message}], created, updated, refused} streams as rows are written",
    ),
    ("get", "/contacts/{id}", "One contact"),
    (
        "post",
        "/contacts/{id}/unsubscribe",
        "Unsubscribe a contact (recorded in its opt-out history)",
    ),
    (
        "post",
        "/contacts/{id}/resubscribe",
        "Clear a contact's opt-out: the only way one is cleared; editor role; recorded",
    ),
    (
        "get",
        "/contacts/{id}/opt-out-events",
        "A contact's opt-out history, oldest first: {events: [{action, source, actorId, detail, at}]}",
    ),
    ("get", "/mailing-lists", "List mailing lists"),
    (
        "post",
        "/mailing-lists",
        "Create a mailing list ({\"name\"})",
    ),
    ("get", "/mailing-lists/{id}", "One mailing list"),
    ("get", "/salesforce/connections", "Your linked Salesforce orgs (never their tokens)"),
    (
        "post",
        "/salesforce/connections",
        "Start linking an org ({\"environment\": production|sandbox|custom, \"loginUrl\"}, or {\"connectionId\"} to reconnect one): answers {\"authorizeUrl\"} to open in a browser; signing in as an org and user already linked updates that connection (same id); at most five per user",
    ),
    (
        "delete",
        "/salesforce/connections/{id}",
        "Disconnect an org: its tokens are revoked at Salesforce and forgotten; answers {connection, enabledWorkflows: [{id, name, surveyId}], message}: the enabled workflows that fail until the same Salesforce user links the org again (which revives this connection)",
    ),
    (
        "get",
        "/salesforce/connections/{id}/check",
        "Check API access with a real call (apiAccess false with Salesforce's errorCode and message when refused) and, per workflow using the org, object, field and record type rights (from describe)",
    ),
    ("get", "/surveys/{id}/workflows", "A survey's workflows"),
    (
        "post",
        "/surveys/{id}/workflows",
        "Create a workflow (event, conditions, tasks), validated against the org's describe",
    ),
    ("get", "/workflows/{id}", "One workflow (canEdit says whether you own it)"),
    (
        "put",
        "/workflows/{id}",
        "Replace a workflow (owner only; others get 403 and may copy it)",
    ),
    ("delete", "/workflows/{id}", "Delete a workflow (owner only)"),
    (
        "post",
        "/workflows/{id}/copy",
        "Make your own copy bound to one of your connections ({\"connectionId\"}, optional)",
    ),
    (
        "get",
        "/workflows/{id}/runs",
        "Runs, newest first: trigger, condition result, per-task attempts, record ids, Salesforce's error text (?status=, ?limit=)",
    ),
    (
        "post",
        "/workflows/{id}/runs/{runId}/retry",
        "Queue a failed run again",
    ),
    (
        "get",
        "/tokens",
        "Your API tokens, newest first: {tokens: [{id, name, createdAt, lastUsedAt, expiresAt, expired}]}; never their secrets",
    ),
    (
        "post",
        "/tokens",
        "Create an API token for yourself ({\"name\", \"expiresInDays\": 1–3650, optional: none never expires}); the answer's `token` is the only time the secret is shown",
    ),
    (
        "delete",
        "/tokens/{id}",
        "Revoke one of your API tokens: it stops working at once",
    ),
    (
        "post",
        "/account/password",
        "Change your password ({\"currentPassword\", \"newPassword\", \"keepApiTokens\": false}): your web sessions end and, unless kept, your other API tokens are revoked (the calling token stays); answers {sessionsEnded, apiTokensRevoked}",
    ),
    (
        "get",
        "/users",
        "Your organization's users (admins): {users: [{id, email, role, active}]}",
    ),
    (
        "post",
        "/users/{id}/deactivate",
        "Deactivate a user (admins; not yourself): their sessions end, their API tokens are revoked and they cannot sign in",
    ),
    (
        "post",
        "/users/{id}/reactivate",
        "Let a deactivated user sign in again (admins); their old tokens stay revoked",
    ),
];

fn parameters(path: &str) -> Vec<Value> {
    let mut params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let query: &[(&str, &str)] = match path {
        "/surveys/{id}/responses" => &[
            ("format", "json (default) or csv"),
            ("status", "in_progress, complete or incomplete"),
            ("after", "the `next` cursor of the previous page"),
            ("limit", "page size, 1–1000 (default 100)"),
        ],
        "/contacts" => &[
            ("listId", "only this mailing list's contacts"),
            ("offset", "skip this many"),
            ("limit", "page size"),
        ],
        "/contacts/import" => &[("listId", "also add the imported contacts to this list")],
        _ => &[],
    };
    params.extend(query.iter().map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
    }));
    params
}

fn request_body(method: &str, path: &str) -> Option<Value> {
    if method == "get"
        || method == "delete"
        || path.ends_with("/unsubscribe")
        || path.ends_with("/resubscribe")
        || path.ends_with("/retry")
        || path.ends_with("/rotate")
    {
        return None;
    }
    let content = match path {
        "/surveys/import" => {
            json!({"application/json": {"schema": {"type": "object", "description": "A Qualtrics .qsf file"}}})
        }
        "/contacts/import" => json!({"text/csv": {"schema": {"type": "string"}}}),
        "/surveys/{id}/responses" => {
            json!({"application/json": {"schema": {"$ref": "#/components/schemas/NewResponse"}}})
        }
        "/surveys" | "/surveys/{id}" => {
            json!({"application/json": {"schema": {"$ref": "#/components/schemas/SurveyDefinition"}}})
        }
        _ => json!({"application/json": {"schema": {"type": "object"}}}),
    };
    Some(json!({"required": true, "content": content}))
}

pub fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in OPERATIONS {
        let mut op = json!({
            "summary": summary,
            "parameters": parameters(path),
            "responses": {
                "200": {"description": "OK"},
                "201": {"description": "Created"},
                "400": {"description": "Invalid input: `error.problems` names each field or line/column", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "Missing or invalid API token"},
                "403": {"description": "Your role does not allow this"},
                "404": {"description": "Not found (or not visible to you)"}
            }
        });
        if let Some(body) = request_body(method, path) {
            op["requestBody"] = body;
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sonde API",
            "version": "1",
            "description": "Surveys, responses and the contact directory. Authenticate with `Authorization: Bearer <token>` (create one with `sonde tokens create EMAIL`)."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "problems": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
                }}}},
                "NewResponse": {"type": "object", "properties": {
                    "answers": {"type": "object", "description": "By question id; shapes in docs/survey-definition.md"},
                    "embeddedData": {"type": "object", "additionalProperties": {"type": "string"}},
                    "finished": {"type": "boolean"}
                }},
                "SurveyDefinition": {"type": "object", "description": "The native survey definition; see docs/survey-definition.md"}
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
