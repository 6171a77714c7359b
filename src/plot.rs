//! Small chart builders over plotters' SVG backend.
//!
//! A chart renders to an [`Svg`], which the evcxr kernel displays inline as
//! `image/svg+xml` (so it also shows in nbconvert's HTML and on GitHub), and which
//! can be written to a file with [`Svg::save`].

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// An SVG document.
#[derive(Clone, Debug)]
pub struct Svg(pub String);

impl Svg {
    /// The SVG source.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Writes the SVG to `path`.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        std::fs::write(path.as_ref(), &self.0)
            .map_err(|e| Error::plot("Svg::save", format!("cannot write {}: {e}", path.as_ref().display())))
    }

    /// Displays the chart in an evcxr notebook (called by the kernel for a cell's value).
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT", self.0);
    }
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

#[derive(Clone, Debug)]
enum Mark {
    Line,
    Points,
    Dashed,
}

#[derive(Clone, Debug)]
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    mark: Mark,
}

/// A 2-D chart of lines and point sets.
///
/// ```
/// use shousi::plot::LineChart;
/// let xs: Vec<(f64, f64)> = (0..=10).map(|i| (i as f64, (i * i) as f64)).collect();
/// let svg = LineChart::new("squares").x_label("x").y_label("x²").line("x²", xs).render().unwrap();
/// assert!(svg.as_str().starts_with("<svg"));
/// ```
#[derive(Clone, Debug)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    log_x: bool,
    log_y: bool,
    legend: Legend,
    size: (u32, u32),
}

/// Where a chart's legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

impl LineChart {
    /// An empty chart titled `title`, 640 × 400 pixels.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            log_x: false,
            log_y: false,
            legend: Legend::UpperRight,
            size: (640, 400),
        }
    }

    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Logarithmic x axis (all x must be $> 0$).
    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    /// Logarithmic y axis (all y must be $> 0$).
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// Where the legend goes (default: upper right).
    pub fn legend(mut self, position: Legend) -> Self {
        self.legend = position;
        self
    }

    /// Adds a solid line through `points`.
    pub fn line(self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.add(name, points, Mark::Line)
    }

    /// Adds a dashed line (a reference or asymptote).
    pub fn dashed(self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.add(name, points, Mark::Dashed)
    }

    /// Adds unconnected points.
    pub fn points(self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.add(name, points, Mark::Points)
    }

    fn add(mut self, name: impl Into<String>, points: Vec<(f64, f64)>, mark: Mark) -> Self {
        self.series.push(Series { name: name.into(), points, mark });
        self
    }

    fn range(&self, op: &'static str, axis: &str, get: impl Fn(&(f64, f64)) -> f64, log: bool) -> Result<Range<f64>> {
        let vals: Vec<f64> = self.series.iter().flat_map(|s| s.points.iter().map(&get)).filter(|v| v.is_finite()).collect();
        if vals.is_empty() {
            return Err(Error::plot(op, format!("no finite {axis} values to draw")));
        }
        if log && vals.iter().any(|&v| v <= 0.0) {
            return Err(Error::plot(op, format!("log {axis} axis needs all {axis} > 0")));
        }
        let (lo, hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        Ok(if log {
            lo / 1.2..hi * 1.2
        } else if lo == hi {
            lo - 1.0..hi + 1.0
        } else {
            let pad = 0.05 * (hi - lo);
            lo - pad..hi + pad
        })
    }

    /// Draws the chart.
    pub fn render(&self) -> Result<Svg> {
        const OP: &str = "LineChart::render";
        let xr = self.range(OP, "x", |p| p.0, self.log_x)?;
        let yr = self.range(OP, "y", |p| p.1, self.log_y)?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| Error::plot(OP, e))?;
            match (self.log_x, self.log_y) {
                (false, false) => self.draw(&root, xr, yr),
                (true, false) => self.draw(&root, xr.log_scale(), yr),
                (false, true) => self.draw(&root, xr, yr.log_scale()),
                (true, true) => self.draw(&root, xr.log_scale(), yr.log_scale()),
            }?;
            root.present().map_err(|e| Error::plot(OP, e))?;
        }
        Ok(Svg(out))
    }

    fn draw<X, Y>(&self, root: &DrawingArea<SVGBackend<'_>, Shift>, xr: X, yr: Y) -> Result<()>
    where
        X: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        X::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
        Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        const OP: &str = "LineChart::render";
        let err = |e: &dyn std::fmt::Display| Error::plot(OP, e);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(xr, yr)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .draw()
            .map_err(|e| err(&e))?;
        for (i, s) in self.series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
            let anno = match s.mark {
                Mark::Line => chart.draw_series(LineSeries::new(pts, color.stroke_width(2))),
                Mark::Dashed => chart.draw_series(DashedLineSeries::new(pts, 6, 4, color.stroke_width(2))),
                Mark::Points => chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled()))),
            }
            .map_err(|e| err(&e))?;
            anno.label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(match self.legend {
                Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                Legend::UpperRight => SeriesLabelPosition::UpperRight,
                Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
                Legend::LowerRight => SeriesLabelPosition::LowerRight,
            })
            .draw()
            .map_err(|e| err(&e))?;
        Ok(())
    }
}

/// A heatmap of a matrix (row 0 at the top), white for the smallest value to dark blue
/// for the largest; NaN cells are drawn red so they cannot hide.
///
/// ```
/// use shousi::plot::Heatmap;
/// let w: Vec<Vec<f64>> = vec![vec![1.0, 0.0], vec![0.5, 0.5]];
/// assert!(Heatmap::new("weights", w).render().unwrap().as_str().contains("<rect"));
/// ```
#[derive(Clone, Debug)]
pub struct Heatmap {
    title: String,
    x_label: String,
    y_label: String,
    values: Vec<Vec<f64>>,
    size: (u32, u32),
}

impl Heatmap {
    /// `values[row][col]`; all rows the same length.
    pub fn new(title: impl Into<String>, values: Vec<Vec<f64>>) -> Self {
        Heatmap { title: title.into(), x_label: "key j".into(), y_label: "query i".into(), values, size: (420, 420) }
    }

    /// From a faer matrix.
    pub fn from_mat(title: impl Into<String>, m: faer::MatRef<'_, f64>) -> Self {
        Self::new(title, (0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect()).collect())
    }

    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// Draws the heatmap.
    pub fn render(&self) -> Result<Svg> {
        const OP: &str = "Heatmap::render";
        let rows = self.values.len();
        let cols = self.values.first().map_or(0, |r| r.len());
        if rows == 0 || cols == 0 || self.values.iter().any(|r| r.len() != cols) {
            return Err(Error::plot(OP, format!("need a non-empty rectangular matrix, got {rows} rows of lengths {:?}", self.values.iter().map(|r| r.len()).collect::<Vec<_>>())));
        }
        let finite = self.values.iter().flatten().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let span = if hi > lo { hi - lo } else { 1.0 };
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| Error::plot(OP, e))?;
            let caption = format!("{} [{lo:.2} white, {hi:.2} blue]", self.title);
            let mut chart = ChartBuilder::on(&root)
                .caption(caption, ("sans-serif", 14))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(40)
                .build_cartesian_2d(-0.5..cols as f64 - 0.5, -0.5..rows as f64 - 0.5)
                .map_err(|e| Error::plot(OP, e))?;
            // Cell (i, j) is centred on integer coordinates, so the ticks label cells; row 0 is
            // at the top (plotters' y grows upwards).
            let index = |v: f64, n: usize| {
                let k = v.round();
                if (v - k).abs() < 1e-9 && k >= 0.0 && (k as usize) < n { Some(k as usize) } else { None }
            };
            let x_fmt = |x: &f64| index(*x, cols).map_or(String::new(), |j| j.to_string());
            let y_fmt = |y: &f64| index(*y, rows).map_or(String::new(), |k| (rows - 1 - k).to_string());
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .x_labels(cols.min(16))
                .y_labels(rows.min(16))
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .draw()
                .map_err(|e| Error::plot(OP, e))?;
            let cells = self.values.iter().enumerate().flat_map(|(i, row)| {
                row.iter().enumerate().map(move |(j, &v)| {
                    let color = if v.is_nan() {
                        RGBColor(220, 30, 30)
                    } else {
                        let t = ((v - lo) / span).clamp(0.0, 1.0);
                        RGBColor((255.0 - 225.0 * t) as u8, (255.0 - 180.0 * t) as u8, (255.0 - 75.0 * t) as u8)
                    };
                    let (x, y) = (j as f64, (rows - 1 - i) as f64);
                    Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], color.filled())
                })
            });
            chart.draw_series(cells).map_err(|e| Error::plot(OP, e))?;
            root.present().map_err(|e| Error::plot(OP, e))?;
        }
        Ok(Svg(out))
    }
}
