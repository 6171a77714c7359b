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
    let no_bias = mask.is_none();
    let mut out = Mat::<T>::zeros(l, ev);
    // Both blocks are stored transposed (column r = query row r) so that every per-query
    // loop below runs over a contiguous slice and vectorises.
    let mut scores_t = Mat::<T>::zeros(block_k, block_q);
    let mut acc_t = Mat::<T>::zeros(ev, block_q);
    let mut m = vec![T::NEG_INFINITY; block_q];
    let mut denom = vec![T::ZERO; block_q];
    for i0 in (0..l).step_by(block_q) {
        let bq = block_q.min(l - i0);
        m[..bq].fill(T::NEG_INFINITY);
        denom[..bq].fill(T::ZERO);
        acc_t.fill(T::ZERO);
        // Causal masks hide every key past the last visible one: stop there.
        let last_row = i0 + bq - 1;
        let key_end = match mask.causal_kind() {
            Some(Causal::TopLeft) => s.min(last_row + 1),
            Some(Causal::BottomRight) => (last_row + s + 1).saturating_sub(l).min(s),
            None => s,
        };
        for j0 in (0..key_end).step_by(block_k) {
            let bk = block_k.min(key_end - j0);
            // S^T = s · K_blk Q_blkᵀ  (bk × bq)
            matmul(
                scores_t.as_mut().submatrix_mut(0, 0, bk, bq),
                Accum::Replace,
                k.subrows(j0, bk),
                q.subrows(i0, bq).transpose(),
                scale,
                Par::Seq,
            );
            for r in 0..bq {
                let col = &mut scores_t.col_as_slice_mut(r)[..bk];
                if !no_bias {
                    for (c, x) in col.iter_mut().enumerate() {
                        *x = *x + mask.bias(i0 + r, j0 + c, l, s);
                    }
                }
                let row_max = col.iter().fold(T::NEG_INFINITY, |a, &b| Real::max(a, b));
                let m_new = Real::max(m[r], row_max);
                if m_new == T::NEG_INFINITY {
                    // Everything so far is masked: this block contributes nothing.
                    col.fill(T::ZERO);
                    continue;
                }
                for x in col.iter_mut() {
                    *x = *x - m_new;
                }
                T::exp_in_place(col);
                let alpha = if m[r] == T::NEG_INFINITY { T::ZERO } else { (m[r] - m_new).exp() };
                denom[r] = denom[r] * alpha + T::sum(col);
                m[r] = m_new;
                if alpha != T::ONE {
                    for a in acc_t.col_as_slice_mut(r) {
                        *a = *a * alpha;
                    }
                }
            }
            // Aᵀ += V_blkᵀ Pᵀ  (ev × bq)
            matmul(
                acc_t.as_mut().submatrix_mut(0, 0, ev, bq),
                Accum::Add,
                v.subrows(j0, bk).transpose(),
                scores_t.as_ref().submatrix(0, 0, bk, bq),
                T::ONE,
                Par::Seq,
            );
        }
        for r in 0..bq {
            if denom[r] > T::ZERO {
                let inv = T::ONE / denom[r];
                let a = acc_t.col_as_slice(r);
                for c in 0..ev {
                    out[(i0 + r, c)] = a[c] * inv;
                }
            }
        }
    }
    Ok(out)
}
