//! A smoothed n-gram language model over token ids, and a character vocabulary.
//!
//! An order-$n$ model predicts a token from the $n-1$ before it. With add-$k$
//! (Lidstone) smoothing over a vocabulary of $V$ tokens,
//!
//! $$q(w \mid c) = \frac{\#(c, w) + k}{\#(c) + kV},$$
//!
//! where $\#(c, w)$ counts context $c$ followed by $w$ in the training data and
//! $\#(c) = \sum_w \#(c, w)$. Every token gets probability $> 0$, so held-out
//! perplexity is finite. Order 1 with $k \to \infty$ is the uniform model, whose
//! perplexity is exactly $V$. The first $n-1$ tokens of a sequence are predicted
//! from the shorter context available (a "backed-off" start), so every token counts.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Maps characters to dense ids; characters unseen when it was built map to an
/// `<unk>` id, the last one.
#[derive(Clone, Debug)]
pub struct CharVocab {
    chars: Vec<char>,
    index: HashMap<char, usize>,
}

impl CharVocab {
    /// Builds the vocabulary of the distinct characters of `text`, sorted, plus `<unk>`.
    pub fn build(text: &str) -> Result<Self> {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        if chars.is_empty() {
            return Err(Error::arg("CharVocab::build", "text", "is empty"));
        }
        let index = chars.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        Ok(CharVocab { chars, index })
    }

    /// Number of ids, `<unk>` included.
    pub fn len(&self) -> usize {
        self.chars.len() + 1
    }

    /// Never true: a vocabulary always holds `<unk>`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The id of `<unk>`.
    pub fn unk(&self) -> usize {
        self.chars.len()
    }

    /// Encodes `text` as ids, unseen characters as [`CharVocab::unk`].
    pub fn encode(&self, text: &str) -> Vec<usize> {
        text.chars().map(|c| self.index.get(&c).copied().unwrap_or(self.unk())).collect()
    }

    /// Decodes ids back to text; `<unk>` and out-of-range ids become `�`.
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter().map(|&i| self.chars.get(i).copied().unwrap_or('\u{FFFD}')).collect()
    }
}

/// Add-$k$ smoothed n-gram counts. Build with [`NgramModel::fit`].
#[derive(Clone, Debug)]
pub struct NgramModel {
    order: usize,
    vocab_size: usize,
    k: f64,
    // Counts keyed by the context packed into a u64 (base-V digits, most recent token
    // last); one table per context length 0..order, so the start of a sequence can use
    // a shorter context.
    context_counts: Vec<HashMap<u64, f64>>,
    pair_counts: Vec<HashMap<(u64, usize), f64>>,
}

fn pack(ctx: &[usize], vocab_size: usize) -> u64 {
    ctx.iter().fold(0u64, |acc, &t| acc * vocab_size as u64 + t as u64)
}

impl NgramModel {
    /// Counts the n-grams of order `order` ($\ge 1$) in `tokens`, all ids $<$ `vocab_size`,
    /// with add-`k` smoothing ($k > 0$).
    pub fn fit(tokens: &[usize], vocab_size: usize, order: usize, k: f64) -> Result<Self> {
        const OP: &str = "NgramModel::fit";
        if order == 0 {
            return Err(Error::arg(OP, "order", "is 0; an n-gram model needs order >= 1"));
        }
        if vocab_size == 0 {
            return Err(Error::arg(OP, "vocab_size", "is 0"));
        }
        if !(k.is_finite() && k > 0.0) {
            return Err(Error::arg(OP, "k", format!("is {k}; add-k smoothing needs a finite k > 0")));
        }
        if tokens.is_empty() {
            return Err(Error::arg(OP, "tokens", "is empty; nothing to count"));
        }
        if let Some(i) = tokens.iter().position(|&t| t >= vocab_size) {
            return Err(Error::arg(
                OP,
                "tokens",
                format!("has id {} at index {i}, outside vocab_size {vocab_size}", tokens[i]),
            ));
        }
        let fits = (1..order).try_fold(1u64, |acc, _| acc.checked_mul(vocab_size as u64)).is_some();
        if !fits {
            return Err(Error::arg(
                OP,
                "order",
                format!("is {order}: vocab_size^(order-1) = {vocab_size}^{} overflows the context key", order - 1),
            ));
        }
        let mut context_counts = vec![HashMap::new(); order];
        let mut pair_counts = vec![HashMap::new(); order];
        for t in 0..tokens.len() {
            let longest = t.min(order - 1);
            for len in 0..=longest {
                let ctx = pack(&tokens[t - len..t], vocab_size);
                *context_counts[len].entry(ctx).or_insert(0.0) += 1.0;
                *pair_counts[len].entry((ctx, tokens[t])).or_insert(0.0) += 1.0;
            }
        }
        Ok(NgramModel { order, vocab_size, k, context_counts, pair_counts })
    }

    /// The model's order $n$ (context of $n-1$ tokens).
    pub fn order(&self) -> usize {
        self.order
    }

    /// $V$, the number of token ids.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// $\log q(w \mid c)$ for a context `context` (most recent last; only the last
    /// $n-1$ tokens are used) and next token `next`.
    pub fn log_prob(&self, context: &[usize], next: usize) -> Result<f64> {
        const OP: &str = "NgramModel::log_prob";
        if next >= self.vocab_size {
            return Err(Error::arg(OP, "next", format!("is {next}, outside vocab_size {}", self.vocab_size)));
        }
        let len = context.len().min(self.order - 1);
        let ctx = &context[context.len() - len..];
        if let Some(i) = ctx.iter().position(|&t| t >= self.vocab_size) {
            return Err(Error::arg(OP, "context", format!("has id {} at index {i}, outside vocab_size {}", ctx[i], self.vocab_size)));
        }
        let key = pack(ctx, self.vocab_size);
        let c = self.context_counts[len].get(&key).copied().unwrap_or(0.0);
        let cw = self.pair_counts[len].get(&(key, next)).copied().unwrap_or(0.0);
        Ok(((cw + self.k) / (c + self.k * self.vocab_size as f64)).ln())
    }

    /// $\log q(x_t \mid x_{<t})$ for every token of `tokens`, each from at most
    /// $n-1$ tokens of context.
    pub fn log_probs(&self, tokens: &[usize]) -> Result<Vec<f64>> {
        (0..tokens.len())
            .map(|t| {
                let start = t.saturating_sub(self.order - 1);
                self.log_prob(&tokens[start..t], tokens[t])
                    .map_err(|e| e.within("NgramModel::log_probs", "tokens", format!("at index {t}:")))
            })
            .collect()
    }

    /// Held-out perplexity of `tokens` under this model, via [`super::perplexity`].
    pub fn perplexity(&self, tokens: &[usize]) -> Result<f64> {
        super::perplexity(&self.log_probs(tokens)?).map_err(|e| e.in_op("NgramModel::perplexity"))
    }
}
