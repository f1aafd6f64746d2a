"""A one-page PDF of text lines: all a certificate needs, without a rendering library.

Helvetica is one of the 14 fonts every PDF reader has, so nothing is embedded; WinAnsiEncoding
(cp1252) covers the accents of Dutch, French and German.
"""

from collections.abc import Sequence
from dataclasses import dataclass

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56


@dataclass(frozen=True)
class Line:
    text: str
    size: int = 11
    bold: bool = False
    gap_before: int = 0  # extra points of white above the line


def _literal(text: str) -> bytes:
    encoded = text.encode("cp1252", errors="replace")
    return b"(" + encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _content(lines: Sequence[Line]) -> bytes:
    parts, y = [b"BT"], PAGE_HEIGHT - MARGIN
    for line in lines:
        y -= line.size + 6 + line.gap_before
        font = b"/F2" if line.bold else b"/F1"
        parts.append(b"%s %d Tf 1 0 0 1 %d %d Tm %s Tj" % (font, line.size, MARGIN, y, _literal(line.text)))
    parts.append(b"ET")
    return b"\n".join(parts)


def render(lines: Sequence[Line], title: str) -> bytes:
    """The document's bytes. Offsets in the cross-reference table are exact, so strict readers
    accept it without repairing."""
    content = _content(lines)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>" % (PAGE_WIDTH, PAGE_HEIGHT),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title %s /Producer (Townhall) >>" % _literal(title),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref)
    return bytes(out)
