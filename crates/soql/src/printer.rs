//! Canonical text of the AST (`Display`): upper-case keywords, single spaces, minimal parentheses.
//! Printing then parsing gives back an equal AST, so the output is a stable normal form.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        comma_list(f, &self.select)?;
        write!(f, " FROM {}", self.from)?;
        if let Some(s) = &self.using_scope {
            write!(f, " USING SCOPE {s}")?;
        }
        if let Some(w) = &self.where_clause {
            write!(f, " WHERE {w}")?;
        }
        for w in &self.with {
            write!(f, " WITH {w}")?;
        }
        if let Some(g) = &self.group_by {
            write!(f, " GROUP BY {g}")?;
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            comma_list(f, &self.order_by)?;
        }
        if let Some(l) = &self.limit {
            write!(f, " LIMIT {l}")?;
        }
        if let Some(o) = &self.offset {
            write!(f, " OFFSET {o}")?;
        }
        if !self.for_clauses.is_empty() {
            f.write_str(" FOR ")?;
            comma_list(f, &self.for_clauses)?;
        }
        if !self.update.is_empty() {
            f.write_str(" UPDATE ")?;
            comma_list(f, &self.update)?;
        }
        if self.all_rows {
            f.write_str(" ALL ROWS")?;
        }
        Ok(())
    }
}

fn comma_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Expr { expr, alias } => {
                write!(f, "{expr}")?;
                if let Some(a) = alias {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            SelectItem::Subquery(q) => write!(f, "({q})"),
            SelectItem::TypeOf(t) => write!(f, "{t}"),
            SelectItem::Fields(s) => write!(f, "FIELDS({s})"),
        }
    }
}

impl Display for FieldsScope {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldsScope::All => "ALL",
            FieldsScope::Standard => "STANDARD",
            FieldsScope::Custom => "CUSTOM",
        })
    }
}

impl Display for TypeOf {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "TYPEOF {}", self.field)?;
        for w in &self.whens {
            write!(f, " WHEN {} THEN ", w.object)?;
            comma_list(f, &w.fields)?;
        }
        if let Some(e) = &self.else_fields {
            f.write_str(" ELSE ")?;
            comma_list(f, e)?;
        }
        f.write_str(" END")
    }
}

impl Display for FieldPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            f.write_str(p)?;
        }
        Ok(())
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Field(p) => write!(f, "{p}"),
            Expr::Call(c) => write!(f, "{c}"),
        }
    }
}

impl Display for FunctionCall {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.function.name())?;
        comma_list(f, &self.args)?;
        f.write_char(')')
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field(p) => write!(f, "{p}"),
            Arg::Call(c) => write!(f, "{c}"),
            Arg::Number(d) => write!(f, "{d}"),
            Arg::String(s) => write_string(f, s),
        }
    }
}

impl Display for Function {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for From {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object)?;
        if let Some(a) = &self.alias {
            write!(f, " {a}")?;
        }
        for r in &self.relationships {
            write!(f, ", {}", r.path)?;
            if let Some(a) = &r.alias {
                write!(f, " {a}")?;
            }
        }
        Ok(())
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::And(parts) | Condition::Or(parts) => {
                let joiner = if matches!(self, Condition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joiner)?;
                    }
                    // Nested groups came from parentheses (or mix AND/OR): keep them.
                    if matches!(p, Condition::And(_) | Condition::Or(_)) {
                        write!(f, "({p})")?;
                    } else {
                        write!(f, "{p}")?;
                    }
                }
                Ok(())
            }
            Condition::Not(inner) => match **inner {
                Condition::Compare { .. } | Condition::Not(_) => write!(f, "NOT {inner}"),
                _ => write!(f, "NOT ({inner})"),
            },
            Condition::Compare { left, op, right } => write!(f, "{left} {op} {right}"),
        }
    }
}

impl Display for Operator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Value(v) => write!(f, "{v}"),
            Operand::List(vs) => {
                f.write_char('(')?;
                comma_list(f, vs)?;
                f.write_char(')')
            }
            Operand::Subquery(q) => write!(f, "({q})"),
        }
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write_string(f, s),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Boolean(true) => f.write_str("TRUE"),
            Value::Boolean(false) => f.write_str("FALSE"),
            Value::Null => f.write_str("NULL"),
            Value::Date(d) => write!(f, "{d}"),
            Value::DateTime(d) => write!(f, "{d}"),
            Value::Currency { code, amount } => write!(f, "{code}{amount}"),
            Value::DateLiteral(d) => write!(f, "{d}"),
            Value::Bind(b) => write!(f, "{b}"),
        }
    }
}

/// Quotes and escapes a decoded string so that the lexer decodes it back to the same text.
pub(crate) fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `\%` and `\_` are stored escaped (see Value::String); print them as they came.
            '\\' if matches!(chars.peek(), Some('%') | Some('_')) => f.write_char('\\')?,
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

impl Display for Decimal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let neg = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if neg {
            f.write_char('-')?;
        }
        if scale == 0 {
            return f.write_str(&digits);
        }
        let padded = if digits.len() <= scale {
            format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
        } else {
            digits
        };
        let (i, fr) = padded.split_at(padded.len() - scale);
        write!(f, "{i}.{fr}")
    }
}

impl Display for Date {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Display for DateTime {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.nanos != 0 {
            // Milliseconds when they suffice (the usual Salesforce shape), else trimmed digits.
            let s = format!("{:09}", self.nanos);
            let t = s.trim_end_matches('0');
            let shown = if t.len() <= 3 { &s[..3] } else { t };
            write!(f, ".{shown}")?;
        }
        if self.offset_minutes == 0 {
            f.write_char('Z')
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let m = self.offset_minutes.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
        }
    }
}

impl DateLiteral {
    /// The keyword (without `:n`).
    pub fn keyword(self) -> &'static str {
        use DateLiteral::*;
        match self {
            Yesterday => "YESTERDAY",
            Today => "TODAY",
            Tomorrow => "TOMORROW",
            LastWeek => "LAST_WEEK",
            ThisWeek => "THIS_WEEK",
            NextWeek => "NEXT_WEEK",
            LastMonth => "LAST_MONTH",
            ThisMonth => "THIS_MONTH",
            NextMonth => "NEXT_MONTH",
            Last90Days => "LAST_90_DAYS",
            Next90Days => "NEXT_90_DAYS",
            LastNDays(_) => "LAST_N_DAYS",
            NextNDays(_) => "NEXT_N_DAYS",
            NDaysAgo(_) => "N_DAYS_AGO",
            LastNWeeks(_) => "LAST_N_WEEKS",
            NextNWeeks(_) => "NEXT_N_WEEKS",
            NWeeksAgo(_) => "N_WEEKS_AGO",
            LastNMonths(_) => "LAST_N_MONTHS",
            NextNMonths(_) => "NEXT_N_MONTHS",
            NMonthsAgo(_) => "N_MONTHS_AGO",
            ThisQuarter => "THIS_QUARTER",
            LastQuarter => "LAST_QUARTER",
            NextQuarter => "NEXT_QUARTER",
            LastNQuarters(_) => "LAST_N_QUARTERS",
            NextNQuarters(_) => "NEXT_N_QUARTERS",
            NQuartersAgo(_) => "N_QUARTERS_AGO",
            ThisYear => "THIS_YEAR",
            LastYear => "LAST_YEAR",
            NextYear => "NEXT_YEAR",
            LastNYears(_) => "LAST_N_YEARS",
            NextNYears(_) => "NEXT_N_YEARS",
            NYearsAgo(_) => "N_YEARS_AGO",
            ThisFiscalQuarter => "THIS_FISCAL_QUARTER",
            LastFiscalQuarter => "LAST_FISCAL_QUARTER",
            NextFiscalQuarter => "NEXT_FISCAL_QUARTER",
            LastNFiscalQuarters(_) => "LAST_N_FISCAL_QUARTERS",
            NextNFiscalQuarters(_) => "NEXT_N_FISCAL_QUARTERS",
            NFiscalQuartersAgo(_) => "N_FISCAL_QUARTERS_AGO",
            ThisFiscalYear => "THIS_FISCAL_YEAR",
            LastFiscalYear => "LAST_FISCAL_YEAR",
            NextFiscalYear => "NEXT_FISCAL_YEAR",
            LastNFiscalYears(_) => "LAST_N_FISCAL_YEARS",
            NextNFiscalYears(_) => "NEXT_N_FISCAL_YEARS",
            NFiscalYearsAgo(_) => "N_FISCAL_YEARS_AGO",
        }
    }

    /// The `n` of the `:n` forms, `None` for fixed literals.
    pub fn n(self) -> Option<u32> {
        use DateLiteral::*;
        match self {
            LastNDays(n)
            | NextNDays(n)
            | NDaysAgo(n)
            | LastNWeeks(n)
            | NextNWeeks(n)
            | NWeeksAgo(n)
            | LastNMonths(n)
            | NextNMonths(n)
            | NMonthsAgo(n)
            | LastNQuarters(n)
            | NextNQuarters(n)
            | NQuartersAgo(n)
            | LastNYears(n)
            | NextNYears(n)
            | NYearsAgo(n)
            | LastNFiscalQuarters(n)
            | NextNFiscalQuarters(n)
            | NFiscalQuartersAgo(n)
            | LastNFiscalYears(n)
            | NextNFiscalYears(n)
            | NFiscalYearsAgo(n) => Some(n),
            _ => None,
        }
    }
}

impl Display for DateLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())?;
        if let Some(n) = self.n() {
            write!(f, ":{n}")?;
        }
        Ok(())
    }
}

impl Display for BindVar {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, ":{}", self.expr)
    }
}

impl Display for Count {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Count::Literal(n) => write!(f, "{n}"),
            Count::Bind(b) => write!(f, "{b}"),
        }
    }
}

impl Display for WithClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            WithClause::SecurityEnforced => f.write_str("SECURITY_ENFORCED"),
            WithClause::UserMode => f.write_str("USER_MODE"),
            WithClause::SystemMode => f.write_str("SYSTEM_MODE"),
            WithClause::DataCategory(filters) => {
                f.write_str("DATA CATEGORY ")?;
                for (i, flt) in filters.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    write!(f, "{flt}")?;
                }
                Ok(())
            }
            WithClause::RecordVisibilityContext(params) => {
                f.write_str("RecordVisibilityContext (")?;
                for (i, (k, v)) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_char(')')
            }
            WithClause::Filter { field, value } => write!(f, "{field} = {value}"),
        }
    }
}

impl Display for DataCategoryFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let sel = match self.selector {
            CategorySelector::At => "AT",
            CategorySelector::Above => "ABOVE",
            CategorySelector::Below => "BELOW",
            CategorySelector::AboveOrBelow => "ABOVE_OR_BELOW",
        };
        write!(f, "{} {sel} ", self.group)?;
        if self.categories.len() == 1 {
            f.write_str(&self.categories[0])
        } else {
            f.write_char('(')?;
            comma_list(f, &self.categories)?;
            f.write_char(')')
        }
    }
}

impl Display for GroupBy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.kind {
            GroupKind::Plain => comma_list(f, &self.items),
            GroupKind::Rollup | GroupKind::Cube => {
                let k = if self.kind == GroupKind::Rollup {
                    "ROLLUP"
                } else {
                    "CUBE"
                };
                write!(f, "{k}(")?;
                comma_list(f, &self.items)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        match self.direction {
            Some(Direction::Asc) => f.write_str(" ASC")?,
            Some(Direction::Desc) => f.write_str(" DESC")?,
            None => {}
        }
        match self.nulls {
            Some(Nulls::First) => f.write_str(" NULLS FIRST")?,
            Some(Nulls::Last) => f.write_str(" NULLS LAST")?,
            None => {}
        }
        Ok(())
    }
}

impl Display for ForClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForClause::View => "VIEW",
            ForClause::Reference => "REFERENCE",
            ForClause::Update => "UPDATE",
        })
    }
}

impl Display for UpdateClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UpdateClause::Tracking => "TRACKING",
            UpdateClause::Viewstat => "VIEWSTAT",
        })
    }
}
