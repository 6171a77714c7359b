//! Unit and property tests of the information-theory module (no libtorch needed).

use faer::Mat;
use proptest::prelude::*;
use shousi::Error;
use shousi::info::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

// ---- errors name the function, the argument and the value ----

fn message(r: Result<impl std::fmt::Debug, Error>) -> String {
    r.expect_err("expected an Err").to_string()
}

#[test]
fn invalid_distributions_are_errors_that_say_where() {
    assert_eq!(message(entropy(&[])), "entropy: argument `p` is empty; a distribution needs at least one outcome");
    assert_eq!(message(entropy(&[0.5, -0.1, 0.6])), "entropy: argument `p` has negative probability -0.1 at index 1");
    assert!(message(entropy(&[0.5, 0.4])).starts_with("entropy: argument `p` sums to 0.9"));
    assert_eq!(message(entropy(&[f64::NAN, 1.0])), "entropy: argument `p` has non-finite value NaN at index 0");
    assert_eq!(
        message(kl_div_p_q(&[0.5, 0.5], &[1.0])),
        "kl_div_p_q: shape mismatch: `p` has length 2 but `q` has length 1"
    );
    assert!(message(cross_entropy(&[0.5, 0.5], &[0.9, 0.2])).starts_with("cross_entropy: argument `q` sums to"));
}

#[test]
fn logits_errors() {
    assert_eq!(message(logsumexp(&[])), "logsumexp: argument `x` is empty; need at least one logit");
    assert_eq!(message(softmax(&[1.0, f64::NAN])), "softmax: argument `x` has NaN at index 1 (length 2)");
    assert_eq!(message(log_softmax(&[f64::NEG_INFINITY; 3])), "log_softmax: argument `x` is all -inf; softmax is undefined");
    let m: Mat<f64> = Mat::from_fn(2, 2, |i, j| if i == 1 && j == 0 { f64::NAN } else { 0.0 });
    assert_eq!(message(softmax_rows(m.as_ref())), "softmax_rows: argument `x` row 1 has NaN at index 0 (length 2)");
    let empty: Mat<f64> = Mat::zeros(3, 0);
    assert!(message(log_softmax_rows(empty.as_ref())).contains("has shape (3, 0)"));
}

#[test]
fn cross_entropy_logits_errors() {
    let logits: Mat<f64> = Mat::zeros(2, 3);
    assert_eq!(
        message(cross_entropy_logits(logits.as_ref(), &[0])),
        "cross_entropy_logits: shape mismatch: `logits` has 2 rows but `targets` has length 1"
    );
    assert_eq!(
        message(cross_entropy_logits(logits.as_ref(), &[0, 3])),
        "cross_entropy_logits: argument `targets` has class 3 at index 1, but logits have 3 classes"
    );
    assert!(message(perplexity_logits(logits.as_ref(), &[0, 3])).starts_with("perplexity_logits: argument `targets`"));
}

#[test]
fn perplexity_errors_and_edges() {
    assert_eq!(message(perplexity(&[])), "perplexity: argument `log_probs` is empty; need at least one token");
    assert!(message(perplexity(&[-1.0, 0.5])).contains("has 0.5 at index 1; a log-probability must be <= 0"));
    assert_eq!(perplexity(&[-1.0, f64::NEG_INFINITY]).unwrap(), f64::INFINITY);
    assert_eq!(perplexity(&[0.0, 0.0]).unwrap(), 1.0);
}

// ---- values ----

#[test]
fn known_values() {
    assert!(close(entropy(&[0.25; 4]).unwrap(), 4f64.ln(), 1e-15));
    assert_eq!(entropy(&[0.0, 1.0, 0.0]).unwrap(), 0.0); // one-hot, 0 log 0 = 0
    assert!(close(nats_to_bits(entropy(&[0.5, 0.5]).unwrap()), 1.0, 1e-15));
    // D(p||q) with q = 0 < p is infinite; with p = 0 the term vanishes.
    assert_eq!(kl_div_p_q(&[0.5, 0.5], &[1.0, 0.0]).unwrap(), f64::INFINITY);
    assert!(close(kl_div_p_q(&[1.0, 0.0], &[0.5, 0.5]).unwrap(), 2f64.ln(), 1e-15));
    assert_eq!(cross_entropy(&[0.0, 1.0], &[0.0, 1.0]).unwrap(), 0.0);
    // Asymmetry, computed by hand: D(p||q) = 0.9 ln(1.8) + 0.1 ln(0.2).
    let pq = 0.9 * 1.8f64.ln() + 0.1 * 0.2f64.ln();
    let qp = 0.5 * (0.5f64 / 0.9).ln() + 0.5 * (0.5f64 / 0.1).ln();
    assert!(close(kl_div_p_q(&[0.9, 0.1], &[0.5, 0.5]).unwrap(), pq, 1e-15));
    assert!(close(kl_div_p_q(&[0.5, 0.5], &[0.9, 0.1]).unwrap(), qp, 1e-15));
}

#[test]
fn extreme_logits_are_stable() {
    let lse = logsumexp(&[1000.0, 1000.0]).unwrap();
    assert!(close(lse, 1000.0 + 2f64.ln(), 1e-15));
    assert!(close(logsumexp(&[-1000.0, -1000.0]).unwrap(), -1000.0 + 2f64.ln(), 1e-15));
    let p = softmax(&[1000.0, 0.0, -1000.0]).unwrap();
    assert_eq!(p, vec![1.0, (-1000f64).exp(), 0.0]);
    let lp = log_softmax(&[1000.0, 0.0]).unwrap();
    assert_eq!(lp, vec![0.0, -1000.0]);
    // The naive version is the mistake the notebooks demonstrate.
    assert!(softmax_naive(&[1000.0, 0.0]).iter().any(|v| v.is_nan()));
    // libtorch semantics for infinities in logsumexp.
    assert_eq!(logsumexp(&[f64::NEG_INFINITY, f64::NEG_INFINITY]).unwrap(), f64::NEG_INFINITY);
    assert_eq!(logsumexp(&[f64::INFINITY, 0.0]).unwrap(), f64::INFINITY);
    assert_eq!(log_softmax(&[f64::NEG_INFINITY, 0.0]).unwrap(), vec![f64::NEG_INFINITY, 0.0]);
}

#[test]
fn cross_entropy_logits_matches_definition() {
    let logits: Mat<f64> = Mat::from_fn(3, 4, |i, j| (i as f64) - 0.7 * j as f64);
    let targets = [0, 3, 1];
    let mut want = 0.0;
    for (i, &y) in targets.iter().enumerate() {
        let row: Vec<f64> = (0..4).map(|j| logits[(i, j)]).collect();
        want -= log_softmax(&row).unwrap()[y];
    }
    want /= 3.0;
    assert!(close(cross_entropy_logits(logits.as_ref(), &targets).unwrap(), want, 1e-15));
    assert!(close(perplexity_logits(logits.as_ref(), &targets).unwrap(), want.exp(), 1e-14));
}

// ---- n-gram model and Markov source ----

#[test]
fn ngram_model_probabilities_normalise() {
    let text = "abracadabra abracadabra";
    let vocab = CharVocab::build(text).unwrap();
    let ids = vocab.encode(text);
    for order in 1..=4 {
        let m = NgramModel::fit(&ids, vocab.len(), order, 0.5).unwrap();
        for ctx in [&ids[..0], &ids[..1], &ids[..3], &ids[5..8]] {
            let total: f64 = (0..vocab.len()).map(|w| m.log_prob(ctx, w).unwrap().exp()).sum();
            assert!(close(total, 1.0, 1e-12), "order {order}: sums to {total}");
        }
    }
}

#[test]
fn ngram_uniform_limit_and_unknowns() {
    let text = "the cat sat on the mat";
    let vocab = CharVocab::build(text).unwrap();
    assert_eq!(vocab.decode(&vocab.encode("cat")), "cat");
    assert_eq!(vocab.encode("dog!")[0], vocab.unk()); // 'd' unseen
    let ids = vocab.encode(text);
    // k -> infinity: add-k smoothing forgets the counts, perplexity -> V.
    let uniform = NgramModel::fit(&ids, vocab.len(), 2, 1e12).unwrap();
    assert!(close(uniform.perplexity(&vocab.encode("a dog")).unwrap(), vocab.len() as f64, 1e-6));
    // Fitting and scoring the same text: a bigram model beats a unigram one.
    let uni = NgramModel::fit(&ids, vocab.len(), 1, 0.1).unwrap().perplexity(&ids).unwrap();
    let bi = NgramModel::fit(&ids, vocab.len(), 2, 0.1).unwrap().perplexity(&ids).unwrap();
    assert!(bi < uni, "bigram {bi} vs unigram {uni}");
}

#[test]
fn ngram_errors() {
    assert!(message(NgramModel::fit(&[0, 1], 2, 0, 1.0)).starts_with("NgramModel::fit: argument `order` is 0"));
    assert!(message(NgramModel::fit(&[0, 5], 2, 2, 1.0)).contains("has id 5 at index 1, outside vocab_size 2"));
    assert!(message(NgramModel::fit(&[0, 1], 2, 2, 0.0)).contains("argument `k` is 0"));
    assert!(message(NgramModel::fit(&[], 2, 2, 1.0)).contains("argument `tokens` is empty"));
    assert!(message(NgramModel::fit(&[0], 1000, 8, 1.0)).contains("overflows the context key"));
    let m = NgramModel::fit(&[0, 1, 0], 2, 2, 1.0).unwrap();
    assert!(message(m.log_prob(&[0], 2)).contains("argument `next` is 2, outside vocab_size 2"));
    assert!(message(m.perplexity(&[0, 9])).starts_with("NgramModel::log_probs: argument `tokens` at index 1:"));
    assert!(message(CharVocab::build("")).contains("argument `text` is empty"));
}

#[test]
fn markov_entropy_rate_of_known_chains() {
    // i.i.d. fair coin: rate ln 2. Deterministic alternation: rate 0.
    let coin: Mat<f64> = Mat::from_fn(2, 2, |_, _| 0.5);
    assert!(close(MarkovChain::new(coin.as_ref()).unwrap().entropy_rate(), 2f64.ln(), 1e-12));
    let flip: Mat<f64> = Mat::from_fn(2, 2, |i, j| if i != j { 1.0 } else { 0.0 });
    let flip = MarkovChain::new(flip.as_ref()).unwrap();
    assert_eq!(flip.entropy_rate(), 0.0);
    assert_eq!(flip.sample(6, 1).windows(2).filter(|w| w[0] == w[1]).count(), 0);
    // Sticky chain: P(stay) = 0.9; stationary uniform; rate = H(0.9, 0.1).
    let sticky: Mat<f64> = Mat::from_fn(2, 2, |i, j| if i == j { 0.9 } else { 0.1 });
    let sticky = MarkovChain::new(sticky.as_ref()).unwrap();
    assert!(close(sticky.entropy_rate(), entropy(&[0.9, 0.1]).unwrap(), 1e-12));
    let pi = sticky.stationary();
    assert!(close(pi[0], 0.5, 1e-12));
}

#[test]
fn bigram_perplexity_approaches_the_entropy_rate() {
    let chain = MarkovChain::random(8, 0.3, 7).unwrap();
    let bound = chain.entropy_rate().exp();
    let test = chain.sample(20_000, 99);
    let ppl = |n: usize| {
        let train = chain.sample(n, 1);
        NgramModel::fit(&train, 8, 2, 0.01).unwrap().perplexity(&test).unwrap()
    };
    let (small, large) = (ppl(200), ppl(200_000));
    assert!(small > large, "more data should help: {small} vs {large}");
    // Within 1% of the bound with 200k training symbols; a 20k test sample is itself noisy.
    assert!((large / bound - 1.0).abs() < 0.01, "ppl {large} vs exp(rate) {bound}");
}

#[test]
fn markov_errors() {
    let bad: Mat<f64> = Mat::from_fn(2, 2, |i, _| if i == 0 { 0.5 } else { 0.7 });
    assert!(message(MarkovChain::new(bad.as_ref())).starts_with("MarkovChain::new: argument `transition` row 1 sums to 1.4"));
    let rect: Mat<f64> = Mat::zeros(2, 3);
    assert!(message(MarkovChain::new(rect.as_ref())).contains("has shape (2, 3)"));
    assert!(message(MarkovChain::random(0, 1.0, 0)).contains("`n_states` is 0"));
}

// ---- properties ----

fn distribution(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0f64..1.0, n).prop_filter_map("all zero", |w| {
        let s: f64 = w.iter().sum();
        (s > 1e-3).then(|| w.iter().map(|v| v / s).collect())
    })
}

fn two_distributions() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (1usize..12).prop_flat_map(|n| (distribution(n), distribution(n)))
}

proptest! {
    #[test]
    fn cross_entropy_is_entropy_plus_kl((p, q) in two_distributions()) {
        let lhs = cross_entropy(&p, &q).unwrap();
        let rhs = entropy(&p).unwrap() + kl_div_p_q(&p, &q).unwrap();
        prop_assert!(lhs == rhs || close(lhs, rhs, 1e-12), "{lhs} vs {rhs}");
    }

    #[test]
    fn gibbs_inequality((p, q) in two_distributions()) {
        prop_assert!(kl_div_p_q(&p, &q).unwrap() >= -1e-15);
        prop_assert!(kl_div_p_q(&p, &p).unwrap().abs() <= 1e-15);
    }

    #[test]
    fn entropy_is_between_zero_and_log_n(p in (1usize..20).prop_flat_map(distribution)) {
        let h = entropy(&p).unwrap();
        prop_assert!(h >= 0.0 && h <= (p.len() as f64).ln() + 1e-12);
    }

    #[test]
    fn softmax_is_a_distribution_and_shift_invariant(
        x in prop::collection::vec(-800.0f64..800.0, 1..16), c in -500.0f64..500.0
    ) {
        let p = softmax(&x).unwrap();
        prop_assert!(close(p.iter().sum::<f64>(), 1.0, 1e-12));
        let shifted: Vec<f64> = x.iter().map(|v| v + c).collect();
        let ps = softmax(&shifted).unwrap();
        for (a, b) in p.iter().zip(&ps) {
            prop_assert!((a - b).abs() <= 1e-12);
        }
        let lse = logsumexp(&x).unwrap();
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(lse >= m && lse <= m + (x.len() as f64).ln() + 1e-12);
    }

    #[test]
    fn perplexity_is_exp_of_mean_nll(lp in prop::collection::vec(-20.0f64..0.0, 1..50)) {
        let nll = -lp.iter().sum::<f64>() / lp.len() as f64;
        prop_assert!(close(perplexity(&lp).unwrap(), nll.exp(), 1e-12));
    }
}
