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
pub const BLOCK_Q: usize = 128;
pub const BLOCK_K: usize = 256;

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
    // Blocks larger than the problem would only allocate unused scratch.
    let (block_q, block_k) = (block_q.min(l), block_k.min(s));
    let no_bias = mask.is_none();
    let mut out = Mat::<T>::zeros(l, ev);
    // Both blocks are stored transposed (column r = query row r) so that every per-query
    // loop below runs over a contiguous slice and vectorises.
    let mut t = Tiles {
        scores_t: Mat::<T>::zeros(block_k, block_q),
        acc_t: Mat::<T>::zeros(ev, block_q),
        m: vec![T::NEG_INFINITY; block_q],
        denom: vec![T::ZERO; block_q],
    };
    for i0 in (0..l).step_by(block_q) {
        let bq = block_q.min(l - i0);
        t.m[..bq].fill(T::NEG_INFINITY);
        t.denom[..bq].fill(T::ZERO);
        t.acc_t.fill(T::ZERO);
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
                t.scores_t.as_mut().submatrix_mut(0, 0, bk, bq),
                Accum::Replace,
                k.subrows(j0, bk),
                q.subrows(i0, bq).transpose(),
                scale,
                Par::Seq,
            );
            online_softmax_step(&Block { i0, j0, bq, bk, l, s, mask, no_bias }, &mut t);
            // Aᵀ += V_blkᵀ Pᵀ  (ev × bq)
            matmul(
                t.acc_t.as_mut().submatrix_mut(0, 0, ev, bq),
                Accum::Add,
                v.subrows(j0, bk).transpose(),
                t.scores_t.as_ref().submatrix(0, 0, bk, bq),
                T::ONE,
                Par::Seq,
            );
        }
        for r in 0..bq {
            if t.denom[r] > T::ZERO {
                let inv = T::ONE / t.denom[r];
                let a = t.acc_t.col_as_slice(r);
                for c in 0..ev {
                    out[(i0 + r, c)] = a[c] * inv;
                }
            }
        }
    }
    Ok(out)
}

/// Where a score block sits (rows `i0..i0+bq` of `l` queries, keys `j0..j0+bk` of `s`) and
/// the mask that applies to it.
struct Block<'a, T: Real> {
    i0: usize,
    j0: usize,
    bq: usize,
    bk: usize,
    l: usize,
    s: usize,
    mask: &'a Mask<T>,
    no_bias: bool,
}

/// Per-worker scratch: one block of scores and the running statistics of its queries.
struct Tiles<T: Real> {
    /// Scores of the block, transposed: (block_k, block_q).
    scores_t: Mat<T>,
    /// Unnormalised outputs, transposed: (E_v, block_q).
    acc_t: Mat<T>,
    /// Running maximum per query.
    m: Vec<T>,
    /// Running normaliser per query.
    denom: Vec<T>,
}

/// One online-softmax update for every query of a block: add the mask, take the new running
/// max, exponentiate in place, update the normaliser and rescale the accumulator.
#[inline(always)]
fn online_softmax_update<T: Real>(b: &Block<'_, T>, t: &mut Tiles<T>) {
    for r in 0..b.bq {
        let col = &mut t.scores_t.col_as_slice_mut(r)[..b.bk];
        if !b.no_bias {
            for (c, x) in col.iter_mut().enumerate() {
                *x = *x + b.mask.bias(b.i0 + r, b.j0 + c, b.l, b.s);
            }
        }
        let row_max = T::max_of(col);
        let m_old = t.m[r];
        let m_new = if row_max > m_old { row_max } else { m_old };
        if m_new == T::NEG_INFINITY {
            // Everything so far is masked: this block contributes nothing.
            col.fill(T::ZERO);
            continue;
        }
        for x in col.iter_mut() {
            *x = *x - m_new;
        }
        T::exp_in_place(col);
        let alpha = if m_old == T::NEG_INFINITY { T::ZERO } else { (m_old - m_new).exp() };
        t.denom[r] = t.denom[r] * alpha + T::sum(col);
        t.m[r] = m_new;
        if alpha != T::ONE {
            for a in t.acc_t.col_as_slice_mut(r) {
                *a = *a * alpha;
            }
        }
    }
}

/// [`online_softmax_update`] compiled for AVX2. Besides being 8 lanes wide, VEX-encoded code
/// avoids the penalty that legacy SSE code pays right after faer's AVX-512/AVX2 matrix
/// products (measured here: the SSE exp loop ran 5x slower after a matmul).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn online_softmax_update_avx2<T: Real>(b: &Block<'_, T>, t: &mut Tiles<T>) {
    online_softmax_update(b, t)
}

fn online_softmax_step<T: Real>(b: &Block<'_, T>, t: &mut Tiles<T>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: both features were just detected on this CPU.
        unsafe { online_softmax_update_avx2(b, t) };
        return;
    }
    online_softmax_update(b, t)
}
