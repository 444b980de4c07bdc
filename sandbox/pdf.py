"""A small valid PDF (one page of text) without extra dependencies.

Example::

    data = text_pdf("Gewerbeanmeldung", ["Betrieb: Bäckerei Müller"])
    assert data.startswith(b"%PDF-1.4")
"""

from __future__ import annotations


def _escape(text: str) -> bytes:
    # WinAnsiEncoding covers Latin-1's letters; anything else becomes '?'.
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF with a bold title and lines of text (Helvetica).

    Args:
        title: The heading, also the document's /Title.
        lines: Text lines; characters outside Windows-1252 are shown as '?'.

    Returns:
        The PDF file's bytes.
    """
    content = b"BT /F2 16 Tf 56 780 Td (" + _escape(title) + b") Tj ET\n"
    y = 750
    for line in lines:
        content += b"BT /F1 11 Tf 56 %d Td (" % y + _escape(line) + b") Tj ET\n"
        y -= 16
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + _escape(title) + b") /Producer (kommune-bots sandbox) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
