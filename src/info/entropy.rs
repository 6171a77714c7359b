//! Entropy, cross-entropy and KL divergence of discrete distributions, in nats.
//!
//! For distributions $p, q$ over the same $n$ outcomes:
//!
//! $$H(p) = -\sum_i p_i \log p_i, \qquad
//!   H(p, q) = -\sum_i p_i \log q_i, \qquad
//!   D_{\mathrm{KL}}(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i},$$
//!
//! with the conventions $0 \log 0 = 0$ and $0 \log \frac{0}{q} = 0$ (the limit as
//! $p_i \to 0$), and $p_i \log \frac{p_i}{0} = +\infty$ for $p_i > 0$. Subtracting
//! the first from the second gives the identity every interview asks for:
//!
//! $$H(p, q) = H(p) + D_{\mathrm{KL}}(p \,\|\, q) \;\ge\; H(p).$$
//!
//! Divide by $\ln 2$ for bits.

use faer::MatRef;

use super::softmax::log_softmax;
use crate::error::{Error, Result};

/// How far from 1 the sum of a probability vector may be before it is rejected.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// Checks that `p` is a probability vector: non-empty, finite, entries $\ge 0$,
/// and $|\sum_i p_i - 1| \le$ [`SUM_TOLERANCE`].
pub fn check_distribution(op: &'static str, arg: &'static str, p: &[f64]) -> Result<()> {
    if p.is_empty() {
        return Err(Error::arg(op, arg, "is empty; a distribution needs at least one outcome"));
    }
    for (i, &v) in p.iter().enumerate() {
        if !v.is_finite() {
            return Err(Error::arg(op, arg, format!("has non-finite value {v} at index {i}")));
        }
        if v < 0.0 {
            return Err(Error::arg(op, arg, format!("has negative probability {v} at index {i}")));
        }
    }
    let sum: f64 = p.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(Error::arg(
            op,
            arg,
            format!("sums to {sum}, not 1 (tolerance {SUM_TOLERANCE:e}, length {})", p.len()),
        ));
    }
    Ok(())
}

fn check_pair(op: &'static str, p: &[f64], q: &[f64]) -> Result<()> {
    if p.len() != q.len() {
        return Err(Error::shape(op, format!("`p` has length {} but `q` has length {}", p.len(), q.len())));
    }
    check_distribution(op, "p", p)?;
    check_distribution(op, "q", q)
}

/// Shannon entropy $H(p) = -\sum_i p_i \log p_i$ in nats, with $0 \log 0 = 0$.
///
/// Ranges over $[0, \log n]$: 0 for a one-hot $p$, $\log n$ for the uniform one.
/// libtorch: `torch.distributions.Categorical(probs=p).entropy()`, or
/// `-(torch.special.xlogy(p, p)).sum()`.
///
/// ```
/// let h = shousi::info::entropy(&[0.5, 0.5]).unwrap();
/// assert!((h - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn entropy(p: &[f64]) -> Result<f64> {
    check_distribution("entropy", "p", p)?;
    // `0.0 - sum` rather than `-sum`: a one-hot p gives +0, not -0.
    Ok(0.0 - p.iter().filter(|&&v| v > 0.0).map(|&v| v * v.ln()).sum::<f64>())
}

/// Cross-entropy $H(p, q) = -\sum_i p_i \log q_i$ in nats: the expected code length
/// when data from $p$ is coded with a code built for $q$.
///
/// Terms with $p_i = 0$ contribute 0 even where $q_i = 0$; a $q_i = 0$ where
/// $p_i > 0$ makes it $+\infty$. libtorch: `F.cross_entropy(logits, p)` with a
/// probability target computes this with $q = \operatorname{softmax}(\text{logits})$.
pub fn cross_entropy(p: &[f64], q: &[f64]) -> Result<f64> {
    check_pair("cross_entropy", p, q)?;
    Ok(p.iter()
        .zip(q)
        .filter(|&(&pi, _)| pi > 0.0)
        .map(|(&pi, &qi)| -pi * qi.ln())
        .sum())
}

/// $D_{\mathrm{KL}}(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i}$ in nats: the KL divergence
/// **of $q$ from $p$**, an expectation under the first argument `p`.
///
/// It is $\ge 0$, zero only when $p = q$, **not symmetric**, and $+\infty$ when some
/// $q_i = 0 < p_i$. libtorch's argument order is the trap: `F.kl_div(input, target)`
/// computes $D_{\mathrm{KL}}(\text{target} \,\|\, \cdot)$ with `input` $= \log q$, so
/// `kl_div_p_q(p, q)` equals `F.kl_div(q.log(), p, reduction="sum")`.
///
/// ```
/// use shousi::info::kl_div_p_q;
/// let (p, q) = ([0.9, 0.1], [0.5, 0.5]);
/// assert!(kl_div_p_q(&p, &q).unwrap() != kl_div_p_q(&q, &p).unwrap());
/// ```
pub fn kl_div_p_q(p: &[f64], q: &[f64]) -> Result<f64> {
    check_pair("kl_div_p_q", p, q)?;
    Ok(p.iter()
        .zip(q)
        .filter(|&(&pi, _)| pi > 0.0)
        .map(|(&pi, &qi)| pi * (pi.ln() - qi.ln()))
        .sum())
}

/// Mean cross-entropy of class logits against class indices: with
/// $\log q_i = \log\operatorname{softmax}(z_i)$ for row $i$,
///
/// $$\ell = -\frac{1}{N}\sum_{i=1}^{N} \log q_{i, y_i}.$$
///
/// libtorch: `F.cross_entropy(logits, targets)` with the default `reduction="mean"`
/// and no weights, ignore index or label smoothing. Uses [`log_softmax`], so logits
/// of $\pm 1000$ are fine.
pub fn cross_entropy_logits(logits: MatRef<'_, f64>, targets: &[usize]) -> Result<f64> {
    const OP: &str = "cross_entropy_logits";
    let (n, c) = (logits.nrows(), logits.ncols());
    if n == 0 || c == 0 {
        return Err(Error::arg(OP, "logits", format!("has shape ({n}, {c}); need at least one row and one class")));
    }
    if targets.len() != n {
        return Err(Error::shape(OP, format!("`logits` has {n} rows but `targets` has length {}", targets.len())));
    }
    let mut total = 0.0;
    for (i, &y) in targets.iter().enumerate() {
        if y >= c {
            return Err(Error::arg(OP, "targets", format!("has class {y} at index {i}, but logits have {c} classes")));
        }
        let row: Vec<f64> = (0..c).map(|j| logits[(i, j)]).collect();
        let logq = log_softmax(&row).map_err(|e| e.within(OP, "logits", format!("row {i}")))?;
        total -= logq[y];
    }
    Ok(total / n as f64)
}

/// Converts nats to bits: $x / \ln 2$.
pub fn nats_to_bits(nats: f64) -> f64 {
    nats / std::f64::consts::LN_2
}
