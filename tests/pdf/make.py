"""Writes the PDFs of tests/pdf/ with fpdf2 (a real PDF writer) into the folder given as the only
argument. The texts are this project's own; tests/pdf/main.rs reads the files and checks what
docent extracts from them (page anchors, headings from the outline, text order, bad files).

    python make.py OUT_DIR
"""

import sys
import zlib
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image, ImageDraw

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)

WRAPPED = (
    "The lantern index keeps every shelf of the archive in one table, and each row names the "
    "room, the cabinet and the drawer where a folder rests, so that a reader who asks for a "
    "folder by its number walks straight to it instead of searching the whole floor."
)


def new_pdf(title=None):
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    return pdf


def heading(pdf, text, level):
    """A heading drawn on the page and entered in the outline at the same place."""
    pdf.start_section(text, level=level)
    pdf.set_font("Helvetica", style="B", size=16 - 2 * level)
    pdf.cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)


def para(pdf, text):
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def guide():
    """Three pages with an outline; page 2 has a second heading halfway down."""
    pdf = new_pdf("Lantern Archive Guide")
    pdf.add_page()
    heading(pdf, "Welcome", 0)
    para(pdf, "This guide explains the lantern archive to new readers.")
    para(pdf, WRAPPED)
    pdf.add_page()
    heading(pdf, "Borrowing folders", 0)
    para(pdf, "A folder leaves the archive only with a signed borrowing slip.")
    para(pdf, "Borrowed folders come back within fourteen days.")
    heading(pdf, "Late returns", 1)
    para(pdf, "A late folder blocks further borrowing until it is back on its shelf.")
    pdf.add_page()
    heading(pdf, "Closing the reading room", 0)
    para(pdf, "First, the warden rings the copper bell at half past five.")
    para(pdf, "Second, readers return open folders to the returns trolley.")
    para(pdf, "Third, the warden dims the lanterns and locks the oak door.")
    pdf.output(OUT / "guide.pdf")


def plain():
    """Two pages, no outline, no title: sections by page only, the file name as title."""
    pdf = new_pdf()
    pdf.add_page()
    para(pdf, "Quarterly inventory of the map cabinets in the east wing.")
    pdf.add_page()
    para(pdf, "The humidity log of the basement vault is read every Monday.")
    pdf.output(OUT / "plain.pdf")


def locked():
    """Encrypted with a user password: unreadable without it."""
    pdf = new_pdf("Locked")
    pdf.set_encryption(owner_password="owner-secret", user_password="reader-secret",
                       encryption_method=EncryptionMethod.RC4)
    pdf.add_page()
    para(pdf, "The vault combination is never written in the catalogue.")
    pdf.output(OUT / "locked.pdf")


def owner_only():
    """Encrypted with an owner password only: anyone may read it (the empty user password)."""
    pdf = new_pdf("Permissions only")
    pdf.set_encryption(owner_password="owner-secret", encryption_method=EncryptionMethod.RC4)
    pdf.add_page()
    para(pdf, "Printing this notice is not permitted, reading it is.")
    pdf.output(OUT / "owner-only.pdf")


def scanned_image():
    img = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(img).text((20, 80), "A scanned page: letters drawn as pixels only.", fill="black")
    return img


def scan():
    """One page holding only an image of text: no text layer."""
    pdf = new_pdf("Scanned letter")
    pdf.add_page()
    pdf.image(scanned_image(), x=20, y=20, w=170)
    pdf.output(OUT / "scan.pdf")


def mixed():
    """A text page, then an image-only page."""
    pdf = new_pdf("Mixed")
    pdf.add_page()
    para(pdf, "The cover letter of the donation is typed.")
    pdf.add_page()
    pdf.image(scanned_image(), x=20, y=20, w=170)
    pdf.output(OUT / "mixed.pdf")


def broken():
    """Bad bytes under a .pdf name: an error page saved as a PDF, and a PDF cut short."""
    (OUT / "error-page.pdf").write_text("<html><body>502 Bad Gateway</body></html>\n")
    whole = (OUT / "guide.pdf").read_bytes()
    (OUT / "truncated.pdf").write_bytes(whole[:200])


def bomb():
    """A one-page PDF whose page content inflates from about 100 kB to 100 MB (zeros after one
    line of text), written by hand: fpdf2 compresses what it draws itself."""
    content = b"BT /F1 12 Tf 72 720 Td (Inflated) Tj ET\n" + b" " * (100 << 20)
    packed = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    (OUT / "bomb.pdf").write_bytes(bytes(out))


guide()
plain()
locked()
owner_only()
scan()
mixed()
broken()
bomb()
