//! Attention forward on the CPU, side by side in one run: our plain SDPA (materialises the
//! T×T weights), our tiled online-softmax forward, and libtorch's `scaled_dot_product_attention`.
//! Batch 1, 8 heads, head_dim 64, f32, no mask; heads are spread over all cores for ours
//! (libtorch uses its own intra-op threads, one per core).
//!
//! ```sh
//! make bench        # = cargo run --release --features torch --example attention_bench
//! ```
//!
//! Peak memory is the peak of bytes allocated through Rust's allocator during one forward,
//! above what was allocated before it (inputs excluded); libtorch allocates through its own
//! C++ allocator, which this counter does not see.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use faer::Mat;
use rand::{Rng, SeedableRng, rngs::StdRng};
use shousi::attention::{BLOCK_K, BLOCK_Q, Mask, flash_attention, scaled_dot_product_attention};
use shousi::tch::{self, Tensor};
use shousi::torch::{tensor_from_mats, to_vec};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const HEADS: usize = 8;
const HEAD_DIM: usize = 64;

#[derive(Clone, Copy, PartialEq)]
enum Ours {
    Plain,
    Tiled,
}

/// Block sizes of the tiled forward: `SHOUSI_BLOCKS=bq,bk` overrides the defaults.
fn blocks() -> (usize, usize) {
    std::env::var("SHOUSI_BLOCKS")
        .ok()
        .and_then(|s| {
            let (a, b) = s.split_once(',')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .unwrap_or((BLOCK_Q, BLOCK_K))
}

/// All heads of one forward, spread over the cores.
fn ours(kind: Ours, q: &[Mat<f32>], k: &[Mat<f32>], v: &[Mat<f32>]) -> Vec<Mat<f32>> {
    let (bq, bk) = blocks();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(q.len());
    let mask = Mask::none();
    let per = q.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let mask = &mask;
                scope.spawn(move || {
                    (w * per..((w + 1) * per).min(q.len()))
                        .map(|h| match kind {
                            Ours::Plain => scaled_dot_product_attention(q[h].as_ref(), k[h].as_ref(), v[h].as_ref(), mask, None).unwrap().output,
                            Ours::Tiled => flash_attention(q[h].as_ref(), k[h].as_ref(), v[h].as_ref(), mask, None, bq, bk).unwrap(),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// Median seconds of `reps` runs, and the peak extra bytes of the first one.
fn measure<R>(reps: usize, mut f: impl FnMut() -> R) -> (f64, usize, R) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut out = f();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let mut times = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], peak, out)
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    tch::set_num_threads(threads as i32);
    let (bq, bk) = blocks();
    println!("attention forward, batch 1, {HEADS} heads, head_dim {HEAD_DIM}, f32, no mask; {threads} threads each; tiles {bq}x{bk}");
    println!("| T | ours plain (ms) | ours tiled (ms) | libtorch SDPA (ms) | plain / libtorch | tiled / libtorch | peak extra: plain | peak extra: tiled | max abs diff tiled vs libtorch |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut rng = StdRng::seed_from_u64(0);
    for t in [128usize, 512, 2048] {
        let heads = |rng: &mut StdRng| -> Vec<Mat<f32>> {
            (0..HEADS).map(|_| Mat::from_fn(t, HEAD_DIM, |_, _| 2.0 * rng.random::<f32>() - 1.0)).collect()
        };
        let (q, k, v) = (heads(&mut rng), heads(&mut rng), heads(&mut rng));
        let stack = |m: &Vec<Mat<f32>>| tensor_from_mats(std::slice::from_ref(m)).unwrap();
        let (tq, tk, tv) = (stack(&q), stack(&k), stack(&v));
        let reps = if t >= 2048 { 5 } else { 15 };
        let (t_torch, _, theirs) = measure(reps, || Tensor::scaled_dot_product_attention::<Tensor>(&tq, &tk, &tv, None, 0.0, false, None, false));
        let (t_plain, peak_plain, _) = measure(reps, || ours(Ours::Plain, &q, &k, &v));
        let (t_tiled, peak_tiled, tiled) = measure(reps, || ours(Ours::Tiled, &q, &k, &v));
        let theirs = to_vec(&theirs).unwrap();
        let flat: Vec<f64> = tiled.iter().flat_map(|m| (0..t).flat_map(move |i| (0..HEAD_DIM).map(move |j| m[(i, j)] as f64))).collect();
        let diff = flat.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!(
            "| {t} | {:.2} | {:.2} | {:.2} | {:.2}× | {:.2}× | {} | {} | {diff:.1e} |",
            t_plain * 1e3,
            t_tiled * 1e3,
            t_torch * 1e3,
            t_plain / t_torch,
            t_tiled / t_torch,
            mib(peak_plain),
            mib(peak_tiled)
        );
    }
}
