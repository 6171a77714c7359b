//! Conversions between our values and `tch` tensors, for the libtorch cross-checks.
//!
//! All conversions are float64 unless named otherwise; matrices map to 2-D tensors of
//! shape `[rows, cols]` in row-major order.

use faer::{Mat, MatRef};
use tch::{Kind, Tensor, kind::Element};

use crate::error::{Error, Result};
use crate::real::Real;

/// A 1-D float64 tensor holding `x`.
pub fn tensor(x: &[f64]) -> Tensor {
    Tensor::from_slice(x)
}

/// A 2-D tensor of shape `[m.nrows(), m.ncols()]` holding `m` (float64 or float32, as `T`).
pub fn tensor_from_mat<T: Real + Element>(m: MatRef<'_, T>) -> Tensor {
    let data: Vec<T> = (0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)])).collect();
    Tensor::from_slice(&data).reshape([m.nrows() as i64, m.ncols() as i64])
}

/// A tensor of shape `[outer.len(), inner.len(), rows, cols]` from `mats[b][h]` (e.g. batch × heads),
/// all of one shape.
pub fn tensor_from_mats<T: Real + Element>(mats: &[Vec<Mat<T>>]) -> Result<Tensor> {
    let (r, c) = mats
        .first()
        .and_then(|m| m.first())
        .map(|m| (m.nrows(), m.ncols()))
        .ok_or_else(|| Error::shape("torch::tensor_from_mats", "empty input"))?;
    let mut data: Vec<T> = Vec::new();
    for (b, row) in mats.iter().enumerate() {
        if row.len() != mats[0].len() {
            return Err(Error::shape("torch::tensor_from_mats", format!("mats[{b}] has {} matrices, mats[0] has {}", row.len(), mats[0].len())));
        }
        for (h, m) in row.iter().enumerate() {
            if (m.nrows(), m.ncols()) != (r, c) {
                return Err(Error::shape("torch::tensor_from_mats", format!("mats[{b}][{h}] is ({}, {}), mats[0][0] is ({r}, {c})", m.nrows(), m.ncols())));
            }
            data.extend((0..r).flat_map(|i| (0..c).map(move |j| m[(i, j)])));
        }
    }
    Ok(Tensor::from_slice(&data).reshape([mats.len() as i64, mats[0].len() as i64, r as i64, c as i64]))
}

/// A 1-D int64 tensor of class indices (the target of `F.cross_entropy`).
pub fn index_tensor(ids: &[usize]) -> Tensor {
    let v: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    Tensor::from_slice(&v)
}

/// The elements of `t` (any shape, converted to float64), flattened in row-major order.
pub fn to_vec(t: &Tensor) -> Result<Vec<f64>> {
    let flat = t.to_kind(Kind::Double).flatten(0, -1).contiguous();
    Vec::<f64>::try_from(&flat).map_err(|source| Error::Torch { op: "torch::to_vec", source })
}

/// The single value of a one-element tensor, as float64.
pub fn to_scalar(t: &Tensor) -> Result<f64> {
    let v = to_vec(t).map_err(|e| e.in_op("torch::to_scalar"))?;
    match v.as_slice() {
        [x] => Ok(*x),
        _ => Err(Error::shape("torch::to_scalar", format!("tensor has {} elements (shape {:?}), expected 1", v.len(), t.size()))),
    }
}

/// A 2-D tensor as a faer matrix (float64).
pub fn to_mat(t: &Tensor) -> Result<Mat<f64>> {
    let size = t.size();
    let [r, c] = size.as_slice() else {
        return Err(Error::shape("torch::to_mat", format!("tensor has shape {size:?}, expected 2-D")));
    };
    let v = to_vec(t).map_err(|e| e.in_op("torch::to_mat"))?;
    let c = *c as usize;
    Ok(Mat::from_fn(*r as usize, c, |i, j| v[i * c + j]))
}

/// The bool `attn_mask` libtorch's SDPA should get for `mask` on (L, S) scores: `true` =
/// attend. Additive float values other than $-\infty$ are not representable as bool and
/// are treated as "attend".
pub fn keep_mask_tensor<T: Real>(mask: &crate::attention::Mask<T>, l: usize, s: usize) -> Result<Tensor> {
    let bias = mask.to_bias(l, s).map_err(|e| e.in_op("torch::keep_mask_tensor"))?;
    let keep: Vec<bool> = (0..l).flat_map(|i| (0..s).map(move |j| (i, j))).map(|(i, j)| bias[(i, j)].to_f64() != f64::NEG_INFINITY).collect();
    Ok(Tensor::from_slice(&keep).reshape([l as i64, s as i64]))
}

fn linear<T: Real + Element>(x: &Tensor, lin: &crate::attention::Linear<T>) -> Tensor {
    let w = tensor_from_mat(lin.weight.as_ref());
    let b = lin.bias.as_ref().map(|b| Tensor::from_slice(b));
    x.linear(&w, b.as_ref())
}

/// The forward pass of `m` written with libtorch ops from the same weights: `linear`
/// projections, split heads, `scaled_dot_product_attention(..., enable_gqa)`, merge heads,
/// output `linear`. `xq[b]` (L, D), `xkv[b]` (S, D); `keep` is an optional bool mask
/// broadcastable to (B, H, L, S), `true` = attend. Returns a (B, L, D) tensor.
pub fn attention_forward<T: Real + Element>(
    m: &crate::attention::MultiHeadAttention<T>,
    xq: &[Mat<T>],
    xkv: &[Mat<T>],
    keep: Option<&Tensor>,
) -> Result<Tensor> {
    const OP: &str = "torch::attention_forward";
    if xq.is_empty() || xq.len() != xkv.len() {
        return Err(Error::shape(OP, format!("xq has batch {} and xkv has batch {}; need equal and > 0", xq.len(), xkv.len())));
    }
    let (h, g, d) = (m.n_heads() as i64, m.n_kv_heads() as i64, m.head_dim() as i64);
    let stack = |xs: &[Mat<T>]| Tensor::f_stack(&xs.iter().map(|x| tensor_from_mat(x.as_ref())).collect::<Vec<_>>(), 0);
    let tq = stack(xq).map_err(|source| Error::Torch { op: OP, source })?;
    let tkv = stack(xkv).map_err(|source| Error::Torch { op: OP, source })?;
    let (b, l, s) = (tq.size()[0], tq.size()[1], tkv.size()[1]);
    let torch = |source| Error::Torch { op: OP, source };
    let q = linear(&tq, &m.q_proj).f_view([b, l, h, d]).map_err(torch)?.transpose(1, 2);
    let k = linear(&tkv, &m.k_proj).f_view([b, s, g, d]).map_err(torch)?.transpose(1, 2);
    let v = linear(&tkv, &m.v_proj).f_view([b, s, g, d]).map_err(torch)?.transpose(1, 2);
    let o = Tensor::f_scaled_dot_product_attention(&q, &k, &v, keep, 0.0, false, None, g != h).map_err(torch)?;
    let merged = o.transpose(1, 2).contiguous().f_view([b, l, h * d]).map_err(torch)?;
    Ok(linear(&merged, &m.o_proj))
}
