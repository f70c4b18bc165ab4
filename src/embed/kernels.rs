//! Numeric kernels of docent's BERT forward ([`super::bert`]): the int8 linear layer and the f32
//! helpers around it (LayerNorm, GELU, exp, softmax pieces).
//!
//! Owns: the arithmetic, written once and compiled to three back ends for the integer dot
//! products — WebAssembly SIMD128 (`i32x4.dot_i16x8_s` over weights packed in panels of four
//! output channels, see [`QLinear::new`]), x86-64 AVX2 (`vpmaddwd`, chosen at run time with
//! `is_x86_feature_detected!`, SSE2 `pmaddwd` otherwise) and a portable loop
//! ([`linear_portable`], the reference every back end equals bit for bit).
//! Must not: allocate (callers pass every buffer), know about BERT's layout, or panic on any
//! input the forward pass can produce.
//!
//! # Arithmetic of [`linear`]
//! Weights have one f32 scale per output channel (symmetric: `w ≈ q·s`, `|q| ≤ W_MAX = 1023`),
//! stored as `i16` so the inner loop needs no sign extension. (The model file holds int8 in groups
//! of 64 values of a row; re-expressed per channel on 10 bits they keep the group-wise accuracy.) Each input row is
//! quantised on the fly with one scale per row ([`quantize_row`]: `x ≈ p·t`, `|p| ≤ 127`). A dot
//! product of `k` terms is summed exactly in `i32` (`k·127·127` stays far below `2³¹` for any
//! `k < 130 000`), then `y = acc · (t·s) + bias` in f32. Integer sums are exact, so every back
//! end gives bit-identical results, and a row's result does not depend on which other rows are in
//! the same call: embedding a text alone or inside a batch gives the same bits.
//!
//! The f32 helpers sum in a fixed order with eight independent lanes (no fast-math needed for
//! the compiler to vectorise them), so they are deterministic too.

/// Largest magnitude of a quantised activation: each row is scaled so its largest value maps to
/// ±`ACT_MAX`. 1023 (10-bit), with weights at ±[`W_MAX`] (10-bit): products are i16×i16→i32
/// in the SIMD lanes whatever the ranges, so this costs nothing over int8×int8, and sums stay
/// exact in i32 up to `k = 2052` ([`K_MAX`]; MiniLM's largest is 1536). By measurement (64 project
/// chunks of ~128 tokens, `MINILM_BENCH=cosine cargo bench --bench minilm_speed`), minimum cosine
/// to f32: int8 activations × int8 per-channel weights 0.9955; 12-bit × int8 0.9984 (and ""
/// 0.9969: the per-channel re-rounding of the file's group-wise int8 weights was the limit);
/// 10-bit × 10-bit 0.9996 (mean 0.9997, "" 0.9993).
pub const ACT_MAX: f32 = 1023.0;
/// Largest magnitude of a stored weight (see [`quantize_weights`]).
pub const W_MAX: f32 = 1023.0;

/// Rows of the activation matrix handled together by one micro-kernel call (each weight vector
/// loaded is used `MR` times).
const MR: usize = 4;
/// Output channels handled together by one micro-kernel call of the x86 and portable back ends
/// (each activation vector loaded is used `NR` times). `MR × NR` accumulators plus the loaded
/// vectors fit in 16 SIMD registers.
#[cfg(not(target_arch = "wasm32"))]
const NR: usize = 2;
/// Output channels of one weight panel in the wasm layout: one `i16x8` holds two consecutive
/// inputs of four channels, so one `i32x4.dot_i16x8_s` adds into four outputs at once and no
/// horizontal sum is needed (by `bench/wasm_kernels`, 1.2–1.3× the speed of one channel per
/// vector in Chromium 156 on x86-64).
#[cfg(target_arch = "wasm32")]
const PANEL: usize = 4;
/// Output channels handled together by the wasm micro-kernel (two panels: `MR × 2` accumulators).
#[cfg(target_arch = "wasm32")]
const WASM_NR: usize = 2 * PANEL;
/// The output width `n` of [`linear`] must be a multiple of this (the widest channel step of any
/// back end: 8 on wasm, whose kernel takes two panels of four).
pub const N_MULTIPLE: usize = 8;
/// Activation rows per outer block: the block's quantised rows (≤ 64 × 1536 × 2 bytes) stay in
/// L2 while every output channel's weights stream past them once.
const ROW_BLOCK: usize = 64;
/// The reduction length `k` of [`linear`] must be a multiple of this (two 8-lane i16 vectors).
pub const K_MULTIPLE: usize = 16;
/// The largest reduction length whose sums cannot overflow `i32`: `K_MAX·ACT_MAX·127 < 2³¹`.
pub const K_MAX: usize = (i32::MAX as f64 / (ACT_MAX as f64 * W_MAX as f64)) as usize;

/// 1.5 · 2²³: adding it to an f32 of magnitude below 2²² rounds to the nearest integer (ties to
/// even, the IEEE default) and leaves that integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// Rounds `x` (|x| < 2²²) to the nearest integer, ties to even, as an `i32`. Branch-free and
/// vectorisable on every target (no `roundeven` libcall on baseline x86-64).
#[inline(always)]
fn round_i32(x: f32) -> i32 {
    ((x + ROUND_MAGIC).to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32)
}

/// The larger of `a` and `b`, `a` when `b` is NaN: the same value as `f32::max` for every input
/// the forward pass gives it (`a` is never NaN there; a zero's sign does not change what follows),
/// but a plain comparison, which compiles to `f32x4.pmax` in wasm. `f32::max`'s NaN rule has no
/// wasm instruction: it becomes a call to `fmaxf` per element, 9.5% of the time of an embedding
/// before this (`node --cpu-prof bench/minilm_node.mjs`).
#[inline(always)]
pub fn max_of(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// Largest absolute value of `x` (0 for an empty slice; NaN is ignored).
#[inline]
pub fn max_abs(x: &[f32]) -> f32 {
    let mut m = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..8 {
            m[l] = max_of(m[l], c[l].abs());
        }
    }
    let mut best = tail.iter().fold(0f32, |a, v| max_of(a, v.abs()));
    for v in m {
        best = max_of(best, v);
    }
    best
}

/// Quantises the row `x` to integers in `-ACT_MAX..=ACT_MAX` (stored as `i16`) with one
/// symmetric scale, and returns the scale (`x ≈ q · scale`). An all-zero or non-finite row gives
/// scale 0 and all-zero `q`. `q.len()` must equal `x.len()`.
#[inline]
pub fn quantize_row(x: &[f32], q: &mut [i16]) -> f32 {
    let max = max_abs(x);
    if !(max > 0.0 && max.is_finite()) {
        q.fill(0);
        return 0.0;
    }
    let inv = ACT_MAX / max;
    for (o, &v) in q.iter_mut().zip(x) {
        *o = round_i32(v * inv) as i16;
    }
    max / ACT_MAX
}

/// Quantises a matrix of f32 weights (`n` rows of `k`, one row per output channel) to integers
/// in `-W_MAX..=W_MAX` with one scale per row. Returns `(q, scales)`.
pub fn quantize_weights(w: &[f32], k: usize) -> (Vec<i16>, Vec<f32>) {
    let n = w.len() / k.max(1);
    let mut q = vec![0i16; n * k];
    let mut scales = vec![0f32; n];
    for ((row, out), s) in w.chunks_exact(k).zip(q.chunks_exact_mut(k)).zip(&mut scales) {
        let max = max_abs(row);
        if max > 0.0 && max.is_finite() {
            *s = max / W_MAX;
            let inv = W_MAX / max;
            for (o, &v) in out.iter_mut().zip(row) {
                *o = round_i32(v * inv).clamp(-(W_MAX as i32), W_MAX as i32) as i16;
            }
        }
    }
    (q, scales)
}

/// A quantised linear layer `y = W x + b` with `n` outputs and `k` inputs.
#[derive(Debug, Clone)]
pub struct QLinear {
    /// Output channels (a multiple of [`N_MULTIPLE`]).
    pub n: usize,
    /// Inputs (a multiple of [`K_MULTIPLE`]).
    pub k: usize,
    /// The `n × k` quantised weights in this target's layout: row-major (one row per output
    /// channel) natively; panels of [`PANEL`] channels on wasm (see [`QLinear::new`]).
    w: Vec<i16>,
    /// One scale per output channel.
    pub scale: Vec<f32>,
    /// One bias per output channel.
    pub bias: Vec<f32>,
}

impl QLinear {
    /// A layer from row-major quantised weights (`n × k`, one row per output channel, values in
    /// `-W_MAX..=W_MAX` as [`quantize_weights`] gives), one scale and one bias per channel.
    /// `None` when `k` is not a multiple of [`K_MULTIPLE`] or above [`K_MAX`], `n` not a multiple of
    /// [`N_MULTIPLE`], or a length does not match.
    ///
    /// On wasm the weights are stored in panels of four channels: panel `p` holds channels
    /// `4p..4p + 4`, and its `i`-th group of eight values is inputs `2i, 2i + 1` of each of the
    /// four channels in turn. The values are the same; only the order differs.
    pub fn new(n: usize, k: usize, w: Vec<i16>, scale: Vec<f32>, bias: Vec<f32>) -> Option<QLinear> {
        let shapes_ok = k > 0
            && k % K_MULTIPLE == 0
            && k <= K_MAX
            && n % N_MULTIPLE == 0
            && w.len() == n * k
            && scale.len() == n
            && bias.len() == n;
        if !shapes_ok {
            return None;
        }
        #[cfg(target_arch = "wasm32")]
        let w = {
            let mut p = vec![0i16; n * k];
            for (c, row) in w.chunks_exact(k).enumerate() {
                let panel = &mut p[(c / PANEL) * PANEL * k..(c / PANEL + 1) * PANEL * k];
                for (i, pair) in row.chunks_exact(2).enumerate() {
                    let at = i * 2 * PANEL + (c % PANEL) * 2;
                    panel[at..at + 2].copy_from_slice(pair);
                }
            }
            p
        };
        Some(QLinear { n, k, w, scale, bias })
    }
}

/// `out[r][c] = (acc as f32) · (a_scale[r] · scale[c]) + bias[c]`: how every back end turns an
/// exact integer dot product into its output (two f32 roundings, in this order).
#[inline(always)]
fn finish(acc: i32, a_scale: f32, scale: f32, bias: f32) -> f32 {
    acc as f32 * (a_scale * scale) + bias
}

/// The reference for [`linear`]: plain loops over row-major weights `w` (`n × k`, as given to
/// [`QLinear::new`]). Every back end of [`linear`] gives exactly these bits (integer sums are
/// exact; [`finish`] is the same on all). For tests; slow.
#[allow(clippy::too_many_arguments)]
pub fn linear_portable(
    a: &[i16],
    a_scale: &[f32],
    rows: usize,
    (n, k): (usize, usize),
    w: &[i16],
    scale: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    for r in 0..rows {
        for c in 0..n {
            let acc: i32 = a[r * k..(r + 1) * k]
                .iter()
                .zip(&w[c * k..(c + 1) * k])
                .map(|(&x, &y)| x as i32 * y as i32)
                .sum();
            out[r * n + c] = finish(acc, a_scale[r], scale[c], bias[c]);
        }
    }
}

/// `out[r][c] = Σ_i a[r][i]·w[c][i] · a_scale[r]·w.scale[c] + w.bias[c]` for every row `r` of the
/// quantised activations `a` (`rows × w.k`, row scales `a_scale`), writing `rows × w.n` f32 into
/// `out` (exactly as [`linear_portable`]).
///
/// # Panics
/// If `a`, `a_scale` or `out` is shorter than `rows` rows.
pub fn linear(a: &[i16], a_scale: &[f32], rows: usize, w: &QLinear, out: &mut [f32]) {
    let (n, k) = (w.n, w.k);
    assert!(a.len() >= rows * k && out.len() >= rows * n && a_scale.len() >= rows);
    #[cfg(target_arch = "wasm32")]
    {
        linear_simd128(a, a_scale, rows, w, out);
    }
    #[cfg(not(target_arch = "wasm32"))]
    linear_native(a, a_scale, rows, w, out);
}

#[cfg(not(target_arch = "wasm32"))]
fn linear_native(a: &[i16], a_scale: &[f32], rows: usize, w: &QLinear, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available (checked just above).
            unsafe { linear_avx2(a, a_scale, rows, w, out) };
            return;
        }
    }
    linear_generic(a, a_scale, rows, w, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn linear_avx2(a: &[i16], a_scale: &[f32], rows: usize, w: &QLinear, out: &mut [f32]) {
    blocked(
        a,
        a_scale,
        rows,
        w,
        out,
        |ar, wc, k| unsafe { tile_avx2(ar, wc, k) },
        |ar, wc, k| unsafe { tile_avx2::<1>(ar, wc, k) },
    );
}

#[cfg(not(target_arch = "wasm32"))]
fn linear_generic(a: &[i16], a_scale: &[f32], rows: usize, w: &QLinear, out: &mut [f32]) {
    blocked(a, a_scale, rows, w, out, tile::<MR>, tile::<1>);
}

/// The blocked loop nest of the native back ends: row blocks of [`ROW_BLOCK`], then output
/// channels in steps of [`NR`], then rows in steps of [`MR`] (the tail with `MR = 1`).
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn blocked(
    a: &[i16],
    a_scale: &[f32],
    rows: usize,
    w: &QLinear,
    out: &mut [f32],
    full: impl Fn([&[i16]; MR], [&[i16]; NR], usize) -> [[i32; NR]; MR],
    single: impl Fn([&[i16]; 1], [&[i16]; NR], usize) -> [[i32; NR]; 1],
) {
    let (n, k) = (w.n, w.k);
    let store = |out: &mut [f32], r: usize, c: usize, acc: &[i32; NR]| {
        let o = &mut out[r * n + c..r * n + c + NR];
        for j in 0..NR {
            o[j] = finish(acc[j], a_scale[r], w.scale[c + j], w.bias[c + j]);
        }
    };
    let row = |r: usize| &a[r * k..(r + 1) * k];
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + ROW_BLOCK).min(rows);
        let mut c = 0;
        while c < n {
            let wc: [&[i16]; NR] = std::array::from_fn(|j| &w.w[(c + j) * k..(c + j + 1) * k]);
            let mut r = r0;
            while r + MR <= r1 {
                let acc = full(std::array::from_fn(|i| row(r + i)), wc, k);
                for (i, acc) in acc.iter().enumerate() {
                    store(out, r + i, c, acc);
                }
                r += MR;
            }
            while r < r1 {
                let acc = single([row(r)], wc, k);
                store(out, r, c, &acc[0]);
                r += 1;
            }
            c += NR;
        }
        r0 = r1;
    }
}

/// `M × NR` exact integer dot products of length `k` (a multiple of 16).
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn tile<const M: usize>(a: [&[i16]; M], w: [&[i16]; NR], k: usize) -> [[i32; NR]; M] {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86-64 baseline; every slice holds at least `k` values and
        // `k % 8 == 0`; loads are unaligned.
        unsafe { tile_sse2(a, w, k) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        tile_portable(a, w, k)
    }
}

/// Plain loops (what every SIMD tile must equal exactly).
#[allow(dead_code)]
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn tile_portable<const M: usize>(a: [&[i16]; M], w: [&[i16]; NR], k: usize) -> [[i32; NR]; M] {
    let mut acc = [[0i32; NR]; M];
    for i in 0..M {
        for j in 0..NR {
            acc[i][j] = a[i][..k].iter().zip(&w[j][..k]).map(|(&x, &y)| x as i32 * y as i32).sum();
        }
    }
    acc
}

/// The wasm back end over panel-packed weights ([`QLinear::new`]): row blocks of [`ROW_BLOCK`],
/// then [`WASM_NR`] channels (two panels), then rows in steps of [`MR`] (the tail one by one).
#[cfg(target_arch = "wasm32")]
fn linear_simd128(a: &[i16], a_scale: &[f32], rows: usize, w: &QLinear, out: &mut [f32]) {
    use core::arch::wasm32::*;
    let (n, k) = (w.n, w.k);
    let store = |out: &mut [f32], r: usize, c: usize, acc: &[v128; 2]| {
        let s = f32x4_splat(a_scale[r]);
        for (h, &v) in acc.iter().enumerate() {
            let at = c + h * PANEL;
            // SAFETY: `c + 8 <= n` (n is a multiple of 8) and `r < rows`, so `at..at + 4` lies in
            // the row of `out` (length checked in `linear`) and of `scale` / `bias` (length `n`,
            // checked in `QLinear::new`); loads and stores are unaligned.
            unsafe {
                let sc = v128_load(w.scale.as_ptr().add(at) as *const v128);
                let b = v128_load(w.bias.as_ptr().add(at) as *const v128);
                // finish(): (acc as f32) · (a_scale · scale) + bias, lane by lane.
                let y = f32x4_add(f32x4_mul(f32x4_convert_i32x4(v), f32x4_mul(s, sc)), b);
                v128_store(out.as_mut_ptr().add(r * n + at) as *mut v128, y);
            }
        }
    };
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + ROW_BLOCK).min(rows);
        let mut c = 0;
        while c < n {
            let panels = &w.w[c * k..(c + WASM_NR) * k];
            let mut r = r0;
            while r + MR <= r1 {
                // SAFETY: rows r..r + MR hold k values each in `a`; `panels` holds two panels.
                let acc = unsafe { panel_tile::<MR>(&a[r * k..(r + MR) * k], panels, k) };
                for (i, acc) in acc.iter().enumerate() {
                    store(out, r + i, c, acc);
                }
                r += MR;
            }
            while r < r1 {
                // SAFETY: as above, one row.
                let acc = unsafe { panel_tile::<1>(&a[r * k..(r + 1) * k], panels, k) };
                store(out, r, c, &acc[0]);
                r += 1;
            }
            c += WASM_NR;
        }
        r0 = r1;
    }
}

/// `M` rows of `a` (`M × k`) against two panels of four channels (`2 × 4k` values): per row, two
/// `i32x4` whose lanes are the exact dot products of channels 0–3 and 4–7. Each step splats one
/// pair of a row's inputs and multiplies it with the pair of all four channels of a panel.
///
/// # Safety
/// `a.len() >= M·k`, `panels.len() >= 8k`, `k` even.
#[cfg(target_arch = "wasm32")]
#[inline(always)]
unsafe fn panel_tile<const M: usize>(
    a: &[i16],
    panels: &[i16],
    k: usize,
) -> [[core::arch::wasm32::v128; 2]; M] {
    use core::arch::wasm32::*;
    let mut acc = [[i32x4_splat(0); 2]; M];
    let (p0, p1) = (panels.as_ptr(), panels.as_ptr().add(PANEL * k));
    let a = a.as_ptr();
    for i in 0..k / 2 {
        let w0 = v128_load(p0.add(i * 2 * PANEL) as *const v128);
        let w1 = v128_load(p1.add(i * 2 * PANEL) as *const v128);
        for (r, acc) in acc.iter_mut().enumerate() {
            let x = v128_load32_splat(a.add(r * k + 2 * i) as *const u32);
            acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(x, w0));
            acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(x, w1));
        }
    }
    acc
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tile_sse2<const M: usize>(a: [&[i16]; M], w: [&[i16]; NR], k: usize) -> [[i32; NR]; M] {
    use std::arch::x86_64::*;
    let mut acc = [[_mm_setzero_si128(); NR]; M];
    let mut i = 0;
    while i < k {
        let wv: [__m128i; NR] =
            std::array::from_fn(|j| _mm_loadu_si128(w[j].as_ptr().add(i) as *const __m128i));
        for r in 0..M {
            let av = _mm_loadu_si128(a[r].as_ptr().add(i) as *const __m128i);
            for j in 0..NR {
                acc[r][j] = _mm_add_epi32(acc[r][j], _mm_madd_epi16(av, wv[j]));
            }
        }
        i += 8;
    }
    let mut out = [[0i32; NR]; M];
    for r in 0..M {
        for j in 0..NR {
            let mut lanes = [0i32; 4];
            _mm_storeu_si128(lanes.as_mut_ptr() as *mut __m128i, acc[r][j]);
            out[r][j] = lanes.iter().fold(0i32, |s, &v| s.wrapping_add(v));
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn tile_avx2<const M: usize>(a: [&[i16]; M], w: [&[i16]; NR], k: usize) -> [[i32; NR]; M] {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_si256(); NR]; M];
    let mut i = 0;
    while i < k {
        let wv: [__m256i; NR] =
            std::array::from_fn(|j| _mm256_loadu_si256(w[j].as_ptr().add(i) as *const __m256i));
        for r in 0..M {
            let av = _mm256_loadu_si256(a[r].as_ptr().add(i) as *const __m256i);
            for j in 0..NR {
                acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(av, wv[j]));
            }
        }
        i += 16;
    }
    let mut out = [[0i32; NR]; M];
    for r in 0..M {
        for j in 0..NR {
            let mut lanes = [0i32; 8];
            _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc[r][j]);
            out[r][j] = lanes.iter().fold(0i32, |s, &v| s.wrapping_add(v));
        }
    }
    out
}

/// `e^x` for f32, |relative error| below 2·10⁻⁷ over `-87..88` (inputs are clamped to that
/// range: below it the result is ~1e-38 instead of a subnormal or 0). Cody–Waite range reduction
/// `x = n·ln2 + r`, `|r| ≤ ln2/2`, a degree-7 Taylor polynomial for `e^r`, `2ⁿ` built from bits.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = round_i32(x * LOG2E);
    let nf = n as f32;
    let r = x - nf * LN2_HI - nf * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // `n` is in -126..=127 after the clamp, so the biased exponent is in 1..=254: the add cannot
    // wrap, and `wrapping_add` keeps an overflow check out of loops that vectorise.
    f32::from_bits((n.wrapping_add(127) as u32) << 23) * p
}

/// The error function, |error| below 10⁻⁶ (Abramowitz & Stegun 7.1.26, 1.5·10⁻⁷, with [`exp`] and f32 rounding).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly =
        t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// Exact (erf) GELU in place: `x · ½(1 + erf(x/√2))`, as BERT's `hidden_act = "gelu"`.
pub fn gelu(x: &mut [f32]) {
    for v in x {
        *v = *v * 0.5 * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Sum of `x` in eight fixed lanes, then a fixed tree (deterministic, vectorisable).
#[inline]
pub fn sum(x: &[f32]) -> f32 {
    let mut s = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..8 {
            s[l] += c[l];
        }
    }
    let t: f32 = tail.iter().sum();
    ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + t
}

/// LayerNorm of one row in place: `(x - mean) / sqrt(var + eps) · gamma + beta` (biased
/// variance, two passes), as BERT's.
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let n = x.len() as f32;
    let mean = sum(x) / n;
    let mut s = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..8 {
            let d = c[l] - mean;
            s[l] += d * d;
        }
    }
    let t: f32 = tail.iter().map(|v| (v - mean) * (v - mean)).sum();
    let var = (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + t) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in x.iter_mut().zip(gamma).zip(beta) {
        *v = (*v - mean) * inv * g + b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn simd_tiles_equal_the_portable_loop() {
        let k = 48;
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((seed >> 16) % 255) as i16 - 127
        };
        let a: Vec<Vec<i16>> = (0..MR).map(|_| (0..k).map(|_| next()).collect()).collect();
        let w: Vec<Vec<i16>> = (0..NR).map(|_| (0..k).map(|_| next()).collect()).collect();
        let ar: [&[i16]; MR] = std::array::from_fn(|i| a[i].as_slice());
        let wr: [&[i16]; NR] = std::array::from_fn(|j| w[j].as_slice());
        let want = tile_portable(ar, wr, k);
        assert_eq!(tile(ar, wr, k), want);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            assert_eq!(unsafe { tile_avx2(ar, wr, k) }, want);
        }
    }

    #[test]
    fn linear_equals_the_portable_reference_bit_for_bit() {
        for (seed, rows, n, k) in [(1, 1, 8, 16), (2, 7, 16, 48), (3, 70, 24, 384), (4, 131, 8, 1536)] {
            assert_eq!(check_linear(seed, rows, n, k), Ok(()), "seed {seed}, {rows} rows, n {n}, k {k}");
        }
    }

    #[test]
    fn layer_shapes_are_checked() {
        let layer = |n: usize, k: usize| QLinear::new(n, k, vec![0; n * k], vec![0.0; n], vec![0.0; n]);
        assert!(layer(8, 16).is_some());
        assert!(layer(8, 24).is_none(), "k not a multiple of 16");
        assert!(layer(12, 16).is_none(), "n not a multiple of 8");
        assert!(layer(8, K_MAX / 16 * 16 + 16).is_none(), "k above K_MAX");
        assert!(QLinear::new(8, 16, vec![0; 8 * 16], vec![0.0; 7], vec![0.0; 8]).is_none());
    }

    #[test]
    fn exp_and_erf_are_accurate() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.04;
            let (e, want) = (exp(x), (x as f64).exp());
            if x > -80.0 {
                assert!(((e as f64 - want) / want).abs() < 3e-7, "exp({x}) = {e}, want {want}");
            }
            let x = i as f32 * 0.0015;
            let want = libm_erf(x as f64);
            assert!((erf(x) as f64 - want).abs() < 1e-6, "erf({x}) = {}, want {want}", erf(x));
        }
    }

    /// erf by its Taylor series in f64 (|x| ≤ 3: the largest term is ~10⁴, so ~10⁻¹² error).
    fn libm_erf(x: f64) -> f64 {
        let (mut term, mut s, mut n) = (x, x, 0.0);
        while term.abs() > 1e-17 * s.abs().max(1e-300) && n < 400.0 {
            n += 1.0;
            term *= -x * x / n;
            s += term / (2.0 * n + 1.0);
        }
        s * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn max_of_is_f32_max_without_nan_in_the_first_argument() {
        let values = [0.0f32, -0.0, 1.0, -1.0, 3.5e-39, f32::MAX, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
        for a in values.into_iter().filter(|a| !a.is_nan()) {
            for b in values {
                let (got, want) = (max_of(a, b), a.max(b));
                // Only the sign of a zero may differ (f32::max does not specify it either).
                assert!(got == want && !got.is_nan(), "max_of({a}, {b}) = {got}, f32::max gives {want}");
            }
        }
        assert_eq!(max_abs(&[1.0, f32::NAN, -3.0, 2.0, 0.5, -0.25, 0.0, 1.0, -7.5]), 7.5);
        assert_eq!(max_abs(&[]), 0.0);
    }

    #[test]
    fn quantize_row_rounds_and_scales() {
        let x = [0.5f32, -1.0, 0.25, 0.0];
        let mut q = [0i16; 4];
        let s = quantize_row(&x, &mut q);
        let m = ACT_MAX as i16;
        // ±ACT_MAX at the extreme, round half to even in between (ACT_MAX is odd: x.5 steps).
        assert_eq!(q, [(m + 1) / 2, -m, (m as f32 * 0.25).round() as i16, 0]);
        assert!((s - 1.0 / ACT_MAX).abs() < 1e-9);
        assert_eq!(quantize_row(&[0.0; 4], &mut q), 0.0);
        assert_eq!(q, [0; 4]);
    }
}

/// Runs [`linear`] and [`linear_portable`] on one seeded random layer (`rows × k` activations at
/// the full ±[`ACT_MAX`] range, `n × k` weights at ±[`W_MAX`], random scales and biases) and
/// says which output differs in its bits, if any (or that the shape was refused). Shared by the
/// native unit tests and the wasm tests (`tests/wasm.rs`), so every back end is held to the same
/// reference.
#[doc(hidden)]
pub fn check_linear(seed: u32, rows: usize, n: usize, k: usize) -> Result<(), String> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut int = |max: f32| (next() % (2 * max as u32 + 1)) as i32 - max as i32;
    let a: Vec<i16> = (0..rows * k).map(|_| int(ACT_MAX) as i16).collect();
    let w: Vec<i16> = (0..n * k).map(|_| int(W_MAX) as i16).collect();
    let mut real = |scale: f32| int(1000.0) as f32 * scale;
    let a_scale: Vec<f32> = (0..rows).map(|_| real(1e-5).abs() + 1e-7).collect();
    let scale: Vec<f32> = (0..n).map(|_| real(3e-6).abs() + 1e-8).collect();
    let bias: Vec<f32> = (0..n).map(|_| real(1e-3)).collect();
    let mut want = vec![0f32; rows * n];
    linear_portable(&a, &a_scale, rows, (n, k), &w, &scale, &bias, &mut want);
    let layer = QLinear::new(n, k, w, scale, bias).ok_or_else(|| format!("shape n {n}, k {k} refused"))?;
    let mut got = vec![0f32; rows * n];
    linear(&a, &a_scale, rows, &layer, &mut got);
    match got.iter().zip(&want).position(|(g, w)| g.to_bits() != w.to_bits()) {
        Some(i) => {
            Err(format!("output {i} (row {}, channel {}): {} instead of {}", i / n, i % n, got[i], want[i]))
        }
        None => Ok(()),
    }
}
