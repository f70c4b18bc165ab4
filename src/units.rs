//! Byte counts for people: `36 kB` for files a reader downloads, `64 MiB` for limits.
//!
//! Owns: the one formatting of a byte count, used by the index summary ([`crate::site`]), the
//! engine's size messages ([`crate::engine::Limits`]), the CLI and the wasm edge.
//! Must not: know what is being counted.

/// The units of [`human_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Powers of 1000, for sizes of files people download: `850 B`, `36 kB`, `1.4 MB` (MB is the
    /// largest unit).
    Decimal,
    /// Powers of 1024, for limits that are powers of two: `850 B`, `512 KiB`, `64 MiB`, `1.5 GiB`
    /// (one decimal unless the value is whole).
    Binary,
}

/// A byte count for people.
pub fn human_bytes(n: u64, units: Units) -> String {
    match units {
        Units::Decimal => match n {
            0..=999 => format!("{n} B"),
            1_000..=999_999 => format!("{:.0} kB", n as f64 / 1e3),
            _ => format!("{:.1} MB", n as f64 / 1e6),
        },
        Units::Binary => {
            const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
            for (unit, size) in UNITS {
                if n >= size {
                    let v = n as f64 / size as f64;
                    return if v.fract() == 0.0 {
                        format!("{v:.0} {unit}")
                    } else {
                        format!("{v:.1} {unit}")
                    };
                }
            }
            format!("{n} B")
        }
    }
}
