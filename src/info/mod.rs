//! Information theory: log-sum-exp and softmax, entropy, cross-entropy, KL divergence,
//! perplexity, and the models used to measure perplexity on real and synthetic text.
//!
//! Notebooks: `notebooks/06-perplexity.ipynb` (困惑度) and
//! `notebooks/07-entropy-kl-cross-entropy.ipynb` (熵、KL 散度与交叉熵).

mod entropy;
mod markov;
mod ngram;
mod perplexity;
mod softmax;

pub use entropy::{
    SUM_TOLERANCE, check_distribution, cross_entropy, cross_entropy_logits, entropy, kl_div_p_q,
    nats_to_bits,
};
pub use markov::MarkovChain;
pub use ngram::{CharVocab, NgramModel};
pub use perplexity::{perplexity, perplexity_logits};
pub use softmax::{
    log_softmax, log_softmax_rows, logsumexp, logsumexp_rows, softmax, softmax_naive, softmax_rows,
};
