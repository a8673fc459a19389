//! The running counts behind a dashboard: one tally per question, kept per UTC day where a
//! series needs them, so responses can be added a page at a time and forgotten.

use crate::periods::{day_label, day_of, next_period, period_start, rfc3339, Period};
use crate::{
    csat_top_choices, nps_score, percent, ChoiceCount, CsatSummary, Dashboard, DashboardResponse,
    MatrixRow, NpsPoint, NpsSummary, NpsTrend, QuestionSummary, ResponseCounts, ResponseVolume,
    SummaryKind, TextAnswer, TextAnswers, VolumePoint, DAILY_VOLUME_UP_TO_DAYS, TEXT_ANSWERS_SHOWN,
    TYPED_TEXTS_SHOWN, WEEKLY_TREND_UP_TO_DAYS,
};
use std::collections::{BTreeMap, HashSet};
use survey::{Answer, Choice, Question, QuestionKind, SurveyDefinition};

/// Adds responses one at a time; [`DashboardBuilder::finish`] gives the dashboard.
pub struct DashboardBuilder<'d> {
    questions: Vec<(&'d Question, Tally)>,
    counts: ResponseCounts,
    first: Option<i64>,
    last: Option<i64>,
    /// Day → (responses, complete).
    days: BTreeMap<i64, (u64, u64)>,
}

enum Tally {
    Nps {
        /// Answers per score, 0–10.
        scores: [u64; 11],
        /// Day → (promoters, passives, detractors).
        days: BTreeMap<i64, [u64; 3]>,
    },
    Choices {
        counts: Vec<u64>,
        typed: Vec<Newest>,
        answered: u64,
        unlisted: u64,
        csat: Option<Vec<String>>,
        /// Choices of older versions the current one lost, by id, in the order first met.
        removed: Vec<(Choice, u64)>,
    },
    Matrix {
        /// Statement → counts per scale point.
        rows: Vec<Vec<u64>>,
        answered_rows: Vec<u64>,
        answered: u64,
        unlisted: u64,
    },
    Text {
        total: u64,
        newest: Newest,
    },
}

/// The newest texts seen, at most `cap` once finished; trimmed as it goes so it stays small.
struct Newest {
    cap: usize,
    items: Vec<(i64, String)>,
}

impl Newest {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            items: Vec::new(),
        }
    }

    fn push(&mut self, at: i64, text: &str) {
        self.items.push((at, text.to_string()));
        if self.items.len() >= self.cap * 2 {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.items.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        self.items.truncate(self.cap);
    }

    fn into_sorted(mut self) -> Vec<(i64, String)> {
        self.trim();
        self.items
    }
}

/// The index of the choice a stored value names: its id, or else its recode (ids win, as in
/// conditions, since recodes often reuse the same digits in another order).
fn choice_index(choices: &[Choice], value: &str) -> Option<usize> {
    choices
        .iter()
        .position(|c| c.id == value)
        .or_else(|| choices.iter().position(|c| c.recode_value() == value))
}

/// Questions in the order respondents meet them: block by block, then any no block holds.
fn ordered_questions(definition: &SurveyDefinition) -> Vec<&Question> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for block in &definition.blocks {
        for element in &block.elements {
            if let survey::BlockElement::Question { id } = element {
                if let Some(q) = definition.question(id) {
                    if seen.insert(q.id.as_str()) {
                        out.push(q);
                    }
                }
            }
        }
    }
    for q in &definition.questions {
        if seen.insert(q.id.as_str()) {
            out.push(q);
        }
    }
    out
}

impl<'d> DashboardBuilder<'d> {
    pub fn new(definition: &'d SurveyDefinition) -> Self {
        let questions = ordered_questions(definition)
            .into_iter()
            .filter_map(|q| {
                let tally = match &q.kind {
                    QuestionKind::Nps { .. } => Tally::Nps {
                        scores: [0; 11],
                        days: BTreeMap::new(),
                    },
                    QuestionKind::MultipleChoice { choices, .. } => Tally::Choices {
                        counts: vec![0; choices.len()],
                        typed: choices
                            .iter()
                            .map(|_| Newest::new(TYPED_TEXTS_SHOWN))
                            .collect(),
                        answered: 0,
                        unlisted: 0,
                        csat: csat_top_choices(q),
                        removed: Vec::new(),
                    },
                    QuestionKind::Matrix { statements, scale } => Tally::Matrix {
                        rows: vec![vec![0; scale.len()]; statements.len()],
                        answered_rows: vec![0; statements.len()],
                        answered: 0,
                        unlisted: 0,
                    },
                    QuestionKind::TextEntry { .. } => Tally::Text {
                        total: 0,
                        newest: Newest::new(TEXT_ANSWERS_SHOWN),
                    },
                    _ => return None,
                };
                Some((q, tally))
            })
            .collect();
        Self {
            questions,
            counts: ResponseCounts::default(),
            first: None,
            last: None,
            days: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, r: &DashboardResponse<'_>) {
        self.counts.total += 1;
        if r.complete {
            self.counts.complete += 1;
        } else {
            self.counts.partial += 1;
        }
        self.first = Some(self.first.map_or(r.started_at, |f| f.min(r.started_at)));
        self.last = Some(self.last.map_or(r.started_at, |l| l.max(r.started_at)));
        let day = day_of(r.started_at);
        let d = self.days.entry(day).or_default();
        d.0 += 1;
        d.1 += u64::from(r.complete);
        let answered_at = r.ended_at.unwrap_or(r.started_at);
        for (q, tally) in &mut self.questions {
            let Some(answer) = r.data.answers.get(&q.id) else {
                continue;
            };
            let former = r.answered_under.and_then(|d| d.question(&q.id));
            tally.add(q, former, answer, day, answered_at);
        }
    }

    pub fn finish(self) -> Dashboard {
        let mut counts = self.counts;
        counts.first_started = self.first.map(rfc3339);
        counts.last_started = self.last.map(rfc3339);
        let volume = volume(&self.days);
        let questions = self
            .questions
            .into_iter()
            .filter_map(|(q, t)| t.summary(q))
            .collect();
        Dashboard {
            responses: counts,
            volume,
            questions,
        }
    }
}

impl Tally {
    /// `former`: the question as the version the response was answered under had it.
    fn add(&mut self, q: &Question, former: Option<&Question>, answer: &Answer, day: i64, at: i64) {
        match (self, answer, &q.kind) {
            (Tally::Nps { scores, days }, Answer::Number(n), _) => {
                if !n.is_finite() || !(0.0..=10.0).contains(n) {
                    return;
                }
                let score = n.round() as usize;
                scores[score] += 1;
                days.entry(day).or_default()[nps_group(score)] += 1;
            }
            (
                Tally::Choices {
                    counts,
                    typed,
                    answered,
                    unlisted,
                    removed,
                    ..
                },
                Answer::Choices { selected, text },
                QuestionKind::MultipleChoice { choices, .. },
            ) => {
                if selected.is_empty() {
                    return;
                }
                *answered += 1;
                // The same choice twice in one answer still counts once.
                let mut picked = HashSet::new();
                for value in selected {
                    match choice_index(choices, value) {
                        Some(i) if picked.insert(i) => {
                            counts[i] += 1;
                            let typed_text = text
                                .get(&choices[i].id)
                                .or_else(|| text.get(value))
                                .map(|t| t.trim())
                                .filter(|t| !t.is_empty());
                            if let Some(t) = typed_text {
                                typed[i].push(at, t);
                            }
                        }
                        Some(_) => {}
                        None => match former_choice(former, value) {
                            Some(c) => match removed.iter_mut().find(|(r, _)| r.id == c.id) {
                                Some((_, n)) => *n += 1,
                                None => removed.push((c.clone(), 1)),
                            },
                            None => *unlisted += 1,
                        },
                    }
                }
            }
            (
                Tally::Matrix {
                    rows,
                    answered_rows,
                    answered,
                    unlisted,
                },
                Answer::Matrix { rows: given },
                QuestionKind::Matrix { statements, scale },
            ) => {
                if given.is_empty() {
                    return;
                }
                *answered += 1;
                for (statement, point) in given {
                    let row = choice_index(statements, statement);
                    let col = choice_index(scale, point);
                    match (row, col) {
                        (Some(r), Some(c)) => {
                            rows[r][c] += 1;
                            answered_rows[r] += 1;
                        }
                        _ => *unlisted += 1,
                    }
                }
            }
            (Tally::Text { total, newest }, Answer::Text(t), _) => {
                let t = t.trim();
                if !t.is_empty() {
                    *total += 1;
                    newest.push(at, t);
                }
            }
            // An answer of another shape (the question changed type since) counts nowhere.
            _ => {}
        }
    }

    fn summary(self, q: &Question) -> Option<QuestionSummary> {
        let mut s = QuestionSummary {
            question_id: q.id.clone(),
            export_tag: q.export_tag.clone(),
            text: survey::html::to_plain(&q.text),
            kind: SummaryKind::Text,
            answered: 0,
            nps: None,
            csat: None,
            choices: None,
            unlisted: 0,
            matrix: None,
            text_answers: None,
        };
        match (self, &q.kind) {
            (Tally::Nps { scores, days }, _) => {
                let answered: u64 = scores.iter().sum();
                let [promoters, passives, detractors] = groups(&scores);
                s.kind = SummaryKind::Nps;
                s.answered = answered;
                s.nps = Some(NpsSummary {
                    score: nps_score(promoters, detractors, answered),
                    promoters,
                    passives,
                    detractors,
                    promoters_percent: percent(promoters, answered),
                    passives_percent: percent(passives, answered),
                    detractors_percent: percent(detractors, answered),
                    trend: nps_trend(&days),
                });
            }
            (
                Tally::Choices {
                    counts,
                    typed,
                    answered,
                    unlisted,
                    csat,
                    removed,
                },
                QuestionKind::MultipleChoice { multiple, choices },
            ) => {
                s.answered = answered;
                s.unlisted = unlisted;
                s.kind = match (csat.is_some(), multiple) {
                    (true, _) => SummaryKind::Csat,
                    (false, true) => SummaryKind::MultipleChoice,
                    (false, false) => SummaryKind::SingleChoice,
                };
                if let Some(top) = csat {
                    let satisfied = choices
                        .iter()
                        .zip(&counts)
                        .filter(|(c, _)| top.contains(&c.id))
                        .map(|(_, n)| n)
                        .sum();
                    s.csat = Some(CsatSummary {
                        score: percent(satisfied, answered),
                        satisfied,
                        top_choices: top,
                    });
                }
                s.choices = Some(
                    choices
                        .iter()
                        .zip(counts)
                        .zip(typed)
                        .map(|((c, n), t)| {
                            let mut count = choice_count(c, n, answered);
                            count.typed = t.into_sorted().into_iter().map(|(_, t)| t).collect();
                            count
                        })
                        .chain(removed.iter().map(|(c, n)| ChoiceCount {
                            removed: true,
                            ..choice_count(c, *n, answered)
                        }))
                        .collect(),
                );
            }
            (
                Tally::Matrix {
                    rows,
                    answered_rows,
                    answered,
                    unlisted,
                },
                QuestionKind::Matrix { statements, scale },
            ) => {
                s.kind = SummaryKind::Matrix;
                s.answered = answered;
                s.unlisted = unlisted;
                s.matrix = Some(
                    statements
                        .iter()
                        .zip(rows)
                        .zip(answered_rows)
                        .map(|((st, row), n)| MatrixRow {
                            statement_id: st.id.clone(),
                            label: survey::html::to_plain(&st.text),
                            answered: n,
                            scale: scale
                                .iter()
                                .zip(row)
                                .map(|(c, k)| choice_count(c, k, n))
                                .collect(),
                        })
                        .collect(),
                );
            }
            (Tally::Text { total, newest }, _) => {
                s.kind = SummaryKind::Text;
                s.answered = total;
                s.text_answers = Some(TextAnswers {
                    total,
                    shown: newest
                        .into_sorted()
                        .into_iter()
                        .map(|(at, text)| TextAnswer {
                            text,
                            answered_at: rfc3339(at),
                        })
                        .collect(),
                });
            }
            _ => return None,
        }
        Some(s)
    }
}

fn choice_count(c: &Choice, count: u64, answered: u64) -> ChoiceCount {
    ChoiceCount {
        choice_id: c.id.clone(),
        label: survey::html::to_plain(&c.text),
        recode: c.recode_value().to_string(),
        count,
        percent: percent(count, answered),
        typed: Vec::new(),
        removed: false,
    }
}

/// The choice `value` names in the question as an older version had it.
fn former_choice<'q>(former: Option<&'q Question>, value: &str) -> Option<&'q Choice> {
    match &former?.kind {
        QuestionKind::MultipleChoice { choices, .. } => {
            choice_index(choices, value).map(|i| &choices[i])
        }
        _ => None,
    }
}

/// 0: promoter (9–10), 1: passive (7–8), 2: detractor (0–6).
fn nps_group(score: usize) -> usize {
    match score {
        9.. => 0,
        7 | 8 => 1,
        _ => 2,
    }
}

fn groups(scores: &[u64; 11]) -> [u64; 3] {
    let mut g = [0; 3];
    for (score, n) in scores.iter().enumerate() {
        g[nps_group(score)] += n;
    }
    g
}

fn span_days(days: impl Iterator<Item = i64> + Clone) -> i64 {
    match (days.clone().min(), days.max()) {
        (Some(a), Some(b)) => b - a,
        _ => 0,
    }
}

fn volume(days: &BTreeMap<i64, (u64, u64)>) -> ResponseVolume {
    let period = if span_days(days.keys().copied()) <= DAILY_VOLUME_UP_TO_DAYS {
        Period::Day
    } else {
        Period::Week
    };
    let mut by_period: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for (day, (n, complete)) in days {
        let p = by_period.entry(period_start(period, *day)).or_default();
        p.0 += n;
        p.1 += complete;
    }
    let mut points = Vec::new();
    if let (Some(first), Some(last)) = (
        by_period.keys().next().copied(),
        by_period.keys().last().copied(),
    ) {
        // Empty periods are points too, so the line drops to zero where nobody answered.
        let mut at = first;
        while at <= last {
            let (responses, complete) = by_period.get(&at).copied().unwrap_or_default();
            points.push(VolumePoint {
                start: day_label(at),
                responses,
                complete,
            });
            at = next_period(period, at);
        }
    }
    ResponseVolume { period, points }
}

fn nps_trend(days: &BTreeMap<i64, [u64; 3]>) -> NpsTrend {
    let period = if span_days(days.keys().copied()) <= WEEKLY_TREND_UP_TO_DAYS {
        Period::Week
    } else {
        Period::Month
    };
    let mut by_period: BTreeMap<i64, [u64; 3]> = BTreeMap::new();
    for (day, g) in days {
        let p = by_period.entry(period_start(period, *day)).or_default();
        for i in 0..3 {
            p[i] += g[i];
        }
    }
    let points = by_period
        .into_iter()
        .map(|(start, [promoters, passives, detractors])| {
            let answered = promoters + passives + detractors;
            NpsPoint {
                start: day_label(start),
                answered,
                promoters,
                passives,
                detractors,
                score: nps_score(promoters, detractors, answered),
            }
        })
        .collect();
    NpsTrend { period, points }
}
