//! The report's charts, drawn by plotters into SVG strings that the HTML
//! inlines. Labels are ours (times, tier names, counts), never log text, so
//! nothing attacker-controlled reaches the SVG.

use plotters::prelude::*;

/// One line of a chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: RGBColor,
    pub values: Vec<u64>,
}

pub const PRODUCTION: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
pub const STAGING: RGBColor = RGBColor(0xd6, 0x8a, 0x00);
pub const DEVELOPMENT: RGBColor = RGBColor(0x2e, 0x86, 0x3c);
pub const UNKNOWN: RGBColor = RGBColor(0x6c, 0x75, 0x7d);
pub const FAILED: RGBColor = RGBColor(0x7b, 0x1f, 0xa2);
pub const INFO: RGBColor = RGBColor(0x6c, 0x75, 0x7d);
pub const LOW: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);
pub const MEDIUM: RGBColor = RGBColor(0xd6, 0x8a, 0x00);
pub const HIGH: RGBColor = RGBColor(0xe0, 0x56, 0x1b);
pub const CRITICAL: RGBColor = RGBColor(0xb0, 0x1c, 0x1c);

/// A line chart of `series` over `labels` (one label per point; about six
/// are shown). Empty when there is nothing to draw.
pub fn lines(labels: &[String], series: &[Series<'_>], width: u32, height: u32) -> String {
    let points = labels.len();
    if points == 0 || series.is_empty() {
        return String::new();
    }
    let mut svg = String::new();
    let drawn = draw(&mut svg, labels, series, width, height);
    match drawn {
        Ok(()) => svg,
        // A chart that cannot be drawn leaves a note, not a broken page.
        Err(_) => String::new(),
    }
}

fn draw(
    svg: &mut String,
    labels: &[String],
    series: &[Series<'_>],
    width: u32,
    height: u32,
) -> Result<(), String> {
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let last = labels.len().saturating_sub(1).max(1) as u32;
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .margin_right(36)
        .x_label_area_size(26)
        .y_label_area_size(40)
        .build_cartesian_2d(0u32..last, 0u64..(max + max.div_ceil(8)))
        .map_err(|e| e.to_string())?;
    let label_of = |i: &u32| labels.get(*i as usize).cloned().unwrap_or_default();
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&label_of)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(|e| e.to_string())?;
    for s in series {
        let color = s.color;
        chart
            .draw_series(LineSeries::new(
                s.values.iter().enumerate().map(|(i, v)| (i as u32, *v)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(s.name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .label_font(("sans-serif", 11))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_svg_with_every_series() {
        let labels: Vec<String> = (0..5).map(|i| format!("{i:02}:00")).collect();
        let svg = lines(
            &labels,
            &[
                Series {
                    name: "production",
                    color: PRODUCTION,
                    values: vec![1, 3, 0, 2, 5],
                },
                Series {
                    name: "failed",
                    color: FAILED,
                    values: vec![0, 0, 4, 0, 0],
                },
            ],
            600,
            200,
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("production") && svg.contains("failed"));
        assert!(svg.contains("<polyline"), "lines are drawn");
        assert!(lines(&[], &[], 600, 200).is_empty());
    }
}
