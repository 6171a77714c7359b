//! Cross-checks of the attention routines against libtorch 2.13 (feature `torch`).
//!
//! Tolerances: float32 atol 5e-5 / rtol 5e-6 (libtorch's own SDPA OpInfo override);
//! float64 atol = rtol = 1e-10. Inputs: seeded random q, k, v and projection weights, several
//! shapes including L != S, every mask kind, custom scales, and fully masked rows.
#![cfg(feature = "torch")]

use faer::Mat;
use rand::{Rng, SeedableRng, rngs::StdRng};
use shousi::attention::*;
use shousi::crosscheck::Tol;
use shousi::tch::{Kind, Tensor, kind::Element};
use shousi::torch::{attention_forward, keep_mask_tensor, tensor_from_mat, tensor_from_mats, to_vec};

const F32: Tol = Tol { atol: 5e-5, rtol: 5e-6 };
const F64: Tol = Tol { atol: 1e-10, rtol: 1e-10 };

fn tol<T: Real>() -> Tol {
    if T::NAME == "f32" { F32 } else { F64 }
}

fn kind<T: Real>() -> Kind {
    if T::NAME == "f32" { Kind::Float } else { Kind::Double }
}

fn rand_mat<T: Real>(rng: &mut StdRng, r: usize, c: usize) -> Mat<T> {
    Mat::from_fn(r, c, |_, _| T::from_f64(2.0 * rng.random::<f64>() - 1.0))
}

fn flat<T: Real>(m: &Mat<T>) -> Vec<f64> {
    (0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)].to_f64())).collect()
}

fn assert_close<T: Real>(what: &str, ours: &[f64], theirs: &[f64]) {
    let t = tol::<T>();
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert!(t.close(a, b), "{what} ({}) [{i}]: ours {a:e} vs libtorch {b:e}", T::NAME);
    }
}

fn check_sdpa_one<T: Real + Element>(rng: &mut StdRng, l: usize, s: usize, e: usize, ev: usize) {
    let q: Mat<T> = rand_mat(rng, l, e);
    let k: Mat<T> = rand_mat(rng, s, e);
    let v: Mat<T> = rand_mat(rng, s, ev);
    let (tq, tk, tv) = (tensor_from_mat(q.as_ref()).unsqueeze(0), tensor_from_mat(k.as_ref()).unsqueeze(0), tensor_from_mat(v.as_ref()).unsqueeze(0));
    let keep = BoolMat::from_fn(l, s, |i, j| (i * 5 + j * 3 + 1) % 4 != 0 && !(i == 0 && l > 1)); // row 0 fully masked
    let additive: Mat<T> = Mat::from_fn(l, s, |i, j| if (i + 2 * j) % 5 == 0 { T::NEG_INFINITY } else { T::from_f64(0.5 * ((i + j) as f64).cos()) });
    let pad: Vec<bool> = (0..s).map(|j| j % 4 == 1).collect();
    let what = format!("L {l} S {s} E {e} Ev {ev}");
    for scale in [None, Some(0.7), Some(-0.3), Some(0.0)] {
        // No mask, and libtorch's own is_causal for the top-left causal mask.
        for (name, mask, is_causal) in [("no mask", Mask::<T>::none(), false), ("is_causal", Mask::causal(), true)] {
            let ours = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &mask, scale).unwrap();
            let theirs = Tensor::scaled_dot_product_attention::<Tensor>(&tq, &tk, &tv, None, 0.0, is_causal, scale, false);
            assert_close::<T>(&format!("sdpa {name} {what} scale {scale:?}"), &flat(&ours.output), &to_vec(&theirs).unwrap());
        }
        // Masks passed to libtorch as an explicit bool attn_mask (true = attend) ...
        let bool_masks = [
            ("bottom-right causal", Mask::<T>::causal_bottom_right()),
            ("bool keep mask with a fully masked row", Mask::keep(keep.clone())),
            ("key padding", Mask::key_padding(pad.clone())),
            ("causal + key padding", Mask::causal().with_key_padding(pad.clone())),
        ];
        for (name, mask) in bool_masks {
            let ours = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &mask, scale).unwrap();
            let m = keep_mask_tensor(&mask, l, s).unwrap().unsqueeze(0);
            let theirs = Tensor::scaled_dot_product_attention(&tq, &tk, &tv, Some(&m), 0.0, false, scale, false);
            assert_close::<T>(&format!("sdpa {name} {what} scale {scale:?}"), &flat(&ours.output), &to_vec(&theirs).unwrap());
            let flash = flash_attention(q.as_ref(), k.as_ref(), v.as_ref(), &mask, scale, 3, 4).unwrap();
            assert_close::<T>(&format!("flash {name} {what} scale {scale:?}"), &flat(&flash), &to_vec(&theirs).unwrap());
        }
        // ... and an additive float mask as a float attn_mask.
        let ours = scaled_dot_product_attention(q.as_ref(), k.as_ref(), v.as_ref(), &Mask::additive(additive.clone()), scale).unwrap();
        let m = tensor_from_mat(additive.as_ref()).unsqueeze(0);
        let theirs = Tensor::scaled_dot_product_attention(&tq, &tk, &tv, Some(&m), 0.0, false, scale, false);
        assert_close::<T>(&format!("sdpa additive mask {what} scale {scale:?}"), &flat(&ours.output), &to_vec(&theirs).unwrap());
        // The weights against softmax(q kᵀ s + bias) computed by libtorch (NaN rows -> 0, as SDPA does).
        let s_val = scale.unwrap_or(1.0 / (e as f64).sqrt());
        let bias = tensor_from_mat(Mask::additive(additive.clone()).to_bias(l, s).unwrap().as_ref());
        let w = (tensor_from_mat(q.as_ref()).matmul(&tensor_from_mat(k.as_ref()).tr()) * s_val + bias).softmax(-1, kind::<T>()).nan_to_num(0.0, None, None);
        assert_close::<T>(&format!("weights additive mask {what} scale {scale:?}"), &flat(&ours.weights), &to_vec(&w).unwrap());
    }
}

#[test]
fn sdpa_matches_libtorch_for_every_mask_kind() {
    let mut rng = StdRng::seed_from_u64(10);
    for (l, s, e, ev) in [(3, 6, 8, 8), (6, 3, 8, 8), (5, 5, 16, 4), (1, 9, 4, 4), (17, 33, 32, 16)] {
        check_sdpa_one::<f64>(&mut rng, l, s, e, ev);
        check_sdpa_one::<f32>(&mut rng, l, s, e, ev);
    }
}

fn check_gqa_sdpa<T: Real + Element>(rng: &mut StdRng, batch: usize, hq: usize, g: usize, l: usize, s: usize, e: usize) {
    let q: Vec<Vec<Mat<T>>> = (0..batch).map(|_| (0..hq).map(|_| rand_mat(rng, l, e)).collect()).collect();
    let k: Vec<Vec<Mat<T>>> = (0..batch).map(|_| (0..g).map(|_| rand_mat(rng, s, e)).collect()).collect();
    let v: Vec<Vec<Mat<T>>> = (0..batch).map(|_| (0..g).map(|_| rand_mat(rng, s, e)).collect()).collect();
    let group = hq / g;
    for is_causal in [false, true] {
        let mask = if is_causal { Mask::causal() } else { Mask::none() };
        let mut ours = Vec::new();
        let mut wrong = Vec::new();
        for b in 0..batch {
            for h in 0..hq {
                let a = scaled_dot_product_attention(q[b][h].as_ref(), k[b][h / group].as_ref(), v[b][h / group].as_ref(), &mask, None).unwrap();
                ours.extend(flat(&a.output));
                let w = scaled_dot_product_attention(q[b][h].as_ref(), k[b][h % g].as_ref(), v[b][h % g].as_ref(), &mask, None).unwrap();
                wrong.extend(flat(&w.output));
            }
        }
        let theirs = Tensor::scaled_dot_product_attention::<Tensor>(
            &tensor_from_mats(&q).unwrap(),
            &tensor_from_mats(&k).unwrap(),
            &tensor_from_mats(&v).unwrap(),
            None,
            0.0,
            is_causal,
            None,
            true,
        );
        let theirs = to_vec(&theirs).unwrap();
        assert_close::<T>(&format!("enable_gqa Hq {hq} G {g} causal {is_causal}"), &ours, &theirs);
        if g > 1 && g < hq {
            // `repeat` grouping (h mod G) is a different model.
            let max = wrong.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(max > 1e-3, "h mod G grouping should differ from libtorch's, max diff {max}");
        }
    }
}

#[test]
fn sdpa_enable_gqa_grouping_matches_libtorch() {
    let mut rng = StdRng::seed_from_u64(11);
    for (hq, g) in [(4, 4), (4, 2), (8, 2), (6, 3), (4, 1)] {
        check_gqa_sdpa::<f64>(&mut rng, 2, hq, g, 5, 7, 8);
        check_gqa_sdpa::<f32>(&mut rng, 2, hq, g, 7, 5, 8);
    }
}

fn check_module<T: Real + Element>(rng: &mut StdRng, d_model: usize, n_heads: usize, n_kv_heads: usize, l: usize, s: usize) {
    let m = MultiHeadAttention::<T>::random(d_model, n_heads, n_kv_heads, rng.random()).unwrap();
    let xq: Vec<Mat<T>> = (0..2).map(|_| rand_mat(rng, l, d_model)).collect();
    let xkv: Vec<Mat<T>> = (0..2).map(|_| rand_mat(rng, s, d_model)).collect();
    let what = format!("{:?} D {d_model} H {n_heads} G {n_kv_heads} L {l} S {s}", m.variant());
    // Cross-attention without a mask.
    let ours = m.forward(&xq, &xkv, &[]).unwrap();
    let theirs = to_vec(&attention_forward(&m, &xq, &xkv, None).unwrap()).unwrap();
    let ours_flat: Vec<f64> = ours.output.iter().flat_map(flat).collect();
    assert_close::<T>(&format!("module {what}"), &ours_flat, &theirs);
    // Per-batch masks: causal + key padding on the first sequence, key padding on the second.
    let masks = [
        Mask::causal_bottom_right().with_key_padding((0..s).map(|j| j == s - 1 && s > 1).collect()),
        Mask::key_padding((0..s).map(|j| j == 0 && s > 1).collect()),
    ];
    let keep = Tensor::stack(&masks.iter().map(|mk| keep_mask_tensor(mk, l, s).unwrap()).collect::<Vec<_>>(), 0).unsqueeze(1);
    let ours = m.forward(&xq, &xkv, &masks).unwrap();
    let theirs = to_vec(&attention_forward(&m, &xq, &xkv, Some(&keep)).unwrap()).unwrap();
    let ours_flat: Vec<f64> = ours.output.iter().flat_map(flat).collect();
    assert_close::<T>(&format!("module masked {what}"), &ours_flat, &theirs);
}

#[test]
fn mha_mqa_gqa_modules_match_a_libtorch_forward_from_the_same_weights() {
    let mut rng = StdRng::seed_from_u64(12);
    for (d_model, n_heads, n_kv_heads) in [(16, 4, 4), (16, 4, 1), (32, 8, 2), (24, 6, 3)] {
        for (l, s) in [(5, 5), (3, 8), (8, 3), (1, 6)] {
            check_module::<f64>(&mut rng, d_model, n_heads, n_kv_heads, l, s);
            check_module::<f32>(&mut rng, d_model, n_heads, n_kv_heads, l, s);
        }
    }
}
