//! Refusals name the offending token, what was expected, and its line/column.

use soql::{parse, parse_with, ParseOptions};

fn err(q: &str) -> String {
    parse(q).expect_err("query must be refused").to_string()
}

#[test]
fn missing_value_names_operator_and_found_token() {
    assert_eq!(
        err("SELECT Id FROM Account WHERE Name = WHERE"),
        "line 1, column 37: expected a value after '=', found 'WHERE'"
    );
}

#[test]
fn positions_are_one_based_lines_and_character_columns() {
    let e = parse("SELECT Id\nFROM Account\n  WHERE Name = 'café' AND = 1").unwrap_err();
    assert_eq!((e.line, e.column), (3, 27));
    assert!(e.message.contains("found '='"), "{}", e.message);
    // Non-ASCII counts as one column.
    let e = parse("SELECT Id FROM Account WHERE Name = 'é' é").unwrap_err();
    assert_eq!((e.line, e.column), (1, 41));
}

#[test]
fn end_of_input_is_named() {
    assert_eq!(
        err("SELECT Name FROM Account LIMIT"),
        "line 1, column 31: expected a non-negative integer after LIMIT, found end of input"
    );
    assert_eq!(
        err("SELECT Name FROM Account GROUP BY"),
        "line 1, column 34: expected a field after GROUP BY, found end of input"
    );
}

#[test]
fn apex_only_syntax_says_so_and_parses_in_apex_mode() {
    let e = err("SELECT Id FROM Account WHERE Id IN :ids");
    assert!(
        e.starts_with("line 1, column 36: bind variable ':ids' is Apex-only"),
        "{e}"
    );
    let e = err("SELECT COUNT() FROM Contact ALL ROWS");
    assert!(e.contains("ALL ROWS is Apex-only"), "{e}");
    let apex = ParseOptions { apex: true };
    let q = parse_with(
        "SELECT Id FROM Account WHERE Id IN :ids LIMIT :n OFFSET :m ALL ROWS",
        apex,
    )
    .unwrap();
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Account WHERE Id IN :ids LIMIT :n OFFSET :m ALL ROWS"
    );
}

#[test]
fn dates_are_validated() {
    assert!(err("SELECT Id FROM Account WHERE CreatedDate > 2020-13-01")
        .contains("month 13 does not exist"));
    assert!(err("SELECT Id FROM Account WHERE CreatedDate > 2021-02-29").contains("day 29"));
    assert!(parse("SELECT Id FROM Account WHERE CreatedDate > 2024-02-29").is_ok());
    assert!(
        err("SELECT Id FROM Account WHERE CreatedDate > 2020-01-01T25:00:00Z")
            .contains("time out of range")
    );
    assert!(
        err("SELECT Id FROM Account WHERE CreatedDate > 2020-01-01T10:00:00").contains("time zone")
    );
}

#[test]
fn unknown_function_and_bad_distance_unit() {
    assert_eq!(
        err("SELECT LeadSourceCOUNT(Name) FROM Lead"),
        "line 1, column 8: unknown function 'LeadSourceCOUNT'"
    );
    let e = err("SELECT Id FROM Contact WHERE DISTANCE(Loc__c, GEOLOCATION(1, 2), 'm') < 5");
    assert!(
        e.contains("expected the unit 'mi' or 'km'") && e.contains("found string 'm'"),
        "{e}"
    );
}

#[test]
fn comparison_operator_expected_after_field() {
    let e = err("SELECT Id FROM Contact WHERE Account.Name Name LIKE 'C%'");
    assert!(
        e.starts_with("line 1, column 43: expected a comparison operator"),
        "{e}"
    );
    assert!(e.ends_with("after 'Account.Name', found 'Name'"), "{e}");
}

#[test]
fn missing_comma_and_glued_from() {
    assert_eq!(
        err("SELECT Id, Name FROMAccount"),
        "line 1, column 17: expected ',' or FROM after the select list, found 'FROMAccount'"
    );
    assert!(
        err("SELECT Name (SELECT LastName FROM Contacts) FROM Account").contains("expected ','")
    );
    // A plain field alias needs an aggregate query.
    assert!(err("SELECT Name n FROM Account").contains("only have an alias in an aggregate query"));
    assert!(parse("SELECT Name n, COUNT(Id) c FROM Account GROUP BY Name").is_ok());
}

#[test]
fn having_needs_group_by_and_parentheses_must_balance() {
    assert!(
        err("SELECT Name FROM Account HAVING COUNT(Id) > 1").contains("HAVING needs a GROUP BY")
    );
    assert!(err("SELECT Id FROM Account WHERE (Name = 'a'")
        .contains("expected ')' or AND/OR, found end of input"));
    assert!(err("SELECT Id FROM Account WHERE Name = 'a')")
        .contains("expected end of query, found ')'"));
}

#[test]
fn strings_and_escapes() {
    assert!(err("SELECT Id FROM Account WHERE Name = 'abc").contains("unterminated string"));
    assert!(err("SELECT Id FROM Account WHERE Name = 'a\\qb'")
        .contains("invalid escape sequence '\\q'"));
    assert!(err("SELECT Id FROM Account WHERE Name = \"x\"").contains("single quotes"));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!(
        "SELECT Id FROM A WHERE {}Id = '1'{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(err(&deep).contains("nested too deeply"));
    let nots = format!("SELECT Id FROM A WHERE {}Id = '1'", "NOT ".repeat(5000));
    assert!(err(&nots).contains("nested too deeply"));
    let mut sub = String::from("SELECT Id FROM A");
    for _ in 0..200 {
        sub = format!("SELECT Id FROM A WHERE Id IN ({sub})");
    }
    assert!(err(&sub).contains("nested too deeply"));
    let fmt = format!(
        "SELECT {}Id{} FROM A",
        "FORMAT(".repeat(3000),
        ")".repeat(3000)
    );
    assert!(err(&fmt).contains("nested too deeply"));
}

#[test]
fn reserved_words_are_not_fields() {
    assert_eq!(
        err("SELECT Id, FROM Account"),
        "line 1, column 12: expected a field, function or subquery in the select list, found 'FROM'"
    );
    assert_eq!(
        err("SELECT FROM Account"),
        "line 1, column 8: expected a field, function or subquery in the select list, found 'FROM'"
    );
    // Group and Order are objects, and OFFSET is not reserved: `FROM Account OFFSET` aliases it.
    assert!(parse("SELECT Id FROM Group WHERE Type = 'Queue'").is_ok());
    assert!(parse("SELECT Id FROM Order ORDER BY Id").is_ok());
    assert_eq!(
        parse("SELECT Name FROM Account OFFSET")
            .unwrap()
            .from
            .alias
            .as_deref(),
        Some("OFFSET")
    );
}

#[test]
fn n_date_literals_are_one_lexeme() {
    assert!(parse("SELECT Id FROM A WHERE CreatedDate = LAST_N_DAYS:30").is_ok());
    assert!(err("SELECT Id FROM A WHERE CreatedDate = LAST_N_DAYS : 30")
        .contains("':n' right after LAST_N_DAYS"));
    assert!(err("SELECT Id FROM A WHERE CreatedDate = LAST_N_DAYS: 30").contains("without a space"));
    assert!(err("SELECT Id FROM A WHERE CreatedDate = LAST_N_DAYS").contains("':n' right after"));
    assert!(err("SELECT Id FROM A WHERE CreatedDate = LAST_N_DAYS:-1").contains("a whole number"));
}

#[test]
fn count_rows_stands_alone() {
    assert_eq!(
        err("SELECT Id, COUNT() FROM Account"),
        "line 1, column 12: COUNT() must be the only item in the select list; use COUNT(Id) beside other fields"
    );
    assert!(parse("SELECT COUNT() total FROM Account").is_ok());
    assert!(parse("SELECT Name, COUNT(Id) FROM Account GROUP BY Name").is_ok());
}

#[test]
fn every_function_is_known_by_its_canonical_name() {
    use soql::ast::Function;
    let mut names: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
    for f in Function::ALL {
        assert_eq!(Function::from_name(f.name()), Some(f));
        assert_eq!(Function::from_name(&f.name().to_ascii_lowercase()), Some(f));
    }
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        Function::ALL.len(),
        "ALL lists each function once"
    );
}

#[test]
fn names_come_with_positions_on_request() {
    use soql::{parse_with_positions, NameKind};
    let (q, names) = parse_with_positions(
        "SELECT Id,\n  Owner.Name FROM Contact WHERE Foo__c = 1",
        ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(
        q,
        parse("SELECT Id, Owner.Name FROM Contact WHERE Foo__c = 1").unwrap()
    );
    let got: Vec<(&str, NameKind, usize, usize)> = names
        .iter()
        .map(|n| (n.name.as_str(), n.kind, n.line, n.column))
        .collect();
    assert_eq!(
        got,
        [
            ("Id", NameKind::Field, 1, 8),
            ("Owner.Name", NameKind::Field, 2, 3),
            ("Contact", NameKind::Object, 2, 19),
            ("Foo__c", NameKind::Field, 2, 33),
        ]
    );
}
