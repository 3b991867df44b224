//! A latency distribution (ttt moves, arena inputs) as an SVG percentile plot.

use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use plotters::prelude::*;

/// Percentiles plotted, as "nines": x = -log10(1 - q), so 90% is 1, 99% is 2, 99.9% is 3.
const MAX_NINES: f64 = 4.0;

/// "0%", "90%", "99%", "99.9%", "99.99%" for x = 0, 1, 2, 3, 4.
fn label(x: &f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = (x.round() as usize).saturating_sub(2);
    format!("{q:.decimals$}%")
}

/// Writes the latency-by-percentile curve of `histogram` (microseconds) to `path`, with
/// `y_label` on the latency axis.
pub fn latency_svg(
    path: &Path,
    title: &str,
    y_label: &str,
    histogram: &Histogram<u64>,
) -> anyhow::Result<()> {
    let points: Vec<(f64, f64)> = (0..=400)
        .map(|i| f64::from(i) / 100.0)
        .map(|x| {
            let q = 1.0 - 10f64.powf(-x);
            (x, histogram.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect();
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(0.001) * 1.1;
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).context("drawing the background")?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..MAX_NINES, 0.0..top)
        .context("building the chart")?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(y_label)
        .x_labels(5)
        .x_label_formatter(&label)
        .draw()
        .context("drawing the axes")?;
    chart
        .draw_series(LineSeries::new(points, &BLUE))
        .context("drawing the curve")?;
    root.present().context("writing the SVG")?;
    Ok(())
}
