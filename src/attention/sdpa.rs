//! Scaled dot-product attention for one head.
//!
//! With queries $Q \in \mathbb R^{L\times E}$, keys $K \in \mathbb R^{S\times E}$, values
//! $V \in \mathbb R^{S\times E_v}$ and a mask bias $B$ (see [`Mask`]):
//!
//! $$A = \operatorname{softmax}_{\text{rows}}\!\big(s\,QK^\top + B\big), \qquad O = AV,
//!   \qquad s = 1/\sqrt{E} \text{ by default.}$$
//!
//! Why $1/\sqrt{E}$: if the entries of $q$ and $k$ are independent with mean 0 and variance 1,
//! $q\cdot k$ has variance $E$; scaling brings it back to 1 so the softmax does not saturate.
//!
//! **Fully masked rows.** A query whose keys are all masked has scores all $-\infty$; a plain
//! softmax gives $0/0 = $ NaN. Like libtorch's SDPA since 2.5 (`_safe_softmax`) we return a zero
//! row of weights and a zero output row instead. (`nn.MultiheadAttention` with
//! `need_weights=True` still returns NaN there.)
//!
//! libtorch: `torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask, is_causal, scale)`.

use faer::{Mat, MatRef};

use super::mask::{Mask, check_qkv};
use crate::error::{Error, Result};
use crate::real::Real;

/// Output $O$ $(L, E_v)$ and attention weights $A$ $(L, S)$ of one head.
#[derive(Clone, Debug)]
pub struct Attention<T: Real> {
    pub output: Mat<T>,
    pub weights: Mat<T>,
}

/// The default scale $1/\sqrt{E}$ unless `scale` is given; must be finite.
pub(crate) fn resolve_scale<T: Real>(op: &'static str, scale: Option<f64>, head_dim: usize) -> Result<T> {
    match scale {
        None => Ok(T::from_f64(1.0 / (head_dim as f64).sqrt())),
        Some(s) if s.is_finite() => Ok(T::from_f64(s)),
        Some(s) => Err(Error::arg(op, "scale", format!("is {s}; need a finite number"))),
    }
}

/// Row-wise softmax in place that maps an all-$-\infty$ row to zeros (libtorch `_safe_softmax`).
pub(crate) fn safe_softmax_rows<T: Real>(scores: &mut Mat<T>) {
    for i in 0..scores.nrows() {
        let mut m = T::NEG_INFINITY;
        for j in 0..scores.ncols() {
            if scores[(i, j)] > m {
                m = scores[(i, j)];
            }
        }
        if m == T::NEG_INFINITY {
            for j in 0..scores.ncols() {
                scores[(i, j)] = T::ZERO;
            }
            continue;
        }
        let mut sum = T::ZERO;
        for j in 0..scores.ncols() {
            let e = (scores[(i, j)] - m).exp();
            scores[(i, j)] = e;
            sum = sum + e;
        }
        let inv = T::ONE / sum;
        for j in 0..scores.ncols() {
            scores[(i, j)] = scores[(i, j)] * inv;
        }
    }
}

/// $\operatorname{softmax}(s\,QK^\top + B)\,V$ for one head; returns output and weights.
///
/// `scale = None` uses $1/\sqrt{E}$. Errors on empty or mismatched shapes, non-finite
/// inputs, a mask of the wrong shape, or a non-finite scale.
///
/// ```
/// use shousi::attention::{scaled_dot_product_attention, Mask};
/// use shousi::faer::Mat;
/// let q: Mat<f64> = Mat::from_fn(3, 4, |i, j| (i + j) as f64 * 0.1);
/// let a = scaled_dot_product_attention(q.as_ref(), q.as_ref(), q.as_ref(), &Mask::causal(), None).unwrap();
/// assert_eq!(a.weights[(0, 0)], 1.0); // the first query sees only the first key
/// ```
pub fn scaled_dot_product_attention<T: Real>(
    q: MatRef<'_, T>,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    mask: &Mask<T>,
    scale: Option<f64>,
) -> Result<Attention<T>> {
    const OP: &str = "scaled_dot_product_attention";
    check_qkv(OP, q, k, v)?;
    let (l, s) = (q.nrows(), k.nrows());
    mask.check(OP, l, s)?;
    let scale: T = resolve_scale(OP, scale, q.ncols())?;
    let mut scores: Mat<T> = q * k.transpose();
    for j in 0..s {
        for i in 0..l {
            scores[(i, j)] = scores[(i, j)] * scale + mask.bias(i, j, l, s);
        }
    }
    safe_softmax_rows(&mut scores);
    let output = &scores * v;
    Ok(Attention { output, weights: scores })
}
