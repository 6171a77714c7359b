//! The two float types the attention routines run in, behind one small trait.

/// `f32` or `f64`: what faer's matrix products need, plus the scalar maths we use.
pub trait Real: faer::traits::RealField + Copy + PartialOrd + Send + Sync + std::fmt::Debug + 'static {
    const NAME: &'static str;
    const ZERO: Self;
    const ONE: Self;
    const NEG_INFINITY: Self;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn sqrt(self) -> Self;

    /// $x_i \leftarrow e^{x_i}$ for a slice of arguments $\le 0$ or $-\infty$ (the online
    /// softmax's only use). `f32` overrides it with a vectorisable polynomial.
    #[inline(always)]
    fn exp_in_place(xs: &mut [Self]) {
        for x in xs {
            *x = x.exp();
        }
    }

    /// $\max_i x_i$ ($-\infty$ for an empty slice; inputs must not be NaN) with eight partial
    /// maxima, so the compiler can vectorise it: a single running `max` is a serial chain.
    #[inline(always)]
    fn max_of(xs: &[Self]) -> Self {
        let mut acc = [Self::NEG_INFINITY; 8];
        let chunks = xs.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..8 {
                acc[k] = if c[k] > acc[k] { c[k] } else { acc[k] };
            }
        }
        let mut m = Self::NEG_INFINITY;
        for &x in acc.iter().chain(rest) {
            if x > m {
                m = x;
            }
        }
        m
    }

    /// $\sum_i x_i$ with eight partial sums, so the compiler can vectorise it.
    #[inline(always)]
    fn sum(xs: &[Self]) -> Self {
        let mut acc = [Self::ZERO; 8];
        let chunks = xs.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..8 {
                acc[k] = acc[k] + c[k];
            }
        }
        let mut total = Self::ZERO;
        for a in acc {
            total = total + a;
        }
        for &x in rest {
            total = total + x;
        }
        total
    }
}

/// $e^x$ for `f32` without a libm call, so a loop over a slice vectorises (Cephes' `expf`):
/// $x = n\ln 2 + r$ with $n = \operatorname{round}(x\log_2 e)$, $|r| \le \ln 2/2$, a degree-6
/// polynomial for $e^r$, and $2^n$ built in the exponent bits. Relative error $\lesssim 2\cdot 10^{-7}$
/// on $[-87, 88]$; $x \le -88$ (including $-\infty$) gives exactly 0.
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer without a libm call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.max(-88.0).min(88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2^n from its exponent bits. `t`'s low mantissa bits hold n, so integer arithmetic on the
    // bit patterns gets it without a float-to-int conversion (which would not vectorise);
    // n = -127 (x = -88) gives the bit pattern of 0.0.
    let n_int = t.to_bits() as i32 - ROUND.to_bits() as i32;
    let bits = ((n_int + 127) as u32) << 23;
    y * f32::from_bits(bits)
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn exp(self) -> Self {
        f32::exp(self)
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn exp_in_place(xs: &mut [Self]) {
        for x in xs {
            *x = exp_f32(*x);
        }
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}
