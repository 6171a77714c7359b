//! # shousi (手撕): machine-learning interview maths, by hand
//!
//! Every routine the notebooks teach, implemented from its formula, tested, and
//! cross-checked against libtorch (cargo feature `torch`) or scikit-learn's
//! documented values. Public functions never panic on bad input: they return
//! [`Error`], whose message names the function, the argument and the value or
//! shape at fault.
//!
//! ## Map: topic → module → notebook
//!
//! | # | topic | module | notebook |
//! |---|---|---|---|
//! | 03 | self-attention 手撕 Self-Attention | [`attention`] ([`attention::scaled_dot_product_attention`], [`attention::self_attention`]) | `notebooks/03-self-attention.ipynb` |
//! | 04 | multi-head attention 手撕 MHA | [`attention`] ([`attention::MultiHeadAttention`], [`attention::Mask`]) | `notebooks/04-multi-head-attention.ipynb` |
//! | 05 | MQA / GQA, KV cache | [`attention`] ([`attention::MultiHeadAttention::gqa`], [`attention::KvCache`], [`attention::flash_attention`]) | `notebooks/05-mqa-gqa.ipynb` |
//! | 06 | perplexity 困惑度 | [`info`] ([`info::perplexity`], [`info::NgramModel`], [`info::MarkovChain`]) | `notebooks/06-perplexity.ipynb` |
//! | 07 | entropy, KL, cross-entropy 熵、KL 散度与交叉熵 | [`info`] ([`info::entropy`], [`info::kl_div_p_q`], [`info::cross_entropy`], [`info::log_softmax`]) | `notebooks/07-entropy-kl-cross-entropy.ipynb` |
//!
//! Support modules: [`data`] (datasets under `data/`, checksummed), [`plot`]
//! (charts that display inline in the notebooks), [`crosscheck`] (the
//! ours-vs-libtorch tables), and `torch` (conversions to and from `tch`
//! tensors, feature `torch`).
//!
//! ## Example
//!
//! ```
//! use shousi::info::{cross_entropy, entropy, kl_div_p_q};
//!
//! let p = [0.7, 0.2, 0.1];
//! let q = [0.4, 0.4, 0.2];
//! // H(p, q) = H(p) + D_KL(p || q)
//! let lhs = cross_entropy(&p, &q)?;
//! let rhs = entropy(&p)? + kl_div_p_q(&p, &q)?;
//! assert!((lhs - rhs).abs() < 1e-12);
//!
//! // Bad input is an error that says where, never a panic.
//! let err = entropy(&[0.7, -0.2, 0.5]).unwrap_err();
//! assert_eq!(err.to_string(), "entropy: argument `p` has negative probability -0.2 at index 1");
//! # Ok::<(), shousi::Error>(())
//! ```

pub mod attention;
pub mod crosscheck;
pub mod data;
mod error;
mod real;
pub mod info;
pub mod plot;
#[cfg(feature = "torch")]
pub mod torch;

pub use error::{Error, Result};
/// The `faer` version this crate uses, re-exported so notebooks need one `:dep`.
pub use faer;
/// The `polars` version this crate uses.
pub use polars;
/// The `rand` version this crate uses (seeded generators in tests and notebooks).
pub use rand;
/// The `plotters` version this crate uses.
pub use plotters;
/// The `tch` (libtorch) version this crate uses.
#[cfg(feature = "torch")]
pub use tch;
