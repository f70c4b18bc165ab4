// The two-page PDF the demo and npm tests read: written by a real PDF writer (fpdf2) from this
// file's text, with an outline (one section per page), so an answer can cite `orchard.pdf#page=2`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const SCRIPT = `
import sys
from fpdf import FPDF
pdf = FPDF(format="A4")
pdf.set_title("Orchard handbook")
pdf.set_font("Helvetica", size=11)
for title, text in [
    ("Pruning", "Prune the apple trees in late winter, before the buds swell, and burn the cut wood."),
    ("Harvest", "The pear harvest starts when the fruit parts from the spur with a gentle twist upwards."),
]:
    pdf.add_page()
    pdf.start_section(title)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
pdf.output(sys.argv[1])
`;

/**
 * Writes the orchard PDF to `path` with the python in DOCENT_PDF_PYTHON (one with fpdf2).
 * @param {string} path where the PDF goes
 * @param {string} layer the test layer whose set-up installs fpdf2 (named in the error)
 * @param {number} timeoutMs at most this long
 */
export function writeOrchardPdf(path, layer, timeoutMs) {
  const python = process.env.DOCENT_PDF_PYTHON;
  assert.ok(python, `set DOCENT_PDF_PYTHON to a python with fpdf2 (./build.sh test ${layer} installs it in .cache/pdf)`);
  execFileSync(python, ['-c', SCRIPT, path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
}
