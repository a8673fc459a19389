//! The row lists of the builder's forms (choices, statements, scale points, flow elements,
//! embedded data fields): a button names the list and what to do with which row
//! (`choices:up:2`), and the form comes back re-rendered with everything typed kept, so the
//! lists work with the keyboard and without the script.

/// What a row button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOp {
    Add,
    Remove(usize),
    Up(usize),
    Down(usize),
}

/// `list:add`, `list:remove:2`, `list:up:2`, `list:down:2` as the list and the op.
pub(crate) fn parse(value: &str) -> Option<(&str, RowOp)> {
    let mut parts = value.splitn(3, ':');
    let list = parts.next()?;
    let op = parts.next()?;
    let index = parts.next().and_then(|i| i.parse::<usize>().ok());
    let op = match (op, index) {
        ("add", _) => RowOp::Add,
        ("remove", Some(i)) => RowOp::Remove(i),
        ("up", Some(i)) => RowOp::Up(i),
        ("down", Some(i)) => RowOp::Down(i),
        _ => return None,
    };
    Some((list, op))
}

/// Applies `op` to `rows`; `new` makes an added row. Out-of-range indexes do nothing (a
/// stale button).
pub(crate) fn apply<T>(rows: &mut Vec<T>, op: RowOp, new: impl FnOnce(&[T]) -> T) {
    match op {
        RowOp::Add => {
            let row = new(rows);
            rows.push(row);
        }
        RowOp::Remove(i) if i < rows.len() => {
            rows.remove(i);
        }
        RowOp::Up(i) if i > 0 && i < rows.len() => rows.swap(i - 1, i),
        RowOp::Down(i) if i + 1 < rows.len() => rows.swap(i, i + 1),
        _ => {}
    }
}

/// The next free numeric id among `ids` ("1", "2", ... as Qualtrics numbers choices).
pub(crate) fn next_id<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let max = ids
        .filter_map(|id| id.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    (max + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_read_as_ops_and_move_rows() {
        assert_eq!(parse("choices:up:2"), Some(("choices", RowOp::Up(2))));
        assert_eq!(parse("scale:add"), Some(("scale", RowOp::Add)));
        assert_eq!(parse("scale:remove:x"), None);
        let mut rows = vec!["a", "b", "c"];
        apply(&mut rows, RowOp::Up(2), |_| "n");
        assert_eq!(rows, ["a", "c", "b"]);
        apply(&mut rows, RowOp::Down(2), |_| "n");
        assert_eq!(rows, ["a", "c", "b"], "the last row cannot go down");
        apply(&mut rows, RowOp::Remove(0), |_| "n");
        apply(&mut rows, RowOp::Add, |_| "n");
        assert_eq!(rows, ["c", "b", "n"]);
        assert_eq!(next_id(["1", "7", "x"].into_iter()), "8");
    }
}
