//! Cross-checks of the information-theory routines against libtorch 2.13 (feature `torch`).
//!
//! Tolerance: float64, |ours - torch| <= 1e-7 + 1e-7 |torch| element-wise (the float64
//! default of `torch.testing.assert_close`), NaN == NaN, equal infinities equal. Inputs:
//! seeded random logits and distributions of several shapes, plus the edge cases of
//! `shared/reference/semantics.md`: logits of +-1000, zeros in p, one-hot p, -inf logits.
#![cfg(feature = "torch")]

use faer::Mat;
use rand::{Rng, SeedableRng, rngs::StdRng};
use shousi::crosscheck::Tol;
use shousi::info::*;
use shousi::tch::{Kind, Reduction, Tensor};
use shousi::torch::{index_tensor, tensor, tensor_from_mat, to_scalar, to_vec};

const TOL: Tol = Tol::F64;

fn assert_close(what: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert!(TOL.close(a, b), "{what}[{i}]: ours {a:e} vs libtorch {b:e} (|diff| {:e})", (a - b).abs());
    }
}

fn random_logits(rng: &mut StdRng, rows: usize, cols: usize, scale: f64) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| scale * (2.0 * rng.random::<f64>() - 1.0))
}

fn random_distribution(rng: &mut StdRng, n: usize, zeros: usize) -> Vec<f64> {
    let mut w: Vec<f64> = (0..n).map(|_| rng.random::<f64>() + 1e-3).collect();
    for v in w.iter_mut().take(zeros) {
        *v = 0.0;
    }
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
}

fn edge_logit_rows() -> Vec<Vec<f64>> {
    vec![
        vec![1000.0, 0.0, -1000.0],
        vec![1000.0, 1000.0],
        vec![-1000.0, -1000.0, -1000.0],
        vec![1000.0, 999.0, -1000.0, 0.0],
        vec![3.5],
        vec![f64::NEG_INFINITY, 0.0, 1.0],
        vec![0.0; 5],
    ]
}

fn shapes() -> Vec<(usize, usize)> {
    vec![(1, 1), (1, 7), (5, 3), (16, 10), (3, 257)]
}

#[test]
fn logsumexp_softmax_log_softmax_rows_match_libtorch() {
    let mut rng = StdRng::seed_from_u64(1);
    for (r, c) in shapes() {
        for scale in [1.0, 30.0, 1000.0] {
            let x = random_logits(&mut rng, r, c, scale);
            let t = tensor_from_mat(x.as_ref());
            let what = format!("({r},{c}) scale {scale}");
            assert_close(&format!("logsumexp {what}"), &logsumexp_rows(x.as_ref()).unwrap(), &to_vec(&t.logsumexp([1i64].as_slice(), false)).unwrap());
            let ours = softmax_rows(x.as_ref()).unwrap();
            let ours: Vec<f64> = (0..r).flat_map(|i| (0..c).map(move |j| (i, j))).map(|(i, j)| ours[(i, j)]).collect();
            assert_close(&format!("softmax {what}"), &ours, &to_vec(&t.softmax(1, Kind::Double)).unwrap());
            let ours = log_softmax_rows(x.as_ref()).unwrap();
            let ours: Vec<f64> = (0..r).flat_map(|i| (0..c).map(move |j| (i, j))).map(|(i, j)| ours[(i, j)]).collect();
            assert_close(&format!("log_softmax {what}"), &ours, &to_vec(&t.log_softmax(1, Kind::Double)).unwrap());
        }
    }
}

#[test]
fn edge_logits_match_libtorch() {
    for x in edge_logit_rows() {
        let t = tensor(&x);
        let what = format!("{x:?}");
        assert_close(&format!("logsumexp {what}"), &[logsumexp(&x).unwrap()], &[to_scalar(&t.logsumexp([0i64].as_slice(), false)).unwrap()]);
        assert_close(&format!("softmax {what}"), &softmax(&x).unwrap(), &to_vec(&t.softmax(0, Kind::Double)).unwrap());
        assert_close(&format!("log_softmax {what}"), &log_softmax(&x).unwrap(), &to_vec(&t.log_softmax(0, Kind::Double)).unwrap());
    }
    // Where we deliberately differ: an all -inf row is Err here, NaN in libtorch.
    let all_neg_inf = [f64::NEG_INFINITY; 2];
    assert!(log_softmax(&all_neg_inf).is_err());
    assert!(to_vec(&tensor(&all_neg_inf).log_softmax(0, Kind::Double)).unwrap().iter().all(|v| v.is_nan()));
    assert_eq!(logsumexp(&all_neg_inf).unwrap(), to_scalar(&tensor(&all_neg_inf).logsumexp([0i64].as_slice(), false)).unwrap());
}

fn torch_entropy(p: &[f64]) -> f64 {
    let t = tensor(p);
    to_scalar(&-(t.xlogy(&t)).sum(Kind::Double)).unwrap()
}

/// H(p, q) via `F.cross_entropy` with a probability target and logits log q.
fn torch_cross_entropy(p: &[f64], q: &[f64]) -> f64 {
    let logits = tensor(q).log().unsqueeze(0);
    let target = tensor(p).unsqueeze(0);
    to_scalar(&logits.cross_entropy_loss::<Tensor>(&target, None, Reduction::Mean, -100, 0.0)).unwrap()
}

/// D_KL(p || q) via `F.kl_div(input = log q, target = p, reduction = "sum")`.
fn torch_kl(p: &[f64], q: &[f64]) -> f64 {
    to_scalar(&tensor(q).log().kl_div(&tensor(p), Reduction::Sum, false)).unwrap()
}

#[test]
fn entropy_cross_entropy_kl_match_libtorch_on_random_distributions() {
    let mut rng = StdRng::seed_from_u64(2);
    for n in [1, 2, 3, 10, 100, 1000] {
        for zeros_in_p in [0, n / 2] {
            let p = random_distribution(&mut rng, n, zeros_in_p);
            let q = random_distribution(&mut rng, n, 0);
            let what = format!("n {n}, {zeros_in_p} zeros in p");
            assert_close(&format!("entropy {what}"), &[entropy(&p).unwrap()], &[torch_entropy(&p)]);
            assert_close(&format!("cross_entropy {what}"), &[cross_entropy(&p, &q).unwrap()], &[torch_cross_entropy(&p, &q)]);
            assert_close(&format!("kl_div_p_q {what}"), &[kl_div_p_q(&p, &q).unwrap()], &[torch_kl(&p, &q)]);
        }
    }
}

#[test]
fn one_hot_and_degenerate_distributions_match_libtorch() {
    let one_hot = [0.0, 0.0, 1.0, 0.0];
    let q = [0.1, 0.2, 0.3, 0.4];
    assert_close("entropy one-hot", &[entropy(&one_hot).unwrap()], &[torch_entropy(&one_hot)]);
    assert_close("cross_entropy one-hot", &[cross_entropy(&one_hot, &q).unwrap()], &[torch_cross_entropy(&one_hot, &q)]);
    assert_close("kl one-hot p", &[kl_div_p_q(&one_hot, &q).unwrap()], &[torch_kl(&one_hot, &q)]);
    // q = 0 where p > 0: +inf in both.
    let p = [0.5, 0.5, 0.0, 0.0];
    let q0 = [1.0, 0.0, 0.0, 0.0];
    assert_eq!(kl_div_p_q(&p, &q0).unwrap(), f64::INFINITY);
    assert_eq!(torch_kl(&[0.5, 0.5], &[1.0, 0.0]), f64::INFINITY);
    // Where we deliberately differ: p = q = 0 in one outcome. We use 0 log(0/0) = 0;
    // libtorch computes 0 * (log 0 - log 0) = NaN (kl_div) and 0 * -inf = NaN (cross_entropy).
    assert_eq!(kl_div_p_q(&one_hot, &[0.0, 0.0, 1.0, 0.0]).unwrap(), 0.0);
    assert!(torch_kl(&one_hot, &[0.0, 0.0, 1.0, 0.0]).is_nan());
    assert!(torch_cross_entropy(&one_hot, &[0.0, 0.0, 1.0, 0.0]).is_nan());
}

#[test]
fn cross_entropy_and_perplexity_of_logits_match_libtorch() {
    let mut rng = StdRng::seed_from_u64(3);
    for (r, c) in shapes() {
        for scale in [1.0, 10.0, 1000.0] {
            let x = random_logits(&mut rng, r, c, scale);
            let y: Vec<usize> = (0..r).map(|_| rng.random_range(0..c)).collect();
            let ce_torch = tensor_from_mat(x.as_ref()).cross_entropy_loss::<Tensor>(&index_tensor(&y), None, Reduction::Mean, -100, 0.0);
            let what = format!("({r},{c}) scale {scale}");
            assert_close(&format!("cross_entropy_logits {what}"), &[cross_entropy_logits(x.as_ref(), &y).unwrap()], &[to_scalar(&ce_torch).unwrap()]);
            assert_close(&format!("perplexity_logits {what}"), &[perplexity_logits(x.as_ref(), &y).unwrap()], &[to_scalar(&ce_torch.exp()).unwrap()]);
        }
    }
    // The textbook overflow case: CE([[1000, 0]], 1) = 1000 exactly.
    let x: Mat<f64> = Mat::from_fn(1, 2, |_, j| if j == 0 { 1000.0 } else { 0.0 });
    let ce = tensor_from_mat(x.as_ref()).cross_entropy_loss::<Tensor>(&index_tensor(&[1]), None, Reduction::Mean, -100, 0.0);
    assert_eq!(cross_entropy_logits(x.as_ref(), &[1]).unwrap(), 1000.0);
    assert_eq!(to_scalar(&ce).unwrap(), 1000.0);
}

#[test]
fn perplexity_of_log_probs_matches_libtorch() {
    let mut rng = StdRng::seed_from_u64(4);
    for n in [1, 5, 1000] {
        let lp: Vec<f64> = (0..n).map(|_| -5.0 * rng.random::<f64>()).collect();
        let theirs = to_scalar(&(-tensor(&lp).mean(Kind::Double)).exp()).unwrap();
        assert_close(&format!("perplexity n {n}"), &[perplexity(&lp).unwrap()], &[theirs]);
    }
}
