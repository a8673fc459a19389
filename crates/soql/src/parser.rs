//! Recursive-descent parser from tokens to [`crate::ast::Query`].
//! Every refusal names the offending token, what was expected there, and its line/column.

use crate::ast::*;
use crate::lexer::{tokenize, Tok, Token};
use crate::{NameKind, NameRef, ParseError, ParseOptions};

/// Deeper nesting than this (parentheses, NOT chains, subqueries, function calls) is refused,
/// so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Words that can never be an alias: SOQL's reserved keywords plus the words that open a clause.
const RESERVED: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST",
    "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH", "FOR", "UPDATE",
    "USING", "TYPEOF", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "BY",
];

/// Reserved words that cannot start a field reference.
const NEVER_FIELDS: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "HAVING", "IN", "INCLUDES", "LAST", "LIKE",
    "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH",
];

pub(crate) fn parse_query(src: &str, opts: ParseOptions) -> Result<Query, ParseError> {
    parse_inner(src, opts, false).map(|(q, _)| q)
}

pub(crate) fn parse_query_with_names(
    src: &str,
    opts: ParseOptions,
) -> Result<(Query, Vec<NameRef>), ParseError> {
    parse_inner(src, opts, true).map(|(q, names)| (q, names.unwrap_or_default()))
}

fn parse_inner(
    src: &str,
    opts: ParseOptions,
    record_names: bool,
) -> Result<(Query, Option<Vec<NameRef>>), ParseError> {
    let lexed = tokenize(src)?;
    let mut p = Parser {
        src,
        toks: lexed.tokens,
        strings: lexed.strings,
        pos: 0,
        apex: opts.apex,
        depth: 0,
        names: record_names.then(Vec::new),
    };
    let q = p.query(false)?;
    if !p.at(&Tok::Eof) {
        return Err(p.expected("end of query"));
    }
    Ok((q, p.names))
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    strings: Vec<String>,
    pos: usize,
    apex: bool,
    depth: usize,
    /// Where field and object names appear, when the caller asked for them.
    names: Option<Vec<NameRef>>,
}

/// Which clause an expression is parsed for; names what was expected in error messages.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Select,
    Filter,
    GroupBy,
    OrderBy,
}

impl<'a> Parser<'a> {
    // ---- token helpers -------------------------------------------------------------------

    fn tok(&self) -> &Token {
        // The token list always ends with Eof and we never advance past it.
        &self.toks[self.pos]
    }

    fn tok_at(&self, n: usize) -> &Token {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i]
    }

    fn text_of(&self, t: &Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    fn text(&self) -> &'a str {
        self.text_of(self.tok())
    }

    fn at(&self, k: &Tok) -> bool {
        &self.tok().kind == k
    }

    fn advance(&mut self) -> Token {
        let t = *self.tok();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    /// Advances and returns the text of the token passed over.
    fn take_text(&mut self) -> String {
        let t = self.advance();
        self.text_of(&t).to_string()
    }

    fn eat(&mut self, k: &Tok) -> bool {
        if self.at(k) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        let t = self.tok_at(n);
        t.kind == Tok::Word && self.text_of(t).eq_ignore_ascii_case(kw)
    }

    fn at_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn describe(&self, t: &Token) -> String {
        if t.kind == Tok::Eof {
            return "end of input".into();
        }
        let s = self.text_of(t);
        if let Tok::Str(_) = t.kind {
            let mut short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                short.push('…');
            }
            return format!("string {short}");
        }
        let mut short: String = s.chars().take(40).collect();
        if short.len() < s.len() {
            short.push('…');
        }
        format!("'{short}'")
    }

    fn err_at(&self, t: &Token, message: String) -> ParseError {
        ParseError {
            line: t.line,
            column: t.column,
            message,
        }
    }

    /// `expected <what>, found '<current token>'` at the current token.
    fn expected(&self, what: &str) -> ParseError {
        let t = self.tok();
        self.err_at(t, format!("expected {what}, found {}", self.describe(t)))
    }

    fn expect(&mut self, k: &Tok, what: &str) -> Result<Token, ParseError> {
        if self.at(k) {
            Ok(self.advance())
        } else {
            Err(self.expected(what))
        }
    }

    fn expect_kw(&mut self, kw: &str, what: &str) -> Result<(), ParseError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.tok();
            return Err(self.err_at(
                t,
                format!("query nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// An identifier token that is not a reserved word.
    fn ident(&mut self, what: &str) -> Result<String, ParseError> {
        if self.at(&Tok::Word) {
            Ok(self.take_text())
        } else {
            Err(self.expected(what))
        }
    }

    /// Whether the current word may be read as an alias (of a select item or a FROM object).
    fn at_alias(&self) -> bool {
        if !self.at(&Tok::Word) {
            return false;
        }
        let w = self.text();
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w)) {
            return false;
        }
        // OFFSET and ORDER are not reserved in SOQL (`FROM Account OFFSET` aliases the object),
        // so they only open a clause when what follows fits that clause.
        if w.eq_ignore_ascii_case("OFFSET") {
            let next = &self.tok_at(1).kind;
            return !matches!(
                next,
                Tok::Int | Tok::Dec | Tok::Minus | Tok::Colon | Tok::Str(_) | Tok::Plus
            );
        }
        if w.eq_ignore_ascii_case("ORDER") {
            return !self.is_kw_at(1, "BY");
        }
        if w.eq_ignore_ascii_case("ALL") {
            return !self.is_kw_at(1, "ROWS");
        }
        true
    }

    // ---- query ---------------------------------------------------------------------------

    fn query(&mut self, nested: bool) -> Result<Query, ParseError> {
        self.enter()?;
        self.expect_kw(
            "SELECT",
            if nested {
                "SELECT at the start of the subquery"
            } else {
                "SELECT at the start of the query"
            },
        )?;
        let (select, field_aliases) = self.select_list()?;
        if !self.eat_kw("FROM") {
            // `SELECT Name FROMAccount`: the word was read as an alias of the last field; point
            // at it rather than at whatever follows.
            if let Some(t) = field_aliases.last() {
                if self.pos > 0 && self.toks[self.pos - 1].start == t.start {
                    return Err(self.err_at(
                        t,
                        format!(
                            "expected ',' or FROM after the select list, found {}",
                            self.describe(t)
                        ),
                    ));
                }
            }
            return Err(self.expected("',' or FROM after the select list"));
        }
        let from = self.parse_from(nested)?;
        let mut q = Query {
            select,
            from,
            using_scope: None,
            where_clause: None,
            with: Vec::new(),
            group_by: None,
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            for_clauses: Vec::new(),
            update: Vec::new(),
            all_rows: false,
        };
        if self.at_kw("USING") {
            self.advance();
            self.expect_kw("SCOPE", "SCOPE after USING")?;
            q.using_scope = Some(self.ident("a scope name after USING SCOPE")?);
        }
        if self.eat_kw("WHERE") {
            q.where_clause = Some(self.condition("WHERE")?);
        }
        while self.eat_kw("WITH") {
            q.with.push(self.with_clause()?);
        }
        if self.at_kw("GROUP") {
            self.advance();
            self.expect_kw("BY", "BY after GROUP")?;
            q.group_by = Some(self.group_by()?);
        }
        // Salesforce: "Only aggregate expressions use field aliasing".
        if let Some(t) = field_aliases.first() {
            let aggregates = q.group_by.is_some()
                || q.select.iter().any(|i| match i {
                    SelectItem::Expr {
                        expr: Expr::Call(c),
                        ..
                    } => contains_aggregate(c),
                    _ => false,
                });
            if !aggregates {
                return Err(self.err_at(
                    t,
                    format!(
                        "unexpected '{}': a plain field can only have an alias in an aggregate query (GROUP BY or aggregate functions); a missing comma or FROM?",
                        self.text_of(t)
                    ),
                ));
            }
        }
        if self.at_kw("HAVING") {
            if q.group_by.is_none() {
                let t = self.tok();
                return Err(self.err_at(t, "HAVING needs a GROUP BY clause before it".into()));
            }
            self.advance();
            q.having = Some(self.condition("HAVING")?);
        }
        if self.at_kw("ORDER") && self.is_kw_at(1, "BY") {
            self.advance();
            self.advance();
            q.order_by = self.order_by()?;
        }
        if self.eat_kw("LIMIT") {
            q.limit = Some(self.count("LIMIT")?);
        }
        if self.eat_kw("OFFSET") {
            q.offset = Some(self.count("OFFSET")?);
        }
        if self.eat_kw("FOR") {
            loop {
                let c = if self.eat_kw("VIEW") {
                    ForClause::View
                } else if self.eat_kw("REFERENCE") {
                    ForClause::Reference
                } else if self.eat_kw("UPDATE") {
                    ForClause::Update
                } else {
                    return Err(self.expected("VIEW, REFERENCE or UPDATE after FOR"));
                };
                q.for_clauses.push(c);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        if self.eat_kw("UPDATE") {
            loop {
                let c = if self.eat_kw("TRACKING") {
                    UpdateClause::Tracking
                } else if self.eat_kw("VIEWSTAT") {
                    UpdateClause::Viewstat
                } else {
                    return Err(self.expected("TRACKING or VIEWSTAT after UPDATE"));
                };
                q.update.push(c);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        if self.at_kw("ALL") && self.is_kw_at(1, "ROWS") {
            if !self.apex {
                let t = self.tok();
                return Err(self.err_at(
                    t,
                    "ALL ROWS is Apex-only syntax; the API refuses it (use queryAll instead, \
                     or parse with the apex option)"
                        .into(),
                ));
            }
            self.advance();
            self.advance();
            q.all_rows = true;
        }
        self.leave();
        Ok(q)
    }

    /// The select items, plus the alias tokens written after plain fields (checked once we
    /// know whether the query aggregates).
    fn select_list(&mut self) -> Result<(Vec<SelectItem>, Vec<Token>), ParseError> {
        let mut items = Vec::new();
        let mut field_aliases = Vec::new();
        let mut count_rows: Option<Token> = None;
        loop {
            let start = *self.tok();
            let item = self.select_item()?;
            if let SelectItem::Expr {
                expr:
                    Expr::Call(FunctionCall {
                        function: Function::Count,
                        args,
                    }),
                ..
            } = &item
            {
                if args.is_empty() && count_rows.is_none() {
                    count_rows = Some(start);
                }
            }
            if let SelectItem::Expr {
                expr: Expr::Field(_),
                alias: Some(_),
            } = &item
            {
                field_aliases.push(self.toks[self.pos - 1]);
            }
            items.push(item);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        // Salesforce: COUNT() returns only a row count, so it must stand alone.
        if let (Some(t), true) = (count_rows, items.len() > 1) {
            return Err(self.err_at(
                &t,
                "COUNT() must be the only item in the select list; use COUNT(Id) beside other fields"
                    .into(),
            ));
        }
        Ok((items, field_aliases))
    }

    fn select_item(&mut self) -> Result<SelectItem, ParseError> {
        if self.at(&Tok::LParen) {
            self.advance();
            let q = self.query(true)?;
            self.expect(&Tok::RParen, "')' to close the subquery")?;
            return Ok(SelectItem::Subquery(Box::new(q)));
        }
        if self.at_kw("TYPEOF") && self.tok_at(1).kind == Tok::Word && !self.is_kw_at(1, "FROM") {
            return Ok(SelectItem::TypeOf(self.type_of()?));
        }
        if self.at_kw("FIELDS") && self.tok_at(1).kind == Tok::LParen {
            self.advance();
            self.advance();
            let scope = if self.eat_kw("ALL") {
                FieldsScope::All
            } else if self.eat_kw("STANDARD") {
                FieldsScope::Standard
            } else if self.eat_kw("CUSTOM") {
                FieldsScope::Custom
            } else {
                return Err(self.expected("ALL, STANDARD or CUSTOM in FIELDS()"));
            };
            self.expect(&Tok::RParen, "')' after FIELDS(…")?;
            return Ok(SelectItem::Fields(scope));
        }
        if !self.at(&Tok::Word) {
            return Err(self.expected("a field, function or subquery in the select list"));
        }
        let expr = self.expr(Ctx::Select)?;
        let alias = if self.at_alias() {
            Some(self.take_text())
        } else {
            None
        };
        Ok(SelectItem::Expr { expr, alias })
    }

    fn type_of(&mut self) -> Result<TypeOf, ParseError> {
        self.advance(); // TYPEOF
        let field = self.field_path("a polymorphic field after TYPEOF")?;
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let object = self.ident("an object name after WHEN")?;
            self.expect_kw("THEN", "THEN after the WHEN object")?;
            let fields = self.typeof_fields()?;
            whens.push(TypeOfWhen { object, fields });
        }
        if whens.is_empty() {
            return Err(self.expected("WHEN after the TYPEOF field"));
        }
        let else_fields = if self.eat_kw("ELSE") {
            Some(self.typeof_fields()?)
        } else {
            None
        };
        self.expect_kw("END", "WHEN, ELSE or END in TYPEOF")?;
        Ok(TypeOf {
            field,
            whens,
            else_fields,
        })
    }

    fn typeof_fields(&mut self) -> Result<Vec<FieldPath>, ParseError> {
        let mut v = vec![self.field_path("a field name")?];
        while self.eat(&Tok::Comma) {
            v.push(self.field_path("a field name after ','")?);
        }
        Ok(v)
    }

    fn field_path(&mut self, what: &str) -> Result<FieldPath, ParseError> {
        self.path_of_kind(what, NameKind::Field)
    }

    fn path_of_kind(&mut self, what: &str, kind: NameKind) -> Result<FieldPath, ParseError> {
        let start = *self.tok();
        let mut parts = vec![self.ident(what)?];
        while self.at(&Tok::Dot) {
            self.advance();
            parts.push(self.ident("a field name after '.'")?);
        }
        let path = FieldPath { parts };
        if let Some(names) = &mut self.names {
            names.push(NameRef {
                name: path.dotted(),
                kind,
                line: start.line,
                column: start.column,
            });
        }
        Ok(path)
    }

    // ---- expressions ---------------------------------------------------------------------

    fn expr(&mut self, ctx: Ctx) -> Result<Expr, ParseError> {
        if self.at(&Tok::Word) && self.tok_at(1).kind == Tok::LParen {
            let call = self.call()?;
            if call.function == Function::Geolocation {
                return Err(self.geolocation_misplaced());
            }
            return Ok(Expr::Call(call));
        }
        let what = match ctx {
            Ctx::Select => "a field, function or subquery in the select list",
            Ctx::Filter => "a field name or function",
            Ctx::GroupBy => "a field to group by",
            Ctx::OrderBy => "a field to order by",
        };
        // SOQL's reserved words never name a field (`SELECT Id, FROM Account` lacks one).
        // GROUP and ORDER are left out: they are also object names.
        if self.at(&Tok::Word)
            && NEVER_FIELDS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(self.text()))
        {
            return Err(self.expected(what));
        }
        Ok(Expr::Field(self.field_path(what)?))
    }

    fn geolocation_misplaced(&self) -> ParseError {
        let t = &self.toks[self.pos.saturating_sub(1)];
        self.err_at(
            t,
            "GEOLOCATION(…) can only be the second argument of DISTANCE(field, GEOLOCATION(lat, lon), 'mi'|'km')"
                .into(),
        )
    }

    fn call(&mut self) -> Result<FunctionCall, ParseError> {
        let name_tok = self.advance();
        let name = self.text_of(&name_tok);
        let Some(function) = Function::from_name(name) else {
            if self.is_kw_at(1, "SELECT") {
                let paren = self.tok();
                return Err(self.err_at(
                    paren,
                    format!("expected ',' before the subquery, found '(' after '{name}'"),
                ));
            }
            return Err(self.err_at(&name_tok, format!("unknown function '{name}'")));
        };
        self.enter()?;
        self.advance(); // (
        let args = match function {
            Function::Distance => self.distance_args()?,
            Function::Geolocation => {
                let lat = self.signed_number("a latitude in GEOLOCATION")?;
                self.expect(&Tok::Comma, "',' between latitude and longitude")?;
                let lon = self.signed_number("a longitude in GEOLOCATION")?;
                vec![Arg::Number(lat), Arg::Number(lon)]
            }
            _ => {
                let mut args = Vec::new();
                if !self.at(&Tok::RParen) {
                    loop {
                        args.push(self.fn_arg()?);
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                }
                self.check_arity(function, &args, &name_tok)?;
                args
            }
        };
        self.expect(&Tok::RParen, &format!("')' to close {}(", function.name()))?;
        self.leave();
        Ok(FunctionCall { function, args })
    }

    fn check_arity(&self, f: Function, args: &[Arg], at: &Token) -> Result<(), ParseError> {
        let ok = match f {
            // COUNT() counts rows; COUNT(field, …) is accepted by the grammar with several fields.
            Function::Count => true,
            Function::Grouping => !args.is_empty(),
            _ => args.len() == 1,
        };
        if ok {
            Ok(())
        } else {
            let want = if f == Function::Grouping {
                "at least one field"
            } else {
                "exactly one argument"
            };
            Err(self.err_at(
                at,
                format!("{}() takes {want}, found {}", f.name(), args.len()),
            ))
        }
    }

    fn fn_arg(&mut self) -> Result<Arg, ParseError> {
        if self.at(&Tok::Word) && self.tok_at(1).kind == Tok::LParen {
            let c = self.call()?;
            if c.function == Function::Geolocation {
                return Err(self.geolocation_misplaced());
            }
            return Ok(Arg::Call(c));
        }
        Ok(Arg::Field(
            self.field_path("a field name as function argument")?,
        ))
    }

    fn distance_args(&mut self) -> Result<Vec<Arg>, ParseError> {
        // DISTANCE(location field, GEOLOCATION(lat, lon), 'mi'|'km')
        if !(self.at(&Tok::Word) && self.tok_at(1).kind != Tok::LParen) {
            return Err(self.expected("a location field as the first argument of DISTANCE"));
        }
        let field = self.field_path("a location field")?;
        self.expect(&Tok::Comma, "',' after the DISTANCE location field")?;
        if !(self.at_kw("GEOLOCATION") && self.tok_at(1).kind == Tok::LParen) {
            return Err(self.expected("GEOLOCATION(lat, lon) as the second argument of DISTANCE"));
        }
        let geo = self.call()?;
        self.expect(&Tok::Comma, "',' before the DISTANCE unit")?;
        let unit = match &self.tok().kind {
            Tok::Str(i)
                if self.strings[*i].eq_ignore_ascii_case("mi")
                    || self.strings[*i].eq_ignore_ascii_case("km") =>
            {
                self.strings[*i].to_ascii_lowercase()
            }
            _ => {
                return Err(self.expected("the unit 'mi' or 'km' as the third argument of DISTANCE"))
            }
        };
        self.advance();
        Ok(vec![Arg::Field(field), Arg::Call(geo), Arg::String(unit)])
    }

    fn signed_number(&mut self, what: &str) -> Result<Decimal, ParseError> {
        let neg = self.eat(&Tok::Minus);
        let t = *self.tok();
        let d = match t.kind {
            Tok::Int | Tok::Dec => self.decimal(&t)?,
            _ => return Err(self.expected(what)),
        };
        self.advance();
        Ok(if neg {
            Decimal {
                mantissa: -d.mantissa,
                scale: d.scale,
            }
        } else {
            d
        })
    }

    fn decimal(&self, t: &Token) -> Result<Decimal, ParseError> {
        parse_decimal(self.text_of(t))
            .ok_or_else(|| self.err_at(t, format!("number {} is too large", self.describe(t))))
    }

    // ---- conditions ----------------------------------------------------------------------

    /// `a OR b OR c` whose terms are AND chains. The Salesforce docs always parenthesise
    /// mixed AND/OR, but the API grammar accepts `a AND b OR c`; we read it with SQL precedence
    /// (AND binds tighter), and the printer makes that grouping explicit.
    fn condition(&mut self, clause: &str) -> Result<Condition, ParseError> {
        self.enter()?;
        let mut terms = vec![self.and_chain(clause)?];
        while self.eat_kw("OR") {
            terms.push(self.and_chain(clause)?);
        }
        self.leave();
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Condition::Or(terms)
        })
    }

    fn and_chain(&mut self, clause: &str) -> Result<Condition, ParseError> {
        let mut parts = vec![self.unary(clause)?];
        while self.eat_kw("AND") {
            parts.push(self.unary(clause)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Condition::And(parts)
        })
    }

    fn unary(&mut self, clause: &str) -> Result<Condition, ParseError> {
        if self.at_kw("NOT") {
            self.advance();
            self.enter()?;
            let inner = self.unary(clause)?;
            self.leave();
            return Ok(Condition::Not(Box::new(inner)));
        }
        if self.at(&Tok::LParen) {
            self.advance();
            let c = self.condition(clause)?;
            self.expect(&Tok::RParen, "')' or AND/OR")?;
            return Ok(c);
        }
        if !self.at(&Tok::Word) {
            return Err(self.expected(&format!("a condition after {}", self.prev_text_or(clause))));
        }
        self.comparison()
    }

    fn prev_text_or(&self, clause: &str) -> String {
        if self.pos == 0 {
            return clause.to_string();
        }
        let t = &self.toks[self.pos - 1];
        format!("'{}'", self.text_of(t))
    }

    fn comparison(&mut self) -> Result<Condition, ParseError> {
        let left = self.expr(Ctx::Filter)?;
        let op_tok = *self.tok();
        let op = match &op_tok.kind {
            Tok::Eq => Operator::Eq,
            Tok::Ne | Tok::LtGt => Operator::Ne,
            Tok::Lt => Operator::Lt,
            Tok::Le => Operator::Le,
            Tok::Gt => Operator::Gt,
            Tok::Ge => Operator::Ge,
            Tok::Word if self.at_kw("LIKE") => Operator::Like,
            Tok::Word if self.at_kw("IN") => Operator::In,
            Tok::Word if self.at_kw("INCLUDES") => Operator::Includes,
            Tok::Word if self.at_kw("EXCLUDES") => Operator::Excludes,
            Tok::Word if self.at_kw("NOT") && self.is_kw_at(1, "IN") => {
                self.advance();
                Operator::NotIn
            }
            _ => {
                let subject = match &left {
                    Expr::Field(f) => format!("'{}'", f.dotted()),
                    Expr::Call(c) => format!("{}(…)", c.function.name()),
                };
                return Err(self.expected(&format!(
                    "a comparison operator (=, !=, <, <=, >, >=, LIKE, IN, NOT IN, INCLUDES, EXCLUDES) after {subject}"
                )));
            }
        };
        self.advance();
        let op_text = op.as_str();
        let right = if op.takes_list() {
            if self.at(&Tok::LParen) {
                self.advance();
                if self.at_kw("SELECT") {
                    if !matches!(op, Operator::In | Operator::NotIn) {
                        return Err(self.err_at(
                            &op_tok,
                            format!("{op_text} cannot take a subquery; only IN and NOT IN can"),
                        ));
                    }
                    let q = self.query(true)?;
                    self.expect(&Tok::RParen, "')' to close the subquery")?;
                    Operand::Subquery(Box::new(q))
                } else {
                    let mut vals = vec![self.value(&format!("a value in the {op_text} list"))?];
                    while self.eat(&Tok::Comma) {
                        vals.push(self.value(&format!("a value after ',' in the {op_text} list"))?);
                    }
                    self.expect(&Tok::RParen, &format!("',' or ')' in the {op_text} list"))?;
                    Operand::List(vals)
                }
            } else if self.at(&Tok::Colon) {
                Operand::Value(self.value(&format!("a value list after {op_text}"))?)
            } else {
                return Err(self.expected(&format!("'(' after {op_text}")));
            }
        } else {
            Operand::Value(self.value(&format!("a value after '{op_text}'"))?)
        };
        Ok(Condition::Compare { left, op, right })
    }

    // ---- values --------------------------------------------------------------------------

    fn value(&mut self, what: &str) -> Result<Value, ParseError> {
        let t = *self.tok();
        let v = match &t.kind {
            Tok::Str(i) => Value::String(self.strings[*i].clone()),
            Tok::Int => match self.text_of(&t).parse::<i64>() {
                Ok(i) => Value::Integer(i),
                Err(_) => Value::Decimal(self.decimal(&t)?),
            },
            Tok::Dec => Value::Decimal(self.decimal(&t)?),
            Tok::Date(d) => Value::Date(*d),
            Tok::DateTime(d) => Value::DateTime(*d),
            Tok::Minus => {
                self.advance();
                let n = *self.tok();
                return match n.kind {
                    Tok::Int => match format!("-{}", self.text_of(&n)).parse::<i64>() {
                        Ok(i) => {
                            self.advance();
                            Ok(Value::Integer(i))
                        }
                        Err(_) => {
                            let d = self.decimal(&n)?;
                            self.advance();
                            Ok(Value::Decimal(Decimal {
                                mantissa: -d.mantissa,
                                scale: d.scale,
                            }))
                        }
                    },
                    Tok::Dec => {
                        let d = self.decimal(&n)?;
                        self.advance();
                        Ok(Value::Decimal(Decimal {
                            mantissa: -d.mantissa,
                            scale: d.scale,
                        }))
                    }
                    _ => Err(self.expected("a number after '-'")),
                };
            }
            Tok::Colon => return self.bind().map(Value::Bind),
            Tok::Word => return self.word_value(what),
            _ => return Err(self.expected(what)),
        };
        self.advance();
        Ok(v)
    }

    fn word_value(&mut self, what: &str) -> Result<Value, ParseError> {
        let t = *self.tok();
        let w = self.text_of(&t);
        let upper = w.to_ascii_uppercase();
        match upper.as_str() {
            "TRUE" => {
                self.advance();
                return Ok(Value::Boolean(true));
            }
            "FALSE" => {
                self.advance();
                return Ok(Value::Boolean(false));
            }
            "NULL" => {
                self.advance();
                return Ok(Value::Null);
            }
            _ => {}
        }
        if let Some(lit) = fixed_date_literal(&upper) {
            self.advance();
            return Ok(Value::DateLiteral(lit));
        }
        if let Some(make) = n_date_literal(&upper) {
            self.advance();
            // One lexeme in SOQL: `LAST_N_DAYS:30`, no spaces around the colon.
            let colon = *self.tok();
            if colon.kind != Tok::Colon || colon.start != t.end {
                return Err(self.expected(&format!("':n' right after {upper} (e.g. {upper}:30)")));
            }
            self.advance();
            let nt = *self.tok();
            if nt.kind == Tok::Int && nt.start != colon.end {
                return Err(self.err_at(
                    &nt,
                    format!("write {upper}:n without a space after the colon"),
                ));
            }
            let n = match nt.kind {
                Tok::Int => self.text_of(&nt).parse::<u32>().map_err(|_| {
                    self.err_at(&nt, format!("{upper}:n needs n between 0 and {}", u32::MAX))
                })?,
                _ => return Err(self.expected(&format!("a whole number after {upper}:"))),
            };
            self.advance();
            return Ok(Value::DateLiteral(make(n)));
        }
        // Currency literal: ISO code glued to an amount, `USD5000`, `usd500.01`, `USD-500`.
        let b = w.as_bytes();
        if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_alphabetic) {
            let code = w[..3].to_ascii_uppercase();
            if b.len() > 3 && b[3].is_ascii_digit() {
                if let Some(amount) = parse_decimal(&w[3..]) {
                    self.advance();
                    return Ok(Value::Currency { code, amount });
                }
            } else if b.len() == 3 {
                let minus = self.tok_at(1);
                let num = self.tok_at(2);
                if minus.kind == Tok::Minus
                    && minus.start == t.end
                    && matches!(num.kind, Tok::Int | Tok::Dec)
                    && num.start == minus.end
                {
                    if let Some(d) = parse_decimal(self.text_of(num)) {
                        self.advance();
                        self.advance();
                        self.advance();
                        return Ok(Value::Currency {
                            code,
                            amount: Decimal {
                                mantissa: -d.mantissa,
                                scale: d.scale,
                            },
                        });
                    }
                }
            }
        }
        Err(self.expected(what))
    }

    fn count(&mut self, clause: &str) -> Result<Count, ParseError> {
        let t = *self.tok();
        match t.kind {
            Tok::Int => {
                let n = self.text_of(&t).parse::<u64>().map_err(|_| {
                    self.err_at(
                        &t,
                        format!("{clause} value {} is too large", self.describe(&t)),
                    )
                })?;
                self.advance();
                Ok(Count::Literal(n))
            }
            Tok::Colon => Ok(Count::Bind(self.bind()?)),
            _ => Err(self.expected(&format!("a non-negative integer after {clause}"))),
        }
    }

    // ---- Apex binds ------------------------------------------------------------------------

    /// `:name`, `:obj.field`, `:list[0].x`, `:map.keySet()`, `:new Map<Id, SObject>(x).keySet()`.
    /// Kept as canonical text: single spaces only after `new` and `,`.
    fn bind(&mut self) -> Result<BindVar, ParseError> {
        let colon = self.advance();
        if !self.apex {
            let name = if self.at(&Tok::Word) {
                format!(":{}", self.text())
            } else {
                ":name".to_string()
            };
            return Err(self.err_at(
                &colon,
                format!(
                    "bind variable '{name}' is Apex-only syntax; the API refuses it (parse with the apex option)"
                ),
            ));
        }
        self.enter()?;
        let mut out = String::new();
        self.bind_expr(&mut out)?;
        self.leave();
        Ok(BindVar { expr: out })
    }

    fn bind_expr(&mut self, out: &mut String) -> Result<(), ParseError> {
        if self.at_kw("new") && self.tok_at(1).kind == Tok::Word {
            self.advance();
            out.push_str("new ");
            self.bind_type(out)?;
            if !self.at(&Tok::LParen) {
                return Err(self.expected("'(' after the type in a 'new' expression"));
            }
        } else if self.at(&Tok::Word) {
            out.push_str(self.text());
            self.advance();
        } else {
            return Err(self.expected("a bind variable name after ':'"));
        }
        loop {
            match self.tok().kind {
                Tok::Dot => {
                    self.advance();
                    out.push('.');
                    let n = self.ident("a member name after '.'")?;
                    out.push_str(&n);
                }
                Tok::Question if self.tok_at(1).kind == Tok::Dot => {
                    self.advance();
                    self.advance();
                    out.push_str("?.");
                    let n = self.ident("a member name after '?.'")?;
                    out.push_str(&n);
                }
                Tok::LBracket => {
                    self.advance();
                    out.push('[');
                    self.bind_arg(out)?;
                    self.expect(&Tok::RBracket, "']' after the index")?;
                    out.push(']');
                }
                Tok::LParen => {
                    self.advance();
                    out.push('(');
                    if !self.at(&Tok::RParen) {
                        loop {
                            self.bind_arg(out)?;
                            if !self.eat(&Tok::Comma) {
                                break;
                            }
                            out.push_str(", ");
                        }
                    }
                    self.expect(&Tok::RParen, "')' to close the argument list")?;
                    out.push(')');
                }
                _ => return Ok(()),
            }
        }
    }

    fn bind_arg(&mut self, out: &mut String) -> Result<(), ParseError> {
        self.enter()?;
        let t = *self.tok();
        match t.kind {
            Tok::Int | Tok::Dec => {
                out.push_str(self.text_of(&t));
                self.advance();
            }
            Tok::Str(_) => {
                out.push_str(self.text_of(&t));
                self.advance();
            }
            _ => self.bind_expr(out)?,
        }
        self.leave();
        Ok(())
    }

    fn bind_type(&mut self, out: &mut String) -> Result<(), ParseError> {
        self.enter()?;
        let n = self.ident("a type name")?;
        out.push_str(&n);
        while self.at(&Tok::Dot) {
            self.advance();
            out.push('.');
            let n = self.ident("a type name after '.'")?;
            out.push_str(&n);
        }
        if self.eat(&Tok::Lt) {
            out.push('<');
            loop {
                self.bind_type(out)?;
                if !self.eat(&Tok::Comma) {
                    break;
                }
                out.push_str(", ");
            }
            self.expect(&Tok::Gt, "'>' to close the type arguments")?;
            out.push('>');
        }
        self.leave();
        Ok(())
    }

    // ---- FROM / WITH / GROUP BY / ORDER BY --------------------------------------------------

    fn parse_from(&mut self, nested: bool) -> Result<From, ParseError> {
        if !self.at(&Tok::Word) || (self.at_kw("ORDER") && self.is_kw_at(1, "BY")) {
            return Err(self.expected("an object name after FROM"));
        }
        let path = self.path_of_kind("an object name after FROM", NameKind::Object)?;
        if path.parts.len() > 1 && !nested {
            return Err(self.err_at(
                &self.toks[self.pos - 1],
                format!(
                    "'{}' is a relationship path; only a subquery can select FROM a relationship",
                    path.dotted()
                ),
            ));
        }
        let alias = if self.at_alias() {
            Some(self.take_text())
        } else {
            None
        };
        let mut relationships = Vec::new();
        while self.eat(&Tok::Comma) {
            let p = self.field_path("an alias.Relationship path after ','")?;
            let alias = if self.at_alias() {
                Some(self.take_text())
            } else {
                None
            };
            relationships.push(RelationshipAlias { path: p, alias });
        }
        Ok(From {
            object: path.dotted(),
            alias,
            relationships,
        })
    }

    fn with_clause(&mut self) -> Result<WithClause, ParseError> {
        if self.eat_kw("SECURITY_ENFORCED") {
            return Ok(WithClause::SecurityEnforced);
        }
        if self.eat_kw("USER_MODE") {
            return Ok(WithClause::UserMode);
        }
        if self.eat_kw("SYSTEM_MODE") {
            return Ok(WithClause::SystemMode);
        }
        if self.at_kw("DATA") && self.is_kw_at(1, "CATEGORY") {
            self.advance();
            self.advance();
            let mut filters = vec![self.category_filter()?];
            while self.eat_kw("AND") {
                filters.push(self.category_filter()?);
            }
            return Ok(WithClause::DataCategory(filters));
        }
        if self.at_kw("RecordVisibilityContext") && self.tok_at(1).kind == Tok::LParen {
            self.advance();
            self.advance();
            let mut params = Vec::new();
            loop {
                let name = self.ident("a parameter name in RecordVisibilityContext")?;
                self.expect(&Tok::Eq, "'=' after the parameter name")?;
                let v = self.value("a value after '='")?;
                params.push((name, v));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "',' or ')' in RecordVisibilityContext")?;
            return Ok(WithClause::RecordVisibilityContext(params));
        }
        if self.at(&Tok::Word) && self.tok_at(1).kind == Tok::Eq {
            let field = self.ident("a filter name")?;
            self.advance();
            let value = self.value("a value after '='")?;
            return Ok(WithClause::Filter { field, value });
        }
        Err(self.expected(
            "SECURITY_ENFORCED, USER_MODE, SYSTEM_MODE, DATA CATEGORY or name = value after WITH",
        ))
    }

    fn category_filter(&mut self) -> Result<DataCategoryFilter, ParseError> {
        let group = self.ident("a data category group name")?;
        let selector = if self.eat_kw("AT") {
            CategorySelector::At
        } else if self.eat_kw("ABOVE_OR_BELOW") {
            CategorySelector::AboveOrBelow
        } else if self.eat_kw("ABOVE") {
            CategorySelector::Above
        } else if self.eat_kw("BELOW") {
            CategorySelector::Below
        } else {
            return Err(
                self.expected("AT, ABOVE, BELOW or ABOVE_OR_BELOW after the category group")
            );
        };
        let categories = if self.eat(&Tok::LParen) {
            let mut v = vec![self.ident("a category name")?];
            while self.eat(&Tok::Comma) {
                v.push(self.ident("a category name after ','")?);
            }
            self.expect(&Tok::RParen, "',' or ')' in the category list")?;
            v
        } else {
            vec![self.ident("a category name")?]
        };
        Ok(DataCategoryFilter {
            group,
            selector,
            categories,
        })
    }

    fn group_by(&mut self) -> Result<GroupBy, ParseError> {
        let kind = if self.at_kw("ROLLUP") && self.tok_at(1).kind == Tok::LParen {
            GroupKind::Rollup
        } else if self.at_kw("CUBE") && self.tok_at(1).kind == Tok::LParen {
            GroupKind::Cube
        } else {
            GroupKind::Plain
        };
        if kind != GroupKind::Plain {
            self.advance();
            self.advance();
        }
        if !self.at(&Tok::Word) {
            return Err(self.expected("a field after GROUP BY"));
        }
        let mut items = vec![self.expr(Ctx::GroupBy)?];
        while self.eat(&Tok::Comma) {
            items.push(self.expr(Ctx::GroupBy)?);
        }
        if kind != GroupKind::Plain {
            self.expect(&Tok::RParen, "',' or ')' to close the grouping list")?;
        }
        Ok(GroupBy { kind, items })
    }

    fn order_by(&mut self) -> Result<Vec<OrderItem>, ParseError> {
        let mut items = Vec::new();
        loop {
            if !self.at(&Tok::Word) {
                return Err(self.expected("a field after ORDER BY"));
            }
            let expr = self.expr(Ctx::OrderBy)?;
            let direction = if self.eat_kw("ASC") {
                Some(Direction::Asc)
            } else if self.eat_kw("DESC") {
                Some(Direction::Desc)
            } else {
                None
            };
            let nulls = if self.eat_kw("NULLS") {
                if self.eat_kw("FIRST") {
                    Some(Nulls::First)
                } else if self.eat_kw("LAST") {
                    Some(Nulls::Last)
                } else {
                    return Err(self.expected("FIRST or LAST after NULLS"));
                }
            } else {
                None
            };
            items.push(OrderItem {
                expr,
                direction,
                nulls,
            });
            if !self.eat(&Tok::Comma) {
                return Ok(items);
            }
        }
    }
}

fn contains_aggregate(c: &FunctionCall) -> bool {
    c.function.is_aggregate()
        || c.args.iter().any(|a| match a {
            Arg::Call(inner) => contains_aggregate(inner),
            _ => false,
        })
}

/// `123`, `12.50` → exact decimal; `None` if it does not fit.
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let mut m: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        m = m.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    // Keep the mantissa within i64-ish range * 10^18 so printing and f64 stay meaningful.
    if m > 10i128.pow(36) {
        return None;
    }
    Some(Decimal {
        mantissa: m,
        scale: frac.len() as u32,
    })
}

fn fixed_date_literal(upper: &str) -> Option<DateLiteral> {
    use DateLiteral::*;
    Some(match upper {
        "YESTERDAY" => Yesterday,
        "TODAY" => Today,
        "TOMORROW" => Tomorrow,
        "LAST_WEEK" => LastWeek,
        "THIS_WEEK" => ThisWeek,
        "NEXT_WEEK" => NextWeek,
        "LAST_MONTH" => LastMonth,
        "THIS_MONTH" => ThisMonth,
        "NEXT_MONTH" => NextMonth,
        "LAST_90_DAYS" => Last90Days,
        "NEXT_90_DAYS" => Next90Days,
        "THIS_QUARTER" => ThisQuarter,
        "LAST_QUARTER" => LastQuarter,
        "NEXT_QUARTER" => NextQuarter,
        "THIS_YEAR" => ThisYear,
        "LAST_YEAR" => LastYear,
        "NEXT_YEAR" => NextYear,
        "THIS_FISCAL_QUARTER" => ThisFiscalQuarter,
        "LAST_FISCAL_QUARTER" => LastFiscalQuarter,
        "NEXT_FISCAL_QUARTER" => NextFiscalQuarter,
        "THIS_FISCAL_YEAR" => ThisFiscalYear,
        "LAST_FISCAL_YEAR" => LastFiscalYear,
        "NEXT_FISCAL_YEAR" => NextFiscalYear,
        _ => return None,
    })
}

fn n_date_literal(upper: &str) -> Option<fn(u32) -> DateLiteral> {
    use DateLiteral::*;
    Some(match upper {
        "LAST_N_DAYS" => LastNDays,
        "NEXT_N_DAYS" => NextNDays,
        "N_DAYS_AGO" => NDaysAgo,
        "LAST_N_WEEKS" => LastNWeeks,
        "NEXT_N_WEEKS" => NextNWeeks,
        "N_WEEKS_AGO" => NWeeksAgo,
        "LAST_N_MONTHS" => LastNMonths,
        "NEXT_N_MONTHS" => NextNMonths,
        "N_MONTHS_AGO" => NMonthsAgo,
        "LAST_N_QUARTERS" => LastNQuarters,
        "NEXT_N_QUARTERS" => NextNQuarters,
        "N_QUARTERS_AGO" => NQuartersAgo,
        "LAST_N_YEARS" => LastNYears,
        "NEXT_N_YEARS" => NextNYears,
        "N_YEARS_AGO" => NYearsAgo,
        "LAST_N_FISCAL_QUARTERS" => LastNFiscalQuarters,
        "NEXT_N_FISCAL_QUARTERS" => NextNFiscalQuarters,
        "N_FISCAL_QUARTERS_AGO" => NFiscalQuartersAgo,
        "LAST_N_FISCAL_YEARS" => LastNFiscalYears,
        "NEXT_N_FISCAL_YEARS" => NextNFiscalYears,
        "N_FISCAL_YEARS_AGO" => NFiscalYearsAgo,
        _ => return None,
    })
}
