//! KV cache: decoding one token at a time without recomputing past keys and values.
//!
//! In causal self-attention the keys and values of past positions never change, so a
//! decoder keeps them. Step $t$ projects only the new token(s), appends their $K, V$ to the
//! cache, and attends with the **bottom-right** causal mask (the new queries are the last
//! positions). The result equals the full causal forward pass, row for row.
//!
//! Memory per sequence: $2 \cdot n_{\text{layers}} \cdot G \cdot d \cdot T$ elements (keys and
//! values, $G$ key/value heads of size $d$, $T$ cached positions). This is where MQA and GQA
//! pay off: the cache shrinks by $H/G$.

use faer::Mat;

use super::mask::Mask;
use super::mha::{MhaOutput, MultiHeadAttention};
use crate::error::{Error, Result};
use crate::real::Real;

/// Cached projected keys and values: for each batch element, (T, G·d) matrices.
#[derive(Clone, Debug)]
pub struct KvCache<T: Real> {
    keys: Vec<Mat<T>>,
    values: Vec<Mat<T>>,
}

impl<T: Real> KvCache<T> {
    /// Number of cached positions of batch element `batch_idx`.
    pub fn len(&self, batch_idx: usize) -> usize {
        self.keys.get(batch_idx).map_or(0, |k| k.nrows())
    }
    pub fn is_empty(&self) -> bool {
        self.keys.iter().all(|k| k.nrows() == 0)
    }
    /// Elements held (keys and values, all batch elements).
    pub fn n_elements(&self) -> usize {
        self.keys.iter().chain(&self.values).map(|m| m.nrows() * m.ncols()).sum()
    }
}

/// Appends the rows of `new` to `cache` in place. Row capacity grows to the next power of two,
/// so a decoding step copies only its new rows, not the whole cache.
fn append<T: Real>(cache: &mut Mat<T>, new: &Mat<T>) {
    let (old, len) = (cache.nrows(), cache.nrows() + new.nrows());
    cache.reserve(len.next_power_of_two(), new.ncols());
    cache.resize_with(len, new.ncols(), |i, j| new[(i - old, j)]);
}

impl<T: Real> MultiHeadAttention<T> {
    /// An empty cache for `batch` sequences.
    pub fn new_cache(&self, batch: usize) -> KvCache<T> {
        let kv_dim = self.n_kv_heads() * self.head_dim();
        KvCache { keys: vec![Mat::zeros(0, kv_dim); batch], values: vec![Mat::zeros(0, kv_dim); batch] }
    }

    /// One decoding step of causal self-attention: `x_new[b]` (t, D) are the next $t \ge 1$
    /// tokens of sequence `b`. Their keys and values are appended to `cache`, then their
    /// queries attend to every cached position with the bottom-right causal mask.
    pub fn forward_cached(&self, x_new: &[Mat<T>], cache: &mut KvCache<T>) -> Result<MhaOutput<T>> {
        const OP: &str = "MultiHeadAttention::forward_cached";
        if x_new.len() != cache.keys.len() {
            return Err(Error::shape(OP, format!("x_new has batch {} but the cache holds {} sequences", x_new.len(), cache.keys.len())));
        }
        let mut out = MhaOutput { output: Vec::new(), weights: Vec::new() };
        for (b, x) in x_new.iter().enumerate() {
            if x.ncols() != self.embed_dim() || x.nrows() == 0 {
                return Err(Error::shape(OP, format!("x_new[{b}] is ({}, {}), expected (t > 0, embed_dim = {})", x.nrows(), x.ncols(), self.embed_dim())));
            }
            let q = self.q_proj.forward(x.as_ref());
            append(&mut cache.keys[b], &self.k_proj.forward(x.as_ref()));
            append(&mut cache.values[b], &self.v_proj.forward(x.as_ref()));
            let (o, w) = self.attend(&q, &cache.keys[b], &cache.values[b], &Mask::causal_bottom_right()).map_err(|e| e.in_op(OP))?;
            out.output.push(o);
            out.weights.push(w);
        }
        Ok(out)
    }
}

/// KV-cache size in bytes: $2 \cdot n_{\text{layers}} \cdot G \cdot d \cdot T \cdot B \cdot$ `bytes_per_elem`.
///
/// ```
/// // Llama-2-7B (MHA, 32 layers, 32 kv heads of 128) at 4096 tokens in fp16: 2 GiB.
/// assert_eq!(shousi::attention::kv_cache_bytes(32, 32, 128, 4096, 1, 2), 2 << 30);
/// ```
pub fn kv_cache_bytes(n_layers: u64, n_kv_heads: u64, head_dim: u64, seq_len: u64, batch: u64, bytes_per_elem: u64) -> u64 {
    2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_elem
}

/// Published attention shapes of open models, for the KV-cache tables.
#[derive(Clone, Copy, Debug)]
pub struct ModelShape {
    pub name: &'static str,
    pub n_layers: u64,
    pub n_heads: u64,
    pub n_kv_heads: u64,
    pub head_dim: u64,
}

impl ModelShape {
    /// [`kv_cache_bytes`] for this model.
    pub fn kv_cache_bytes(&self, seq_len: u64, batch: u64, bytes_per_elem: u64) -> u64 {
        kv_cache_bytes(self.n_layers, self.n_kv_heads, self.head_dim, seq_len, batch, bytes_per_elem)
    }
    /// "MHA", "MQA" or "GQA".
    pub fn variant(&self) -> &'static str {
        match self.n_kv_heads {
            g if g == self.n_heads => "MHA",
            1 => "MQA",
            _ => "GQA",
        }
    }
}

/// Shapes from the models' published configurations.
pub const MODEL_SHAPES: [ModelShape; 5] = [
    ModelShape { name: "Llama-2-7B", n_layers: 32, n_heads: 32, n_kv_heads: 32, head_dim: 128 },
    ModelShape { name: "Llama-2-70B", n_layers: 80, n_heads: 64, n_kv_heads: 8, head_dim: 128 },
    ModelShape { name: "Llama-3-8B", n_layers: 32, n_heads: 32, n_kv_heads: 8, head_dim: 128 },
    ModelShape { name: "Mistral-7B", n_layers: 32, n_heads: 32, n_kv_heads: 8, head_dim: 128 },
    ModelShape { name: "Falcon-7B", n_layers: 32, n_heads: 71, n_kv_heads: 1, head_dim: 64 },
];
