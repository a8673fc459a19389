//! Word substitutions: `phrase: replacement` lines, as XM Discover takes them. A phrase is
//! replaced only as whole words, case-sensitively, leftmost first and longest first.

use std::collections::HashMap;
use std::str::FromStr;

use aho_corasick::AhoCorasick;

/// One phrase and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substitution {
    phrase: String,
    replacement: String,
}

impl Substitution {
    pub fn phrase(&self) -> &str {
        &self.phrase
    }

    pub fn replacement(&self) -> &str {
        &self.replacement
    }
}

/// A checked list of substitutions: no empty phrase, no phrase twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Substitutions {
    entries: Vec<Substitution>,
}

/// A substitution refused, with where it was: the 1-based line of the text block, or for
/// [`Substitutions::from_pairs`] the 1-based position of the pair, as if each were a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct SubstitutionError {
    pub line: usize,
    pub problem: SubstitutionProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstitutionProblem {
    #[error("no ':' between the phrase and its replacement")]
    MissingColon,
    #[error("the phrase before ':' is empty")]
    EmptyPhrase,
    #[error("the phrase \"{phrase}\" is already given on line {first_line}")]
    DuplicatePhrase { phrase: String, first_line: usize },
}

impl Substitutions {
    /// Reads `phrase: replacement` lines. Both sides are trimmed; the phrase ends at the first
    /// colon, so it cannot hold one, while the replacement can. Blank lines and lines starting
    /// with `#` are skipped.
    pub fn parse(text: &str) -> Result<Self, SubstitutionError> {
        let mut list = Listing::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((phrase, replacement)) = line.split_once(':') else {
                return Err(SubstitutionError {
                    line: line_number,
                    problem: SubstitutionProblem::MissingColon,
                });
            };
            list.add(line_number, phrase, replacement)?;
        }
        Ok(list.finish())
    }

    /// Takes pairs of phrase and replacement (a list, or a map from an API), trimmed as
    /// [`parse`](Self::parse) trims them. A phrase may hold a colon here.
    pub fn from_pairs<I, P, R>(pairs: I) -> Result<Self, SubstitutionError>
    where
        I: IntoIterator<Item = (P, R)>,
        P: AsRef<str>,
        R: AsRef<str>,
    {
        let mut list = Listing::default();
        for (index, (phrase, replacement)) in pairs.into_iter().enumerate() {
            list.add(index + 1, phrase.as_ref(), replacement.as_ref())?;
        }
        Ok(list.finish())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Substitution> {
        self.entries.iter()
    }
}

impl FromStr for Substitutions {
    type Err = SubstitutionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl<'a> IntoIterator for &'a Substitutions {
    type Item = &'a Substitution;
    type IntoIter = std::slice::Iter<'a, Substitution>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Substitutions being read, remembering where each phrase was first given.
#[derive(Default)]
struct Listing {
    entries: Vec<Substitution>,
    first_lines: HashMap<String, usize>,
}

impl Listing {
    fn add(
        &mut self,
        line: usize,
        phrase: &str,
        replacement: &str,
    ) -> Result<(), SubstitutionError> {
        let refuse = |problem| Err(SubstitutionError { line, problem });
        let phrase = phrase.trim();
        if phrase.is_empty() {
            return refuse(SubstitutionProblem::EmptyPhrase);
        }
        if let Some(&first_line) = self.first_lines.get(phrase) {
            return refuse(SubstitutionProblem::DuplicatePhrase {
                phrase: phrase.to_owned(),
                first_line,
            });
        }
        self.first_lines.insert(phrase.to_owned(), line);
        self.entries.push(Substitution {
            phrase: phrase.to_owned(),
            replacement: replacement.trim().to_owned(),
        });
        Ok(())
    }

    fn finish(self) -> Substitutions {
        Substitutions {
            entries: self.entries,
        }
    }
}

/// Where one substitution applies, as byte offsets, and which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replacement {
    pub start: usize,
    pub end: usize,
    pub index: usize,
}

/// The substitutions compiled into one automaton, so a list of thousands of phrases costs one
/// pass over the text.
#[derive(Debug)]
pub(crate) struct SubstitutionMatcher {
    automaton: AhoCorasick,
    replacements: Vec<String>,
    /// Whether each phrase starts and ends with a word character: only there does it need a
    /// word boundary (`C++` may be followed by anything).
    edges: Vec<(bool, bool)>,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl SubstitutionMatcher {
    pub(crate) fn new(substitutions: &Substitutions) -> Result<Self, aho_corasick::BuildError> {
        let phrases = substitutions.iter().map(Substitution::phrase);
        let edges = substitutions
            .iter()
            .map(|s| {
                let starts = s.phrase.chars().next().is_some_and(is_word_char);
                let ends = s.phrase.chars().next_back().is_some_and(is_word_char);
                (starts, ends)
            })
            .collect();
        Ok(Self {
            // Every match is wanted, not only the leftmost-longest: a phrase that fails its
            // word boundary or overlaps a detected number must leave the shorter ones a chance.
            automaton: AhoCorasick::new(phrases)?,
            replacements: substitutions
                .iter()
                .map(|s| s.replacement.clone())
                .collect(),
            edges,
        })
    }

    pub(crate) fn replacement(&self, index: usize) -> &str {
        &self.replacements[index]
    }

    /// Whole-word matches in the places `free` allows, leftmost first and the longest of those
    /// starting at the same place, none overlapping another.
    pub(crate) fn find(
        &self,
        text: &str,
        free: impl Fn(usize, usize) -> bool,
        out: &mut Vec<Replacement>,
    ) {
        let start = out.len();
        out.extend(
            self.automaton
                .find_overlapping_iter(text)
                .filter(|m| self.whole_words(text, m.start(), m.end(), m.pattern().as_usize()))
                .filter(|m| free(m.start(), m.end()))
                .map(|m| Replacement {
                    start: m.start(),
                    end: m.end(),
                    index: m.pattern().as_usize(),
                }),
        );
        let found = &mut out[start..];
        found.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut kept = start;
        let mut taken_until = 0;
        for at in start..out.len() {
            let candidate = out[at];
            if candidate.start >= taken_until {
                out[kept] = candidate;
                kept += 1;
                taken_until = candidate.end;
            }
        }
        out.truncate(kept);
    }

    fn whole_words(&self, text: &str, start: usize, end: usize, index: usize) -> bool {
        let (starts_word, ends_word) = self.edges[index];
        let open_before =
            !starts_word || !text[..start].chars().next_back().is_some_and(is_word_char);
        let open_after = !ends_word || !text[end..].chars().next().is_some_and(is_word_char);
        open_before && open_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_on(text: &str) -> (usize, SubstitutionProblem) {
        let err = Substitutions::parse(text).unwrap_err();
        (err.line, err.problem)
    }

    #[test]
    fn reads_lines_skipping_blanks_and_comments() {
        let subs = Substitutions::parse(
            "# company names\n\nAcme Corp: [COMPANY]\r\n  Jane Doe :  [AGENT]  \nRef: no. 12: [REF]\n",
        )
        .unwrap();
        let pairs: Vec<_> = subs.iter().map(|s| (s.phrase(), s.replacement())).collect();
        assert_eq!(
            pairs,
            [
                ("Acme Corp", "[COMPANY]"),
                ("Jane Doe", "[AGENT]"),
                ("Ref", "no. 12: [REF]")
            ]
        );
    }

    #[test]
    fn an_empty_replacement_deletes_the_phrase() {
        let subs = Substitutions::parse("Sent from my phone:").unwrap();
        assert_eq!(subs.iter().next().unwrap().replacement(), "");
    }

    #[test]
    fn errors_carry_the_line_and_what_is_wrong() {
        assert_eq!(
            problem_on("a: b\n\nno colon here\n"),
            (3, SubstitutionProblem::MissingColon)
        );
        assert_eq!(
            problem_on("# x\n  : [X]"),
            (2, SubstitutionProblem::EmptyPhrase)
        );
        assert_eq!(
            problem_on("Acme: [A]\n# again\nAcme: [B]"),
            (
                3,
                SubstitutionProblem::DuplicatePhrase {
                    phrase: "Acme".into(),
                    first_line: 1
                }
            )
        );
        let err = Substitutions::parse("a: b\nAcme : x\n Acme: y").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: the phrase \"Acme\" is already given on line 2"
        );
        assert_eq!(
            Substitutions::parse("oops").unwrap_err().to_string(),
            "line 1: no ':' between the phrase and its replacement"
        );
    }

    #[test]
    fn phrases_are_case_sensitive_so_differently_cased_ones_are_not_duplicates() {
        assert_eq!(Substitutions::parse("acme: a\nAcme: b").unwrap().len(), 2);
    }

    #[test]
    fn pairs_are_checked_like_lines() {
        let subs =
            Substitutions::from_pairs([("Acme", "[COMPANY]"), ("Re: ticket", "[T]")]).unwrap();
        assert_eq!(subs.len(), 2);
        let err = Substitutions::from_pairs([("a", "x"), (" ", "y")]).unwrap_err();
        assert_eq!(
            (err.line, err.problem),
            (2, SubstitutionProblem::EmptyPhrase)
        );
        let map = std::collections::BTreeMap::from([("Acme".to_owned(), "[C]".to_owned())]);
        assert_eq!(Substitutions::from_pairs(&map).unwrap().len(), 1);
    }

    fn apply(rules: &str, text: &str) -> String {
        let matcher = SubstitutionMatcher::new(&Substitutions::parse(rules).unwrap()).unwrap();
        let mut found = Vec::new();
        matcher.find(text, |_, _| true, &mut found);
        let mut out = String::new();
        let mut copied = 0;
        for r in found {
            out.push_str(&text[copied..r.start]);
            out.push_str(matcher.replacement(r.index));
            copied = r.end;
        }
        out.push_str(&text[copied..]);
        out
    }

    #[test]
    fn replaces_whole_words_only() {
        let rules = "Ann: [NAME]";
        assert_eq!(apply(rules, "Ann said"), "[NAME] said");
        assert_eq!(apply(rules, "(Ann), Ann."), "([NAME]), [NAME].");
        assert_eq!(
            apply(rules, "Anne and Joann and Ann_x"),
            "Anne and Joann and Ann_x"
        );
        assert_eq!(apply(rules, "Zoë-Ann"), "Zoë-[NAME]");
        assert_eq!(apply(rules, "éAnn"), "éAnn");
        assert_eq!(apply(rules, "ann"), "ann");
    }

    #[test]
    fn longest_phrase_first_and_shorter_ones_where_the_longer_does_not_fit() {
        let rules = "New York: [CITY]\nNew York City: [BIG CITY]";
        assert_eq!(apply(rules, "New York City hall"), "[BIG CITY] hall");
        assert_eq!(apply(rules, "New York Citys"), "[CITY] Citys");
        assert_eq!(apply(rules, "New Yorker"), "New Yorker");
    }

    #[test]
    fn phrases_ending_in_punctuation_need_no_boundary_there() {
        assert_eq!(apply("C++: [LANG]", "C++11 and xC++"), "[LANG]11 and xC++");
    }

    #[test]
    fn a_replacement_is_not_replaced_again() {
        assert_eq!(apply("cat: dog\ndog: cat", "cat dog"), "dog cat");
    }
}
