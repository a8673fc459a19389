//! A dashboard's charts as SVG, drawn by `plotters`: lines for volume and the NPS trend, bars
//! for choices, one stacked bar for promoters, passives and detractors.
//!
//! Each chart comes in two widths: SVG text shrinks with its picture, so a phone gets a chart
//! drawn 360 units wide (its text stays readable when scaled to the screen) and a desktop one
//! drawn 720 wide; the page shows one or the other. The numbers are in the page's tables too:
//! a chart is never the only place a figure is.

use crate::{ChoiceCount, NpsSummary, NpsTrend, Period, ResponseVolume};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// How wide a chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// For phones.
    Narrow,
    Wide,
}

impl Width {
    pub const ALL: [Width; 2] = [Width::Narrow, Width::Wide];

    pub fn px(self) -> u32 {
        match self {
            Width::Narrow => 360,
            Width::Wide => 720,
        }
    }

    /// The class the page's stylesheet shows at its screen widths.
    pub fn class(self) -> &'static str {
        match self {
            Width::Narrow => "chart-narrow",
            Width::Wide => "chart-wide",
        }
    }

    fn x_labels(self) -> usize {
        match self {
            Width::Narrow => 4,
            Width::Wide => 8,
        }
    }

    /// The text size given to plotters, which writes `font-size` as that / 1.24: about 17.7
    /// units on a phone's chart (some 14 px once scaled to its screen), 13.7 on a desktop's.
    fn text_size(self) -> f64 {
        match self {
            Width::Narrow => 22.0,
            Width::Wide => 17.0,
        }
    }

    /// A choice's row (its label above its bar): taller where the text is.
    fn row_height(self) -> u32 {
        match self {
            Width::Narrow => 54,
            Width::Wide => 46,
        }
    }

    /// Characters of a choice's label that fit on its row.
    fn label_chars(self) -> usize {
        match self {
            Width::Narrow => 34,
            Width::Wide => 84,
        }
    }
}

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x1f, 0x23, 0x28);
const GRID: RGBColor = RGBColor(0xe6, 0xe8, 0xeb);
const BAR: RGBColor = RGBColor(0x09, 0x69, 0xda);
const PROMOTER: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const PASSIVE: RGBColor = RGBColor(0x8c, 0x95, 0x9f);
const DETRACTOR: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const EMPTY: RGBColor = RGBColor(0xd0, 0xd7, 0xde);

type Drawn = Result<(), Box<dyn std::error::Error>>;

fn text_style(width: Width, color: RGBColor) -> TextStyle<'static> {
    (FONT, width.text_size()).into_font().color(&color)
}

/// Draws onto a fresh SVG of this size. A chart that fails to draw is left out (an empty
/// string): the page's table still carries its numbers.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> String {
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(Into::into)
            .and_then(|_| draw(&root))
            .and_then(|_| root.present().map_err(Into::into))
    };
    match drawn {
        Ok(()) => out,
        Err(_) => String::new(),
    }
}

/// A point's axis label: `MM-DD` for days and weeks, `YYYY-MM` for months.
fn short_date(start: &str, period: Period) -> String {
    match period {
        Period::Month => start.get(..7).unwrap_or(start).to_string(),
        _ => start.get(5..).unwrap_or(start).to_string(),
    }
}

fn line(
    labels: &[String],
    values: &[f64],
    y: std::ops::Range<f64>,
    period: Period,
    width: Width,
    color: RGBColor,
) -> String {
    let n = values.len();
    svg((width.px(), 220), |root| {
        let x = -0.5..(n as f64 - 0.5).max(0.5);
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(18)
            .x_label_area_size(30)
            .y_label_area_size(52)
            .build_cartesian_2d(x, y)?;
        // Only whole indexes name a point; plotters may also pick the halves between them.
        let x_label = |v: &f64| {
            let i = v.round();
            if (v - i).abs() > 1e-9 || i < 0.0 || i as usize >= n {
                String::new()
            } else {
                short_date(&labels[i as usize], period)
            }
        };
        let y_label = |v: &f64| format!("{v:.0}");
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(width.x_labels().min(n.max(1)))
            .y_labels(5)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style(text_style(width, INK))
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(PASSIVE)
            .draw()?;
        chart.draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
            color.stroke_width(2),
        ))?;
        // Dots mark each period while there are few enough to tell apart.
        if n <= 60 {
            chart.draw_series(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Circle::new((i as f64, *v), 3, color.filled())),
            )?;
        }
        Ok(())
    })
}

/// Responses started per period.
pub fn volume_chart(volume: &ResponseVolume, width: Width) -> String {
    let labels: Vec<String> = volume.points.iter().map(|p| p.start.clone()).collect();
    let values: Vec<f64> = volume.points.iter().map(|p| p.responses as f64).collect();
    let top = values.iter().copied().fold(0.0, f64::max);
    // Headroom over the highest point, and a whole-number axis for small counts.
    let top = (top * 1.15).max(4.0).ceil();
    line(&labels, &values, 0.0..top, volume.period, width, BAR)
}

/// The NPS per period, on its whole scale (−100 to 100) so periods compare at a glance.
pub fn nps_trend_chart(trend: &NpsTrend, width: Width) -> String {
    let labels: Vec<String> = trend.points.iter().map(|p| p.start.clone()).collect();
    let values: Vec<f64> = trend.points.iter().map(|p| p.score).collect();
    line(
        &labels,
        &values,
        -100.0..100.0,
        trend.period,
        width,
        PROMOTER,
    )
}

/// Detractors, passives and promoters as shares of one bar, with a legend of counts below.
pub fn nps_split_chart(nps: &NpsSummary, width: Width) -> String {
    svg((width.px(), 76), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .build_cartesian_2d(0.0..100.0, 0.0..2.0)?;
        let answered = nps.promoters + nps.passives + nps.detractors;
        if answered == 0 {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, 1.1), (100.0, 2.0)],
                EMPTY.filled(),
            )))?;
            return Ok(());
        }
        // Exact shares for the bar (the rounded percents may not add up to 100).
        let share = |n: u64| n as f64 * 100.0 / answered as f64;
        let parts = [
            (
                share(nps.detractors),
                nps.detractors,
                "Detractors",
                DETRACTOR,
            ),
            (share(nps.passives), nps.passives, "Passives", PASSIVE),
            (share(nps.promoters), nps.promoters, "Promoters", PROMOTER),
        ];
        let inside = text_style(width, WHITE).pos(Pos::new(HPos::Center, VPos::Center));
        let mut from = 0.0;
        for (i, (part, count, name, color)) in parts.iter().enumerate() {
            let to = from + part;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(from, 1.1), (to, 2.0)],
                color.filled(),
            )))?;
            // A share too thin for its number is still in the legend.
            if *part >= 12.0 {
                chart.draw_series(std::iter::once(Text::new(
                    format!("{part:.0}%"),
                    ((from + to) / 2.0, 1.55),
                    inside.clone(),
                )))?;
            }
            from = to;
            // Left, centre and right ends keep the three apart on a narrow chart.
            let (x, anchor) = [
                (0.0, HPos::Left),
                (50.0, HPos::Center),
                (100.0, HPos::Right),
            ][i];
            let legend = text_style(width, *color).pos(Pos::new(anchor, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(
                format!("{name} {count}"),
                (x, 0.45),
                legend,
            )))?;
        }
        Ok(())
    })
}

/// One bar per choice, its length the choice's share of the question's answers, its label
/// above it and its count and percent after it.
pub fn choice_chart(choices: &[ChoiceCount], width: Width) -> String {
    let rows = choices.len().max(1);
    let height = rows as u32 * width.row_height() + 8;
    svg((width.px(), height), |root| {
        // 100 is a full bar; the rest of the width holds the figures after the longest.
        let mut chart = ChartBuilder::on(root)
            .margin(4)
            .build_cartesian_2d(0.0..136.0, 0.0..rows as f64)?;
        let label_style = text_style(width, INK);
        let figure_style = text_style(width, INK).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, c) in choices.iter().enumerate() {
            let top = (rows - i) as f64;
            chart.draw_series(std::iter::once(Text::new(
                truncate(&c.label, width.label_chars()),
                (0.0, top - 0.04),
                label_style.clone(),
            )))?;
            let end = c.percent.clamp(0.0, 100.0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, top - 0.92), (end.max(0.6), top - 0.5)],
                if c.count == 0 { EMPTY } else { BAR }.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} · {:.1}%", c.count, c.percent),
                (end.max(0.6) + 2.0, top - 0.71),
                figure_style.clone(),
            )))?;
        }
        Ok(())
    })
}

/// At most `max` characters, an ellipsis marking the cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
