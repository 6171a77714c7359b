//! Memory-lean attention: a tiled forward with the online softmax (flash-attention style).
//!
//! The plain forward materialises the $L \times S$ score matrix. Instead, walk the keys in
//! blocks and keep, for each query row, a running maximum $m$, a running normaliser
//! $\ell$ and an unnormalised output $\mathbf a$. When block $j$ brings scores $s_{\cdot}$:
//!
//! $$m' = \max(m, \max_k s_k), \quad
//!   \ell' = e^{m - m'}\ell + \sum_k e^{s_k - m'}, \quad
//!   \mathbf a' = e^{m - m'}\mathbf a + \sum_k e^{s_k - m'} \mathbf v_k,$$
//!
//! and at the end $\mathbf o = \mathbf a / \ell$. Rescaling by $e^{m - m'}$ makes the result
//! exactly the softmax-weighted average, yet only one $B_q \times B_k$ block of scores exists
//! at a time: extra memory $O(B_q (B_k + E_v))$ per worker instead of $O(LS)$.
//! A row whose keys are all masked keeps $\ell = 0$ and returns zeros, as the plain version does.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use super::mask::{Causal, Mask, check_qkv};
use super::sdpa::resolve_scale;
use crate::error::{Error, Result};
use crate::real::Real;

/// Default query and key block sizes.
pub const BLOCK_Q: usize = 64;
pub const BLOCK_K: usize = 128;

/// Tiled online-softmax attention for one head: the same output as
/// [`scaled_dot_product_attention`](super::scaled_dot_product_attention) (within rounding),
/// without the $L\times S$ weights. `block_q`, `block_k` $\ge 1$.
pub fn flash_attention<T: Real>(
    q: MatRef<'_, T>,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    mask: &Mask<T>,
    scale: Option<f64>,
    block_q: usize,
    block_k: usize,
) -> Result<Mat<T>> {
    const OP: &str = "flash_attention";
    check_qkv(OP, q, k, v)?;
    let (l, s, ev) = (q.nrows(), k.nrows(), v.ncols());
    mask.check(OP, l, s)?;
    if block_q == 0 || block_k == 0 {
        return Err(Error::arg(OP, "block_q", format!("block sizes are ({block_q}, {block_k}); both must be >= 1")));
    }
    let scale: T = resolve_scale(OP, scale, q.ncols())?;
    let mut out = Mat::<T>::zeros(l, ev);
    let mut scores = Mat::<T>::zeros(block_q, block_k);
    let mut acc = Mat::<T>::zeros(block_q, ev);
    let mut m = vec![T::NEG_INFINITY; block_q];
    let mut denom = vec![T::ZERO; block_q];
    let one = T::ONE;
    for i0 in (0..l).step_by(block_q) {
        let bq = block_q.min(l - i0);
        m[..bq].fill(T::NEG_INFINITY);
        denom[..bq].fill(T::ZERO);
        acc.fill(T::ZERO);
        // Causal masks hide every key past the last visible one: stop there.
        let last_row = i0 + bq - 1;
        let key_end = match mask.causal_kind() {
            Some(Causal::TopLeft) => s.min(last_row + 1),
            Some(Causal::BottomRight) => (last_row + s + 1).saturating_sub(l).min(s),
            None => s,
        };
        for j0 in (0..key_end).step_by(block_k) {
            let bk = block_k.min(key_end - j0);
            let mut sc = scores.as_mut().submatrix_mut(0, 0, bq, bk);
            matmul(sc.as_mut(), Accum::Replace, q.subrows(i0, bq), k.subrows(j0, bk).transpose(), scale, Par::Seq);
            for r in 0..bq {
                let i = i0 + r;
                let mut row_max = T::NEG_INFINITY;
                for c in 0..bk {
                    let x = sc[(r, c)] + mask.bias(i, j0 + c, l, s);
                    sc[(r, c)] = x;
                    if x > row_max {
                        row_max = x;
                    }
                }
                let m_new = if row_max > m[r] { row_max } else { m[r] };
                if m_new == T::NEG_INFINITY {
                    // Everything so far is masked: contributes nothing.
                    for c in 0..bk {
                        sc[(r, c)] = T::ZERO;
                    }
                    continue;
                }
                let alpha = if m[r] == T::NEG_INFINITY { T::ZERO } else { (m[r] - m_new).exp() };
                let mut sum = T::ZERO;
                for c in 0..bk {
                    let p = (sc[(r, c)] - m_new).exp();
                    sc[(r, c)] = p;
                    sum = sum + p;
                }
                denom[r] = denom[r] * alpha + sum;
                m[r] = m_new;
                if alpha != one {
                    for c in 0..ev {
                        acc[(r, c)] = acc[(r, c)] * alpha;
                    }
                }
            }
            matmul(
                acc.as_mut().subrows_mut(0, bq),
                Accum::Add,
                scores.as_ref().submatrix(0, 0, bq, bk),
                v.subrows(j0, bk),
                one,
                Par::Seq,
            );
        }
        for r in 0..bq {
            if denom[r] > T::ZERO {
                let inv = one / denom[r];
                for c in 0..ev {
                    out[(i0 + r, c)] = acc[(r, c)] * inv;
                }
            }
        }
    }
    Ok(out)
}
