//! Roll-up summaries as running aggregates, and an index of each parent's children.
//!
//! A real org does not get slower as an Account gathers children, so neither may sfsim:
//! every child write moves the aggregates of the one or two parents it touches (COUNT and SUM
//! directly, MIN and MAX through an ordered multiset of the children's values), never a scan.
//! Everything here is derived from the tables: it is not saved with the state but rebuilt on
//! load and after metadata changes, and kept by every write and every undo of a rollback.

use super::{Record, Table};
use crate::ids::Id;
use crate::metadata::{Metadata, RollupOp};
use crate::val::Val;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One roll-up field, resolved to indexes.
#[derive(Clone, Debug)]
struct Def {
    poi: usize,
    pfi: usize,
    /// The child's field naming the parent.
    via: usize,
    /// The child's field summarised (none for COUNT).
    field: Option<usize>,
    op: RollupOp,
}

/// A value's place in MIN/MAX order, as `Val::cmp_loose` orders values of one field.
#[derive(Clone, Debug)]
enum Key {
    Num(f64),
    Time(i64),
    Text(String),
}

impl Key {
    fn of(v: &Val) -> Option<Key> {
        Some(match v {
            Val::Null => return None,
            Val::Num(n) => Key::Num(*n),
            Val::Bool(b) => Key::Num(if *b { 1.0 } else { 0.0 }),
            Val::Date(d) => Key::Time(*d as i64 * 86_400_000),
            Val::DateTime(ms) => Key::Time(*ms),
            // SOQL orders text case-insensitively.
            Val::Str(s) => Key::Text(s.to_lowercase()),
        })
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.total_cmp(b),
            (Key::Time(a), Key::Time(b)) => a.cmp(b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            // One field holds one type; any fixed order will do for a mix.
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl Key {
    fn rank(&self) -> u8 {
        match self {
            Key::Num(_) => 0,
            Key::Time(_) => 1,
            Key::Text(_) => 2,
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

/// The running aggregate of one roll-up field on one parent.
#[derive(Debug, Default)]
struct Agg {
    count: u64,
    /// Children with a value in the summarised field, and their sum.
    summed: u64,
    sum: f64,
    /// MIN/MAX only: value -> the children holding it (by id, with the value as stored, whose
    /// case a text key loses). Ties go to the lowest id, as a scan in id order would pick.
    values: BTreeMap<Key, BTreeMap<Id, Val>>,
}

#[derive(Debug, Default)]
pub(crate) struct Rollups {
    /// Child object -> the roll-ups its records feed.
    by_child: HashMap<usize, Vec<Def>>,
    /// Child object -> fields whose parents' children are indexed (master-detail and roll-up
    /// fields): for cascading deletes and for tests, without a scan of the child table.
    tracked: HashMap<usize, Vec<usize>>,
    /// (child object, field) -> parent id -> live children.
    children: HashMap<(usize, usize), HashMap<Id, BTreeSet<Id>>>,
    /// (parent object, roll-up field, parent id) -> aggregate.
    aggs: HashMap<(usize, usize, Id), Agg>,
}

fn parent_of(rec: &Record, via: usize) -> Option<Id> {
    rec.get(via).as_str().and_then(Id::parse)
}

impl Rollups {
    /// Resolves the roll-ups of the metadata and folds every live record in.
    pub(crate) fn build(meta: &Metadata, tables: &[Table]) -> Rollups {
        let mut r = Rollups::default();
        for (poi, po) in meta.objects.iter().enumerate() {
            for (pfi, pf) in po.fields.iter().enumerate() {
                let Some(ru) = &pf.rollup else { continue };
                let Some(coi) = meta.object_index(&ru.child) else {
                    continue;
                };
                let co = &meta.objects[coi];
                let Some(via) = co.field_index(&ru.via) else {
                    continue;
                };
                let field = ru.field.as_deref().and_then(|f| co.field_index(f));
                r.by_child.entry(coi).or_default().push(Def {
                    poi,
                    pfi,
                    via,
                    field,
                    op: ru.op,
                });
                r.tracked.entry(coi).or_default().push(via);
            }
        }
        for (coi, co) in meta.objects.iter().enumerate() {
            for (fi, f) in co.fields.iter().enumerate() {
                if f.master_detail {
                    r.tracked.entry(coi).or_default().push(fi);
                }
            }
        }
        for fields in r.tracked.values_mut() {
            fields.sort_unstable();
            fields.dedup();
        }
        for (oi, t) in tables.iter().enumerate() {
            if !r.tracked.contains_key(&oi) {
                continue;
            }
            for rec in t.records.values() {
                r.track(oi, None, Some(rec));
            }
        }
        r
    }

    /// Moves the indexes and aggregates from `old` to `new` (either absent or deleted).
    pub(crate) fn track(&mut self, oi: usize, old: Option<&Record>, new: Option<&Record>) {
        let Some(fields) = self.tracked.get(&oi) else {
            return;
        };
        let old = old.filter(|r| !r.deleted);
        let new = new.filter(|r| !r.deleted);
        for &fi in fields {
            let m = self.children.entry((oi, fi)).or_default();
            if let Some((rec, pid)) = old.and_then(|r| Some((r, parent_of(r, fi)?))) {
                if let Some(set) = m.get_mut(&pid) {
                    set.remove(&rec.id);
                    if set.is_empty() {
                        m.remove(&pid);
                    }
                }
            }
            if let Some((rec, pid)) = new.and_then(|r| Some((r, parent_of(r, fi)?))) {
                m.entry(pid).or_default().insert(rec.id);
            }
        }
        let Some(defs) = self.by_child.get(&oi) else {
            return;
        };
        for d in defs {
            if let Some(rec) = old {
                if let Some(pid) = parent_of(rec, d.via) {
                    let key = (d.poi, d.pfi, pid);
                    if let Some(agg) = self.aggs.get_mut(&key) {
                        agg.remove(d, rec);
                        if agg.count == 0 {
                            self.aggs.remove(&key);
                        }
                    }
                }
            }
            if let Some(rec) = new {
                if let Some(pid) = parent_of(rec, d.via) {
                    self.aggs
                        .entry((d.poi, d.pfi, pid))
                        .or_default()
                        .add(d, rec);
                }
            }
        }
    }

    /// Parents whose roll-ups a change to this child may move: (parent object, field, parent id).
    pub(crate) fn parents(
        &self,
        oi: usize,
        old: Option<&Record>,
        new: Option<&Record>,
    ) -> Vec<(usize, usize, Id)> {
        let mut out = Vec::new();
        for d in self.by_child.get(&oi).into_iter().flatten() {
            for rec in [old, new].into_iter().flatten() {
                if let Some(pid) = parent_of(rec, d.via) {
                    if !out.contains(&(d.poi, d.pfi, pid)) {
                        out.push((d.poi, d.pfi, pid));
                    }
                }
            }
        }
        out
    }

    /// The roll-up's value on a parent: COUNT and SUM read 0 with no children, MIN and MAX null.
    pub(crate) fn value(&self, poi: usize, pfi: usize, pid: Id, op: RollupOp) -> Val {
        let agg = self.aggs.get(&(poi, pfi, pid));
        match op {
            RollupOp::Count => Val::Num(agg.map_or(0, |a| a.count) as f64),
            RollupOp::Sum => Val::Num(agg.map_or(0.0, |a| a.sum)),
            RollupOp::Min => agg
                .and_then(|a| a.values.values().next())
                .and_then(|ids| ids.values().next().cloned())
                .unwrap_or(Val::Null),
            RollupOp::Max => agg
                .and_then(|a| a.values.values().next_back())
                .and_then(|ids| ids.values().next().cloned())
                .unwrap_or(Val::Null),
        }
    }

    /// Live children of a parent through the child's field `fi` (a master-detail or roll-up
    /// field; empty for any other).
    pub(crate) fn children_of(&self, coi: usize, fi: usize, pid: Id) -> Vec<Id> {
        self.children
            .get(&(coi, fi))
            .and_then(|m| m.get(&pid))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

impl Agg {
    fn add(&mut self, d: &Def, rec: &Record) {
        self.count += 1;
        let Some(fi) = d.field else { return };
        let v = rec.get(fi);
        if v.is_null() {
            return;
        }
        self.summed += 1;
        if let Val::Num(n) = v {
            self.sum += n;
        }
        if matches!(d.op, RollupOp::Min | RollupOp::Max) {
            if let Some(k) = Key::of(v) {
                self.values.entry(k).or_default().insert(rec.id, v.clone());
            }
        }
    }

    fn remove(&mut self, d: &Def, rec: &Record) {
        self.count = self.count.saturating_sub(1);
        let Some(fi) = d.field else { return };
        let v = rec.get(fi);
        if v.is_null() {
            return;
        }
        self.summed = self.summed.saturating_sub(1);
        if self.summed == 0 {
            // No float residue once nothing is left to sum.
            self.sum = 0.0;
        } else if let Val::Num(n) = v {
            self.sum -= n;
        }
        if let Some(k) = Key::of(v) {
            if let Some(ids) = self.values.get_mut(&k) {
                ids.remove(&rec.id);
                if ids.is_empty() {
                    self.values.remove(&k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::Id;
    use crate::metadata::MetadataFile;
    use crate::store::{Ctx, Store};
    use crate::val::Val;
    use serde_json::{json, Value};

    const MORE: &str = r#"
objects:
  - name: Account
    fields:
      - {name: Lowest_NPS__c, type: summary, summary: {operation: min, object: Survey_Response__c, field: NPS_Score__c}}
      - {name: Highest_NPS__c, type: summary, summary: {operation: max, object: Survey_Response__c, field: NPS_Score__c}}
      - {name: First_Completed__c, type: summary, summary: {operation: min, object: Survey_Response__c, field: Completed_At__c}}
  - name: Survey_Response__c
    fields:
      - {name: Sponsor__c, type: lookup, referenceTo: Account}
  - name: Account
    fields:
      - {name: Sp_Count__c, type: summary, summary: {operation: count, object: Survey_Response__c, via: Sponsor__c}}
      - {name: Sp_Total__c, type: summary, summary: {operation: sum, object: Survey_Response__c, via: Sponsor__c, field: NPS_Score__c}}
      - {name: Sp_Min__c, type: summary, summary: {operation: min, object: Survey_Response__c, via: Sponsor__c, field: NPS_Score__c}}
      - {name: Sp_Max__c, type: summary, summary: {operation: max, object: Survey_Response__c, via: Sponsor__c, field: NPS_Score__c}}
      - {name: Sp_First__c, type: summary, summary: {operation: min, object: Survey_Response__c, via: Sponsor__c, field: Completed_At__c}}
      - {name: Sp_Last__c, type: summary, summary: {operation: max, object: Survey_Response__c, via: Sponsor__c, field: Completed_At__c}}
"#;

    fn org() -> (Store, Ctx) {
        let mut s = Store::new(0, "pw");
        let ctx = Ctx {
            now: 0,
            user: s.admin().id,
            profile: None,
        };
        s.apply_metadata(&crate::seed::demo_metadata(), &ctx)
            .unwrap();
        s.apply_metadata(&MetadataFile::parse(MORE).unwrap(), &ctx)
            .unwrap();
        (s, ctx)
    }

    fn body(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn account(s: &mut Store, ctx: &Ctx, name: &str) -> Id {
        let oi = s.meta.object_index("Account").unwrap();
        s.insert(oi, &body(json!({"Name": name})), ctx).unwrap()
    }

    fn response(s: &mut Store, ctx: &Ctx, acc: Id, nps: Option<f64>, at: &str) -> Id {
        let oi = s.meta.object_index("Survey_Response__c").unwrap();
        // The lookup starts on the same parent; tests move it where a master-detail cannot go.
        let mut b =
            json!({"Account__c": acc.to18(), "Sponsor__c": acc.to18(), "Completed_At__c": at});
        if let Some(n) = nps {
            b["NPS_Score__c"] = json!(n);
        }
        s.insert(oi, &body(b), ctx).unwrap()
    }

    fn field(s: &Store, acc: Id, name: &str) -> Val {
        let oi = s.meta.object_index("Account").unwrap();
        let fi = s.meta.objects[oi].field_index(name).unwrap();
        s.get(oi, acc).unwrap().get(fi).clone()
    }

    /// (count, sum, min NPS, max NPS, first completed, last completed) as stored on the parent.
    fn stored(s: &Store, acc: Id) -> Vec<Val> {
        stored_as(s, acc, MASTER)
    }

    const MASTER: [&str; 6] = [
        "Survey_Response_Count__c",
        "NPS_Score_Total__c",
        "Lowest_NPS__c",
        "Highest_NPS__c",
        "First_Completed__c",
        "Last_Survey_Completed__c",
    ];
    const SPONSOR: [&str; 6] = [
        "Sp_Count__c",
        "Sp_Total__c",
        "Sp_Min__c",
        "Sp_Max__c",
        "Sp_First__c",
        "Sp_Last__c",
    ];

    fn stored_as(s: &Store, acc: Id, fields: [&str; 6]) -> Vec<Val> {
        fields.iter().map(|f| field(s, acc, f)).collect()
    }

    /// The same figures by scanning every child, as sfsim used to on every write.
    fn scanned(s: &Store, acc: Id, via: &str) -> Vec<Val> {
        let coi = s.meta.object_index("Survey_Response__c").unwrap();
        let co = &s.meta.objects[coi];
        let (via, nps, at) = (
            co.field_index(via).unwrap(),
            co.field_index("NPS_Score__c").unwrap(),
            co.field_index("Completed_At__c").unwrap(),
        );
        let kids: Vec<_> = s.tables[coi]
            .records
            .values()
            .filter(|r| !r.deleted && r.get(via).as_str() == Some(acc.to18().as_str()))
            .collect();
        let nums: Vec<f64> = kids
            .iter()
            .filter_map(|r| match r.get(nps) {
                Val::Num(n) => Some(*n),
                _ => None,
            })
            .collect();
        let times: Vec<i64> = kids
            .iter()
            .filter_map(|r| match r.get(at) {
                Val::DateTime(t) => Some(*t),
                _ => None,
            })
            .collect();
        let opt = |v: Option<Val>| v.unwrap_or(Val::Null);
        vec![
            Val::Num(kids.len() as f64),
            Val::Num(nums.iter().sum()),
            opt(nums.iter().copied().reduce(f64::min).map(Val::Num)),
            opt(nums.iter().copied().reduce(f64::max).map(Val::Num)),
            opt(times.iter().min().copied().map(Val::DateTime)),
            opt(times.iter().max().copied().map(Val::DateTime)),
        ]
    }

    fn check(s: &Store, accs: &[Id]) {
        for &a in accs {
            assert_eq!(stored(s, a), scanned(s, a, "Account__c"));
            assert_eq!(stored_as(s, a, SPONSOR), scanned(s, a, "Sponsor__c"));
        }
    }

    const T1: &str = "2026-01-01T00:00:00.000Z";
    const T2: &str = "2026-02-01T00:00:00.000Z";
    const T3: &str = "2026-03-01T00:00:00.000Z";

    #[test]
    fn inserts_count_sum_and_track_extremes() {
        let (mut s, ctx) = org();
        let a = account(&mut s, &ctx, "A");
        assert_eq!(field(&s, a, "Survey_Response_Count__c"), Val::Num(0.0));
        assert_eq!(field(&s, a, "Lowest_NPS__c"), Val::Null);
        response(&mut s, &ctx, a, Some(7.0), T2);
        response(&mut s, &ctx, a, Some(3.0), T1);
        response(&mut s, &ctx, a, None, T3);
        assert_eq!(
            stored(&s, a)[..4],
            [Val::Num(3.0), Val::Num(10.0), Val::Num(3.0), Val::Num(7.0)]
        );
        check(&s, &[a]);
    }

    #[test]
    fn deleting_the_extreme_falls_back_to_the_next_one() {
        let (mut s, ctx) = org();
        let a = account(&mut s, &ctx, "A");
        let low = response(&mut s, &ctx, a, Some(1.0), T1);
        response(&mut s, &ctx, a, Some(5.0), T2);
        let high = response(&mut s, &ctx, a, Some(9.0), T3);
        response(&mut s, &ctx, a, Some(9.0), T2);
        s.delete(high, &ctx).unwrap();
        assert_eq!(
            field(&s, a, "Highest_NPS__c"),
            Val::Num(9.0),
            "a tie remains"
        );
        check(&s, &[a]);
        s.delete(low, &ctx).unwrap();
        assert_eq!(field(&s, a, "Lowest_NPS__c"), Val::Num(5.0));
        check(&s, &[a]);
        for id in s.children_of(
            s.meta.object_index("Survey_Response__c").unwrap(),
            s.meta
                .object("Survey_Response__c")
                .unwrap()
                .field_index("Account__c")
                .unwrap(),
            a,
        ) {
            s.delete(id, &ctx).unwrap();
        }
        assert_eq!(
            stored(&s, a),
            [
                Val::Num(0.0),
                Val::Num(0.0),
                Val::Null,
                Val::Null,
                Val::Null,
                Val::Null
            ]
        );
    }

    #[test]
    fn updates_move_values_and_children_between_parents() {
        let (mut s, ctx) = org();
        let (a, b) = (account(&mut s, &ctx, "A"), account(&mut s, &ctx, "B"));
        let coi = s.meta.object_index("Survey_Response__c").unwrap();
        let r = response(&mut s, &ctx, a, Some(10.0), T3);
        response(&mut s, &ctx, a, Some(4.0), T1);
        response(&mut s, &ctx, b, Some(6.0), T2);
        // The current maximum lowered in place.
        s.update(coi, r, &body(json!({"NPS_Score__c": 2})), &ctx)
            .unwrap();
        assert_eq!(field(&s, a, "Highest_NPS__c"), Val::Num(4.0));
        check(&s, &[a, b]);
        // Moved to another parent through the lookup: both parents move.
        s.update(coi, r, &body(json!({"Sponsor__c": b.to18()})), &ctx)
            .unwrap();
        assert_eq!(field(&s, a, "Sp_Count__c"), Val::Num(1.0));
        assert_eq!(field(&s, b, "Sp_Count__c"), Val::Num(2.0));
        assert_eq!(field(&s, a, "Sp_Min__c"), Val::Num(4.0));
        assert_eq!(field(&s, b, "Sp_Min__c"), Val::Num(2.0));
        check(&s, &[a, b]);
        // And off every parent.
        s.update(coi, r, &body(json!({"Sponsor__c": null})), &ctx)
            .unwrap();
        assert_eq!(field(&s, b, "Sp_Count__c"), Val::Num(1.0));
        check(&s, &[a, b]);
        // A value cleared leaves the count alone.
        s.update(coi, r, &body(json!({"NPS_Score__c": null})), &ctx)
            .unwrap();
        check(&s, &[a, b]);
    }

    #[test]
    fn a_rollback_restores_aggregates_and_undeletes_children() {
        let (mut s, ctx) = org();
        let (a, b) = (account(&mut s, &ctx, "A"), account(&mut s, &ctx, "B"));
        let coi = s.meta.object_index("Survey_Response__c").unwrap();
        let keep = response(&mut s, &ctx, a, Some(8.0), T2);
        let moved = response(&mut s, &ctx, a, Some(1.0), T1);
        let before = (
            stored(&s, a),
            stored(&s, b),
            stored_as(&s, a, SPONSOR),
            stored_as(&s, b, SPONSOR),
        );
        s.begin();
        response(&mut s, &ctx, a, Some(0.0), T3);
        s.update(coi, moved, &body(json!({"Sponsor__c": b.to18()})), &ctx)
            .unwrap();
        s.delete(keep, &ctx).unwrap();
        check(&s, &[a, b]);
        s.rollback(0);
        let after = (
            stored(&s, a),
            stored(&s, b),
            stored_as(&s, a, SPONSOR),
            stored_as(&s, b, SPONSOR),
        );
        assert_eq!(after, before);
        assert!(!s.get(coi, keep).unwrap().deleted, "the delete is undone");
        // The aggregates behind the fields are back too: the next write builds on them.
        response(&mut s, &ctx, a, Some(9.0), T3);
        assert_eq!(field(&s, a, "Survey_Response_Count__c"), Val::Num(3.0));
        check(&s, &[a, b]);
        // Deleting the master takes its children, found through the index.
        s.delete(a, &ctx).unwrap();
        assert!(s.get(coi, keep).unwrap().deleted);
    }

    #[test]
    fn aggregates_are_rebuilt_from_a_saved_state() {
        let (mut s, ctx) = org();
        let a = account(&mut s, &ctx, "A");
        let low = response(&mut s, &ctx, a, Some(2.0), T1);
        response(&mut s, &ctx, a, Some(6.0), T2);
        let mut loaded: Store = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        loaded.reindex();
        loaded.delete(low, &ctx).unwrap();
        response(&mut loaded, &ctx, a, Some(4.0), T3);
        assert_eq!(field(&loaded, a, "Survey_Response_Count__c"), Val::Num(2.0));
        assert_eq!(field(&loaded, a, "Lowest_NPS__c"), Val::Num(4.0));
        check(&loaded, &[a]);
    }
}
