//! Tables comparing our values with a reference (libtorch or scikit-learn).
//!
//! Each row passes when every element satisfies
//! $|a - b| \le \text{atol} + \text{rtol}\,|b|$ (the rule of `torch.testing.assert_close`),
//! with NaN equal to NaN and infinities equal when they have the same sign. The
//! notebook runner counts the `pass`/`FAIL` cells of every printed table, and any
//! `FAIL` fails the notebook check.

use std::fmt;

/// Absolute and relative tolerance of one comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tol {
    pub atol: f64,
    pub rtol: f64,
}

impl Tol {
    /// float64 default of `torch.testing.assert_close`: rtol 1e-7, atol 1e-7.
    pub const F64: Tol = Tol { atol: 1e-7, rtol: 1e-7 };
    /// float32 default of `torch.testing.assert_close`: rtol 1.3e-6, atol 1e-5.
    pub const F32: Tol = Tol { atol: 1e-5, rtol: 1.3e-6 };

    /// Whether `ours` is close enough to the reference `theirs`.
    pub fn close(&self, ours: f64, theirs: f64) -> bool {
        if ours.is_nan() || theirs.is_nan() {
            return ours.is_nan() && theirs.is_nan();
        }
        if ours.is_infinite() || theirs.is_infinite() {
            return ours == theirs;
        }
        (ours - theirs).abs() <= self.atol + self.rtol * theirs.abs()
    }
}

/// One compared quantity: a scalar or a vector, summarised by its max abs difference.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub ours: Vec<f64>,
    pub theirs: Vec<f64>,
    pub tol: Tol,
}

impl Row {
    /// Largest $|a_i - b_i|$ over finite pairs (0 when the lengths differ or nothing is finite).
    pub fn max_abs_diff(&self) -> f64 {
        self.ours
            .iter()
            .zip(&self.theirs)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    /// Same length, and every element close under the row's tolerance.
    pub fn passed(&self) -> bool {
        self.ours.len() == self.theirs.len()
            && self.ours.iter().zip(&self.theirs).all(|(&a, &b)| self.tol.close(a, b))
    }
}

/// A titled table of [`Row`]s; `Display` prints it as a Markdown table.
#[derive(Clone, Debug)]
pub struct CrossCheck {
    title: String,
    reference: String,
    rows: Vec<Row>,
}

impl CrossCheck {
    /// A table comparing against `reference` (e.g. `"libtorch"`).
    pub fn new(title: impl Into<String>, reference: impl Into<String>) -> Self {
        CrossCheck { title: title.into(), reference: reference.into(), rows: Vec::new() }
    }

    /// Adds a scalar comparison.
    pub fn scalar(&mut self, name: impl Into<String>, ours: f64, theirs: f64, tol: Tol) -> &mut Self {
        self.vector(name, &[ours], &[theirs], tol)
    }

    /// Adds an element-wise comparison of two vectors.
    pub fn vector(&mut self, name: impl Into<String>, ours: &[f64], theirs: &[f64], tol: Tol) -> &mut Self {
        self.rows.push(Row { name: name.into(), ours: ours.to_vec(), theirs: theirs.to_vec(), tol });
        self
    }

    /// The rows so far.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Number of rows that passed and that failed.
    pub fn counts(&self) -> (usize, usize) {
        let passed = self.rows.iter().filter(|r| r.passed()).count();
        (passed, self.rows.len() - passed)
    }

    /// True when every row passed.
    pub fn all_passed(&self) -> bool {
        self.counts().1 == 0
    }
}

fn show(values: &[f64]) -> String {
    match values {
        [v] => format!("{v:.10e}"),
        _ => format!("[{} values]", values.len()),
    }
}

impl fmt::Display for CrossCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} — ours vs {}", self.title, self.reference)?;
        writeln!(f, "| quantity | ours | {} | max abs diff | tolerance (atol, rtol) | result |", self.reference)?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {} | {} | {:.1e} | {:.0e}, {:.0e} | {} |",
                r.name,
                show(&r.ours),
                show(&r.theirs),
                r.max_abs_diff(),
                r.tol.atol,
                r.tol.rtol,
                if r.passed() { "pass" } else { "FAIL" }
            )?;
        }
        let (p, n) = self.counts();
        write!(f, "cross-checks passed {p} of {}{}", p + n, if n > 0 { " — SOME FAILED" } else { "" })
    }
}
