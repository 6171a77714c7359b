//! Log-sum-exp, softmax and log-softmax, computed stably.
//!
//! The naive $\log \sum_i e^{x_i}$ overflows as soon as one $x_i \gtrsim 709$ in
//! `f64` (88 in `f32`). Subtracting the maximum $m = \max_i x_i$ first,
//!
//! $$\operatorname{LSE}(x) = m + \log \sum_i e^{x_i - m},$$
//!
//! keeps every exponent $\le 0$, so the sum lies in $[1, n]$ and never overflows.
//! Softmax and log-softmax follow from it:
//!
//! $$\operatorname{softmax}(x)_i = e^{x_i - \operatorname{LSE}(x)}, \qquad
//!   \log\operatorname{softmax}(x)_i = x_i - \operatorname{LSE}(x).$$
//!
//! libtorch equivalents: `torch.logsumexp`, `torch.softmax`, `torch.log_softmax`
//! (all max-subtracted). Differences, on purpose: NaN input and a vector that is all
//! $-\infty$ are `Err` here (libtorch returns NaN for the softmax of such a row);
//! `logsumexp` alone accepts an all-$-\infty$ input and returns $-\infty$, as libtorch does.

use faer::{Mat, MatRef};

use crate::error::{Error, Result};

fn check_logits(op: &'static str, arg: &'static str, x: &[f64]) -> Result<()> {
    if x.is_empty() {
        return Err(Error::arg(op, arg, "is empty; need at least one logit"));
    }
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        return Err(Error::arg(op, arg, format!("has NaN at index {i} (length {})", x.len())));
    }
    Ok(())
}

/// $(m, \log\sum_i e^{x_i - m})$ for validated `x`, so $\operatorname{LSE}(x) = m + \log\sum$.
/// Log-softmax uses them as $(x_i - m) - \log\sum$, which is more accurate than
/// $x_i - \operatorname{LSE}(x)$ when $|m|$ is large (and is what libtorch does).
/// An infinite maximum is replaced by 0 (as libtorch does), so `[-inf, -inf]` gives
/// $\operatorname{LSE} = -\infty$ and any `+inf` gives `+inf`, not `inf - inf = NaN`.
fn shifted_log_sum(x: &[f64]) -> (f64, f64) {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let shift = if m.is_infinite() { 0.0 } else { m };
    let sum: f64 = x.iter().map(|&v| (v - shift).exp()).sum();
    (shift, sum.ln())
}

/// $\operatorname{LSE}(x) = \log \sum_i e^{x_i}$, computed as $m + \log\sum_i e^{x_i - m}$.
///
/// libtorch: `torch.logsumexp(x, dim=-1)`.
///
/// ```
/// let lse = shousi::info::logsumexp(&[1000.0, 1000.0]).unwrap();
/// assert!((lse - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
pub fn logsumexp(x: &[f64]) -> Result<f64> {
    check_logits("logsumexp", "x", x)?;
    let (shift, log_sum) = shifted_log_sum(x);
    Ok(shift + log_sum)
}

/// $\log\operatorname{softmax}(x)_i = x_i - \operatorname{LSE}(x)$.
///
/// libtorch: `torch.log_softmax(x, dim=-1)`. An all-$-\infty$ `x` is `Err`
/// (libtorch gives NaN): there is no distribution to normalise.
pub fn log_softmax(x: &[f64]) -> Result<Vec<f64>> {
    check_logits("log_softmax", "x", x)?;
    let (shift, log_sum) = shifted_log_sum(x);
    if shift + log_sum == f64::NEG_INFINITY {
        return Err(Error::arg("log_softmax", "x", "is all -inf; softmax is undefined"));
    }
    if shift + log_sum == f64::INFINITY {
        return Err(Error::arg("log_softmax", "x", "contains +inf; softmax is undefined"));
    }
    Ok(x.iter().map(|&v| (v - shift) - log_sum).collect())
}

/// $\operatorname{softmax}(x)_i = e^{x_i - \operatorname{LSE}(x)}$: non-negative, sums to 1.
///
/// libtorch: `torch.softmax(x, dim=-1)`. Same domain as [`log_softmax`].
///
/// ```
/// let p = shousi::info::softmax(&[1000.0, 0.0]).unwrap();
/// assert_eq!(p[0], 1.0);
/// assert!(!p[1].is_nan()); // e^{-1000} underflows to 0 instead of inf/inf = NaN
/// ```
pub fn softmax(x: &[f64]) -> Result<Vec<f64>> {
    let mut out = log_softmax(x).map_err(|e| e.in_op("softmax"))?;
    out.iter_mut().for_each(|v| *v = v.exp());
    Ok(out)
}

fn row(m: MatRef<'_, f64>, i: usize) -> Vec<f64> {
    (0..m.ncols()).map(|j| m[(i, j)]).collect()
}

fn rows_map(
    op: &'static str,
    m: MatRef<'_, f64>,
    f: impl Fn(&[f64]) -> Result<Vec<f64>>,
) -> Result<Mat<f64>> {
    if m.ncols() == 0 {
        return Err(Error::arg(op, "x", format!("has shape ({}, 0); need at least one column", m.nrows())));
    }
    let mut out = Mat::<f64>::zeros(m.nrows(), m.ncols());
    for i in 0..m.nrows() {
        let r = f(&row(m, i)).map_err(|e| e.within(op, "x", format!("row {i}")))?;
        for (j, v) in r.into_iter().enumerate() {
            out[(i, j)] = v;
        }
    }
    Ok(out)
}

/// Row-wise [`logsumexp`] of a matrix: one value per row.
///
/// libtorch: `torch.logsumexp(x, dim=1)`.
pub fn logsumexp_rows(x: MatRef<'_, f64>) -> Result<Vec<f64>> {
    if x.ncols() == 0 {
        return Err(Error::arg("logsumexp_rows", "x", format!("has shape ({}, 0); need at least one column", x.nrows())));
    }
    (0..x.nrows())
        .map(|i| logsumexp(&row(x, i)).map_err(|e| e.within("logsumexp_rows", "x", format!("row {i}"))))
        .collect()
}

/// Row-wise [`softmax`]: each row of the result is a probability distribution.
///
/// libtorch: `torch.softmax(x, dim=1)`.
pub fn softmax_rows(x: MatRef<'_, f64>) -> Result<Mat<f64>> {
    rows_map("softmax_rows", x, softmax)
}

/// Row-wise [`log_softmax`].
///
/// libtorch: `torch.log_softmax(x, dim=1)`.
pub fn log_softmax_rows(x: MatRef<'_, f64>) -> Result<Mat<f64>> {
    rows_map("log_softmax_rows", x, log_softmax)
}

/// The textbook formula $e^{x_i} / \sum_j e^{x_j}$ without the max shift.
///
/// Kept only to demonstrate the mistake: it returns NaN for logits around 1000
/// (`inf / inf`). Never use it for anything else.
pub fn softmax_naive(x: &[f64]) -> Vec<f64> {
    let sum: f64 = x.iter().map(|v| v.exp()).sum();
    x.iter().map(|v| v.exp() / sum).collect()
}
