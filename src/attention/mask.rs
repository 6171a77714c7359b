//! Attention masks: which keys each query may attend to.
//!
//! Every kind becomes an additive bias $B_{ij} \in \{0, -\infty\}$ (or the given float) on the
//! scores, so $\operatorname{softmax}(S + B)$ gives masked keys exactly zero weight. The kinds
//! combine: a key is masked if any part masks it, and an additive mask is added on top.
//!
//! Polarity is the classic trap, so every boolean here says in its name what `true` means:
//! - [`Mask::keep`]: `true` = **attend**, as libtorch's `scaled_dot_product_attention(attn_mask=bool)`;
//! - [`Mask::key_padding`]: `true` = **padding, ignored**, as `nn.MultiheadAttention(key_padding_mask=)`.

use faer::{Mat, MatRef};

use crate::error::{Error, Result};
use crate::real::Real;

/// Alignment of a causal mask when the query length $L$ differs from the key length $S$.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Causal {
    /// Query $i$ sees keys $j \le i$: `tril(ones(L, S))`, libtorch's `is_causal=True`.
    TopLeft,
    /// Query $i$ sees keys $j \le i + (S - L)$: `tril(ones(L, S), diagonal = S - L)`, libtorch's
    /// `causal_lower_right`. The right one for decoding with a KV cache, where the $L$ new
    /// queries are the *last* $L$ positions. With $L > S$ the first $L - S$ rows see nothing.
    BottomRight,
}

/// A dense boolean matrix (row-major), for masks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoolMat {
    nrows: usize,
    ncols: usize,
    data: Vec<bool>,
}

impl BoolMat {
    pub fn from_fn(nrows: usize, ncols: usize, f: impl Fn(usize, usize) -> bool) -> Self {
        let data = (0..nrows * ncols).map(|k| f(k / ncols.max(1), k % ncols.max(1))).collect();
        BoolMat { nrows, ncols, data }
    }
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    pub fn get(&self, i: usize, j: usize) -> bool {
        self.data[i * self.ncols + j]
    }
    /// Elements in row-major order.
    pub fn as_slice(&self) -> &[bool] {
        &self.data
    }
}

/// A combination of mask kinds; [`Mask::none`] attends everywhere.
#[derive(Clone, Debug)]
pub struct Mask<T: Real> {
    causal: Option<Causal>,
    keep: Option<BoolMat>,
    additive: Option<Mat<T>>,
    key_padding: Option<Vec<bool>>,
}

impl<T: Real> Default for Mask<T> {
    fn default() -> Self {
        Mask { causal: None, keep: None, additive: None, key_padding: None }
    }
}

impl<T: Real> Mask<T> {
    /// No mask.
    pub fn none() -> Self {
        Self::default()
    }
    /// Top-left causal (libtorch `is_causal=True`).
    pub fn causal() -> Self {
        Self::none().with_causal(Causal::TopLeft)
    }
    /// Bottom-right causal (libtorch `causal_lower_right`), for KV-cache decoding.
    pub fn causal_bottom_right() -> Self {
        Self::none().with_causal(Causal::BottomRight)
    }
    /// Boolean keep-mask of shape $(L, S)$: `true` = attend (libtorch SDPA polarity).
    pub fn keep(keep: BoolMat) -> Self {
        Self::none().with_keep(keep)
    }
    /// Float mask of shape $(L, S)$ added to the scores ($-\infty$ masks a key).
    pub fn additive(bias: Mat<T>) -> Self {
        Self::none().with_additive(bias)
    }
    /// Key padding of length $S$: `true` = this key is padding and is ignored
    /// (`nn.MultiheadAttention` `key_padding_mask` polarity).
    pub fn key_padding(is_pad: Vec<bool>) -> Self {
        Self::none().with_key_padding(is_pad)
    }
    pub fn with_causal(mut self, c: Causal) -> Self {
        self.causal = Some(c);
        self
    }
    pub fn with_keep(mut self, keep: BoolMat) -> Self {
        self.keep = Some(keep);
        self
    }
    pub fn with_additive(mut self, bias: Mat<T>) -> Self {
        self.additive = Some(bias);
        self
    }
    pub fn with_key_padding(mut self, is_pad: Vec<bool>) -> Self {
        self.key_padding = Some(is_pad);
        self
    }

    /// The causal part, if any.
    pub fn causal_kind(&self) -> Option<Causal> {
        self.causal
    }

    /// True when nothing is masked.
    pub fn is_none(&self) -> bool {
        self.causal.is_none() && self.keep.is_none() && self.additive.is_none() && self.key_padding.is_none()
    }

    /// Checks the mask's shapes against $L$ queries and $S$ keys.
    pub fn check(&self, op: &'static str, l: usize, s: usize) -> Result<()> {
        if let Some(k) = &self.keep {
            if (k.nrows, k.ncols) != (l, s) {
                return Err(Error::shape(op, format!("keep mask is ({}, {}) but scores are (L, S) = ({l}, {s})", k.nrows, k.ncols)));
            }
        }
        if let Some(a) = &self.additive {
            if (a.nrows(), a.ncols()) != (l, s) {
                return Err(Error::shape(op, format!("additive mask is ({}, {}) but scores are (L, S) = ({l}, {s})", a.nrows(), a.ncols())));
            }
            for i in 0..l {
                for j in 0..s {
                    if a[(i, j)].to_f64().is_nan() {
                        return Err(Error::arg(op, "mask", format!("additive mask has NaN at ({i}, {j})")));
                    }
                }
            }
        }
        if let Some(p) = &self.key_padding {
            if p.len() != s {
                return Err(Error::shape(op, format!("key padding has length {} but there are S = {s} keys", p.len())));
            }
        }
        Ok(())
    }

    /// The bias $B_{ij}$ for query $i$ of $L$ and key $j$ of $S$ (shapes already checked).
    #[inline]
    pub fn bias(&self, i: usize, j: usize, l: usize, s: usize) -> T {
        let masked = match self.causal {
            Some(Causal::TopLeft) => j > i,
            Some(Causal::BottomRight) => j + l > i + s,
            None => false,
        } || self.keep.as_ref().is_some_and(|k| !k.get(i, j))
            || self.key_padding.as_ref().is_some_and(|p| p[j]);
        if masked {
            T::NEG_INFINITY
        } else {
            self.additive.as_ref().map_or(T::ZERO, |a| a[(i, j)])
        }
    }

    /// The whole $(L, S)$ bias matrix (for display and cross-checks).
    pub fn to_bias(&self, l: usize, s: usize) -> Result<Mat<T>> {
        self.check("Mask::to_bias", l, s)?;
        Ok(Mat::from_fn(l, s, |i, j| self.bias(i, j, l, s)))
    }
}

/// Shape check shared by the attention functions: `q` $(L, E)$, `k` $(S, E)$, `v` $(S, E_v)$, all
/// non-empty and finite.
pub(crate) fn check_qkv<T: Real>(op: &'static str, q: MatRef<'_, T>, k: MatRef<'_, T>, v: MatRef<'_, T>) -> Result<()> {
    let (l, e) = (q.nrows(), q.ncols());
    let (s, ek) = (k.nrows(), k.ncols());
    if l == 0 || s == 0 || e == 0 || v.ncols() == 0 {
        return Err(Error::shape(
            op,
            format!("q is ({l}, {e}), k is ({s}, {ek}), v is ({}, {}); lengths and dims must be > 0", v.nrows(), v.ncols()),
        ));
    }
    if ek != e {
        return Err(Error::shape(op, format!("q is ({l}, {e}) but k is ({s}, {ek}); q and k need the same head dim")));
    }
    if v.nrows() != s {
        return Err(Error::shape(op, format!("k is ({s}, {ek}) but v is ({}, {}); k and v need the same length", v.nrows(), v.ncols())));
    }
    for (name, m) in [("q", q), ("k", k), ("v", v)] {
        for j in 0..m.ncols() {
            for i in 0..m.nrows() {
                if !m[(i, j)].to_f64().is_finite() {
                    return Err(Error::arg(op, name, format!("has non-finite value {:?} at ({i}, {j})", m[(i, j)])));
                }
            }
        }
    }
    Ok(())
}
