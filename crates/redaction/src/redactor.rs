//! The redactor built from checked rules, and what it does to one text: find, decide between
//! overlapping findings, substitute in what is left, and count.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::detect::{self, Finding, Kind, Scanner};
use crate::rules::{check_name_and_mask, Detector, PatternProblem, RedactionRules, RulesError};
use crate::substitution::{Replacement, SubstitutionMatcher};

/// Redacts texts by one set of rules. Build it once per job: it is `Send + Sync` and costs
/// nothing to share between the workers of a job.
#[derive(Debug)]
pub struct Redactor {
    /// The built-in detectors asked for that need a digit to find anything: all but email.
    digit_scanners: Vec<Scanner>,
    email: bool,
    custom: Vec<CompiledPattern>,
    substitutions: Option<SubstitutionMatcher>,
}

#[derive(Debug)]
struct CompiledPattern {
    name: String,
    mask: String,
    regex: Regex,
}

/// A text with everything sensitive replaced, and what was replaced. The original is not in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    pub applied: Applied,
}

/// How many of each kind a text (or, added up, a job) had redacted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub card: u64,
    pub iban: u64,
    pub email: u64,
    pub phone: u64,
    pub ssn: u64,
    /// By custom pattern name; a pattern that found nothing is absent.
    pub custom: BTreeMap<String, u64>,
    pub substitution: u64,
}

impl Applied {
    pub fn total(&self) -> u64 {
        self.card
            + self.iban
            + self.email
            + self.phone
            + self.ssn
            + self.custom.values().sum::<u64>()
            + self.substitution
    }

    pub fn detector(&self, detector: Detector) -> u64 {
        match detector {
            Detector::Card => self.card,
            Detector::Iban => self.iban,
            Detector::Email => self.email,
            Detector::Phone => self.phone,
            Detector::Ssn => self.ssn,
        }
    }

    /// Adds another text's counts, for a job's totals.
    pub fn add(&mut self, other: &Applied) {
        self.card += other.card;
        self.iban += other.iban;
        self.email += other.email;
        self.phone += other.phone;
        self.ssn += other.ssn;
        for (name, count) in &other.custom {
            *self.custom.entry(name.clone()).or_default() += count;
        }
        self.substitution += other.substitution;
    }
}

impl Redactor {
    pub fn new(rules: RedactionRules) -> Result<Self, RulesError> {
        let on = |detector| rules.detectors.contains(&detector);
        let mut custom = Vec::with_capacity(rules.custom.len());
        for (index, pattern) in rules.custom.iter().enumerate() {
            let refuse = |problem| RulesError::CustomPattern {
                name: pattern.name.clone(),
                problem,
            };
            check_name_and_mask(pattern, &rules.custom[..index]).map_err(refuse)?;
            let regex = compile(&pattern.pattern).map_err(refuse)?;
            custom.push(CompiledPattern {
                name: pattern.name.clone(),
                mask: pattern.mask(),
                regex,
            });
        }
        let substitutions = if rules.substitutions.is_empty() {
            None
        } else {
            let matcher = SubstitutionMatcher::new(&rules.substitutions)
                .map_err(|err| RulesError::Substitutions(err.to_string()))?;
            Some(matcher)
        };
        let digit_scanners = [
            (Detector::Card, detect::card::find as Scanner),
            (Detector::Iban, detect::iban::find),
            (Detector::Phone, detect::phone::find),
            (Detector::Ssn, detect::ssn::find),
        ]
        .into_iter()
        .filter(|&(detector, _)| on(detector))
        .map(|(_, scanner)| scanner)
        .collect();
        Ok(Self {
            digit_scanners,
            email: on(Detector::Email),
            custom,
            substitutions,
        })
    }

    /// Redacts one text: detectors and custom patterns first, then substitutions in the text
    /// they leave. See the crate documentation for how overlaps are decided.
    pub fn redact(&self, text: &str) -> Redacted {
        let findings = self.findings(text);
        let mut replacements = Vec::new();
        if let Some(matcher) = &self.substitutions {
            let free = |start: usize, end: usize| !overlaps(&findings, start, end);
            matcher.find(text, free, &mut replacements);
        }
        if findings.is_empty() && replacements.is_empty() {
            return Redacted {
                text: text.to_owned(),
                applied: Applied::default(),
            };
        }
        self.write(text, &findings, &replacements)
    }

    /// Every finding kept, in text order, none overlapping another.
    fn findings(&self, text: &str) -> Vec<Finding> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        // Most chat lines hold no digit; one look at them spares the four digit detectors.
        if !self.digit_scanners.is_empty() && bytes.iter().any(u8::is_ascii_digit) {
            for find in &self.digit_scanners {
                find(bytes, &mut found);
            }
        }
        if self.email {
            detect::email::find(bytes, &mut found);
        }
        for (index, pattern) in self.custom.iter().enumerate() {
            found.extend(pattern.regex.find_iter(text).map(|m| Finding {
                start: m.start(),
                end: m.end(),
                kind: Kind::Custom(index),
            }));
        }
        resolve(found)
    }

    fn mask(&self, kind: Kind) -> &str {
        match kind {
            Kind::Card => Detector::Card.mask(),
            Kind::Iban => Detector::Iban.mask(),
            Kind::Email => Detector::Email.mask(),
            Kind::Phone => Detector::Phone.mask(),
            Kind::Ssn => Detector::Ssn.mask(),
            Kind::Custom(index) => &self.custom[index].mask,
        }
    }

    fn write(&self, text: &str, findings: &[Finding], replacements: &[Replacement]) -> Redacted {
        let mut out = String::with_capacity(text.len());
        let mut applied = Applied::default();
        let mut copied = 0;
        let mut findings = findings.iter().peekable();
        let mut replacements = replacements.iter().peekable();
        loop {
            let finding_first = match (findings.peek(), replacements.peek()) {
                (Some(f), Some(r)) => f.start < r.start,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (start, end, with) = if finding_first {
                let Some(f) = findings.next() else { break };
                self.count(f.kind, &mut applied);
                (f.start, f.end, self.mask(f.kind))
            } else {
                let Some(r) = replacements.next() else { break };
                applied.substitution += 1;
                let matcher = self
                    .substitutions
                    .as_ref()
                    .expect("replacements come from the matcher");
                (r.start, r.end, matcher.replacement(r.index))
            };
            out.push_str(&text[copied..start]);
            out.push_str(with);
            copied = end;
        }
        out.push_str(&text[copied..]);
        Redacted { text: out, applied }
    }

    fn count(&self, kind: Kind, applied: &mut Applied) {
        let counter = match kind {
            Kind::Card => &mut applied.card,
            Kind::Iban => &mut applied.iban,
            Kind::Email => &mut applied.email,
            Kind::Phone => &mut applied.phone,
            Kind::Ssn => &mut applied.ssn,
            Kind::Custom(index) => applied
                .custom
                .entry(self.custom[index].name.clone())
                .or_default(),
        };
        *counter += 1;
    }
}

fn compile(pattern: &str) -> Result<Regex, PatternProblem> {
    let regex = Regex::new(pattern).map_err(|err| PatternProblem::InvalidRegex(err.to_string()))?;
    // The regex crate parses with these same defaults, so a pattern it compiled parses here.
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|err| PatternProblem::InvalidRegex(err.to_string()))?;
    if hir.properties().minimum_len() == Some(0) {
        return Err(PatternProblem::MatchesEmptyText);
    }
    Ok(regex)
}

/// Decides between overlapping findings. Card numbers, IBANs and emails are decided first, on
/// their own: leftmost wins, then the longest, then the earlier kind (card before IBAN before
/// email). Phones, SSNs and custom patterns are then decided the same way among themselves,
/// each only where it overlaps nothing already kept, so a phone can never take digits of a
/// card number or an IBAN.
fn resolve(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() <= 1 {
        return found;
    }
    found.sort_unstable_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(a.kind.cmp(&b.kind))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
    let mut taken_until = 0;
    for f in found.iter().filter(|f| f.kind.is_checked()) {
        if f.start >= taken_until {
            kept.push(*f);
            taken_until = f.end;
        }
    }
    let checked = kept.len();
    let mut taken_until = 0;
    for f in found.iter().filter(|f| !f.kind.is_checked()) {
        if f.start >= taken_until && !overlaps(&kept[..checked], f.start, f.end) {
            kept.push(*f);
            taken_until = f.end;
        }
    }
    kept.sort_unstable_by_key(|f| f.start);
    kept
}

/// Whether `start..end` overlaps any of `findings`, which are in text order and disjoint.
fn overlaps(findings: &[Finding], start: usize, end: usize) -> bool {
    let after = findings.partition_point(|f| f.end <= start);
    findings.get(after).is_some_and(|f| f.start < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: Kind, start: usize, end: usize) -> Finding {
        Finding { start, end, kind }
    }

    fn kept(found: &[Finding]) -> Vec<(Kind, usize, usize)> {
        resolve(found.to_vec())
            .iter()
            .map(|f| (f.kind, f.start, f.end))
            .collect()
    }

    #[test]
    fn the_leftmost_then_the_longest_then_the_earlier_kind_wins() {
        let custom = Kind::Custom(0);
        assert_eq!(
            kept(&[finding(Kind::Phone, 5, 15), finding(custom, 0, 8)]),
            [(custom, 0, 8)]
        );
        assert_eq!(
            kept(&[finding(Kind::Phone, 0, 10), finding(custom, 0, 12)]),
            [(custom, 0, 12)]
        );
        assert_eq!(
            kept(&[finding(custom, 0, 10), finding(Kind::Phone, 0, 10)]),
            [(Kind::Phone, 0, 10)]
        );
        assert_eq!(
            kept(&[finding(Kind::Card, 5, 21), finding(Kind::Email, 0, 30)]),
            [(Kind::Email, 0, 30)]
        );
        assert_eq!(
            kept(&[finding(Kind::Iban, 0, 22), finding(Kind::Card, 0, 22)]),
            [(Kind::Card, 0, 22)]
        );
    }

    #[test]
    fn checked_findings_win_over_earlier_or_longer_shape_findings() {
        assert_eq!(
            kept(&[
                finding(Kind::Phone, 0, 17),
                finding(Kind::Card, 3, 22),
                finding(Kind::Ssn, 20, 31),
                finding(Kind::Ssn, 40, 51),
                finding(Kind::Custom(1), 23, 30),
            ]),
            [
                (Kind::Card, 3, 22),
                (Kind::Custom(1), 23, 30),
                (Kind::Ssn, 40, 51)
            ]
        );
    }
}
