/// Rows for the cross-target HNSW golden test (tests/index.rs natively, tests/wasm.rs in wasm):
/// 3 000 × 32 values from an LCG, each row pushed towards one of 17 axes; every value is exact
/// in f32, so both targets build from identical input.
pub fn golden_rows() -> Vec<f32> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..3_000 * 32)
        .map(|i| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let v = (x >> 40) as f32 / 16_777_216.0 - 0.5;
            if i % 32 == (i / 32) % 17 {
                v + 2.0
            } else {
                v
            }
        })
        .collect()
}
