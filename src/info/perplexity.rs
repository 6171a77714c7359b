//! Perplexity: the exponential of the mean negative log-likelihood.
//!
//! A model assigns probability $q(x_t \mid x_{<t})$ to each of the $T$ tokens of a
//! held-out text. Its perplexity is
//!
//! $$\operatorname{PPL} = \exp\Big(-\frac{1}{T}\sum_{t=1}^{T} \log q(x_t \mid x_{<t})\Big)
//!   = \exp\big(\hat H(p, q)\big),$$
//!
//! the exponential of the empirical cross-entropy (in nats) between the data and the
//! model. It reads as an effective branching factor: a uniform model over $V$ symbols
//! has perplexity exactly $V$, and no model can beat $\exp$ of the source's entropy
//! rate on average.

use faer::MatRef;

use super::entropy::cross_entropy_logits;
use crate::error::{Error, Result};

/// $\operatorname{PPL} = \exp(-\frac{1}{T}\sum_t \log q_t)$ from natural-log
/// probabilities `log_probs` of the observed tokens.
///
/// A $-\infty$ entry (a token the model gave probability 0) gives $+\infty$.
/// libtorch: `torch.exp(F.cross_entropy(logits, targets))`, see [`perplexity_logits`].
///
/// ```
/// // A uniform model over 4 symbols has perplexity 4.
/// let lp = vec![(0.25f64).ln(); 10];
/// assert!((shousi::info::perplexity(&lp).unwrap() - 4.0).abs() < 1e-12);
/// ```
pub fn perplexity(log_probs: &[f64]) -> Result<f64> {
    const OP: &str = "perplexity";
    if log_probs.is_empty() {
        return Err(Error::arg(OP, "log_probs", "is empty; need at least one token"));
    }
    for (i, &v) in log_probs.iter().enumerate() {
        if v.is_nan() || v > 0.0 {
            return Err(Error::arg(
                OP,
                "log_probs",
                format!("has {v} at index {i}; a log-probability must be <= 0"),
            ));
        }
    }
    let nll = -log_probs.iter().sum::<f64>() / log_probs.len() as f64;
    Ok(nll.exp())
}

/// Perplexity of next-token logits against the observed token ids:
/// $\exp$ of [`cross_entropy_logits`].
///
/// libtorch: `F.cross_entropy(logits, targets).exp()`.
pub fn perplexity_logits(logits: MatRef<'_, f64>, targets: &[usize]) -> Result<f64> {
    cross_entropy_logits(logits, targets)
        .map(f64::exp)
        .map_err(|e| e.in_op("perplexity_logits"))
}
