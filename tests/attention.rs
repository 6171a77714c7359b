//! Attention: validation errors, masks, KV cache, tiled forward, and properties (no libtorch).

use faer::Mat;
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};
use shousi::attention::*;

fn rand_mat(rng: &mut StdRng, r: usize, c: usize) -> Mat<f64> {
    Mat::from_fn(r, c, |_, _| 2.0 * rng.random::<f64>() - 1.0)
}

fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut m: f64 = 0.0;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

fn err<T: std::fmt::Debug>(r: shousi::Result<T>) -> String {
    r.expect_err("expected Err").to_string()
}

#[test]
fn validation_errors_name_the_shapes() {
    assert_eq!(
        err(MultiHeadAttention::<f64>::mha(10, 3, 0)),
        "MultiHeadAttention::mha: argument `n_heads` is 3, which does not divide embed_dim 10"
    );
    assert_eq!(
        err(MultiHeadAttention::<f64>::random(16, 4, 3, 0)),
        "MultiHeadAttention::random: argument `n_kv_heads` is 3, which does not divide n_heads 4"
    );
    assert!(err(MultiHeadAttention::<f64>::gqa(16, 4, 4, 0)).contains("GQA needs 1 < n_kv_heads < n_heads"));
    let m = MultiHeadAttention::<f64>::gqa(16, 4, 2, 0).unwrap();
    let x: Mat<f64> = Mat::zeros(5, 16);
    let bad: Mat<f64> = Mat::zeros(5, 12);
    assert_eq!(
        err(m.forward(&[x.clone()], &[bad], &[])),
        "MultiHeadAttention::forward: shape mismatch: key_value[0] is (5, 12), expected (seq_len > 0, embed_dim = 16)"
    );
    let empty: Mat<f64> = Mat::zeros(0, 16);
    assert!(err(m.forward(&[empty], &[x.clone()], &[])).contains("query[0] is (0, 16)"));
    let wrong_mask = Mask::keep(BoolMat::from_fn(5, 4, |_, _| true));
    assert_eq!(
        err(m.forward(&[x.clone()], &[x.clone()], &[wrong_mask])),
        "MultiHeadAttention::forward: shape mismatch: keep mask is (5, 4) but scores are (L, S) = (5, 5)"
    );
    assert!(err(m.forward(&[x.clone()], &[x.clone(), x.clone()], &[])).contains("query has batch 1 but key_value has batch 2"));
    let q: Mat<f64> = Mat::zeros(3, 4);
    let k: Mat<f64> = Mat::zeros(6, 5);
    assert_eq!(
        err(scaled_dot_product_attention(q.as_ref(), k.as_ref(), k.as_ref(), &Mask::none(), None)),
        "scaled_dot_product_attention: shape mismatch: q is (3, 4) but k is (6, 5); q and k need the same head dim"
    );
    let k: Mat<f64> = Mat::zeros(6, 4);
    let v: Mat<f64> = Mat::zeros(5, 4);
    assert!(err(scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::none(), None)).contains("k and v need the same length"));
    assert!(err(scaled_dot_product_attention(q.as_ref(), k.as_ref(), k.as_ref(), &Mask::key_padding(vec![false; 5]), None)).contains("key padding has length 5 but there are S = 6 keys"));
    assert!(err(scaled_dot_product_attention(q.as_ref(), k.as_ref(), k.as_ref(), &Mask::none(), Some(f64::NAN))).contains("argument `scale` is NaN"));
    let mut qn = q.clone();
    qn[(1, 2)] = f64::NAN;
    assert!(err(scaled_dot_product_attention(qn.as_ref(), k.as_ref(), k.as_ref(), &Mask::none(), None)).contains("argument `q` has non-finite value NaN at (1, 2)"));
    assert!(err(flash_attention(q.as_ref(), k.as_ref(), k.as_ref(), &Mask::none(), None, 0, 4)).contains("both must be >= 1"));
}

#[test]
fn fully_masked_rows_give_zeros_not_nan() {
    let mut rng = StdRng::seed_from_u64(1);
    let (q, k, v) = (rand_mat(&mut rng, 4, 8), rand_mat(&mut rng, 6, 8), rand_mat(&mut rng, 6, 3));
    let keep = BoolMat::from_fn(4, 6, |i, _| i != 2); // row 2 sees nothing
    let a = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::keep(keep.clone()), None).unwrap();
    for j in 0..6 {
        assert_eq!(a.weights[(2, j)], 0.0);
    }
    for j in 0..3 {
        assert_eq!(a.output[(2, j)], 0.0);
    }
    let row1: f64 = (0..6).map(|j| a.weights[(1, j)]).sum();
    assert!((row1 - 1.0).abs() < 1e-15);
    // Bottom-right causal with L > S: the first L - S rows see no key.
    let (q, k, v) = (rand_mat(&mut rng, 5, 4), rand_mat(&mut rng, 3, 4), rand_mat(&mut rng, 3, 4));
    let a = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::causal_bottom_right(), None).unwrap();
    assert!((0..4).all(|j| a.output[(0, j)] == 0.0 && a.output[(1, j)] == 0.0));
    assert!((a.weights[(2, 0)] - 1.0).abs() < 1e-15);
    let flash = flash_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::causal_bottom_right(), None, 2, 2).unwrap();
    assert!(max_diff(&flash, &a.output) < 1e-14);
}

#[test]
fn causal_alignments() {
    let keep_tl = Mask::<f64>::causal().to_bias(2, 4).unwrap();
    let keep_br = Mask::<f64>::causal_bottom_right().to_bias(2, 4).unwrap();
    let visible = |b: &Mat<f64>| -> Vec<Vec<bool>> { (0..2).map(|i| (0..4).map(|j| b[(i, j)] == 0.0).collect()).collect() };
    assert_eq!(visible(&keep_tl), vec![vec![true, false, false, false], vec![true, true, false, false]]);
    assert_eq!(visible(&keep_br), vec![vec![true, true, true, false], vec![true, true, true, true]]);
}

#[test]
fn flash_equals_plain_for_every_mask_kind_and_block_size() {
    let mut rng = StdRng::seed_from_u64(2);
    for (l, s) in [(1, 1), (7, 7), (5, 13), (13, 5), (64, 200)] {
        let (q, k, v) = (rand_mat(&mut rng, l, 16), rand_mat(&mut rng, s, 16), rand_mat(&mut rng, s, 8));
        let keep = BoolMat::from_fn(l, s, |i, j| (i * 7 + j * 3) % 5 != 0);
        let additive: Mat<f64> = Mat::from_fn(l, s, |i, j| if (i + j) % 4 == 0 { f64::NEG_INFINITY } else { 0.3 * ((i * j) as f64).sin() });
        let pad: Vec<bool> = (0..s).map(|j| j % 3 == 2).collect();
        let masks = [
            Mask::none(),
            Mask::causal(),
            Mask::causal_bottom_right(),
            Mask::keep(keep),
            Mask::additive(additive),
            Mask::key_padding(pad.clone()),
            Mask::causal().with_key_padding(pad),
        ];
        for mask in &masks {
            let plain = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), mask, Some(0.3)).unwrap();
            for (bq, bk) in [(1, 1), (3, 4), (BLOCK_Q, BLOCK_K), (1000, 1000)] {
                let f = flash_attention(q.as_ref(), k.as_ref(), v.as_ref(), mask, Some(0.3), bq, bk).unwrap();
                let d = max_diff(&f, &plain.output);
                assert!(d < 1e-13, "({l},{s}) blocks ({bq},{bk}) {mask:?}: {d:e}");
            }
        }
    }
}

#[test]
fn kv_cache_decoding_equals_full_causal_forward() {
    let mut rng = StdRng::seed_from_u64(3);
    for (n_heads, n_kv_heads) in [(4, 4), (4, 2), (4, 1)] {
        let m = MultiHeadAttention::<f64>::random(16, n_heads, n_kv_heads, 9).unwrap();
        let xs = vec![rand_mat(&mut rng, 9, 16), rand_mat(&mut rng, 9, 16)];
        let full = m.self_attention(&xs, &[Mask::causal()]).unwrap();
        let mut cache = m.new_cache(2);
        // Prefill 3 tokens at once, then one at a time.
        let mut t0 = 0;
        for step in [3, 1, 1, 1, 1, 1, 1] {
            let chunk: Vec<Mat<f64>> = xs.iter().map(|x| x.as_ref().subrows(t0, step).to_owned()).collect();
            let out = m.forward_cached(&chunk, &mut cache).unwrap();
            for b in 0..2 {
                let want = full.output[b].as_ref().subrows(t0, step).to_owned();
                assert!(max_diff(&out.output[b], &want) < 1e-13, "heads ({n_heads},{n_kv_heads}) step at {t0}");
            }
            t0 += step;
        }
        assert_eq!(cache.len(0), 9);
        assert_eq!(cache.n_elements(), 2 * 2 * 9 * n_kv_heads * 4);
    }
}

#[test]
fn kv_cache_sizes() {
    assert_eq!(kv_cache_bytes(32, 32, 128, 4096, 1, 2), 2 * 1024 * 1024 * 1024);
    let llama3 = MODEL_SHAPES.iter().find(|m| m.name == "Llama-3-8B").unwrap();
    assert_eq!(llama3.variant(), "GQA");
    assert_eq!(llama3.kv_cache_bytes(8192, 1, 2), 1 << 30);
    assert_eq!(MODEL_SHAPES.iter().find(|m| m.name == "Falcon-7B").unwrap().variant(), "MQA");
}

/// GQA equals MHA whose K/V projections are the GQA ones repeated with `repeat_interleave`
/// (head g copied to heads g·r .. g·r + r - 1): the grouping is consecutive.
#[test]
fn gqa_equals_mha_with_interleaved_kv_heads() {
    let mut rng = StdRng::seed_from_u64(4);
    let (d_model, n_heads) = (24, 6);
    for n_kv_heads in [1, 2, 3, 6] {
        let g = MultiHeadAttention::<f64>::random(d_model, n_heads, n_kv_heads, 5).unwrap();
        let d = g.head_dim();
        let r = n_heads / n_kv_heads;
        let expand = |lin: &Linear<f64>| {
            let w = Mat::from_fn(d_model, d_model, |row, col| lin.weight[((row / d / r) * d + row % d, col)]);
            let b = lin.bias.as_ref().map(|b| (0..d_model).map(|row| b[(row / d / r) * d + row % d]).collect());
            Linear::new(w, b).unwrap()
        };
        let mha = MultiHeadAttention::new(n_heads, n_heads, g.q_proj.clone(), expand(&g.k_proj), expand(&g.v_proj), g.o_proj.clone()).unwrap();
        let xq = vec![rand_mat(&mut rng, 5, d_model)];
        let xkv = vec![rand_mat(&mut rng, 7, d_model)];
        let a = g.forward(&xq, &xkv, &[]).unwrap();
        let b = mha.forward(&xq, &xkv, &[]).unwrap();
        assert!(max_diff(&a.output[0], &b.output[0]) < 1e-13, "n_kv_heads {n_kv_heads}");
        assert_eq!(mha.variant(), Variant::MultiHead);
        for h in 0..n_heads {
            assert_eq!(g.kv_head_of(h), h / r);
        }
    }
}

#[test]
fn textbook_self_attention_is_one_head_of_sdpa() {
    let mut rng = StdRng::seed_from_u64(5);
    let x = rand_mat(&mut rng, 6, 10);
    let (wq, wk, wv) = (rand_mat(&mut rng, 10, 4), rand_mat(&mut rng, 10, 4), rand_mat(&mut rng, 10, 3));
    let a = self_attention(x.as_ref(), wq.as_ref(), wk.as_ref(), wv.as_ref(), &Mask::causal()).unwrap();
    let (q, k, v) = (&x * &wq, &x * &wk, &x * &wv);
    let b = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::causal(), Some(0.5)).unwrap();
    assert!(max_diff(&a.output, &b.output) < 1e-15); // 1/sqrt(4) = 0.5
    assert!(err(self_attention(x.as_ref(), wq.as_ref(), wk.transpose(), wv.as_ref(), &Mask::none())).contains("w_k is (4, 10)"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn permuting_keys_with_values_leaves_output_unchanged(seed in 0u64..1000, l in 1usize..6, s in 1usize..9) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (q, k, v) = (rand_mat(&mut rng, l, 4), rand_mat(&mut rng, s, 4), rand_mat(&mut rng, s, 3));
        let mut perm: Vec<usize> = (0..s).collect();
        for i in (1..s).rev() { perm.swap(i, rng.random_range(0..=i)); }
        let kp = Mat::from_fn(s, 4, |i, j| k[(perm[i], j)]);
        let vp = Mat::from_fn(s, 3, |i, j| v[(perm[i], j)]);
        let a = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::none(), None).unwrap();
        let b = scaled_dot_product_attention(q.as_ref(), kp.as_ref(), vp.as_ref(), &Mask::none(), None).unwrap();
        prop_assert!(max_diff(&a.output, &b.output) < 1e-13);
    }

    #[test]
    fn causal_output_ignores_the_future(seed in 0u64..1000, t in 2usize..10, cut in 0usize..9) {
        let cut = cut % (t - 1);
        let mut rng = StdRng::seed_from_u64(seed);
        let m = MultiHeadAttention::<f64>::random(8, 2, 1, seed).unwrap();
        let x = rand_mat(&mut rng, t, 8);
        let mut y = x.clone();
        for i in cut + 1..t { for j in 0..8 { y[(i, j)] = 5.0 * rng.random::<f64>(); } }
        let a = m.self_attention(&[x], &[Mask::causal()]).unwrap();
        let b = m.self_attention(&[y], &[Mask::causal()]).unwrap();
        let prefix = |o: &Mat<f64>| o.as_ref().subrows(0, cut + 1).to_owned();
        prop_assert!(max_diff(&prefix(&a.output[0]), &prefix(&b.output[0])) < 1e-13);
    }
}

#[test]
fn fast_f32_exp_is_accurate() {
    let xs: Vec<f32> = (0..=100_000).map(|i| -100.0 + i as f32 * 1e-3).chain([f32::NEG_INFINITY, -88.0, 0.0]).collect();
    let mut ys = xs.clone();
    <f32 as Real>::exp_in_place(&mut ys);
    for (&x, &y) in xs.iter().zip(&ys) {
        let want = (x as f64).exp();
        if x < -87.0 {
            assert!(y >= 0.0 && (y as f64) < 1e-37, "exp({x}) = {y}");
        } else {
            assert!(((y as f64) - want).abs() <= 3e-7 * want, "exp({x}) = {y}, want {want}");
        }
    }
    assert_eq!(ys[ys.len() - 3], 0.0); // -inf
    assert_eq!(ys[ys.len() - 1], 1.0);
}
