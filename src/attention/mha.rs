//! Multi-head, multi-query and grouped-query attention: one module, two head counts.
//!
//! With input $X_q$ $(L, D)$ for queries and $X_{kv}$ $(S, D)$ for keys and values
//! ($X_q = X_{kv}$ for self-attention), $H$ query heads of size $d = D/H$ and $G$ key/value
//! heads ($H$ divisible by $G$):
//!
//! $$Q = X_q W_q^\top + b_q \;(L, Hd), \quad K = X_{kv} W_k^\top + b_k \;(S, Gd), \quad
//!   V = X_{kv} W_v^\top + b_v \;(S, Gd),$$
//!
//! $$\text{head}_h = \operatorname{softmax}\!\Big(\frac{Q_h K_{g(h)}^\top}{\sqrt d} + B\Big) V_{g(h)},
//!   \qquad g(h) = \Big\lfloor \frac{h}{H/G} \Big\rfloor,$$
//!
//! $$\operatorname{out} = [\text{head}_1, \dots, \text{head}_H]\, W_o^\top + b_o.$$
//!
//! - **MHA**: $G = H$, every query head has its own keys and values.
//! - **MQA**: $G = 1$, all query heads share one key/value head.
//! - **GQA**: $1 < G < H$, consecutive groups of $H/G$ query heads share one key/value head.
//!   $g(h) = \lfloor h/(H/G) \rfloor$ is libtorch's `enable_gqa` grouping (`repeat_interleave`);
//!   tiling the K/V heads with `repeat` instead gives $g(h) = h \bmod G$, a different model.
//!
//! Weights follow `nn.Linear`: `weight` is (out, in) and $y = xW^\top + b$. The scale is
//! $1/\sqrt{d}$ with the **head** dim $d$, not the model dim $D$.

use faer::{Mat, MatRef};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::mask::Mask;
use super::sdpa::scaled_dot_product_attention;
use crate::error::{Error, Result};
use crate::real::Real;

/// An affine map $y = xW^\top + b$ with `weight` of shape (out, in), as `nn.Linear`.
#[derive(Clone, Debug)]
pub struct Linear<T: Real> {
    pub weight: Mat<T>,
    pub bias: Option<Vec<T>>,
}

impl<T: Real> Linear<T> {
    /// `(out, in)` weight and optional bias of length `out`.
    pub fn new(weight: Mat<T>, bias: Option<Vec<T>>) -> Result<Self> {
        if let Some(b) = &bias {
            if b.len() != weight.nrows() {
                return Err(Error::shape("Linear::new", format!("weight is ({}, {}) but bias has length {}", weight.nrows(), weight.ncols(), b.len())));
            }
        }
        Ok(Linear { weight, bias })
    }

    /// Xavier-uniform weight (bound $\sqrt{6/(\text{in}+\text{out})}$) and a small uniform bias.
    pub fn random(out_dim: usize, in_dim: usize, rng: &mut StdRng) -> Self {
        let bound = (6.0 / (in_dim + out_dim) as f64).sqrt();
        let weight = Mat::from_fn(out_dim, in_dim, |_, _| T::from_f64(bound * (2.0 * rng.random::<f64>() - 1.0)));
        let bias = Some((0..out_dim).map(|_| T::from_f64(0.1 * (2.0 * rng.random::<f64>() - 1.0))).collect());
        Linear { weight, bias }
    }

    pub fn in_dim(&self) -> usize {
        self.weight.ncols()
    }
    pub fn out_dim(&self) -> usize {
        self.weight.nrows()
    }

    /// $xW^\top + b$ for `x` of shape (n, in).
    pub fn forward(&self, x: MatRef<'_, T>) -> Mat<T> {
        let mut y: Mat<T> = x * self.weight.transpose();
        if let Some(b) = &self.bias {
            for j in 0..y.ncols() {
                for i in 0..y.nrows() {
                    y[(i, j)] = y[(i, j)] + b[j];
                }
            }
        }
        y
    }
}

/// Which member of the family a module is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    MultiHead,
    MultiQuery,
    GroupedQuery,
}

/// Outputs of a batched forward pass.
#[derive(Clone, Debug)]
pub struct MhaOutput<T: Real> {
    /// One (L, D) matrix per batch element.
    pub output: Vec<Mat<T>>,
    /// `weights[batch_idx][head_idx]`: (L, S) attention weights of each query head.
    pub weights: Vec<Vec<Mat<T>>>,
}

/// The attention family: `n_heads` query heads, `n_kv_heads` key/value heads.
#[derive(Clone, Debug)]
pub struct MultiHeadAttention<T: Real> {
    embed_dim: usize,
    n_heads: usize,
    n_kv_heads: usize,
    pub q_proj: Linear<T>,
    pub k_proj: Linear<T>,
    pub v_proj: Linear<T>,
    pub o_proj: Linear<T>,
}

fn check_heads(op: &'static str, embed_dim: usize, n_heads: usize, n_kv_heads: usize) -> Result<usize> {
    if embed_dim == 0 || n_heads == 0 || n_kv_heads == 0 {
        return Err(Error::arg(op, "embed_dim", format!("embed_dim {embed_dim}, n_heads {n_heads}, n_kv_heads {n_kv_heads}: all must be > 0")));
    }
    if embed_dim % n_heads != 0 {
        return Err(Error::arg(op, "n_heads", format!("is {n_heads}, which does not divide embed_dim {embed_dim}")));
    }
    if n_heads % n_kv_heads != 0 {
        return Err(Error::arg(op, "n_kv_heads", format!("is {n_kv_heads}, which does not divide n_heads {n_heads}")));
    }
    Ok(embed_dim / n_heads)
}

impl<T: Real> MultiHeadAttention<T> {
    /// A module from explicit projections. Shapes: `q_proj` (D, D), `k_proj` and `v_proj`
    /// (G·d, D), `o_proj` (D, D), with $d = D/H$.
    pub fn new(
        n_heads: usize,
        n_kv_heads: usize,
        q_proj: Linear<T>,
        k_proj: Linear<T>,
        v_proj: Linear<T>,
        o_proj: Linear<T>,
    ) -> Result<Self> {
        const OP: &str = "MultiHeadAttention::new";
        let embed_dim = q_proj.in_dim();
        let head_dim = check_heads(OP, embed_dim, n_heads, n_kv_heads)?;
        let kv_dim = n_kv_heads * head_dim;
        for (name, lin, want) in [
            ("q_proj", &q_proj, (embed_dim, embed_dim)),
            ("k_proj", &k_proj, (kv_dim, embed_dim)),
            ("v_proj", &v_proj, (kv_dim, embed_dim)),
            ("o_proj", &o_proj, (embed_dim, embed_dim)),
        ] {
            if (lin.out_dim(), lin.in_dim()) != want {
                return Err(Error::shape(
                    OP,
                    format!("{name} weight is ({}, {}), expected {want:?} for embed_dim {embed_dim}, n_heads {n_heads}, n_kv_heads {n_kv_heads}", lin.out_dim(), lin.in_dim()),
                ));
            }
        }
        Ok(MultiHeadAttention { embed_dim, n_heads, n_kv_heads, q_proj, k_proj, v_proj, o_proj })
    }

    /// Random Xavier-uniform projections with small biases, seeded.
    pub fn random(embed_dim: usize, n_heads: usize, n_kv_heads: usize, seed: u64) -> Result<Self> {
        let head_dim = check_heads("MultiHeadAttention::random", embed_dim, n_heads, n_kv_heads)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let kv_dim = n_kv_heads * head_dim;
        let q = Linear::random(embed_dim, embed_dim, &mut rng);
        let k = Linear::random(kv_dim, embed_dim, &mut rng);
        let v = Linear::random(kv_dim, embed_dim, &mut rng);
        let o = Linear::random(embed_dim, embed_dim, &mut rng);
        Self::new(n_heads, n_kv_heads, q, k, v, o)
    }

    /// Multi-head attention: `n_kv_heads = n_heads`.
    pub fn mha(embed_dim: usize, n_heads: usize, seed: u64) -> Result<Self> {
        Self::random(embed_dim, n_heads, n_heads, seed).map_err(|e| e.in_op("MultiHeadAttention::mha"))
    }

    /// Multi-query attention: one key/value head shared by all query heads.
    pub fn mqa(embed_dim: usize, n_heads: usize, seed: u64) -> Result<Self> {
        Self::random(embed_dim, n_heads, 1, seed).map_err(|e| e.in_op("MultiHeadAttention::mqa"))
    }

    /// Grouped-query attention: $1 < $ `n_kv_heads` $<$ `n_heads`, dividing it.
    pub fn gqa(embed_dim: usize, n_heads: usize, n_kv_heads: usize, seed: u64) -> Result<Self> {
        const OP: &str = "MultiHeadAttention::gqa";
        if !(1 < n_kv_heads && n_kv_heads < n_heads) {
            return Err(Error::arg(
                OP,
                "n_kv_heads",
                format!("is {n_kv_heads} with n_heads {n_heads}; GQA needs 1 < n_kv_heads < n_heads (use mqa or mha)"),
            ));
        }
        Self::random(embed_dim, n_heads, n_kv_heads, seed).map_err(|e| e.in_op(OP))
    }

    pub fn embed_dim(&self) -> usize {
        self.embed_dim
    }
    pub fn n_heads(&self) -> usize {
        self.n_heads
    }
    pub fn n_kv_heads(&self) -> usize {
        self.n_kv_heads
    }
    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.n_heads
    }

    pub fn variant(&self) -> Variant {
        match self.n_kv_heads {
            g if g == self.n_heads => Variant::MultiHead,
            1 => Variant::MultiQuery,
            _ => Variant::GroupedQuery,
        }
    }

    /// The key/value head used by query head `head_idx`: $\lfloor h / (H/G) \rfloor$.
    pub fn kv_head_of(&self, head_idx: usize) -> usize {
        head_idx / (self.n_heads / self.n_kv_heads)
    }

    fn check_input(&self, op: &'static str, arg: &'static str, xs: &[Mat<T>]) -> Result<()> {
        if xs.is_empty() {
            return Err(Error::arg(op, arg, "is an empty batch"));
        }
        for (b, x) in xs.iter().enumerate() {
            if x.ncols() != self.embed_dim || x.nrows() == 0 {
                return Err(Error::shape(
                    op,
                    format!("{arg}[{b}] is ({}, {}), expected (seq_len > 0, embed_dim = {})", x.nrows(), x.ncols(), self.embed_dim),
                ));
            }
        }
        Ok(())
    }

    /// Batched forward: `query[b]` (L, D) attends to `key_value[b]` (S, D). `masks` is empty
    /// (no mask), one mask for the whole batch, or one per batch element; each mask is
    /// shared by all heads.
    pub fn forward(&self, query: &[Mat<T>], key_value: &[Mat<T>], masks: &[Mask<T>]) -> Result<MhaOutput<T>> {
        const OP: &str = "MultiHeadAttention::forward";
        self.check_input(OP, "query", query)?;
        self.check_input(OP, "key_value", key_value)?;
        if query.len() != key_value.len() {
            return Err(Error::shape(OP, format!("query has batch {} but key_value has batch {}", query.len(), key_value.len())));
        }
        if !(masks.len() <= 1 || masks.len() == query.len()) {
            return Err(Error::shape(OP, format!("{} masks for batch {}; pass 0, 1 or one per batch element", masks.len(), query.len())));
        }
        let none = Mask::none();
        let mut out = MhaOutput { output: Vec::new(), weights: Vec::new() };
        for (b, (xq, xkv)) in query.iter().zip(key_value).enumerate() {
            let mask = masks.get(if masks.len() == 1 { 0 } else { b }).unwrap_or(&none);
            let q = self.q_proj.forward(xq.as_ref());
            let k = self.k_proj.forward(xkv.as_ref());
            let v = self.v_proj.forward(xkv.as_ref());
            let (o, w) = self.attend(&q, &k, &v, mask).map_err(|e| e.within(OP, "masks", format!("batch element {b}:")))?;
            out.output.push(o);
            out.weights.push(w);
        }
        Ok(out)
    }

    /// Self-attention: `forward(x, x, masks)`.
    pub fn self_attention(&self, x: &[Mat<T>], masks: &[Mask<T>]) -> Result<MhaOutput<T>> {
        self.forward(x, x, masks).map_err(|e| e.in_op("MultiHeadAttention::self_attention"))
    }

    /// Attention of projected queries `q` (L, H·d) over projected keys/values (S, G·d),
    /// then the output projection. Shared by [`Self::forward`] and the KV-cache path.
    pub(crate) fn attend(&self, q: &Mat<T>, k: &Mat<T>, v: &Mat<T>, mask: &Mask<T>) -> Result<(Mat<T>, Vec<Mat<T>>)> {
        let d = self.head_dim();
        let mut concat = Mat::<T>::zeros(q.nrows(), self.embed_dim);
        let mut weights = Vec::with_capacity(self.n_heads);
        for head_idx in 0..self.n_heads {
            let g = self.kv_head_of(head_idx);
            let a = scaled_dot_product_attention(
                q.as_ref().subcols(head_idx * d, d),
                k.as_ref().subcols(g * d, d),
                v.as_ref().subcols(g * d, d),
                mask,
                None,
            )?;
            concat.as_mut().subcols_mut(head_idx * d, d).copy_from(&a.output);
            weights.push(a.weights);
        }
        Ok((self.o_proj.forward(concat.as_ref()), weights))
    }
}

/// Textbook single-head self-attention with $X W$ projections: $Q = XW_q$, $K = XW_k$,
/// $V = XW_v$, output $\operatorname{softmax}(QK^\top/\sqrt{d_k} + B)V$ (no output projection).
/// `w_q`, `w_k` are (D, d_k), `w_v` is (D, d_v).
pub fn self_attention<T: Real>(
    x: MatRef<'_, T>,
    w_q: MatRef<'_, T>,
    w_k: MatRef<'_, T>,
    w_v: MatRef<'_, T>,
    mask: &Mask<T>,
) -> Result<super::sdpa::Attention<T>> {
    const OP: &str = "self_attention";
    for (name, w) in [("w_q", w_q), ("w_k", w_k), ("w_v", w_v)] {
        if w.nrows() != x.ncols() {
            return Err(Error::shape(OP, format!("x is ({}, {}) but {name} is ({}, {}); need {name}.nrows() = x.ncols()", x.nrows(), x.ncols(), w.nrows(), w.ncols())));
        }
    }
    let q = x * w_q;
    let k = x * w_k;
    let v = x * w_v;
    scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), mask, None).map_err(|e| e.in_op(OP))
}
