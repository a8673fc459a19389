//! Property tests: generated ASTs survive print → parse unchanged, and no input makes the parser
//! panic (arbitrary text and mutated corpus queries). Case count: `SONDE_FUZZ_CASES` (default 256).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use soql::ast::*;
use soql::{parse_with, ParseOptions};

use crate::corpus;

const APEX: ParseOptions = ParseOptions { apex: true };

fn cases() -> u32 {
    std::env::var("SONDE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Words a generated identifier must avoid: keywords that would change how the text reads.
const AVOID: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST",
    "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH", "FOR", "UPDATE",
    "USING", "TYPEOF", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "BY", "ORDER", "OFFSET",
    "ALL", "ROWS",
];

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z][a-z0-9]{0,6}(__c|__r)?".prop_filter("not a keyword", |s| {
        !AVOID.iter().any(|k| k.eq_ignore_ascii_case(s))
    })
}

fn path(max: usize) -> impl Strategy<Value = FieldPath> {
    prop::collection::vec(ident(), 1..=max).prop_map(FieldPath::new)
}

fn decimal(min_scale: u32) -> impl Strategy<Value = Decimal> {
    (-10_000_000_000i128..10_000_000_000i128, min_scale..6u32)
        .prop_map(|(mantissa, scale)| Decimal { mantissa, scale })
}

fn date() -> impl Strategy<Value = Date> {
    (0u16..=9999, 1u8..=12, 1u8..=31)
        .prop_map(|(y, m, d)| Date::new(y, m, d.min(days_in_month(y, m))).expect("valid date"))
}

fn datetime() -> impl Strategy<Value = DateTime> {
    (
        date(),
        0u8..24,
        0u8..60,
        0u8..60,
        prop_oneof![
            Just(0u32),
            0u32..1_000_000_000,
            (0u32..1000).prop_map(|m| m * 1_000_000)
        ],
        -14 * 60i16..=14 * 60,
    )
        .prop_map(
            |(date, hour, minute, second, nanos, offset_minutes)| DateTime {
                date,
                hour,
                minute,
                second,
                nanos,
                offset_minutes,
            },
        )
}

fn date_literal() -> impl Strategy<Value = DateLiteral> {
    use DateLiteral::*;
    let fixed = prop::sample::select(vec![
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
        ThisQuarter,
        LastQuarter,
        NextQuarter,
        ThisYear,
        LastYear,
        NextYear,
        ThisFiscalQuarter,
        LastFiscalQuarter,
        NextFiscalQuarter,
        ThisFiscalYear,
        LastFiscalYear,
        NextFiscalYear,
    ]);
    let makers: Vec<fn(u32) -> DateLiteral> = vec![
        LastNDays,
        NextNDays,
        NDaysAgo,
        LastNWeeks,
        NextNWeeks,
        NWeeksAgo,
        LastNMonths,
        NextNMonths,
        NMonthsAgo,
        LastNQuarters,
        NextNQuarters,
        NQuartersAgo,
        LastNYears,
        NextNYears,
        NYearsAgo,
        LastNFiscalQuarters,
        NextNFiscalQuarters,
        NFiscalQuartersAgo,
        LastNFiscalYears,
        NextNFiscalYears,
        NFiscalYearsAgo,
    ];
    let with_n = (prop::sample::select(makers), any::<u32>()).prop_map(|(m, n)| m(n));
    prop_oneof![fixed, with_n]
}

fn bind() -> impl Strategy<Value = BindVar> {
    prop::collection::vec(ident(), 1..3).prop_map(|p| BindVar { expr: p.join(".") })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::String),
        "[a-z%_\\\\' \n]{0,8}".prop_map(Value::String),
        "[\u{0}-\u{1f}\u{7f}-\u{9f}a\"]{0,5}".prop_map(Value::String),
        any::<i64>().prop_map(Value::Integer),
        decimal(1).prop_map(Value::Decimal),
        any::<bool>().prop_map(Value::Boolean),
        Just(Value::Null),
        date().prop_map(Value::Date),
        datetime().prop_map(Value::DateTime),
        ("[A-Z]{3}", decimal(0)).prop_map(|(code, amount)| Value::Currency { code, amount }),
        date_literal().prop_map(Value::DateLiteral),
        bind().prop_map(Value::Bind),
    ]
}

fn call() -> impl Strategy<Value = FunctionCall> {
    let one = |f: Function| {
        path(2).prop_map(move |p| FunctionCall {
            function: f,
            args: vec![Arg::Field(p)],
        })
    };
    prop_oneof![
        Just(FunctionCall {
            function: Function::Count,
            args: vec![]
        }),
        one(Function::Count),
        one(Function::Sum),
        one(Function::CalendarYear),
        one(Function::ToLabel),
        one(Function::Format),
        one(Function::ConvertCurrency),
        path(2).prop_map(|p| FunctionCall {
            function: Function::CalendarYear,
            args: vec![Arg::Call(FunctionCall {
                function: Function::ConvertTimezone,
                args: vec![Arg::Field(p)]
            })],
        }),
        (
            prop::sample::select(vec![Function::Count, Function::Grouping]),
            prop::collection::vec(path(2), 1..3)
        )
            .prop_map(|(function, ps)| FunctionCall {
                function,
                args: ps.into_iter().map(Arg::Field).collect()
            }),
        path(2).prop_map(|p| FunctionCall {
            function: Function::Format,
            args: vec![Arg::Call(FunctionCall {
                function: Function::Max,
                args: vec![Arg::Field(p)]
            })],
        }),
        (
            path(2),
            decimal(0),
            decimal(0),
            prop::sample::select(vec!["mi", "km"])
        )
            .prop_map(|(p, lat, lon, unit)| FunctionCall {
                function: Function::Distance,
                args: vec![
                    Arg::Field(p),
                    Arg::Call(FunctionCall {
                        function: Function::Geolocation,
                        args: vec![Arg::Number(lat), Arg::Number(lon)],
                    }),
                    Arg::String(unit.to_string()),
                ],
            }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    prop_oneof![3 => path(3).prop_map(Expr::Field), 1 => call().prop_map(Expr::Call)]
}

fn compare(depth: u32) -> BoxedStrategy<Condition> {
    let scalar_ops = prop::sample::select(vec![
        Operator::Eq,
        Operator::Ne,
        Operator::Lt,
        Operator::Le,
        Operator::Gt,
        Operator::Ge,
        Operator::Like,
    ]);
    let list_ops = prop::sample::select(vec![
        Operator::In,
        Operator::NotIn,
        Operator::Includes,
        Operator::Excludes,
    ]);
    let scalar = (expr(), scalar_ops, value()).prop_map(|(left, op, v)| Condition::Compare {
        left,
        op,
        right: Operand::Value(v),
    });
    let list =
        (expr(), list_ops, prop::collection::vec(value(), 1..4)).prop_map(|(left, op, vs)| {
            Condition::Compare {
                left,
                op,
                right: Operand::List(vs),
            }
        });
    if depth == 0 {
        prop_oneof![scalar, list].boxed()
    } else {
        let semi =
            (path(2), any::<bool>(), query(depth - 1)).prop_map(|(p, not, q)| Condition::Compare {
                left: Expr::Field(p),
                op: if not { Operator::NotIn } else { Operator::In },
                right: Operand::Subquery(Box::new(q)),
            });
        prop_oneof![4 => scalar, 2 => list, 1 => semi].boxed()
    }
}

fn condition(depth: u32) -> BoxedStrategy<Condition> {
    compare(depth)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Or),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
        .boxed()
}

fn select_item(depth: u32) -> BoxedStrategy<SelectItem> {
    let field = path(3).prop_map(|p| SelectItem::Expr {
        expr: Expr::Field(p),
        alias: None,
    });
    let func = (call(), prop::option::of(ident())).prop_map(|(c, alias)| SelectItem::Expr {
        expr: Expr::Call(c),
        alias,
    });
    let typeof_ = (
        path(2),
        prop::collection::vec((ident(), prop::collection::vec(path(2), 1..3)), 1..3),
        prop::option::of(prop::collection::vec(path(2), 1..3)),
    )
        .prop_map(|(field, whens, else_fields)| {
            SelectItem::TypeOf(TypeOf {
                field,
                whens: whens
                    .into_iter()
                    .map(|(object, fields)| TypeOfWhen { object, fields })
                    .collect(),
                else_fields,
            })
        });
    let fields = prop::sample::select(vec![
        FieldsScope::All,
        FieldsScope::Standard,
        FieldsScope::Custom,
    ])
    .prop_map(SelectItem::Fields);
    if depth == 0 {
        prop_oneof![4 => field, 2 => func, 1 => typeof_, 1 => fields].boxed()
    } else {
        let sub = query(depth - 1).prop_map(|q| SelectItem::Subquery(Box::new(q)));
        prop_oneof![4 => field, 2 => func, 1 => typeof_, 1 => fields, 1 => sub].boxed()
    }
}

fn with_clause() -> impl Strategy<Value = WithClause> {
    let selector = prop::sample::select(vec![
        CategorySelector::At,
        CategorySelector::Above,
        CategorySelector::Below,
        CategorySelector::AboveOrBelow,
    ]);
    let filter = (ident(), selector, prop::collection::vec(ident(), 1..3)).prop_map(
        |(group, selector, categories)| DataCategoryFilter {
            group,
            selector,
            categories,
        },
    );
    prop_oneof![
        Just(WithClause::SecurityEnforced),
        Just(WithClause::UserMode),
        Just(WithClause::SystemMode),
        prop::collection::vec(filter, 1..3).prop_map(WithClause::DataCategory),
        (ident(), value()).prop_map(|(field, value)| WithClause::Filter { field, value }),
        prop::collection::vec((ident(), value()), 1..3)
            .prop_map(WithClause::RecordVisibilityContext),
    ]
}

fn query(depth: u32) -> BoxedStrategy<Query> {
    let from = (
        path(if depth == 0 { 2 } else { 1 }),
        prop::option::of(ident()),
        prop::collection::vec((path(2), prop::option::of(ident())), 0..2),
    )
        .prop_map(|(obj, alias, rels)| From {
            object: obj.dotted(),
            alias,
            relationships: rels
                .into_iter()
                .map(|(path, alias)| RelationshipAlias { path, alias })
                .collect(),
        });
    let group = prop::option::of((
        prop::sample::select(vec![GroupKind::Plain, GroupKind::Rollup, GroupKind::Cube]),
        prop::collection::vec(expr(), 1..3),
        prop::option::of(condition(0)),
    ));
    let order = prop::collection::vec(
        (
            expr(),
            prop::option::of(prop::sample::select(vec![Direction::Asc, Direction::Desc])),
            prop::option::of(prop::sample::select(vec![Nulls::First, Nulls::Last])),
        )
            .prop_map(|(expr, direction, nulls)| OrderItem {
                expr,
                direction,
                nulls,
            }),
        0..3,
    );
    let count = || {
        prop::option::of(prop_oneof![
            any::<u64>().prop_map(Count::Literal),
            bind().prop_map(Count::Bind)
        ])
    };
    (
        prop::collection::vec(select_item(depth), 1..4),
        from,
        prop::option::of(ident()),
        prop::option::of(condition(depth)),
        prop::collection::vec(with_clause(), 0..2),
        group,
        order,
        (count(), count()),
        prop::collection::vec(
            prop::sample::select(vec![
                ForClause::View,
                ForClause::Reference,
                ForClause::Update,
            ]),
            0..2,
        ),
        prop::collection::vec(
            prop::sample::select(vec![UpdateClause::Tracking, UpdateClause::Viewstat]),
            0..2,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(
                select,
                from,
                using_scope,
                where_clause,
                with,
                group,
                order_by,
                (limit, offset),
                for_clauses,
                update,
                all_rows,
            )| {
                // COUNT() must stand alone in a select list.
                let count_rows = |i: &SelectItem| {
                    matches!(i, SelectItem::Expr { expr: Expr::Call(c), .. } if c.function == Function::Count && c.args.is_empty())
                };
                let mut select = select;
                if select.len() > 1 {
                    select.retain(|i| !count_rows(i));
                    if select.is_empty() {
                        select.push(SelectItem::Fields(FieldsScope::All));
                    }
                }
                let (group_by, having) = match group {
                    Some((kind, items, having)) => (Some(GroupBy { kind, items }), having),
                    None => (None, None),
                };
                Query {
                    select,
                    from,
                    using_scope,
                    where_clause,
                    with,
                    group_by,
                    having,
                    order_by,
                    limit,
                    offset,
                    for_clauses,
                    update,
                    all_rows,
                }
            },
        )
        .boxed()
}

#[test]
fn generated_queries_round_trip() {
    runner()
        .run(&query(1), |q| {
            let text = q.to_string();
            let back =
                parse_with(&text, APEX).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(&back, &q, "{}", text);
            prop_assert_eq!(back.to_string(), text);
            Ok(())
        })
        .unwrap();
}

/// Whatever the parser accepts, it prints in a form it reads back identically.
fn check_no_panic(s: &str) -> Result<(), TestCaseError> {
    for opts in [ParseOptions::default(), APEX] {
        if let Ok(q) = parse_with(s, opts) {
            let text = q.to_string();
            let back = parse_with(&text, opts)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{s}\n{text}")))?;
            prop_assert_eq!(&back, &q, "{}\n{}", s, text);
        }
    }
    Ok(())
}

#[test]
fn arbitrary_text_never_panics() {
    let alphabet = "(SELECT|FROM|WHERE|AND|OR|NOT|IN|LIKE|GROUP BY|ORDER BY|LIMIT|OFFSET|TYPEOF|WHEN|THEN|END|Id|Name|COUNT|\\(|\\)|,|\\.|:|=|<|>|!|'|\\\\|-|[0-9]{1,5}|2024-0[0-9]-[0-3][0-9]|T|Z|\\+|USD| |\n|é|[^a-z]){0,40}";
    runner()
        .run(
            &prop_oneof![any::<String>(), alphabet.prop_map(|s| s)],
            |s| check_no_panic(&s),
        )
        .unwrap();
}

#[test]
fn mutated_corpus_queries_never_panic() {
    let queries: Vec<String> = corpus::load().into_iter().map(|c| c.soql).collect();
    let snippets = vec![
        "(",
        ")",
        "'",
        "\\",
        ",",
        " AND ",
        " OR ",
        "NOT ",
        ":",
        "-",
        "SELECT ",
        " FROM x",
        "2024-13-01",
        "T10:00:00Z",
        "USD",
        "é",
        "\u{0}",
        "(SELECT Id FROM A)",
        "LAST_N_DAYS:",
        "99999999999999999999999",
    ];
    let strategy = (
        prop::sample::select(queries),
        prop::collection::vec(
            (
                0usize..10_000,
                0usize..20,
                prop::sample::select(snippets),
                0u8..3,
            ),
            1..4,
        ),
    );
    runner()
        .run(&strategy, |(q, edits)| {
            let mut s: Vec<char> = q.chars().collect();
            for (at, len, snippet, kind) in edits {
                let at = at % (s.len() + 1);
                let end = (at + len).min(s.len());
                match kind {
                    0 => {
                        s.drain(at..end);
                    }
                    1 => {
                        s.splice(at..at, snippet.chars());
                    }
                    _ => {
                        let dup: Vec<char> = s[at..end].to_vec();
                        s.splice(at..at, dup);
                    }
                }
            }
            let text: String = s.into_iter().collect();
            check_no_panic(&text)
        })
        .unwrap();
}
