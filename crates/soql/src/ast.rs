//! Typed syntax tree of one SOQL query, as produced by [`crate::parse`].
//! The local org evaluates it directly, so values are decoded and validated, and no positions are kept.

/// A whole `SELECT` statement (top-level query, child subquery or semi-join subquery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: From,
    /// `USING SCOPE <name>` (e.g. `mine`, `team`), name as written.
    pub using_scope: Option<String>,
    pub where_clause: Option<Condition>,
    /// `WITH …` clauses in source order (several may appear).
    pub with: Vec<WithClause>,
    pub group_by: Option<GroupBy>,
    pub having: Option<Condition>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<Count>,
    pub offset: Option<Count>,
    /// `FOR VIEW`, `FOR REFERENCE`, `FOR UPDATE` (comma-separated list allowed).
    pub for_clauses: Vec<ForClause>,
    /// `UPDATE TRACKING`, `UPDATE VIEWSTAT` (comma-separated list allowed).
    pub update: Vec<UpdateClause>,
    /// Apex-only `ALL ROWS`.
    pub all_rows: bool,
}

impl Query {
    /// A query selecting `fields` from `object` with no other clause; handy for building queries in code.
    pub fn simple(object: &str, fields: &[&str]) -> Query {
        Query {
            select: fields
                .iter()
                .map(|f| SelectItem::Expr {
                    expr: Expr::Field(FieldPath::parse_dotted(f)),
                    alias: None,
                })
                .collect(),
            from: From {
                object: object.to_string(),
                alias: None,
                relationships: Vec::new(),
            },
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
        }
    }
}

/// One entry of the `SELECT` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// A field path or a function call, with an optional alias (`COUNT(Id) cnt`).
    Expr { expr: Expr, alias: Option<String> },
    /// A child relationship subquery `(SELECT … FROM Contacts)`.
    Subquery(Box<Query>),
    /// `TYPEOF What WHEN Account THEN … ELSE … END`.
    TypeOf(TypeOf),
    /// `FIELDS(ALL|STANDARD|CUSTOM)`.
    Fields(FieldsScope),
}

/// A dotted field path such as `Account.Owner.Name` (parts keep their case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    pub parts: Vec<String>,
}

impl FieldPath {
    pub fn new(parts: Vec<String>) -> FieldPath {
        FieldPath { parts }
    }
    /// Splits `Account.Owner.Name` on dots; no validation.
    pub fn parse_dotted(s: &str) -> FieldPath {
        FieldPath {
            parts: s.split('.').map(str::to_string).collect(),
        }
    }
    /// The path joined with dots.
    pub fn dotted(&self) -> String {
        self.parts.join(".")
    }
}

/// A field reference or a function call: what may stand in SELECT, WHERE, GROUP BY, ORDER BY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Field(FieldPath),
    Call(FunctionCall),
}

/// `NAME(arg, …)`; `COUNT()` has no arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCall {
    pub function: Function,
    pub args: Vec<Arg>,
}

/// A function argument: a field, a nested call, or (for GEOLOCATION/DISTANCE) a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Field(FieldPath),
    Call(FunctionCall),
    /// Latitude/longitude in `GEOLOCATION(lat, lon)`.
    Number(Decimal),
    /// The unit of `DISTANCE(…, 'mi'|'km')`, lower-cased.
    String(String),
}

/// Every function SOQL knows. Names are matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    // Aggregates
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Grouping,
    // Date functions
    CalendarMonth,
    CalendarQuarter,
    CalendarYear,
    DayInMonth,
    DayInWeek,
    DayInYear,
    DayOnly,
    FiscalMonth,
    FiscalQuarter,
    FiscalYear,
    HourInDay,
    WeekInMonth,
    WeekInYear,
    // Others
    Format,
    ToLabel,
    ConvertCurrency,
    ConvertTimezone,
    Distance,
    Geolocation,
}

impl Function {
    /// All functions, for lookups and generators.
    pub const ALL: [Function; 26] = [
        Function::Count,
        Function::CountDistinct,
        Function::Sum,
        Function::Avg,
        Function::Min,
        Function::Max,
        Function::Grouping,
        Function::CalendarMonth,
        Function::CalendarQuarter,
        Function::CalendarYear,
        Function::DayInMonth,
        Function::DayInWeek,
        Function::DayInYear,
        Function::DayOnly,
        Function::FiscalMonth,
        Function::FiscalQuarter,
        Function::FiscalYear,
        Function::HourInDay,
        Function::WeekInMonth,
        Function::WeekInYear,
        Function::Format,
        Function::ToLabel,
        Function::ConvertCurrency,
        Function::ConvertTimezone,
        Function::Distance,
        Function::Geolocation,
    ];

    /// Canonical spelling used by the printer.
    pub fn name(self) -> &'static str {
        match self {
            Function::Count => "COUNT",
            Function::CountDistinct => "COUNT_DISTINCT",
            Function::Sum => "SUM",
            Function::Avg => "AVG",
            Function::Min => "MIN",
            Function::Max => "MAX",
            Function::Grouping => "GROUPING",
            Function::CalendarMonth => "CALENDAR_MONTH",
            Function::CalendarQuarter => "CALENDAR_QUARTER",
            Function::CalendarYear => "CALENDAR_YEAR",
            Function::DayInMonth => "DAY_IN_MONTH",
            Function::DayInWeek => "DAY_IN_WEEK",
            Function::DayInYear => "DAY_IN_YEAR",
            Function::DayOnly => "DAY_ONLY",
            Function::FiscalMonth => "FISCAL_MONTH",
            Function::FiscalQuarter => "FISCAL_QUARTER",
            Function::FiscalYear => "FISCAL_YEAR",
            Function::HourInDay => "HOUR_IN_DAY",
            Function::WeekInMonth => "WEEK_IN_MONTH",
            Function::WeekInYear => "WEEK_IN_YEAR",
            Function::Format => "FORMAT",
            Function::ToLabel => "toLabel",
            Function::ConvertCurrency => "convertCurrency",
            Function::ConvertTimezone => "convertTimezone",
            Function::Distance => "DISTANCE",
            Function::Geolocation => "GEOLOCATION",
        }
    }

    /// Case-insensitive lookup of a function name.
    pub fn from_name(s: &str) -> Option<Function> {
        Function::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(s))
    }

    /// COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX and GROUPING make a query aggregate.
    pub fn is_aggregate(self) -> bool {
        matches!(
            self,
            Function::Count
                | Function::CountDistinct
                | Function::Sum
                | Function::Avg
                | Function::Min
                | Function::Max
                | Function::Grouping
        )
    }

    /// CALENDAR_YEAR and friends: take one date/datetime field.
    pub fn is_date_function(self) -> bool {
        matches!(
            self,
            Function::CalendarMonth
                | Function::CalendarQuarter
                | Function::CalendarYear
                | Function::DayInMonth
                | Function::DayInWeek
                | Function::DayInYear
                | Function::DayOnly
                | Function::FiscalMonth
                | Function::FiscalQuarter
                | Function::FiscalYear
                | Function::HourInDay
                | Function::WeekInMonth
                | Function::WeekInYear
        )
    }
}

/// `TYPEOF field WHEN Type THEN fields … [ELSE fields] END`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeOf {
    pub field: FieldPath,
    pub whens: Vec<TypeOfWhen>,
    pub else_fields: Option<Vec<FieldPath>>,
}

/// One `WHEN Type THEN f1, f2` branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeOfWhen {
    pub object: String,
    pub fields: Vec<FieldPath>,
}

/// Argument of `FIELDS(…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldsScope {
    All,
    Standard,
    Custom,
}

/// `FROM Object [alias] [, alias.Relationship [alias] …]`.
///
/// Named after the clause; a module that glob-imports `soql::ast::*` shadows the prelude's
/// conversion trait, so write `std::convert::From` there (or import the AST types by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The object name; in a child subquery it may be dotted (`Account.Contacts`).
    pub object: String,
    pub alias: Option<String>,
    /// Relationship aliases such as `c.Account a` in `FROM Contact c, c.Account a`.
    pub relationships: Vec<RelationshipAlias>,
}

/// `c.Account a` in a FROM list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationshipAlias {
    pub path: FieldPath,
    pub alias: Option<String>,
}

/// A WHERE or HAVING condition tree. Parentheses written in the query become nested nodes (an
/// `And` directly inside an `And` came from explicit parentheses). Unparenthesised `a AND b OR c`
/// is read with SQL precedence as `Or[And[a, b], c]`; the printer always parenthesises nested groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Two or more conditions joined by AND.
    And(Vec<Condition>),
    /// Two or more conditions joined by OR.
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        left: Expr,
        op: Operator,
        right: Operand,
    },
}

/// Comparison operators. `<>` is read as [`Operator::Ne`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    In,
    NotIn,
    Includes,
    Excludes,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Like => "LIKE",
            Operator::In => "IN",
            Operator::NotIn => "NOT IN",
            Operator::Includes => "INCLUDES",
            Operator::Excludes => "EXCLUDES",
        }
    }
    /// IN, NOT IN, INCLUDES, EXCLUDES take a parenthesised list (or a subquery / bind).
    pub fn takes_list(self) -> bool {
        matches!(
            self,
            Operator::In | Operator::NotIn | Operator::Includes | Operator::Excludes
        )
    }
}

/// Right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Value(Value),
    /// `('a', 'b')` after IN / NOT IN / INCLUDES / EXCLUDES.
    List(Vec<Value>),
    /// Semi-join (`IN (SELECT …)`) or anti-join (`NOT IN (SELECT …)`).
    Subquery(Box<Query>),
}

/// A literal (or Apex bind) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Escapes decoded (`\'` → `'`, `\n` → newline, `\u00e9` → é). `\%` and `\_` stay as the two
    /// characters because only LIKE gives them meaning (literal `%` / `_`).
    String(String),
    Integer(i64),
    Decimal(Decimal),
    Boolean(bool),
    Null,
    Date(Date),
    DateTime(DateTime),
    /// `USD5000`, `EUR-12.5`: ISO code as written (upper-cased) and amount.
    Currency {
        code: String,
        amount: Decimal,
    },
    /// `TODAY`, `LAST_N_DAYS:30`, …
    DateLiteral(DateLiteral),
    /// Apex bind variable `:expr` (apex mode only).
    Bind(BindVar),
}

/// An exact decimal number: `mantissa / 10^scale` (so `101.00` is 10100 with scale 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    pub fn from_int(v: i64) -> Decimal {
        Decimal {
            mantissa: v as i128,
            scale: 0,
        }
    }
    /// Nearest f64 (for distance and money comparisons in the local org).
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }
}

/// A calendar date `YYYY-MM-DD` (validated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Builds a date if it exists in the proleptic Gregorian calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }
}

/// Days in a month, leap years included.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            let y = year as u32;
            if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// A datetime with its UTC offset: `2005-10-08T01:02:03.5+02:00`. `Z` is offset 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Fraction of a second in nanoseconds (digits beyond the ninth are dropped).
    pub nanos: u32,
    /// Offset from UTC in minutes (east positive); subtract it to get UTC.
    pub offset_minutes: i16,
}

/// Relative date literals. The `N` forms carry their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateLiteral {
    Yesterday,
    Today,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    Last90Days,
    Next90Days,
    LastNDays(u32),
    NextNDays(u32),
    NDaysAgo(u32),
    LastNWeeks(u32),
    NextNWeeks(u32),
    NWeeksAgo(u32),
    LastNMonths(u32),
    NextNMonths(u32),
    NMonthsAgo(u32),
    ThisQuarter,
    LastQuarter,
    NextQuarter,
    LastNQuarters(u32),
    NextNQuarters(u32),
    NQuartersAgo(u32),
    ThisYear,
    LastYear,
    NextYear,
    LastNYears(u32),
    NextNYears(u32),
    NYearsAgo(u32),
    ThisFiscalQuarter,
    LastFiscalQuarter,
    NextFiscalQuarter,
    LastNFiscalQuarters(u32),
    NextNFiscalQuarters(u32),
    NFiscalQuartersAgo(u32),
    ThisFiscalYear,
    LastFiscalYear,
    NextFiscalYear,
    LastNFiscalYears(u32),
    NextNFiscalYears(u32),
    NFiscalYearsAgo(u32),
}

/// Apex bind expression after `:`, kept as canonical text (`accountMap.keySet()`,
/// `new Map<Id, SObject>(someVar).keySet()`): the org binds it, SOQL never evaluates it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindVar {
    pub expr: String,
}

/// LIMIT / OFFSET amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    Literal(u64),
    Bind(BindVar),
}

/// One `WITH …` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithClause {
    SecurityEnforced,
    UserMode,
    SystemMode,
    /// `WITH DATA CATEGORY g AT x AND h BELOW (y, z)`.
    DataCategory(Vec<DataCategoryFilter>),
    /// `WITH RecordVisibilityContext (name=value, …)`.
    RecordVisibilityContext(Vec<(String, Value)>),
    /// `WITH name = value`, e.g. `WITH UserId = '005…'`, `WITH Network = '…'`.
    Filter {
        field: String,
        value: Value,
    },
}

/// `Geography__c ABOVE usa__c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCategoryFilter {
    pub group: String,
    pub selector: CategorySelector,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CategorySelector {
    At,
    Above,
    Below,
    AboveOrBelow,
}

/// `GROUP BY a, b`, `GROUP BY ROLLUP(a, b)`, `GROUP BY CUBE(a, b)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBy {
    pub kind: GroupKind,
    pub items: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    Plain,
    Rollup,
    Cube,
}

/// One `ORDER BY` key. Direction and null placement stay `None` when not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub expr: Expr,
    pub direction: Option<Direction>,
    pub nulls: Option<Nulls>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nulls {
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForClause {
    View,
    Reference,
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpdateClause {
    Tracking,
    Viewstat,
}
