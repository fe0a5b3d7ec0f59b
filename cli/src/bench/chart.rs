//! The SVG bar chart: one panel per operation, groups of bars per algorithm (and size), one
//! colour per backend. Throughput panels use a linear axis; operation-rate panels a
//! logarithmic one, since RSA signing and X25519 differ by orders of magnitude.

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::record::{CipherRecord, Op, Subject};
use crate::error::CliError;

/// Backend colours, readable on white (the "tab10" set); more backends than colours
/// (`--sm-paths`) reuse them in order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const WIDTH: u32 = 1800;
const PANEL_HEIGHT: u32 = 330;
const HEADER_HEIGHT: u32 = 80;

/// One panel: an operation and its bar groups.
struct Panel<'a> {
    op: Op,
    groups: Vec<(Subject, Option<usize>)>,
    records: Vec<&'a CipherRecord>,
}

impl Panel<'_> {
    fn value(&self, group: (Subject, Option<usize>), backend: &str) -> Option<f64> {
        self.records
            .iter()
            .find(|r| (r.algorithm, r.metric.size()) == group && r.backend == backend)
            .map(|r| r.metric.value())
    }

    fn max(&self) -> f64 {
        self.records
            .iter()
            .map(|r| r.metric.value())
            .fold(0.0, f64::max)
    }

    fn label(&self, index: usize) -> String {
        match self.groups.get(index) {
            Some((alg, Some(size))) => format!("{alg} {}", human_size(*size)),
            Some((alg, None)) => alg.to_string(),
            None => String::new(),
        }
    }
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// Draws `records` to `path`, one colour per entry of `backends`.
pub(crate) fn draw(
    path: &Path,
    records: &[CipherRecord],
    backends: &[&str],
) -> Result<(), CliError> {
    let ops = [
        Op::Seal,
        Op::Open,
        Op::Encrypt,
        Op::Decrypt,
        Op::Hash,
        Op::Exchange,
        Op::Sign,
        Op::Verify,
    ];
    let panels: Vec<Panel<'_>> = ops
        .iter()
        .filter_map(|&op| {
            let records: Vec<&CipherRecord> = records.iter().filter(|r| r.op == op).collect();
            let mut groups = Vec::new();
            for r in &records {
                let g = (r.algorithm, r.metric.size());
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
            (!records.is_empty()).then_some(Panel {
                op,
                groups,
                records,
            })
        })
        .collect();
    if panels.is_empty() {
        return Err(CliError::Chart("no records to draw".into()));
    }
    let height = HEADER_HEIGHT + PANEL_HEIGHT * panels.len() as u32;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    let chart_err = |e: &dyn std::fmt::Display| CliError::Chart(e.to_string());
    root.fill(&WHITE).map_err(|e| chart_err(&e))?;
    let (header, body) = root.split_vertically(HEADER_HEIGHT);
    draw_header(&header, backends).map_err(|e| chart_err(&e))?;
    let areas = body.split_evenly((panels.len(), 1));
    for (panel, area) in panels.iter().zip(&areas) {
        let top = panel.max().max(1.0);
        let result = if panel.op.is_throughput() {
            draw_panel(area, panel, backends, 0.0..top * 1.15, 0.0)
        } else {
            draw_panel(area, panel, backends, (1.0..top * 2.0).log_scale(), 1.0)
        };
        result.map_err(|e| chart_err(&e))?;
    }
    root.present().map_err(|e| chart_err(&e))?;
    Ok(())
}

/// The title and the one legend shared by every panel: a colour swatch per backend.
fn draw_header<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    backends: &[&str],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let title = ("sans-serif", 28).into_font();
    area.draw(&Text::new(
        "meshtls bench ciphers: backends side by side (higher is better)",
        (20, 10),
        title,
    ))?;
    let label = ("sans-serif", 18).into_font();
    let mut x = 20;
    for (i, backend) in backends.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        area.draw(&Rectangle::new([(x, 50), (x + 18, 68)], color.filled()))?;
        area.draw(&Text::new(backend.to_string(), (x + 26, 50), label.clone()))?;
        x += 40 + 11 * backend.len() as i32;
    }
    Ok(())
}

/// Draws one panel on `area` with the y axis `y`; bars start at `floor`.
fn draw_panel<DB, Y>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    backends: &[&str],
    y: Y,
    floor: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let (title, unit) = match panel.op {
        Op::Seal => ("AEAD seal", "MB/s"),
        Op::Open => ("AEAD open", "MB/s"),
        Op::Encrypt => ("cipher mode encrypt (no authentication)", "MB/s"),
        Op::Decrypt => ("cipher mode decrypt (no authentication)", "MB/s"),
        Op::Hash => ("hash", "MB/s"),
        Op::Exchange => ("key exchange (both sides)", "exchanges/s (log)"),
        Op::Sign => ("sign", "signatures/s (log)"),
        Op::Verify => ("verify", "verifications/s (log)"),
    };
    let n = panel.groups.len();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{title} [{unit}]"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y)?;
    let label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            panel.label(i as usize)
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .x_label_style(("sans-serif", 14))
        .y_desc(unit)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_label_style(("sans-serif", 13))
        .draw()?;
    let slot = 0.8 / backends.len().max(1) as f64;
    for (bi, &backend) in backends.iter().enumerate() {
        let color = PALETTE[bi % PALETTE.len()];
        let bars = panel.groups.iter().enumerate().filter_map(|(gi, &g)| {
            panel.value(g, backend).map(|v| {
                let x0 = gi as f64 - 0.4 + bi as f64 * slot;
                Rectangle::new(
                    [(x0, floor), (x0 + slot * 0.9, v.max(floor))],
                    color.filled(),
                )
            })
        });
        chart.draw_series(bars)?;
    }
    Ok(())
}
