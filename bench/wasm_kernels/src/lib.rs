//! The integer matmul of docent's MiniLM forward in four forms, for `run.mjs` to time in wasm:
//! `out[r][c] = Σ_i a[r][i]·w[c][i]` over 128 activation rows (MiniLM's shapes: `n × k` =
//! 1152 × 384, 384 × 384, 1536 × 384, 384 × 1536). Every form computes the same exact integers
//! (`check` compares them), so only speed differs.
//!
//! - `rows_i16`: one channel per vector, `i32x4.dot_i16x8_s`, a tile of 4 rows × 2 channels and a
//!   horizontal sum per output (docent's kernel before the panel layout);
//! - `panels_i16`: weights in panels of four channels, activation pairs splatted, a tile of 4 rows
//!   × 8 channels, no horizontal sum (docent's kernel since);
//! - `relaxed_2x7`: relaxed SIMD (`i32x4.relaxed_dot_i8x16_i7x16_add_s`) with int8 weights and the
//!   14-bit activation split in two 7-bit planes (`p + 8192 = 128·hi + lo`), the cheapest exact
//!   way to keep more than 7 bits of activation on that instruction;
//! - `relaxed_1x7`: the same instruction on one 7-bit plane (7-bit activations: fast but too coarse
//!   for 0.999 cosine; timed to show the instruction's own speed). Its sums are of the low plane
//!   only, so `check` skips it.
#![allow(static_mut_refs, clippy::missing_safety_doc)]
#![no_std]

use core::arch::wasm32::*;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

const ROWS: usize = 128;
const KMAX: usize = 1536;
const NMAX: usize = 1536;
static mut A16: [i16; ROWS * KMAX] = [0; ROWS * KMAX];
static mut AHI: [u8; ROWS * KMAX] = [0; ROWS * KMAX];
static mut ALO: [u8; ROWS * KMAX] = [0; ROWS * KMAX];
static mut W16: [i16; NMAX * KMAX] = [0; NMAX * KMAX];
static mut W8: [i8; NMAX * KMAX] = [0; NMAX * KMAX];
static mut PANELS: [i16; NMAX * KMAX] = [0; NMAX * KMAX];
static mut OUT: [i32; ROWS * NMAX] = [0; ROWS * NMAX];
static mut REF: [i32; ROWS * NMAX] = [0; ROWS * NMAX];

/// Fills the inputs from a fixed seed: activations in ±8191 (14 bits), weights in ±127 (int8,
/// as `minilm.int8` stores them), and packs the weights of an `n × k` layer into panels.
#[no_mangle]
pub unsafe extern "C" fn prepare(n: usize, k: usize) {
    let mut s = 12345u32;
    let mut next = || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        s >> 8
    };
    for i in 0..ROWS * k {
        let p = (next() % 16383) as i32 - 8191;
        A16[i] = p as i16;
        AHI[i] = ((p + 8192) >> 7) as u8;
        ALO[i] = ((p + 8192) & 127) as u8;
    }
    for i in 0..n * k {
        let w = (next() % 255) as i32 - 127;
        W16[i] = w as i16;
        W8[i] = w as i8;
    }
    for c in 0..n {
        for t in 0..k / 2 {
            for e in 0..2 {
                PANELS[(c / 4) * 4 * k + t * 8 + (c % 4) * 2 + e] = W16[c * k + 2 * t + e];
            }
        }
    }
    for r in 0..ROWS {
        for c in 0..n {
            let mut acc = 0i32;
            for i in 0..k {
                acc += A16[r * k + i] as i32 * W16[c * k + i] as i32;
            }
            REF[r * n + c] = acc;
        }
    }
}

/// 1 when the last run's outputs equal the plain-loop sums, else 0.
#[no_mangle]
pub unsafe extern "C" fn check(n: usize) -> u32 {
    (OUT[..ROWS * n] == REF[..ROWS * n]) as u32
}

#[inline(always)]
unsafe fn hsum(v: v128) -> i32 {
    i32x4_extract_lane::<0>(v)
        .wrapping_add(i32x4_extract_lane::<1>(v))
        .wrapping_add(i32x4_extract_lane::<2>(v))
        .wrapping_add(i32x4_extract_lane::<3>(v))
}

#[no_mangle]
pub unsafe extern "C" fn rows_i16(n: usize, k: usize) {
    let (a, w) = (A16.as_ptr(), W16.as_ptr());
    for c in (0..n).step_by(2) {
        for r in (0..ROWS).step_by(4) {
            let mut acc = [[i32x4_splat(0); 2]; 4];
            for i in (0..k).step_by(8) {
                let w0 = v128_load(w.add(c * k + i) as *const v128);
                let w1 = v128_load(w.add((c + 1) * k + i) as *const v128);
                for (m, acc) in acc.iter_mut().enumerate() {
                    let x = v128_load(a.add((r + m) * k + i) as *const v128);
                    acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(x, w0));
                    acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(x, w1));
                }
            }
            for (m, acc) in acc.iter().enumerate() {
                for (j, &v) in acc.iter().enumerate() {
                    OUT[(r + m) * n + c + j] = hsum(v);
                }
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn panels_i16(n: usize, k: usize) {
    let (a, w) = (A16.as_ptr(), PANELS.as_ptr());
    for c in (0..n).step_by(8) {
        let (p0, p1) = (w.add(c * k), w.add((c + 4) * k));
        for r in (0..ROWS).step_by(4) {
            let mut acc = [[i32x4_splat(0); 2]; 4];
            for t in 0..k / 2 {
                let w0 = v128_load(p0.add(t * 8) as *const v128);
                let w1 = v128_load(p1.add(t * 8) as *const v128);
                for (m, acc) in acc.iter_mut().enumerate() {
                    let x = v128_load32_splat(a.add((r + m) * k + 2 * t) as *const u32);
                    acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(x, w0));
                    acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(x, w1));
                }
            }
            for (m, acc) in acc.iter().enumerate() {
                v128_store(OUT.as_mut_ptr().add((r + m) * n + c) as *mut v128, acc[0]);
                v128_store(OUT.as_mut_ptr().add((r + m) * n + c + 4) as *mut v128, acc[1]);
            }
        }
    }
}

#[cfg(target_feature = "relaxed-simd")]
#[no_mangle]
pub unsafe extern "C" fn relaxed_2x7(n: usize, k: usize) {
    let (h, l, w) = (AHI.as_ptr(), ALO.as_ptr(), W8.as_ptr());
    for c in (0..n).step_by(2) {
        let sum_w = |j: usize| (0..k).map(|i| W8[(c + j) * k + i] as i32).sum::<i32>();
        let bias = [sum_w(0) * 8192, sum_w(1) * 8192];
        for r in (0..ROWS).step_by(2) {
            let mut hi = [[i32x4_splat(0); 2]; 2];
            let mut lo = [[i32x4_splat(0); 2]; 2];
            for i in (0..k).step_by(16) {
                let w0 = v128_load(w.add(c * k + i) as *const v128);
                let w1 = v128_load(w.add((c + 1) * k + i) as *const v128);
                for m in 0..2 {
                    let xh = v128_load(h.add((r + m) * k + i) as *const v128);
                    let xl = v128_load(l.add((r + m) * k + i) as *const v128);
                    hi[m][0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, xh, hi[m][0]);
                    hi[m][1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, xh, hi[m][1]);
                    lo[m][0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, xl, lo[m][0]);
                    lo[m][1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, xl, lo[m][1]);
                }
            }
            for m in 0..2 {
                for j in 0..2 {
                    OUT[(r + m) * n + c + j] = hsum(hi[m][j]) * 128 + hsum(lo[m][j]) - bias[j];
                }
            }
        }
    }
}

#[cfg(target_feature = "relaxed-simd")]
#[no_mangle]
pub unsafe extern "C" fn relaxed_1x7(n: usize, k: usize) {
    let (l, w) = (ALO.as_ptr(), W8.as_ptr());
    for c in (0..n).step_by(2) {
        for r in (0..ROWS).step_by(4) {
            let mut acc = [[i32x4_splat(0); 2]; 4];
            for i in (0..k).step_by(16) {
                let w0 = v128_load(w.add(c * k + i) as *const v128);
                let w1 = v128_load(w.add((c + 1) * k + i) as *const v128);
                for (m, acc) in acc.iter_mut().enumerate() {
                    let x = v128_load(l.add((r + m) * k + i) as *const v128);
                    acc[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, x, acc[0]);
                    acc[1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, x, acc[1]);
                }
            }
            for (m, acc) in acc.iter().enumerate() {
                for (j, &v) in acc.iter().enumerate() {
                    OUT[(r + m) * n + c + j] = hsum(v);
                }
            }
        }
    }
}
