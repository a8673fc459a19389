//! Questions the inbound connector and the local org ask about a parsed query: what it reads,
//! whether it aggregates, which date field can drive an incremental pull, and the rewrite that adds it.

use std::fmt;

use crate::ast::*;

/// The object named in the top-level FROM.
pub fn queried_object(q: &Query) -> &str {
    &q.from.object
}

/// Every field the query reads, as dotted paths relative to the queried object
/// (`Account.Owner.Name`), in select order without duplicates (compared case-insensitively).
///
/// FROM aliases are resolved (`c.Account.Name` with `FROM Contact c` gives `Account.Name`), fields
/// inside functions count (`toLabel(Status)` gives `Status`), TYPEOF branches give
/// `What.Phone`-style paths and child subqueries give `Contacts.LastName`. `FIELDS(…)` cannot be
/// flattened without a describe and is left out; look for [`SelectItem::Fields`] if that matters.
pub fn selected_fields(q: &Query) -> Vec<String> {
    let mut out = Vec::new();
    collect_select(q, &Scope::of(q), "", &mut out);
    dedupe(out)
}

fn dedupe(v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.into_iter()
        .filter(|s| seen.insert(s.to_ascii_lowercase()))
        .collect()
}

/// How names in one query resolve: its object alias and relationship aliases.
struct Scope {
    object: String,
    alias: Option<String>,
    /// Relationship alias → path relative to the object.
    rel_aliases: Vec<(String, Vec<String>)>,
}

impl Scope {
    fn of(q: &Query) -> Scope {
        let mut s = Scope {
            object: q.from.object.clone(),
            alias: q.from.alias.clone(),
            rel_aliases: Vec::new(),
        };
        for r in &q.from.relationships {
            if let Some(a) = &r.alias {
                let resolved = s.resolve(&r.path.parts);
                s.rel_aliases.push((a.clone(), resolved));
            }
        }
        s
    }

    /// Strips an object alias (or the object's own name, `Contact.FirstName` FROM Contact) and
    /// expands relationship aliases.
    fn resolve(&self, parts: &[String]) -> Vec<String> {
        if parts.len() > 1 {
            let head = &parts[0];
            if let Some((_, path)) = self
                .rel_aliases
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(head))
            {
                let mut v = path.clone();
                v.extend_from_slice(&parts[1..]);
                return v;
            }
            let is_alias = self
                .alias
                .as_ref()
                .is_some_and(|a| a.eq_ignore_ascii_case(head));
            let last_obj = self.object.rsplit('.').next().unwrap_or(&self.object);
            if is_alias || head.eq_ignore_ascii_case(last_obj) {
                return parts[1..].to_vec();
            }
        }
        parts.to_vec()
    }

    fn path(&self, prefix: &str, p: &FieldPath) -> String {
        let rel = self.resolve(&p.parts).join(".");
        if prefix.is_empty() {
            rel
        } else {
            format!("{prefix}.{rel}")
        }
    }
}

fn collect_select(q: &Query, scope: &Scope, prefix: &str, out: &mut Vec<String>) {
    for item in &q.select {
        match item {
            SelectItem::Expr { expr, .. } => collect_expr(expr, scope, prefix, out),
            SelectItem::Subquery(sub) => {
                let child = Scope::of(sub);
                // `FROM Account.Contacts` in a subquery names the relationship `Contacts`.
                let rel = sub
                    .from
                    .object
                    .rsplit('.')
                    .next()
                    .unwrap_or(&sub.from.object);
                let p = if prefix.is_empty() {
                    rel.to_string()
                } else {
                    format!("{prefix}.{rel}")
                };
                collect_select(sub, &child, &p, out);
            }
            SelectItem::TypeOf(t) => {
                let base = scope.path(prefix, &t.field);
                let branches = t.whens.iter().flat_map(|w| w.fields.iter());
                for f in branches.chain(t.else_fields.iter().flatten()) {
                    out.push(format!("{base}.{}", f.dotted()));
                }
            }
            SelectItem::Fields(_) => {}
        }
    }
}

fn collect_expr(e: &Expr, scope: &Scope, prefix: &str, out: &mut Vec<String>) {
    match e {
        Expr::Field(p) => out.push(scope.path(prefix, p)),
        Expr::Call(c) => collect_call(c, scope, prefix, out),
    }
}

fn collect_call(c: &FunctionCall, scope: &Scope, prefix: &str, out: &mut Vec<String>) {
    for a in &c.args {
        match a {
            Arg::Field(p) => out.push(scope.path(prefix, p)),
            Arg::Call(inner) => collect_call(inner, scope, prefix, out),
            Arg::Number(_) | Arg::String(_) => {}
        }
    }
}

/// True when the query returns summary rows rather than records: an aggregate function in the
/// select list (including `COUNT()` and inside `FORMAT(…)`), or a GROUP BY.
pub fn is_aggregate(q: &Query) -> bool {
    q.group_by.is_some() || first_aggregate(q).is_some()
}

/// The first aggregate function call in the select list, if any.
fn first_aggregate(q: &Query) -> Option<&FunctionCall> {
    fn find(c: &FunctionCall) -> Option<&FunctionCall> {
        if c.function.is_aggregate() {
            return Some(c);
        }
        c.args.iter().find_map(|a| match a {
            Arg::Call(inner) => find(inner),
            _ => None,
        })
    }
    q.select.iter().find_map(|i| match i {
        SelectItem::Expr {
            expr: Expr::Call(c),
            ..
        } => find(c),
        _ => None,
    })
}

/// A field's type as far as incremental pulls care (from a describe: `date`, `datetime`, other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Date,
    DateTime,
    Other,
}

/// Audit fields most objects carry, best first for an incremental window: SystemModstamp moves on
/// every change (including system ones), LastModifiedDate on user changes, CreatedDate never.
const AUDIT_FIELDS: [&str; 3] = ["SystemModstamp", "LastModifiedDate", "CreatedDate"];

/// Fields of the queried object that a date window could filter on: the audit fields
/// (SystemModstamp, LastModifiedDate, CreatedDate) first, then the query's own direct fields, in
/// select order — keeping only those `field_type` (backed by a describe) reports as Date or
/// DateTime. Relationship paths are left out: a window on a parent's date misses child changes.
pub fn date_filter_candidates(
    q: &Query,
    field_type: impl Fn(&str) -> Option<FieldKind>,
) -> Vec<String> {
    let scope = Scope::of(q);
    let mut names: Vec<String> = AUDIT_FIELDS.iter().map(|s| s.to_string()).collect();
    for item in &q.select {
        if let SelectItem::Expr {
            expr: Expr::Field(p),
            ..
        } = item
        {
            let parts = scope.resolve(&p.parts);
            if parts.len() == 1 {
                names.push(parts[0].clone());
            }
        }
    }
    dedupe(names)
        .into_iter()
        .filter(|n| matches!(field_type(n), Some(FieldKind::Date | FieldKind::DateTime)))
        .collect()
}

/// Why a window bound could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowError {
    pub message: String,
}

impl fmt::Display for WindowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WindowError {}

/// Adds `AND (field >= from AND field < to)` to the query's WHERE (or makes it the WHERE).
///
/// `from`/`to` are `YYYY-MM-DD` or an ISO datetime as Salesforce returns them
/// (`2024-05-01T10:00:00.000+0000`, `…Z`, `…+02:00`). For a Date field a datetime bound is cut to
/// its date; for a DateTime field a date bound means midnight UTC. An existing OR tree stays
/// grouped, so the window restricts all of it.
///
/// A bound that is not a date or datetime is kept as a string literal: Salesforce then refuses the
/// query with a type error naming the field, instead of a silently unbounded pull. Use
/// [`try_with_incremental_window`] to catch that before sending.
pub fn with_incremental_window(
    q: &Query,
    field: &str,
    kind: FieldKind,
    from: &str,
    to: &str,
) -> Query {
    let bound = |s: &str| window_value(s, kind).unwrap_or_else(|_| Value::String(s.to_string()));
    add_window(q, field, bound(from), bound(to))
}

/// [`with_incremental_window`] that refuses bounds which are not dates/datetimes, or a `kind` of
/// [`FieldKind::Other`].
pub fn try_with_incremental_window(
    q: &Query,
    field: &str,
    kind: FieldKind,
    from: &str,
    to: &str,
) -> Result<Query, WindowError> {
    if kind == FieldKind::Other {
        return Err(WindowError {
            message: format!("'{field}' is neither a date nor a datetime field"),
        });
    }
    Ok(add_window(
        q,
        field,
        window_value(from, kind)?,
        window_value(to, kind)?,
    ))
}

fn window_value(s: &str, kind: FieldKind) -> Result<Value, WindowError> {
    let v = crate::lexer::single_temporal(s.trim()).ok_or_else(|| WindowError {
        message: format!("'{s}' is not a date (YYYY-MM-DD) or datetime (YYYY-MM-DDThh:mm:ssZ)"),
    })?;
    Ok(match (kind, v) {
        (FieldKind::Date, Value::DateTime(dt)) => Value::Date(dt.date),
        (FieldKind::DateTime, Value::Date(d)) => Value::DateTime(DateTime {
            date: d,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            offset_minutes: 0,
        }),
        (_, v) => v,
    })
}

fn add_window(q: &Query, field: &str, from: Value, to: Value) -> Query {
    let path = FieldPath::parse_dotted(field);
    let window = Condition::And(vec![
        Condition::Compare {
            left: Expr::Field(path.clone()),
            op: Operator::Ge,
            right: Operand::Value(from),
        },
        Condition::Compare {
            left: Expr::Field(path),
            op: Operator::Lt,
            right: Operand::Value(to),
        },
    ]);
    let mut out = q.clone();
    out.where_clause = Some(match q.where_clause.clone() {
        None => window,
        // `a AND b` + window → `a AND b AND (window)`: same meaning, no extra parentheses.
        Some(Condition::And(mut parts)) => {
            parts.push(window);
            Condition::And(parts)
        }
        // An OR tree (or NOT, or a single comparison) becomes one operand of the new AND; the
        // printer parenthesises the OR so the window applies to every branch.
        Some(other) => Condition::And(vec![other, window]),
    });
    out
}

/// Why the inbound connector cannot pull with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorRefusal {
    /// `SELECT COUNT() …`
    CountRows,
    /// An aggregate function such as `SUM(Amount)`; carries its name.
    Aggregate(String),
    GroupBy,
    ForUpdate,
    Offset,
}

impl fmt::Display for ConnectorRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectorRefusal::CountRows => f.write_str(
                "COUNT() returns only a total, not records; an inbound pull needs the records themselves to import",
            ),
            ConnectorRefusal::Aggregate(name) => write!(
                f,
                "{name}() summarises many records into one value; an inbound pull imports one row per record, so select the fields instead"
            ),
            ConnectorRefusal::GroupBy => f.write_str(
                "GROUP BY returns one row per group, not per record; an inbound pull needs record rows with an Id to import and update",
            ),
            ConnectorRefusal::ForUpdate => f.write_str(
                "FOR UPDATE locks the records it reads and only works inside an Apex transaction; an inbound pull reads through the API without locking",
            ),
            ConnectorRefusal::Offset => f.write_str(
                "OFFSET skips rows by position (at most 2,000) and shifts when records change; an inbound pull pages with the query locator and an incremental date window instead",
            ),
        }
    }
}

impl std::error::Error for ConnectorRefusal {}

/// Refuses what an inbound pull cannot use: `COUNT()`, aggregate functions, GROUP BY,
/// FOR UPDATE and OFFSET (checked in that order; the first hit is reported).
pub fn connector_check(q: &Query) -> Result<(), ConnectorRefusal> {
    if let Some(c) = first_aggregate(q) {
        if c.function == Function::Count && c.args.is_empty() {
            return Err(ConnectorRefusal::CountRows);
        }
        return Err(ConnectorRefusal::Aggregate(c.function.name().to_string()));
    }
    if q.group_by.is_some() {
        return Err(ConnectorRefusal::GroupBy);
    }
    if q.for_clauses.contains(&ForClause::Update) {
        return Err(ConnectorRefusal::ForUpdate);
    }
    if q.offset.is_some() {
        return Err(ConnectorRefusal::Offset);
    }
    Ok(())
}
