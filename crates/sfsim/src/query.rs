//! SOQL evaluation on the `soql` crate's AST: filters, relationship paths rendered as nested
//! JSON, child subqueries, ORDER BY, LIMIT/OFFSET, COUNT(), GROUP BY with aggregates and HAVING,
//! date literals relative to the org clock, and query locators for queryMore.

use crate::error::ApiError;
use crate::ids::Id;
use crate::metadata::{FieldAccess, FieldType};
use crate::org::{OrgState, Session};
use crate::rest::record_url;
use crate::store::{Record, Store};
use crate::val::{self, cmp_ci, Val};
use chrono::{Datelike, NaiveDate, Timelike};
use serde_json::{json, Map, Value};
use soql::ast::{self, Condition, Expr, Function, Operand, Operator, SelectItem};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A resolved field path: references to follow, then the field read at the end.
#[derive(Clone, Debug)]
pub struct Path {
    /// (object, reference field) for each hop, from the query's object outwards.
    hops: Vec<(usize, usize)>,
    /// (object, field) at the end. The object is the first reference target; polymorphic
    /// references are followed by the id's key prefix at run time.
    pub end: (usize, usize),
    /// Relationship names and field name in their canonical case, for output keys.
    pub names: Vec<String>,
}

impl Path {
    pub fn dotted(&self) -> String {
        self.names.join(".")
    }
}

#[derive(Clone, Debug)]
enum Sel {
    Field(Path),
    Child(Box<Plan>),
    Agg(usize, String),
    Group(usize, String),
}

#[derive(Clone, Debug)]
enum Key {
    Path(Path),
    DateFn(Function, Path),
    Agg(usize),
}

/// A compiled query, kept with its cursor so later pages render the same way.
#[derive(Clone, Debug)]
pub struct Plan {
    pub oi: usize,
    sels: Vec<Sel>,
    filter: Option<Cond>,
    order: Vec<(Key, bool, bool)>,
    limit: Option<usize>,
    offset: usize,
    pub aggregate: bool,
    pub count_only: bool,
    group: Vec<Key>,
    aggs: Vec<(Function, Option<Path>)>,
    having: Option<Cond>,
    /// For child subqueries: the child's reference field pointing at the parent.
    parent_field: Option<usize>,
    /// Relationship name the child rows are keyed under in the parent row.
    rel_name: String,
}

#[derive(Clone, Debug)]
enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(Key, Operator, Rhs),
}

#[derive(Clone, Debug)]
enum Rhs {
    One(Val),
    Many(Vec<Val>),
    Range(i64, i64),
    Set(HashSet<String>),
}

/// An open query locator.
pub struct Cursor {
    plan: Arc<Plan>,
    all: bool,
    rows: Rows,
    batch: usize,
    created: u64,
}

enum Rows {
    Ids(Arc<Vec<Id>>),
}

/// The query text with a caret, as Salesforce points at a problem.
fn positioned(q: &str, line: usize, column: usize, msg: &str) -> String {
    let text = q.lines().nth(line.saturating_sub(1)).unwrap_or(q);
    format!(
        "{text}\n{}^\nERROR at Row:{line}:Column:{column}\n{msg}",
        " ".repeat(column.saturating_sub(1))
    )
}

/// Where `word` first appears in the query (the AST keeps no positions).
fn locate(q: &str, word: &str) -> (usize, usize) {
    let lower = q.to_lowercase();
    let w = word.to_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(&w) {
        let at = from + p;
        let before = lower[..at].chars().last();
        let after = lower[at + w.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary(before) && boundary(after) {
            let line = lower[..at].matches('\n').count() + 1;
            let col = lower[..at]
                .rsplit('\n')
                .next()
                .map(|s| s.chars().count())
                .unwrap_or(0)
                + 1;
            return (line, col);
        }
        from = at + w.len().max(1);
    }
    (1, 1)
}

struct Compiler<'a> {
    store: &'a Store,
    text: &'a str,
    /// Where the parser saw each object and field name.
    names: Vec<soql::NameRef>,
    session: &'a Session,
    now: i64,
}

impl Compiler<'_> {
    /// The position of a name: the parser's record of it when there is one, else a text search.
    fn position(&self, word: &str) -> (usize, usize) {
        if let Some(n) = self
            .names
            .iter()
            .find(|n| n.name.eq_ignore_ascii_case(word))
        {
            return (n.line, n.column);
        }
        // A relationship inside a dotted path: point at that segment.
        for n in &self.names {
            let mut offset = 0;
            for part in n.name.split('.') {
                if part.eq_ignore_ascii_case(word) {
                    return (n.line, n.column + offset);
                }
                offset += part.chars().count() + 1;
            }
        }
        locate(self.text, word)
    }

    fn err(&self, code: &str, word: &str, msg: String) -> ApiError {
        let (l, c) = self.position(word);
        ApiError::bad(code, positioned(self.text, l, c, &msg))
    }

    fn no_column(&self, word: &str, object: &str) -> ApiError {
        self.err(
            "INVALID_FIELD",
            word,
            format!("No such column '{word}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."),
        )
    }

    fn object(&self, name: &str) -> Result<usize, ApiError> {
        self.store.meta.object_index(name).ok_or_else(|| {
            self.err(
                "INVALID_TYPE",
                name,
                format!("sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."),
            )
        })
    }

    fn hidden(&self, oi: usize, fi: usize) -> bool {
        let o = &self.store.meta.objects[oi];
        self.session
            .ctx_profile
            .as_ref()
            .and_then(|p| p.access(&o.name, &o.fields[fi].name))
            == Some(FieldAccess::Hidden)
    }

    fn path(&self, oi: usize, alias: Option<&str>, fp: &ast::FieldPath) -> Result<Path, ApiError> {
        let mut parts: &[String] = &fp.parts;
        let oname = &self.store.meta.objects[oi].name;
        if parts.len() > 1 {
            let first = &parts[0];
            let is_alias = alias.is_some_and(|a| a.eq_ignore_ascii_case(first));
            let is_self = first.eq_ignore_ascii_case(oname)
                && self.store.meta.objects[oi].relationship(first).is_none();
            if is_alias || is_self {
                parts = &parts[1..];
            }
        }
        let mut cur = oi;
        let mut hops = Vec::new();
        let mut names = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let o = &self.store.meta.objects[cur];
            if i + 1 == parts.len() {
                let fi = o
                    .field_index(part)
                    .filter(|&fi| !self.hidden(cur, fi))
                    .ok_or_else(|| self.no_column(&fp.dotted(), &o.name))?;
                names.push(o.fields[fi].name.clone());
                return Ok(Path {
                    hops,
                    end: (cur, fi),
                    names,
                });
            }
            let Some((fi, f)) = o.relationship(part) else {
                return Err(self.err(
                    "INVALID_FIELD",
                    part,
                    format!("Didn't understand relationship '{part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."),
                ));
            };
            let target = f
                .reference_to
                .first()
                .and_then(|t| self.store.meta.object_index(t))
                .ok_or_else(|| self.no_column(part, &o.name))?;
            names.push(f.relationship_name.clone().unwrap_or_default());
            hops.push((cur, fi));
            cur = target;
        }
        Err(self.no_column(&fp.dotted(), oname))
    }

    fn compile(&self, q: &ast::Query, child_of: Option<usize>) -> Result<Plan, ApiError> {
        let (oi, parent_field, rel_name) = match child_of {
            None => (self.object(&q.from.object)?, None, String::new()),
            Some(poi) => {
                let rel = q.from.object.rsplit('.').next().unwrap_or(&q.from.object);
                let parent = &self.store.meta.objects[poi].name;
                let found = self
                    .store
                    .meta
                    .child_relationships(parent)
                    .into_iter()
                    .find(|(_, f)| {
                        f.child_relationship
                            .as_deref()
                            .is_some_and(|r| r.eq_ignore_ascii_case(rel))
                    });
                let Some((co, f)) = found else {
                    return Err(self.err(
                        "INVALID_TYPE",
                        rel,
                        format!("Didn't understand relationship '{rel}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."),
                    ));
                };
                let coi = self.store.meta.object_index(&co.name).unwrap_or(0);
                let fi = co.field_index(&f.name).unwrap_or(0);
                (
                    coi,
                    Some(fi),
                    f.child_relationship.clone().unwrap_or_default(),
                )
            }
        };
        let alias = q.from.alias.as_deref();
        let mut plan = Plan {
            oi,
            sels: Vec::new(),
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: 0,
            aggregate: false,
            count_only: false,
            group: Vec::new(),
            aggs: Vec::new(),
            having: None,
            parent_field,
            rel_name,
        };
        let is_agg_call = |e: &Expr| matches!(e, Expr::Call(c) if c.function.is_aggregate());
        plan.aggregate = q.group_by.is_some()
            || q.select
                .iter()
                .any(|s| matches!(s, SelectItem::Expr { expr, .. } if is_agg_call(expr)));
        if let Some(g) = &q.group_by {
            for e in &g.items {
                let k = self.key(oi, alias, e, &mut plan.aggs)?;
                plan.group.push(k);
            }
        }
        let mut expr_n = 0;
        for item in &q.select {
            match item {
                SelectItem::Expr { expr, alias: a } => match expr {
                    Expr::Call(c) if c.function == Function::Count && c.args.is_empty() => {
                        if q.group_by.is_none() && q.select.len() == 1 {
                            plan.count_only = true;
                        } else {
                            let idx = self.agg(oi, alias, c, &mut plan.aggs)?;
                            let name = a.clone().unwrap_or_else(|| {
                                let n = format!("expr{expr_n}");
                                expr_n += 1;
                                n
                            });
                            plan.sels.push(Sel::Agg(idx, name));
                        }
                    }
                    Expr::Call(c) if c.function.is_aggregate() => {
                        let idx = self.agg(oi, alias, c, &mut plan.aggs)?;
                        let name = a.clone().unwrap_or_else(|| {
                            let n = format!("expr{expr_n}");
                            expr_n += 1;
                            n
                        });
                        plan.sels.push(Sel::Agg(idx, name));
                    }
                    Expr::Call(c) if c.function.is_date_function() => {
                        if !plan.aggregate {
                            return Err(self.err(
                                "MALFORMED_QUERY",
                                c.function.name(),
                                "only aggregate expressions use field aliasing".to_string(),
                            ));
                        }
                        let k = self.key(oi, alias, expr, &mut plan.aggs)?;
                        let gi =
                            plan.group
                                .iter()
                                .position(|g| same_key(g, &k))
                                .ok_or_else(|| {
                                    self.err(
                                        "MALFORMED_QUERY",
                                        c.function.name(),
                                        format!(
                                            "field {} must be grouped or aggregated",
                                            c.function.name()
                                        ),
                                    )
                                })?;
                        let name = a.clone().unwrap_or_else(|| {
                            let n = format!("expr{expr_n}");
                            expr_n += 1;
                            n
                        });
                        plan.sels.push(Sel::Group(gi, name));
                    }
                    Expr::Call(c) => {
                        // toLabel, FORMAT, convertCurrency: the plain value is what sfsim has.
                        let Some(ast::Arg::Field(fp)) = c.args.first() else {
                            return Err(self.err(
                                "MALFORMED_QUERY",
                                c.function.name(),
                                format!("unexpected function {}", c.function.name()),
                            ));
                        };
                        let p = self.path(oi, alias, fp)?;
                        plan.sels.push(Sel::Field(p));
                    }
                    Expr::Field(fp) => {
                        let p = self.path(oi, alias, fp)?;
                        if plan.aggregate {
                            let k = Key::Path(p.clone());
                            let gi = plan.group.iter().position(|g| same_key(g, &k)).ok_or_else(
                                || {
                                    self.err(
                                        "MALFORMED_QUERY",
                                        &fp.dotted(),
                                        format!(
                                            "Field must be grouped or aggregated: {}",
                                            p.names.last().cloned().unwrap_or_default()
                                        ),
                                    )
                                },
                            )?;
                            let name = a
                                .clone()
                                .unwrap_or_else(|| p.names.last().cloned().unwrap_or_default());
                            plan.sels.push(Sel::Group(gi, name));
                        } else {
                            plan.sels.push(Sel::Field(p));
                        }
                    }
                },
                SelectItem::Subquery(sub) => {
                    if child_of.is_some() {
                        return Err(self.err(
                            "MALFORMED_QUERY",
                            "SELECT",
                            "nesting of semi join sub-selects is not supported".into(),
                        ));
                    }
                    let child = self.compile(sub, Some(oi))?;
                    plan.sels.push(Sel::Child(Box::new(child)));
                }
                SelectItem::Fields(scope) => {
                    let o = &self.store.meta.objects[oi];
                    for (fi, f) in o.fields.iter().enumerate() {
                        let keep = match scope {
                            ast::FieldsScope::All => true,
                            ast::FieldsScope::Custom => f.custom,
                            ast::FieldsScope::Standard => !f.custom,
                        };
                        if keep && !self.hidden(oi, fi) {
                            plan.sels.push(Sel::Field(Path {
                                hops: vec![],
                                end: (oi, fi),
                                names: vec![f.name.clone()],
                            }));
                        }
                    }
                }
                SelectItem::TypeOf(_) => {
                    return Err(self.err(
                        "MALFORMED_QUERY",
                        "TYPEOF",
                        "TYPEOF is not supported by this org".into(),
                    ));
                }
            }
        }
        if let Some(w) = &q.where_clause {
            plan.filter = Some(self.cond(oi, alias, w, &mut plan.aggs, false)?);
        }
        if let Some(h) = &q.having {
            if !plan.aggregate {
                return Err(self.err(
                    "MALFORMED_QUERY",
                    "HAVING",
                    "HAVING without GROUP BY or aggregate".into(),
                ));
            }
            plan.having = Some(self.cond(oi, alias, h, &mut plan.aggs, true)?);
        }
        for o in &q.order_by {
            let k = self.key(oi, alias, &o.expr, &mut plan.aggs)?;
            let desc = o.direction == Some(ast::Direction::Desc);
            let nulls_first = match o.nulls {
                Some(ast::Nulls::First) => true,
                Some(ast::Nulls::Last) => false,
                None => !desc,
            };
            plan.order.push((k, desc, nulls_first));
        }
        let count = |c: &Option<ast::Count>| match c {
            Some(ast::Count::Literal(n)) => Some(*n as usize),
            _ => None,
        };
        plan.limit = count(&q.limit);
        plan.offset = count(&q.offset).unwrap_or(0);
        Ok(plan)
    }

    fn agg(
        &self,
        oi: usize,
        alias: Option<&str>,
        c: &ast::FunctionCall,
        aggs: &mut Vec<(Function, Option<Path>)>,
    ) -> Result<usize, ApiError> {
        let path = match c.args.first() {
            None => None,
            Some(ast::Arg::Field(fp)) => Some(self.path(oi, alias, fp)?),
            Some(_) => {
                return Err(self.err(
                    "MALFORMED_QUERY",
                    c.function.name(),
                    "unsupported aggregate argument".into(),
                ))
            }
        };
        if let Some(i) = aggs.iter().position(|(f, p)| {
            *f == c.function && p.as_ref().map(Path::dotted) == path.as_ref().map(Path::dotted)
        }) {
            return Ok(i);
        }
        aggs.push((c.function, path));
        Ok(aggs.len() - 1)
    }

    fn key(
        &self,
        oi: usize,
        alias: Option<&str>,
        e: &Expr,
        aggs: &mut Vec<(Function, Option<Path>)>,
    ) -> Result<Key, ApiError> {
        match e {
            Expr::Field(fp) => Ok(Key::Path(self.path(oi, alias, fp)?)),
            Expr::Call(c) if c.function.is_aggregate() => {
                Ok(Key::Agg(self.agg(oi, alias, c, aggs)?))
            }
            Expr::Call(c) => match c.args.first() {
                Some(ast::Arg::Field(fp)) if c.function.is_date_function() => {
                    Ok(Key::DateFn(c.function, self.path(oi, alias, fp)?))
                }
                Some(ast::Arg::Field(fp)) => Ok(Key::Path(self.path(oi, alias, fp)?)),
                _ => Err(self.err(
                    "MALFORMED_QUERY",
                    c.function.name(),
                    format!("unsupported function {}", c.function.name()),
                )),
            },
        }
    }

    fn cond(
        &self,
        oi: usize,
        alias: Option<&str>,
        c: &Condition,
        aggs: &mut Vec<(Function, Option<Path>)>,
        having: bool,
    ) -> Result<Cond, ApiError> {
        Ok(match c {
            Condition::And(v) => Cond::And(
                v.iter()
                    .map(|c| self.cond(oi, alias, c, aggs, having))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Or(v) => Cond::Or(
                v.iter()
                    .map(|c| self.cond(oi, alias, c, aggs, having))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(c) => Cond::Not(Box::new(self.cond(oi, alias, c, aggs, having)?)),
            Condition::Compare { left, op, right } => {
                if !having && matches!(left, Expr::Call(c) if c.function.is_aggregate()) {
                    return Err(self.err(
                        "MALFORMED_QUERY",
                        "WHERE",
                        "Cannot use aggregates in the WHERE clause; use HAVING".into(),
                    ));
                }
                let key = self.key(oi, alias, left, aggs)?;
                let ftype = match &key {
                    Key::Path(p) => Some(self.store.meta.objects[p.end.0].fields[p.end.1].ftype),
                    Key::DateFn(..) | Key::Agg(_) => None,
                };
                let rhs = match right {
                    Operand::Value(ast::Value::DateLiteral(d)) => {
                        let (a, b) = literal_range(*d, self.now);
                        Rhs::Range(a, b)
                    }
                    Operand::Value(v) => Rhs::One(literal(v, ftype)),
                    Operand::List(vs) => Rhs::Many(vs.iter().map(|v| literal(v, ftype)).collect()),
                    Operand::Subquery(sub) => {
                        let plan = self.compile(sub, None)?;
                        let mut set = HashSet::new();
                        for id in matching(self.store, &plan, self.now, false) {
                            if let Some(rec) = self.store.get(plan.oi, id) {
                                if let Some(Sel::Field(p)) = plan.sels.first() {
                                    if let Some(s) = value_at(self.store, rec, p).as_str() {
                                        set.insert(s.to_string());
                                    }
                                }
                            }
                        }
                        Rhs::Set(set)
                    }
                };
                Cond::Cmp(key, *op, rhs)
            }
        })
    }
}

fn same_key(a: &Key, b: &Key) -> bool {
    match (a, b) {
        (Key::Path(x), Key::Path(y)) => x.dotted().eq_ignore_ascii_case(&y.dotted()),
        (Key::DateFn(f, x), Key::DateFn(g, y)) => {
            f == g && x.dotted().eq_ignore_ascii_case(&y.dotted())
        }
        (Key::Agg(i), Key::Agg(j)) => i == j,
        _ => false,
    }
}

fn literal(v: &ast::Value, ftype: Option<FieldType>) -> Val {
    match v {
        ast::Value::String(s) => {
            let s = s.replace("\\%", "%").replace("\\_", "_");
            match ftype {
                Some(FieldType::Id | FieldType::Reference) => match Id::parse(&s) {
                    Some(id) => Val::str(&id.to18()),
                    None => Val::str(&s),
                },
                Some(FieldType::Date) => val::parse_date(&s).map(Val::Date).unwrap_or(Val::str(&s)),
                Some(FieldType::Datetime) => val::parse_datetime(&s)
                    .map(Val::DateTime)
                    .unwrap_or(Val::str(&s)),
                _ => Val::str(&s),
            }
        }
        ast::Value::Integer(i) => Val::Num(*i as f64),
        ast::Value::Decimal(d) => Val::Num(d.to_f64()),
        ast::Value::Currency { amount, .. } => Val::Num(amount.to_f64()),
        ast::Value::Boolean(b) => Val::Bool(*b),
        ast::Value::Null => Val::Null,
        ast::Value::Date(d) => {
            let days = NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)
                .map(val::date_from_naive)
                .unwrap_or(0);
            if ftype == Some(FieldType::Datetime) {
                Val::DateTime(days as i64 * 86_400_000)
            } else {
                Val::Date(days)
            }
        }
        ast::Value::DateTime(dt) => {
            let days = NaiveDate::from_ymd_opt(
                dt.date.year as i32,
                dt.date.month as u32,
                dt.date.day as u32,
            )
            .map(val::date_from_naive)
            .unwrap_or(0);
            let ms = days as i64 * 86_400_000
                + (dt.hour as i64 * 3600 + dt.minute as i64 * 60 + dt.second as i64) * 1000
                + (dt.nanos / 1_000_000) as i64
                - dt.offset_minutes as i64 * 60_000;
            if ftype == Some(FieldType::Date) {
                Val::Date(ms.div_euclid(86_400_000) as i32)
            } else {
                Val::DateTime(ms)
            }
        }
        ast::Value::DateLiteral(_) | ast::Value::Bind(_) => Val::Null,
    }
}

/// The [start, end) of a relative date literal, in milliseconds, by the org clock (UTC).
pub fn literal_range(d: ast::DateLiteral, now_ms: i64) -> (i64, i64) {
    use ast::DateLiteral::*;
    let today = val::naive_from_days(now_ms.div_euclid(86_400_000) as i32);
    let day = |d: NaiveDate| (d - val::epoch()).num_days().saturating_mul(86_400_000);
    // Hostile N values (LAST_N_DAYS:4000000000) clamp instead of overflowing the calendar.
    let plus_days = |d: NaiveDate, n: i64| {
        chrono::TimeDelta::try_days(n)
            .and_then(|delta| d.checked_add_signed(delta))
            .unwrap_or(if n < 0 {
                NaiveDate::MIN
            } else {
                NaiveDate::MAX
            })
    };
    let week0 = plus_days(today, -(today.weekday().num_days_from_sunday() as i64));
    let month0 = today.with_day(1).unwrap_or(today);
    let add_months = |d: NaiveDate, n: i64| {
        let m = d.year() as i64 * 12 + d.month0() as i64 + n;
        NaiveDate::from_ymd_opt(m.div_euclid(12) as i32, m.rem_euclid(12) as u32 + 1, 1)
            .unwrap_or(d)
    };
    let quarter0 = add_months(month0, -((today.month0() % 3) as i64));
    let year0 = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let span = |a: NaiveDate, b: NaiveDate| (day(a), day(b));
    let n64 = |n: u32| n as i64;
    match d {
        Yesterday => span(plus_days(today, -1), today),
        Today => span(today, plus_days(today, 1)),
        Tomorrow => span(plus_days(today, 1), plus_days(today, 2)),
        LastWeek => span(plus_days(week0, -7), week0),
        ThisWeek => span(week0, plus_days(week0, 7)),
        NextWeek => span(plus_days(week0, 7), plus_days(week0, 14)),
        LastMonth => span(add_months(month0, -1), month0),
        ThisMonth => span(month0, add_months(month0, 1)),
        NextMonth => span(add_months(month0, 1), add_months(month0, 2)),
        Last90Days => span(plus_days(today, -90), plus_days(today, 1)),
        Next90Days => span(plus_days(today, 1), plus_days(today, 91)),
        LastNDays(n) => span(plus_days(today, -n64(n)), plus_days(today, 1)),
        NextNDays(n) => span(plus_days(today, 1), plus_days(today, 1 + n64(n))),
        NDaysAgo(n) => span(plus_days(today, -n64(n)), plus_days(today, 1 - n64(n))),
        LastNWeeks(n) => span(plus_days(week0, -7 * n64(n)), week0),
        NextNWeeks(n) => span(plus_days(week0, 7), plus_days(week0, 7 + 7 * n64(n))),
        NWeeksAgo(n) => span(
            plus_days(week0, -7 * n64(n)),
            plus_days(week0, 7 - 7 * n64(n)),
        ),
        LastNMonths(n) => span(add_months(month0, -n64(n)), month0),
        NextNMonths(n) => span(add_months(month0, 1), add_months(month0, 1 + n64(n))),
        NMonthsAgo(n) => span(add_months(month0, -n64(n)), add_months(month0, 1 - n64(n))),
        ThisQuarter | ThisFiscalQuarter => span(quarter0, add_months(quarter0, 3)),
        LastQuarter | LastFiscalQuarter => span(add_months(quarter0, -3), quarter0),
        NextQuarter | NextFiscalQuarter => span(add_months(quarter0, 3), add_months(quarter0, 6)),
        LastNQuarters(n) | LastNFiscalQuarters(n) => {
            span(add_months(quarter0, -3 * n64(n)), quarter0)
        }
        NextNQuarters(n) | NextNFiscalQuarters(n) => span(
            add_months(quarter0, 3),
            add_months(quarter0, 3 + 3 * n64(n)),
        ),
        NQuartersAgo(n) | NFiscalQuartersAgo(n) => span(
            add_months(quarter0, -3 * n64(n)),
            add_months(quarter0, 3 - 3 * n64(n)),
        ),
        ThisYear | ThisFiscalYear => span(year0, add_months(year0, 12)),
        LastYear | LastFiscalYear => span(add_months(year0, -12), year0),
        NextYear | NextFiscalYear => span(add_months(year0, 12), add_months(year0, 24)),
        LastNYears(n) | LastNFiscalYears(n) => span(add_months(year0, -12 * n64(n)), year0),
        NextNYears(n) | NextNFiscalYears(n) => {
            span(add_months(year0, 12), add_months(year0, 12 + 12 * n64(n)))
        }
        NYearsAgo(n) | NFiscalYearsAgo(n) => span(
            add_months(year0, -12 * n64(n)),
            add_months(year0, 12 - 12 * n64(n)),
        ),
    }
}

/// Follows a path from a record; a missing parent gives null.
pub fn value_at(store: &Store, rec: &Record, p: &Path) -> Val {
    match parent_at(store, rec, &p.hops) {
        Some(r) => r.get(p.end.1).clone(),
        None => Val::Null,
    }
}

fn parent_at<'a>(store: &'a Store, rec: &'a Record, hops: &[(usize, usize)]) -> Option<&'a Record> {
    let mut cur = rec;
    for (_, fi) in hops {
        let id = cur.get(*fi).as_str().and_then(Id::parse)?;
        let oi = store.object_of(id)?;
        cur = store.get(oi, id)?;
    }
    Some(cur)
}

fn date_fn(f: Function, v: &Val) -> Val {
    let (d, hour) = match v {
        Val::Date(d) => (val::naive_from_days(*d), 0),
        Val::DateTime(ms) => match chrono::DateTime::from_timestamp_millis(*ms) {
            Some(dt) => (dt.date_naive(), dt.hour()),
            None => return Val::Null,
        },
        _ => return Val::Null,
    };
    let n = match f {
        Function::CalendarYear | Function::FiscalYear => d.year() as f64,
        Function::CalendarMonth | Function::FiscalMonth => d.month() as f64,
        Function::CalendarQuarter | Function::FiscalQuarter => (d.month0() / 3 + 1) as f64,
        Function::DayInMonth => d.day() as f64,
        Function::DayInWeek => (d.weekday().num_days_from_sunday() + 1) as f64,
        Function::DayInYear => d.ordinal() as f64,
        Function::HourInDay => hour as f64,
        Function::WeekInMonth => ((d.day() - 1) / 7 + 1) as f64,
        Function::WeekInYear => ((d.ordinal() - 1) / 7 + 1) as f64,
        Function::DayOnly => return Val::Date(val::date_from_naive(d)),
        _ => return Val::Null,
    };
    Val::Num(n)
}

fn key_value(store: &Store, rec: &Record, k: &Key) -> Val {
    match k {
        Key::Path(p) => value_at(store, rec, p),
        Key::DateFn(f, p) => date_fn(*f, &value_at(store, rec, p)),
        Key::Agg(_) => Val::Null,
    }
}

fn eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => x.eq_ignore_ascii_case(y) || cmp_ci(x, y) == Ordering::Equal,
        (Val::Null, Val::Null) => true,
        (Val::Null, _) | (_, Val::Null) => false,
        _ => a.cmp_loose(b) == Some(Ordering::Equal),
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    // Iterative wildcard match with backtracking on the last '%'.
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || (p[pi] != '%' && p[pi] == t[ti])) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

fn compare(v: &Val, op: Operator, rhs: &Rhs) -> bool {
    match (op, rhs) {
        (_, Rhs::Range(a, b)) => {
            let ms = match v {
                Val::Date(d) => *d as i64 * 86_400_000,
                Val::DateTime(ms) => *ms,
                _ => return op == Operator::Ne,
            };
            match op {
                Operator::Eq => ms >= *a && ms < *b,
                Operator::Ne => !(ms >= *a && ms < *b),
                Operator::Lt => ms < *a,
                Operator::Le => ms < *b,
                Operator::Gt => ms >= *b,
                Operator::Ge => ms >= *a,
                _ => false,
            }
        }
        (Operator::Eq, Rhs::One(r)) => eq(v, r),
        (Operator::Ne, Rhs::One(r)) => !eq(v, r),
        (Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge, Rhs::One(r)) => {
            if v.is_null() || r.is_null() {
                return false;
            }
            let Some(o) = v.cmp_loose(r) else {
                return false;
            };
            match op {
                Operator::Lt => o == Ordering::Less,
                Operator::Le => o != Ordering::Greater,
                Operator::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }
        }
        (Operator::Like, Rhs::One(Val::Str(p))) => v.as_str().is_some_and(|t| like(t, p)),
        (Operator::In, Rhs::Many(list)) => list.iter().any(|r| eq(v, r)),
        (Operator::NotIn, Rhs::Many(list)) => !list.iter().any(|r| eq(v, r)),
        (Operator::In, Rhs::Set(set)) => v.as_str().is_some_and(|s| set.contains(s)),
        (Operator::NotIn, Rhs::Set(set)) => !v.as_str().is_some_and(|s| set.contains(s)),
        (Operator::Includes | Operator::Excludes, Rhs::Many(list)) => {
            let have: Vec<String> = v
                .as_str()
                .map(|s| s.split(';').map(|x| x.trim().to_lowercase()).collect())
                .unwrap_or_default();
            let hit = list.iter().any(|r| {
                r.as_str().is_some_and(|want| {
                    want.split(';')
                        .all(|w| have.contains(&w.trim().to_lowercase()))
                })
            });
            if op == Operator::Includes {
                hit
            } else {
                !hit
            }
        }
        (Operator::Includes | Operator::Excludes, Rhs::One(r)) => {
            compare(v, op, &Rhs::Many(vec![r.clone()]))
        }
        _ => false,
    }
}

fn test(store: &Store, rec: &Record, c: &Cond) -> bool {
    match c {
        Cond::And(v) => v.iter().all(|c| test(store, rec, c)),
        Cond::Or(v) => v.iter().any(|c| test(store, rec, c)),
        Cond::Not(c) => !test(store, rec, c),
        Cond::Cmp(k, op, rhs) => compare(&key_value(store, rec, k), *op, rhs),
    }
}

fn order_cmp(a: &Val, b: &Val, desc: bool, nulls_first: bool) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (false, true) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        _ => {
            let o = a.cmp_loose(b).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// Ids of the rows a non-aggregate plan selects, filtered, ordered and cut by LIMIT/OFFSET.
pub fn matching(store: &Store, plan: &Plan, _now: i64, all_rows: bool) -> Vec<Id> {
    let table = &store.tables[plan.oi];
    let rows = table.records.values().filter(|r| {
        (all_rows || !r.deleted) && plan.filter.as_ref().is_none_or(|c| test(store, r, c))
    });
    let mut ids: Vec<Id> = if plan.order.is_empty() {
        let take = plan
            .limit
            .map(|l| l.saturating_add(plan.offset))
            .unwrap_or(usize::MAX);
        rows.take(take).map(|r| r.id).collect()
    } else {
        let mut keyed: Vec<(Vec<Val>, Id)> = rows
            .map(|r| {
                (
                    plan.order
                        .iter()
                        .map(|(k, _, _)| key_value(store, r, k))
                        .collect(),
                    r.id,
                )
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (_, desc, nf)) in plan.order.iter().enumerate() {
                let o = order_cmp(&a[i], &b[i], *desc, *nf);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        keyed.into_iter().map(|(_, id)| id).collect()
    };
    if plan.offset > 0 {
        ids.drain(..plan.offset.min(ids.len()));
    }
    if let Some(l) = plan.limit {
        ids.truncate(l);
    }
    ids
}

#[cfg(test)]
fn attributes(store: &Store, oi: usize, id: Id, v: &str) -> Value {
    let name = &store.meta.objects[oi].name;
    json!({"type": name, "url": record_url(v, name, id)})
}

/// Puts a path's value into the nested output object, creating parent objects on the way.
/// (The reference rendering: pages are written by `write_row`; tests check they agree.)
#[cfg(test)]
fn put_path(store: &Store, out: &mut Map<String, Value>, rec: &Record, p: &Path, v: &str) {
    let mut cur_rec = Some(rec);
    let mut cur = out;
    for (i, (_, fi)) in p.hops.iter().enumerate() {
        let name = &p.names[i];
        let parent = cur_rec.and_then(|r| {
            let id = r.get(*fi).as_str().and_then(Id::parse)?;
            let oi = store.object_of(id)?;
            store.get(oi, id).map(|r| (oi, r))
        });
        match parent {
            None => {
                if !cur.contains_key(name) {
                    cur.insert(name.clone(), Value::Null);
                }
                return;
            }
            Some((oi, r)) => {
                let entry = cur.entry(name.clone()).or_insert(Value::Null);
                if !entry.is_object() {
                    let mut m = Map::new();
                    m.insert("attributes".into(), attributes(store, oi, r.id, v));
                    *entry = Value::Object(m);
                }
                cur_rec = Some(r);
                match entry {
                    Value::Object(m) => cur = m,
                    _ => return,
                }
            }
        }
    }
    if let Some(r) = cur_rec {
        let f = &store.meta.objects[p.end.0].fields[p.end.1];
        let fi = if p.hops.is_empty() || store.object_of(r.id) == Some(p.end.0) {
            Some(p.end.1)
        } else {
            // A polymorphic reference led elsewhere: read the field by name there.
            store
                .object_of(r.id)
                .and_then(|oi| store.meta.objects[oi].field_index(&f.name))
        };
        let value = fi
            .map(|fi| r.get(fi).to_json(f.is_integer()))
            .unwrap_or(Value::Null);
        cur.insert(p.names[p.names.len() - 1].clone(), value);
    }
}

/// Renders one row of a non-aggregate plan, with child subqueries from `children`.
#[cfg(test)]
fn render_row(
    store: &Store,
    plan: &Plan,
    rec: &Record,
    children: &[HashMap<String, Vec<Id>>],
    v: &str,
) -> Value {
    let mut m = Map::new();
    m.insert("attributes".into(), attributes(store, plan.oi, rec.id, v));
    let mut child_i = 0;
    for s in &plan.sels {
        match s {
            Sel::Field(p) => put_path(store, &mut m, rec, p, v),
            Sel::Child(cp) => {
                let ids = children.get(child_i).and_then(|c| c.get(&rec.id.to18()));
                child_i += 1;
                let value = match ids {
                    Some(ids) if !ids.is_empty() => {
                        let records: Vec<Value> = ids
                            .iter()
                            .filter_map(|id| store.get(cp.oi, *id))
                            .map(|r| render_row(store, cp, r, &[], v))
                            .collect();
                        json!({"totalSize": records.len(), "done": true, "records": records})
                    }
                    _ => Value::Null,
                };
                m.insert(cp.rel_name.clone(), value);
            }
            Sel::Agg(..) | Sel::Group(..) => {}
        }
    }
    Value::Object(m)
}

/// The output shape of a non-aggregate row, in select order: fields, nested relationships and
/// child subqueries. Built once per page so rows are written straight to JSON text.
enum Item {
    Field(String, usize, usize),
    Rel(String, usize, Vec<Item>),
    Child(usize),
}

fn layout(plan: &Plan) -> Vec<Item> {
    fn insert(items: &mut Vec<Item>, p: &Path, depth: usize) {
        if depth == p.hops.len() {
            let name = &p.names[depth];
            if !items
                .iter()
                .any(|i| matches!(i, Item::Field(n, ..) if n == name))
            {
                items.push(Item::Field(name.clone(), p.end.0, p.end.1));
            }
            return;
        }
        let name = &p.names[depth];
        let idx = match items
            .iter()
            .position(|i| matches!(i, Item::Rel(n, ..) if n == name))
        {
            Some(i) => i,
            None => {
                items.push(Item::Rel(name.clone(), p.hops[depth].1, Vec::new()));
                items.len() - 1
            }
        };
        if let Item::Rel(_, _, sub) = &mut items[idx] {
            insert(sub, p, depth + 1);
        }
    }
    let mut items = Vec::new();
    let mut child = 0;
    for s in &plan.sels {
        match s {
            Sel::Field(p) => insert(&mut items, p, 0),
            Sel::Child(_) => {
                items.push(Item::Child(child));
                child += 1;
            }
            _ => {}
        }
    }
    items
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_val(out: &mut Vec<u8>, v: &Val, integer: bool) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::Num(n) if integer && n.fract() == 0.0 && n.abs() < 9.0e15 => {
            out.extend_from_slice((*n as i64).to_string().as_bytes())
        }
        Val::Num(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Val::Str(s) => write_str(out, s),
        Val::Date(d) => write_str(out, &val::format_date(*d)),
        Val::DateTime(ms) => write_str(out, &val::format_datetime(*ms)),
    }
}

fn write_attributes(out: &mut Vec<u8>, store: &Store, oi: usize, id: Id, v: &str) {
    let name = &store.meta.objects[oi].name;
    out.extend_from_slice(b"{\"attributes\":{\"type\":");
    write_str(out, name);
    out.extend_from_slice(b",\"url\":");
    write_str(out, &record_url(v, name, id));
    out.push(b'}');
}

#[allow(clippy::too_many_arguments)]
fn write_items(
    out: &mut Vec<u8>,
    store: &Store,
    oi: usize,
    rec: &Record,
    items: &[Item],
    plan: &Plan,
    children: &[HashMap<String, Vec<Id>>],
    v: &str,
) {
    for item in items {
        out.push(b',');
        match item {
            Item::Field(name, soi, fi) => {
                write_str(out, name);
                out.push(b':');
                let f = &store.meta.objects[*soi].fields[*fi];
                // A polymorphic reference may have led to another object: read the field by name.
                let idx = if oi == *soi {
                    Some(*fi)
                } else {
                    store.meta.objects[oi].field_index(&f.name)
                };
                match idx {
                    Some(i) => write_val(out, rec.get(i), f.is_integer()),
                    None => out.extend_from_slice(b"null"),
                }
            }
            Item::Rel(name, ref_fi, sub) => {
                write_str(out, name);
                out.push(b':');
                let parent = rec
                    .get(*ref_fi)
                    .as_str()
                    .and_then(Id::parse)
                    .and_then(|id| {
                        let poi = store.object_of(id)?;
                        store.get(poi, id).map(|r| (poi, r))
                    });
                match parent {
                    None => out.extend_from_slice(b"null"),
                    Some((poi, r)) => {
                        write_attributes(out, store, poi, r.id, v);
                        write_items(out, store, poi, r, sub, plan, &[], v);
                        out.push(b'}');
                    }
                }
            }
            Item::Child(i) => {
                let Some(cp) = plan
                    .sels
                    .iter()
                    .filter_map(|s| {
                        if let Sel::Child(cp) = s {
                            Some(cp)
                        } else {
                            None
                        }
                    })
                    .nth(*i)
                else {
                    continue;
                };
                write_str(out, &cp.rel_name);
                out.push(b':');
                let ids = children.get(*i).and_then(|c| c.get(&rec.id.to18()));
                match ids {
                    Some(ids) if !ids.is_empty() => {
                        let rows: Vec<&Record> =
                            ids.iter().filter_map(|id| store.get(cp.oi, *id)).collect();
                        out.extend_from_slice(
                            format!("{{\"totalSize\":{},\"done\":true,\"records\":[", rows.len())
                                .as_bytes(),
                        );
                        let sub = layout(cp);
                        for (k, r) in rows.iter().enumerate() {
                            if k > 0 {
                                out.push(b',');
                            }
                            write_attributes(out, store, cp.oi, r.id, v);
                            write_items(out, store, cp.oi, r, &sub, cp, &[], v);
                            out.push(b'}');
                        }
                        out.extend_from_slice(b"]}");
                    }
                    _ => out.extend_from_slice(b"null"),
                }
            }
        }
    }
}

/// One page of a non-aggregate query as JSON text.
#[allow(clippy::too_many_arguments)]
fn write_page(
    store: &Store,
    plan: &Plan,
    slice: &[Id],
    children: &[HashMap<String, Vec<Id>>],
    total: usize,
    done: bool,
    next: Option<&str>,
    v: &str,
) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(slice.len() * 256 + 64);
    out.extend_from_slice(
        format!("{{\"totalSize\":{total},\"done\":{done},\"records\":[").as_bytes(),
    );
    let items = layout(plan);
    let mut first = true;
    for id in slice {
        let Some(rec) = store.get(plan.oi, *id) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        write_attributes(&mut out, store, plan.oi, rec.id, v);
        write_items(&mut out, store, plan.oi, rec, &items, plan, children, v);
        out.push(b'}');
    }
    out.push(b']');
    if let Some(n) = next {
        out.extend_from_slice(b",\"nextRecordsUrl\":");
        write_str(&mut out, n);
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

/// Child rows for the parents on one page: per subquery, parent id -> child ids in order.
fn children_for(
    store: &Store,
    plan: &Plan,
    parents: &[Id],
    now: i64,
    all: bool,
) -> Vec<HashMap<String, Vec<Id>>> {
    if !plan.sels.iter().any(|s| matches!(s, Sel::Child(_))) {
        return Vec::new();
    }
    let wanted: HashSet<String> = parents.iter().map(|i| i.to18()).collect();
    let mut out = Vec::new();
    for s in &plan.sels {
        let Sel::Child(cp) = s else { continue };
        let Some(pf) = cp.parent_field else { continue };
        let mut unlimited = (**cp).clone();
        unlimited.limit = None;
        unlimited.offset = 0;
        let mut map: HashMap<String, Vec<Id>> = HashMap::new();
        for id in matching(store, &unlimited, now, all) {
            if let Some(r) = store.get(cp.oi, id) {
                if let Some(p) = r.get(pf).as_str() {
                    if wanted.contains(p) {
                        map.entry(p.to_string()).or_default().push(id);
                    }
                }
            }
        }
        for ids in map.values_mut() {
            if cp.offset > 0 {
                ids.drain(..cp.offset.min(ids.len()));
            }
            if let Some(l) = cp.limit {
                ids.truncate(l);
            }
        }
        out.push(map);
    }
    out
}

fn aggregate_rows(store: &Store, plan: &Plan, all: bool) -> Vec<Value> {
    let table = &store.tables[plan.oi];
    let mut groups: Vec<(Vec<Val>, Vec<Vec<Val>>, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in table.records.values() {
        if (!all && r.deleted) || !plan.filter.as_ref().is_none_or(|c| test(store, r, c)) {
            continue;
        }
        let keys: Vec<Val> = plan.group.iter().map(|k| key_value(store, r, k)).collect();
        let sig = keys
            .iter()
            .map(|k| k.to_text(false).to_lowercase())
            .collect::<Vec<_>>()
            .join("\u{1}");
        let gi = *index.entry(sig).or_insert_with(|| {
            groups.push((keys.clone(), vec![Vec::new(); plan.aggs.len()], 0));
            groups.len() - 1
        });
        groups[gi].2 += 1;
        for (ai, (_, p)) in plan.aggs.iter().enumerate() {
            let v = p
                .as_ref()
                .map(|p| value_at(store, r, p))
                .unwrap_or(Val::Bool(true));
            groups[gi].1[ai].push(v);
        }
    }
    if groups.is_empty() && plan.group.is_empty() {
        groups.push((Vec::new(), vec![Vec::new(); plan.aggs.len()], 0));
    }
    let agg_value = |f: Function, vals: &[Val]| -> Val {
        let nn: Vec<&Val> = vals.iter().filter(|v| !v.is_null()).collect();
        match f {
            Function::Count => Val::Num(nn.len() as f64),
            Function::CountDistinct => {
                let set: HashSet<String> =
                    nn.iter().map(|v| v.to_text(false).to_lowercase()).collect();
                Val::Num(set.len() as f64)
            }
            Function::Sum | Function::Avg => {
                let nums: Vec<f64> = nn
                    .iter()
                    .filter_map(|v| if let Val::Num(n) = v { Some(*n) } else { None })
                    .collect();
                if nums.is_empty() {
                    Val::Null
                } else if f == Function::Sum {
                    Val::Num(nums.iter().sum())
                } else {
                    Val::Num(nums.iter().sum::<f64>() / nums.len() as f64)
                }
            }
            Function::Min => nn
                .iter()
                .copied()
                .min_by(|a, b| a.cmp_loose(b).unwrap_or(Ordering::Equal))
                .cloned()
                .unwrap_or(Val::Null),
            Function::Max => nn
                .iter()
                .copied()
                .max_by(|a, b| a.cmp_loose(b).unwrap_or(Ordering::Equal))
                .cloned()
                .unwrap_or(Val::Null),
            _ => Val::Null,
        }
    };
    let mut rows: Vec<(Vec<Val>, Vec<Val>)> = groups
        .into_iter()
        .map(|(keys, vals, _)| {
            let aggs = plan
                .aggs
                .iter()
                .enumerate()
                .map(|(i, (f, _))| agg_value(*f, &vals[i]))
                .collect();
            (keys, aggs)
        })
        .collect();
    let group_val = |row: &(Vec<Val>, Vec<Val>), k: &Key| -> Val {
        match k {
            Key::Agg(i) => row.1.get(*i).cloned().unwrap_or(Val::Null),
            other => plan
                .group
                .iter()
                .position(|g| same_key(g, other))
                .and_then(|i| row.0.get(i).cloned())
                .unwrap_or(Val::Null),
        }
    };
    if let Some(h) = &plan.having {
        fn hv(c: &Cond, f: &dyn Fn(&Key) -> Val) -> bool {
            match c {
                Cond::And(v) => v.iter().all(|c| hv(c, f)),
                Cond::Or(v) => v.iter().any(|c| hv(c, f)),
                Cond::Not(c) => !hv(c, f),
                Cond::Cmp(k, op, rhs) => compare(&f(k), *op, rhs),
            }
        }
        rows.retain(|row| hv(h, &|k| group_val(row, k)));
    }
    if !plan.order.is_empty() {
        rows.sort_by(|a, b| {
            for (k, desc, nf) in &plan.order {
                let o = order_cmp(&group_val(a, k), &group_val(b, k), *desc, *nf);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    let rows = rows
        .into_iter()
        .skip(plan.offset)
        .take(plan.limit.unwrap_or(usize::MAX));
    rows.map(|row| {
        let mut m = Map::new();
        m.insert("attributes".into(), json!({"type": "AggregateResult"}));
        for s in &plan.sels {
            match s {
                Sel::Agg(i, name) => {
                    let (f, p) = &plan.aggs[*i];
                    let integer = matches!(f, Function::Count | Function::CountDistinct)
                        || p.as_ref().is_some_and(|p| {
                            store.meta.objects[p.end.0].fields[p.end.1].is_integer()
                                && !matches!(f, Function::Avg)
                        });
                    m.insert(name.clone(), row.1[*i].to_json(integer));
                }
                Sel::Group(i, name) => {
                    let integer = matches!(plan.group.get(*i), Some(Key::DateFn(..)));
                    m.insert(name.clone(), row.0[*i].to_json(integer));
                }
                _ => {}
            }
        }
        Value::Object(m)
    })
    .collect()
}

/// Parses and compiles a query for this session; errors are Salesforce's 400s.
pub fn compile(store: &Store, s: &Session, text: &str, now: i64) -> Result<Plan, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad(
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    }
    let (q, names) =
        soql::parse_with_positions(text, soql::ParseOptions::default()).map_err(|e| {
            ApiError::bad(
                "MALFORMED_QUERY",
                positioned(text, e.line, e.column, &e.message),
            )
        })?;
    Compiler {
        store,
        text,
        names,
        session: s,
        now,
    }
    .compile(&q, None)
}

fn locator_id() -> String {
    format!("01g5g0000{}", crate::oauth::random_token(6))
}

/// `GET /query?q=` and `/queryAll?q=`.
pub fn run(
    state: &OrgState,
    store: &Store,
    s: &Session,
    text: &str,
    all: bool,
    batch: usize,
    v: &str,
) -> Result<String, ApiError> {
    let now = state.clock.now_ms();
    let plan = compile(store, s, text, now)?;
    if plan.count_only {
        let n = matching(store, &plan, now, all).len();
        return Ok(json!({"totalSize": n, "done": true, "records": []}).to_string());
    }
    if plan.aggregate {
        let rows = aggregate_rows(store, &plan, all);
        return Ok(json!({"totalSize": rows.len(), "done": true, "records": rows}).to_string());
    }
    let ids = Arc::new(matching(store, &plan, now, all));
    let plan = Arc::new(plan);
    page(state, store, plan, ids, 0, batch, None, v, all).map(|(text, _)| text)
}

#[allow(clippy::too_many_arguments)]
fn page(
    state: &OrgState,
    store: &Store,
    plan: Arc<Plan>,
    ids: Arc<Vec<Id>>,
    from: usize,
    batch: usize,
    locator: Option<String>,
    v: &str,
    all: bool,
) -> Result<(String, bool), ApiError> {
    let now = state.clock.now_ms();
    let end = from.saturating_add(batch).min(ids.len());
    let slice = &ids[from.min(end)..end];
    let children = children_for(store, &plan, slice, now, all);
    let total = ids.len();
    let mut next = None;
    if end < total {
        let loc = locator.unwrap_or_else(locator_id);
        let mut cursors = state.cursors.lock();
        // Like a real org, only a bounded number of cursors stay open; the oldest go first.
        if cursors.len() >= 200 && !cursors.contains_key(&loc) {
            if let Some(oldest) = cursors
                .iter()
                .min_by_key(|(_, c)| c.created)
                .map(|(k, _)| k.clone())
            {
                cursors.remove(&oldest);
            }
        }
        let created = cursors.get(&loc).map(|c| c.created).unwrap_or(now as u64);
        cursors.insert(
            loc.clone(),
            Cursor {
                plan: plan.clone(),
                all,
                rows: Rows::Ids(ids.clone()),
                batch,
                created,
            },
        );
        let kind = if all { "queryAll" } else { "query" };
        next = Some(format!("/services/data/v{v}/{kind}/{loc}-{end}"));
    }
    let done = end >= total;
    Ok((
        write_page(
            store,
            &plan,
            slice,
            &children,
            total,
            done,
            next.as_deref(),
            v,
        ),
        done,
    ))
}

/// `GET /query/{locator}-{offset}`.
pub fn more(
    state: &OrgState,
    store: &Store,
    _s: &Session,
    locator: &str,
    v: &str,
) -> Result<String, ApiError> {
    let invalid = || ApiError::bad("INVALID_QUERY_LOCATOR", "invalid query locator");
    let (loc, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let (plan, rows, batch, all) = {
        let cursors = state.cursors.lock();
        let c = cursors.get(loc).ok_or_else(invalid)?;
        let rows = match &c.rows {
            Rows::Ids(ids) => Rows::Ids(ids.clone()),
        };
        (c.plan.clone(), rows, c.batch, c.all)
    };
    match rows {
        Rows::Ids(ids) => {
            if offset > ids.len() {
                return Err(invalid());
            }
            let (out, done) = page(
                state,
                store,
                plan,
                ids.clone(),
                offset,
                batch,
                Some(loc.to_string()),
                v,
                all,
            )?;
            if done {
                state.cursors.lock().remove(loc);
            }
            Ok(out)
        }
    }
}

/// Columns for CSV output (Bulk API 2.0): dotted paths in select order.
pub fn csv_columns(plan: &Plan) -> Result<Vec<Path>, String> {
    let mut cols = Vec::new();
    for s in &plan.sels {
        match s {
            Sel::Field(p) => cols.push(p.clone()),
            _ => return Err(
                "Aggregate queries and relationship subqueries are not supported by Bulk API 2.0"
                    .to_string(),
            ),
        }
    }
    if plan.aggregate || plan.count_only {
        return Err("Aggregate queries are not supported by Bulk API 2.0".to_string());
    }
    Ok(cols)
}

/// A value as CSV text, following polymorphic references like `put_path` does.
pub fn csv_value(store: &Store, rec: &Record, p: &Path) -> String {
    match parent_at(store, rec, &p.hops) {
        Some(r) => {
            let f = &store.meta.objects[p.end.0].fields[p.end.1];
            let same = store.object_of(r.id) == Some(p.end.0) || p.hops.is_empty();
            let fi = if same {
                Some(p.end.1)
            } else {
                store
                    .object_of(r.id)
                    .and_then(|oi| store.meta.objects[oi].field_index(&f.name))
            };
            fi.map(|fi| r.get(fi).to_text(f.is_integer()))
                .unwrap_or_default()
        }
        None => String::new(),
    }
}

/// A compiled WHERE condition for one object (outbound message criteria).
pub struct Filter(Cond);

/// Compiles `criteria` as the WHERE clause of a query on `object`; None if it does not compile.
pub fn condition(store: &Store, object: &str, criteria: &str, now: i64) -> Option<Filter> {
    let admin = Session {
        user: store.admin().id,
        token: String::new(),
        ctx_profile: None,
    };
    let plan = compile(
        store,
        &admin,
        &format!("SELECT Id FROM {object} WHERE {criteria}"),
        now,
    )
    .ok()?;
    plan.filter.map(Filter)
}

pub fn record_matches(store: &Store, f: &Filter, rec: &Record) -> bool {
    test(store, rec, &f.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Acme Corp", "acme%"));
        assert!(like("Acme", "A_me"));
        assert!(!like("Acme", "B%"));
        assert!(like("x", "%"));
        assert!(like("abcabc", "%bc"));
    }

    #[test]
    fn written_pages_match_the_value_rendering() {
        let mut store = Store::new(0, "pw");
        let admin = store.admin().id;
        let ctx = crate::store::Ctx {
            now: 0,
            user: admin,
            profile: None,
        };
        store
            .apply_metadata(&crate::seed::demo_metadata(), &ctx)
            .unwrap();
        crate::seed::demo(&mut store, &ctx).unwrap();
        let s = Session {
            user: admin,
            token: String::new(),
            ctx_profile: None,
        };
        for q in [
            "SELECT Id, Name, NumberOfEmployees, AnnualRevenue, Owner.Name, Parent.Name FROM Account",
            "SELECT LastName, Account.Name, Account.Owner.Alias, Account.Name, Birthdate, (SELECT Subject, IsClosed FROM Cases) FROM Contact",
            "SELECT Name, NPS_Score__c, Completed_At__c, Account__r.Survey_Response_Count__c, RecordType.DeveloperName FROM Survey_Response__c",
            "SELECT FIELDS(ALL) FROM Lead",
        ] {
            let plan = compile(&store, &s, q, 0).unwrap();
            let ids = matching(&store, &plan, 0, false);
            let children = children_for(&store, &plan, &ids, 0, false);
            let written: Value = serde_json::from_str(&write_page(&store, &plan, &ids, &children, ids.len(), true, None, "59.0")).unwrap();
            let rendered: Vec<Value> = ids.iter().map(|id| render_row(&store, &plan, store.get(plan.oi, *id).unwrap(), &children, "59.0")).collect();
            assert_eq!(written, json!({"totalSize": ids.len(), "done": true, "records": rendered}), "{q}");
            assert!(!ids.is_empty(), "{q}");
        }
    }

    #[test]
    fn locate_finds_words() {
        assert_eq!(locate("SELECT Foo FROM Account", "Foo"), (1, 8));
    }
}
