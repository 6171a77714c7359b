//! A synthetic first-order Markov source whose entropy rate is known exactly.
//!
//! For an irreducible, aperiodic chain with transition matrix $P$ (row $i$ is the
//! distribution of the next state given state $i$) and stationary distribution
//! $\pi = \pi P$, the entropy rate is
//!
//! $$\mathcal H = \lim_{T\to\infty} \tfrac{1}{T} H(X_1,\dots,X_T) = \sum_i \pi_i\, H(P_{i\cdot}).$$
//!
//! No model can achieve a perplexity below $e^{\mathcal H}$ on long samples of the
//! source; a bigram model fitted to enough data approaches it.

use faer::{Mat, MatRef};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::entropy::{check_distribution, entropy};
use crate::error::{Error, Result};

/// A Markov chain over states `0..n`.
#[derive(Clone, Debug)]
pub struct MarkovChain {
    transition: Mat<f64>,
}

impl MarkovChain {
    /// Wraps a row-stochastic $n \times n$ transition matrix: every row must be a distribution.
    pub fn new(transition: MatRef<'_, f64>) -> Result<Self> {
        const OP: &str = "MarkovChain::new";
        let (r, c) = (transition.nrows(), transition.ncols());
        if r == 0 || r != c {
            return Err(Error::shape(OP, format!("`transition` has shape ({r}, {c}); need a non-empty square matrix")));
        }
        for i in 0..r {
            let row: Vec<f64> = (0..c).map(|j| transition[(i, j)]).collect();
            check_distribution(OP, "transition", &row).map_err(|e| e.within(OP, "transition", format!("row {i}")))?;
        }
        Ok(MarkovChain { transition: transition.to_owned() })
    }

    /// A random chain over `n_states` states whose rows are drawn so that each row puts
    /// most of its mass on a few states (`concentration` $> 0$; smaller is peakier).
    pub fn random(n_states: usize, concentration: f64, seed: u64) -> Result<Self> {
        const OP: &str = "MarkovChain::random";
        if n_states == 0 {
            return Err(Error::arg(OP, "n_states", "is 0"));
        }
        if !(concentration.is_finite() && concentration > 0.0) {
            return Err(Error::arg(OP, "concentration", format!("is {concentration}; need a finite value > 0")));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut t = Mat::<f64>::zeros(n_states, n_states);
        for i in 0..n_states {
            // u^(1/c) for uniform u: small c pushes most weights towards 0, leaving a few large.
            let w: Vec<f64> = (0..n_states).map(|_| rng.random::<f64>().powf(1.0 / concentration) + 1e-3).collect();
            let s: f64 = w.iter().sum();
            for (j, v) in w.into_iter().enumerate() {
                t[(i, j)] = v / s;
            }
        }
        MarkovChain::new(t.as_ref()).map_err(|e| e.in_op(OP))
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.transition.nrows()
    }

    /// The transition matrix $P$.
    pub fn transition(&self) -> MatRef<'_, f64> {
        self.transition.as_ref()
    }

    /// Stationary distribution $\pi = \pi P$ by power iteration from the uniform
    /// distribution (stops when successive iterates differ by $< 10^{-14}$ in $\ell_1$).
    pub fn stationary(&self) -> Vec<f64> {
        let n = self.n_states();
        let mut pi = vec![1.0 / n as f64; n];
        for _ in 0..100_000 {
            let mut next = vec![0.0; n];
            for (i, &pi_i) in pi.iter().enumerate() {
                for (j, nj) in next.iter_mut().enumerate() {
                    *nj += pi_i * self.transition[(i, j)];
                }
            }
            let diff: f64 = next.iter().zip(&pi).map(|(a, b)| (a - b).abs()).sum();
            pi = next;
            if diff < 1e-14 {
                break;
            }
        }
        pi
    }

    /// Entropy rate $\mathcal H = \sum_i \pi_i H(P_{i\cdot})$ in nats per symbol.
    pub fn entropy_rate(&self) -> f64 {
        let pi = self.stationary();
        (0..self.n_states())
            .map(|i| {
                let row: Vec<f64> = (0..self.n_states()).map(|j| self.transition[(i, j)]).collect();
                // Rows were validated in `new`, so `entropy` cannot fail here.
                pi[i] * entropy(&row).unwrap_or(f64::NAN)
            })
            .sum()
    }

    /// Samples `len` states, the first from $\pi$, with a seeded RNG (reproducible).
    pub fn sample(&self, len: usize, seed: u64) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = self.n_states();
        let draw = |rng: &mut StdRng, probs: &mut dyn Iterator<Item = f64>| {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut last = 0;
            for (j, p) in probs.enumerate() {
                acc += p;
                last = j;
                if u < acc {
                    return j;
                }
            }
            last
        };
        let pi = self.stationary();
        let mut out = Vec::with_capacity(len);
        if len == 0 {
            return out;
        }
        let mut state = draw(&mut rng, &mut pi.iter().copied());
        out.push(state);
        for _ in 1..len {
            state = draw(&mut rng, &mut (0..n).map(|j| self.transition[(state, j)]));
            out.push(state);
        }
        out
    }
}
