//! `docent model`: prepare the int8 MiniLM and (unless `--no-static`) the static table from the
//! original model.

use std::io::Write;
use std::path::{Path, PathBuf};

use docent::{Error, Result};

use crate::progress::Meter;

pub fn cmd_model(from: &Path, out: &Path, corpus: Option<PathBuf>, static_table: bool) -> Result<()> {
    let opts = docent::embed::prepare::PrepareOptions { corpus, static_dim: 256, static_table };
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut meter = Meter::new();
    let report =
        docent::embed::prepare::prepare(from, out, &opts, &mut |s| meter.tick(|| s.to_string(), true))?;
    let table = if static_table {
        format!("static.bin {:.1} MB", report.static_bytes as f64 / 1e6)
    } else {
        "no static table (--no-static)".to_string()
    };
    outln!(
        "prepared {}: minilm.int8 {:.1} MB, {table}, int8 vs f32 minimum cosine {:.4}, {:.0} s",
        out.display(),
        report.minilm_bytes as f64 / 1e6,
        report.min_cosine_vs_f32,
        report.seconds
    );
    Ok(())
}
