//! The volume-over-time chart of a Discover project: bars drawn as SVG on the server. The
//! horizontal positions are percentages and the SVG has no viewBox, so the chart takes the
//! card's width while its text keeps its size — as readable on a phone as on a laptop.

use engine::discover_view::Volume;
use maud::{html, Markup};

/// The drawing's height in pixels, and the band under the bars for the day labels.
const HEIGHT: f64 = 200.0;
const LABELS: f64 = 22.0;
/// Room above the tallest bar for the top gridline's label.
const TOP: f64 = 16.0;
/// Day labels a chart writes at most (phones have room for about this many).
const MAX_LABELS: usize = 6;

/// The smallest 1, 2 or 5 × 10ⁿ at or above `n` (the value axis's top).
fn nice_ceiling(n: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= n {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// `2026-03-02` as `Mar 2`; anything else as it is.
fn short_day(day: &str) -> String {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| d.format("%b %-d").to_string())
        .unwrap_or_else(|_| day.to_string())
}

fn pct(x: f64) -> String {
    format!("{:.3}%", x)
}

/// The chart, with its numbers in a table under it for screen readers and for reading exact
/// counts.
pub(crate) fn volume_chart(v: &Volume) -> Markup {
    let unit = match v.bucket_days {
        1 => "day".to_string(),
        7 => "week".to_string(),
        n => format!("{} weeks", n / 7),
    };
    let total: i64 = v.buckets.iter().map(|b| b.count).sum();
    if v.buckets.is_empty() {
        return html! {
            p.muted id="volume-empty" { "No dated documents to chart." }
        };
    }
    let top = nice_ceiling(v.buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1));
    let n = v.buckets.len();
    let slot = 100.0 / n as f64;
    // Bars narrower than the gap between them read as a comb; a thin gap keeps them apart.
    let bar = slot * if n > 40 { 0.9 } else { 0.75 };
    let plot = HEIGHT - LABELS - TOP;
    let y_of = |count: i64| TOP + plot * (1.0 - count as f64 / top as f64);
    let every = n.div_ceil(MAX_LABELS).max(1);
    let first = v.buckets.first().map(|b| b.start.as_str()).unwrap_or("");
    let last = v.buckets.last().map(|b| b.start.as_str()).unwrap_or("");
    let summary = format!(
        "{total} documents per {unit} from {} to {}; the busiest {unit} had {}.",
        short_day(first),
        short_day(last),
        v.buckets.iter().map(|b| b.count).max().unwrap_or(0)
    );
    html! {
        figure.volume id="volume" {
            svg.volume-chart xmlns="http://www.w3.org/2000/svg" width="100%" height=(HEIGHT)
                role="img" aria-labelledby="volume-title volume-desc" {
                title id="volume-title" { "Documents per " (unit) }
                desc id="volume-desc" { (summary) }
                @for (value, label) in [(top, top.to_string()), (top / 2, (top / 2).to_string())] {
                    @if value > 0 {
                        line.grid x1="0" x2="100%" y1=(y_of(value)) y2=(y_of(value)) {}
                        text.axis x="0" y=(y_of(value) - 3.0) { (label) }
                    }
                }
                line.base x1="0" x2="100%" y1=(y_of(0)) y2=(y_of(0)) {}
                @for (i, b) in v.buckets.iter().enumerate() {
                    @let x = slot * i as f64 + (slot - bar) / 2.0;
                    @let y = y_of(b.count);
                    rect.bar x=(pct(x)) y=(y) width=(pct(bar)) height=(y_of(0) - y) data-count=(b.count) {
                        title { (b.start) ": " (b.count) " document" @if b.count != 1 { "s" } }
                    }
                    @if i % every == 0 || i + 1 == n && n <= MAX_LABELS {
                        @let anchor = if i == 0 { "start" } else if i + 1 == n { "end" } else { "middle" };
                        @let at = if i == 0 { 0.0 } else if i + 1 == n { 100.0 } else { x + bar / 2.0 };
                        text.axis.day x=(pct(at)) y=(HEIGHT - 5.0) text-anchor=(anchor) { (short_day(&b.start)) }
                    }
                }
            }
            figcaption.muted {
                (summary)
                @if v.undated > 0 { " " (v.undated) " undated documents are not drawn." }
            }
            details.hint {
                summary { "The numbers" }
                div.table-wrap {
                    table.volume-table {
                        thead { tr { th scope="col" { "From" } th scope="col" { "Documents" } } }
                        tbody { @for b in &v.buckets { tr { td { (b.start) } td { (b.count) } } } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::discover_view::VolumeBucket;

    #[test]
    fn the_axis_tops_out_at_a_round_number() {
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(500), 500);
    }

    #[test]
    fn a_month_of_days_is_thirty_bars_with_a_handful_of_labels() {
        let v = Volume {
            bucket_days: 1,
            buckets: (1..=30)
                .map(|d| VolumeBucket {
                    start: format!("2026-04-{d:02}"),
                    count: d % 4,
                })
                .collect(),
            undated: 0,
        };
        let svg = volume_chart(&v).into_string();
        assert_eq!(svg.matches("<rect").count(), 30);
        let labels = svg.matches("class=\"axis day\"").count();
        assert!((2..=MAX_LABELS).contains(&labels), "{labels}");
        assert!(
            svg.contains("Apr 1") && svg.contains("45 documents per day"),
            "{svg}"
        );
    }
}
