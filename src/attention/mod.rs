//! Attention by hand: scaled dot-product attention, masks, the MHA / MQA / GQA family,
//! a KV cache, and a memory-lean tiled forward.
//!
//! Notebooks: `notebooks/03-self-attention.ipynb` (手撕 Self-Attention),
//! `notebooks/04-multi-head-attention.ipynb` (手撕 MHA),
//! `notebooks/05-mqa-gqa.ipynb` (手撕 MQA / GQA).
//!
//! Everything is generic over `f32` and `f64` ([`Real`]). Matrices are faer's, one
//! (sequence, features) matrix per batch element and head.

mod flash;
mod kv_cache;
mod mask;
mod mha;
mod sdpa;

pub use crate::real::Real;
pub use flash::{BLOCK_K, BLOCK_Q, flash_attention};
pub use kv_cache::{KvCache, MODEL_SHAPES, ModelShape, kv_cache_bytes};
pub use mask::{BoolMat, Causal, Mask};
pub use mha::{Linear, MhaOutput, MultiHeadAttention, Variant, self_attention};
pub use sdpa::{Attention, scaled_dot_product_attention};
