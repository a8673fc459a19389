//! Analysis helpers: queried object, flattened fields, aggregation, date candidates,
//! the incremental-window rewrite and the connector check; plus the CLI helpers.

use soql::analysis::{
    connector_check, date_filter_candidates, is_aggregate, queried_object, selected_fields,
    try_with_incremental_window, with_incremental_window, ConnectorRefusal, FieldKind,
};
use soql::ast::{Condition, Value};
use soql::{cli, parse};

#[test]
fn object_and_flattened_fields() {
    let q = parse(
        "SELECT c.Id, c.Account.Owner.Name, toLabel(c.Status__c), a.Industry, \
         (SELECT LastName FROM c.Cases), TYPEOF c.What WHEN Account THEN Phone ELSE Name END \
         FROM Contact c, c.Account a",
    )
    .unwrap();
    assert_eq!(queried_object(&q), "Contact");
    assert_eq!(
        selected_fields(&q),
        [
            "Id",
            "Account.Owner.Name",
            "Status__c",
            "Account.Industry",
            "Cases.LastName",
            "What.Phone",
            "What.Name"
        ]
    );
    let q = parse("SELECT Id, id, Contact.FirstName FROM Contact").unwrap();
    assert_eq!(selected_fields(&q), ["Id", "FirstName"]);
}

#[test]
fn aggregate_detection() {
    let yes = [
        "SELECT COUNT() FROM Account",
        "SELECT FORMAT(MIN(CloseDate)) m FROM Opportunity",
        "SELECT Name FROM Account GROUP BY Name",
        "SELECT COUNT_DISTINCT(Company) FROM Lead",
    ];
    for s in yes {
        assert!(is_aggregate(&parse(s).unwrap()), "{s}");
    }
    let no = [
        "SELECT Id, FORMAT(Amount) a FROM Opportunity",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT CALENDAR_YEAR(CreatedDate) FROM Account",
    ];
    for s in no {
        assert!(!is_aggregate(&parse(s).unwrap()), "{s}");
    }
}

#[test]
fn date_candidates_use_the_describe() {
    let q =
        parse("SELECT Id, CloseDate, Name, Account.CreatedDate, Due__c FROM Opportunity").unwrap();
    let describe = |f: &str| match f {
        "SystemModstamp" | "CreatedDate" => Some(FieldKind::DateTime),
        "CloseDate" | "Due__c" => Some(FieldKind::Date),
        "Name" | "Id" => Some(FieldKind::Other),
        _ => None,
    };
    assert_eq!(
        date_filter_candidates(&q, describe),
        ["SystemModstamp", "CreatedDate", "CloseDate", "Due__c"]
    );
}

#[test]
fn window_wraps_an_existing_or_tree() {
    let q = parse("SELECT Id FROM Contact WHERE Email = 'a@b.c' OR Phone != null").unwrap();
    let w = with_incremental_window(
        &q,
        "SystemModstamp",
        FieldKind::DateTime,
        "2024-05-01T00:00:00.000+0000",
        "2024-05-02",
    );
    let text = w.to_string();
    assert_eq!(
        text,
        "SELECT Id FROM Contact WHERE (Email = 'a@b.c' OR Phone != NULL) AND \
         (SystemModstamp >= 2024-05-01T00:00:00Z AND SystemModstamp < 2024-05-02T00:00:00Z)"
    );
    // The printed form means the same thing when read back.
    assert_eq!(parse(&text).unwrap(), w);
    // The OR stays one operand of the AND.
    let Some(Condition::And(parts)) = &w.where_clause else {
        panic!("expected AND at the top")
    };
    assert!(matches!(parts[0], Condition::Or(_)));
}

#[test]
fn window_on_date_field_and_without_where() {
    let q = parse("SELECT Id FROM Opportunity").unwrap();
    let w = with_incremental_window(
        &q,
        "CloseDate",
        FieldKind::Date,
        "2024-01-01T10:00:00Z",
        "2024-02-01",
    );
    assert_eq!(
        w.to_string(),
        "SELECT Id FROM Opportunity WHERE CloseDate >= 2024-01-01 AND CloseDate < 2024-02-01"
    );
    let q = parse(
        "SELECT Id FROM Opportunity WHERE IsClosed = TRUE AND Amount > 5 ORDER BY Id LIMIT 10",
    )
    .unwrap();
    let w = with_incremental_window(&q, "CloseDate", FieldKind::Date, "2024-01-01", "2024-02-01");
    assert_eq!(
        w.to_string(),
        "SELECT Id FROM Opportunity WHERE IsClosed = TRUE AND Amount > 5 AND \
         (CloseDate >= 2024-01-01 AND CloseDate < 2024-02-01) ORDER BY Id LIMIT 10"
    );
    let q = parse("SELECT Id FROM Opportunity WHERE NOT Name LIKE 'x%'").unwrap();
    let w = with_incremental_window(&q, "CloseDate", FieldKind::Date, "2024-01-01", "2024-02-01");
    assert_eq!(
        w.to_string(),
        "SELECT Id FROM Opportunity WHERE NOT Name LIKE 'x%' AND \
         (CloseDate >= 2024-01-01 AND CloseDate < 2024-02-01)"
    );
}

#[test]
fn window_refuses_bad_bounds_when_asked() {
    let q = parse("SELECT Id FROM Account").unwrap();
    assert!(try_with_incremental_window(
        &q,
        "CreatedDate",
        FieldKind::DateTime,
        "yesterday",
        "2024-01-01"
    )
    .is_err());
    assert!(
        try_with_incremental_window(&q, "Name", FieldKind::Other, "2024-01-01", "2024-01-02")
            .is_err()
    );
    // The infallible form keeps a bad bound visible as a string literal.
    let w = with_incremental_window(&q, "CreatedDate", FieldKind::DateTime, "oops", "2024-01-01");
    assert!(w.to_string().contains("CreatedDate >= 'oops'"));
    let w = try_with_incremental_window(
        &q,
        "CreatedDate",
        FieldKind::DateTime,
        "2024-01-01T00:00:00+02:00",
        "2024-01-02T00:00:00Z",
    )
    .unwrap();
    let Some(Condition::And(parts)) = &w.where_clause else {
        panic!()
    };
    let Condition::Compare {
        right: soql::ast::Operand::Value(Value::DateTime(dt)),
        ..
    } = &parts[0]
    else {
        panic!()
    };
    assert_eq!(dt.offset_minutes, 120);
}

#[test]
fn connector_refuses_with_reasons() {
    let cases = [
        (
            "SELECT COUNT() FROM Contact",
            ConnectorRefusal::CountRows,
            "COUNT() returns only a total",
        ),
        (
            "SELECT SUM(Amount) FROM Opportunity",
            ConnectorRefusal::Aggregate("SUM".into()),
            "SUM() summarises",
        ),
        (
            "SELECT Name FROM Account GROUP BY Name",
            ConnectorRefusal::GroupBy,
            "one row per group",
        ),
        (
            "SELECT Id FROM Account FOR UPDATE",
            ConnectorRefusal::ForUpdate,
            "locks the records",
        ),
        (
            "SELECT Id FROM Account LIMIT 10 OFFSET 20",
            ConnectorRefusal::Offset,
            "query locator",
        ),
    ];
    for (q, want, msg) in cases {
        let got = connector_check(&parse(q).unwrap()).unwrap_err();
        assert_eq!(got, want, "{q}");
        assert!(got.to_string().contains(msg), "{got}");
    }
    assert!(connector_check(
        &parse("SELECT Id, Name FROM Contact WHERE Email != null FOR VIEW").unwrap()
    )
    .is_ok());
}

#[test]
fn cli_helpers() {
    assert_eq!(
        cli::fmt("select id from account where name = 'x'\n", false),
        Ok("SELECT id FROM account WHERE name = 'x'".to_string())
    );
    assert_eq!(
        cli::fmt("SELECT Id FROM Account WHERE Name =", false),
        Err("error: line 1, column 36: expected a value after '=', found end of input".to_string())
    );
    assert_eq!(
        cli::fmt("SELECT Id FROM A WHERE Id IN :ids", true),
        Ok("SELECT Id FROM A WHERE Id IN :ids".into())
    );
    assert!(cli::check("SELECT Id FROM A", false, true).is_ok());
    let e = cli::check("SELECT COUNT() FROM A", false, true).unwrap_err();
    assert!(
        e.starts_with("error: the inbound connector cannot use this query: COUNT()"),
        "{e}"
    );
    assert!(cli::check("SELECT COUNT() FROM A", false, false).is_ok());
}
