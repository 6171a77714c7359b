//! One error type for the whole crate.
//!
//! Every message names the function (`op`), the argument at fault, and the
//! shape or value that was wrong, in the spirit of candle's errors:
//!
//! ```
//! let err = shousi::info::entropy(&[0.5, 0.7]).unwrap_err();
//! assert!(err.to_string().starts_with("entropy: argument `p`"));
//! ```

/// Result alias used by every fallible function of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument has a value outside the function's domain
    /// (a negative probability, a distribution that does not sum to one, NaN, ...).
    #[error("{op}: argument `{arg}` {detail}")]
    InvalidArgument {
        op: &'static str,
        arg: &'static str,
        detail: String,
    },
    /// Two arguments, or an argument and what the function expects, disagree in shape.
    #[error("{op}: shape mismatch: {detail}")]
    Shape { op: &'static str, detail: String },
    /// A dataset under `data/` is missing, altered, or malformed.
    #[error("{op}: dataset `{name}`: {detail}")]
    Data {
        op: &'static str,
        name: String,
        detail: String,
    },
    /// Drawing a chart failed.
    #[error("{op}: chart: {detail}")]
    Plot { op: &'static str, detail: String },
    /// libtorch raised an error during a cross-check.
    #[cfg(feature = "torch")]
    #[error("{op}: libtorch: {source}")]
    Torch {
        op: &'static str,
        #[source]
        source: tch::TchError,
    },
}

impl Error {
    pub(crate) fn arg(op: &'static str, arg: &'static str, detail: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            arg,
            detail: detail.into(),
        }
    }

    /// Re-attributes an argument error raised by a helper to the public function `op` and
    /// its argument `arg`, prefixing the detail with where it happened (e.g. "row 3").
    pub(crate) fn within(self, op: &'static str, arg: &'static str, place: String) -> Self {
        match self {
            Error::InvalidArgument { detail, .. } => Error::InvalidArgument {
                op,
                arg,
                detail: format!("{place} {detail}"),
            },
            Error::Shape { detail, .. } => Error::Shape { op, detail },
            other => other,
        }
    }

    /// Re-attributes an error raised by a helper to the public function `op`, keeping the rest.
    pub(crate) fn in_op(self, op: &'static str) -> Self {
        match self {
            Error::InvalidArgument { arg, detail, .. } => Error::InvalidArgument { op, arg, detail },
            Error::Shape { detail, .. } => Error::Shape { op, detail },
            Error::Data { name, detail, .. } => Error::Data { op, name, detail },
            Error::Plot { detail, .. } => Error::Plot { op, detail },
            #[cfg(feature = "torch")]
            Error::Torch { source, .. } => Error::Torch { op, source },
        }
    }

    pub(crate) fn shape(op: &'static str, detail: impl Into<String>) -> Self {
        Error::Shape {
            op,
            detail: detail.into(),
        }
    }

    pub(crate) fn data(op: &'static str, name: &str, detail: impl Into<String>) -> Self {
        Error::Data {
            op,
            name: name.to_string(),
            detail: detail.into(),
        }
    }

    pub(crate) fn plot(op: &'static str, detail: impl std::fmt::Display) -> Self {
        Error::Plot {
            op,
            detail: detail.to_string(),
        }
    }
}
