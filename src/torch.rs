//! Conversions between our values and `tch` tensors, for the libtorch cross-checks.
//!
//! All conversions are float64 unless named otherwise; matrices map to 2-D tensors of
//! shape `[rows, cols]` in row-major order.

use faer::{Mat, MatRef};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// A 1-D float64 tensor holding `x`.
pub fn tensor(x: &[f64]) -> Tensor {
    Tensor::from_slice(x)
}

/// A 2-D float64 tensor of shape `[m.nrows(), m.ncols()]` holding `m`.
pub fn tensor_from_mat(m: MatRef<'_, f64>) -> Tensor {
    let data: Vec<f64> = (0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)])).collect();
    Tensor::from_slice(&data).reshape([m.nrows() as i64, m.ncols() as i64])
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
