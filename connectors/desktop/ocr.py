"""Text on pixels: Tesseract (German and English) finds where a text is shown.

Used where no accessibility tree exists (a Fachverfahren behind a terminal server or
Citrix): the window's screenshot is read by ``tesseract ... tsv`` and the text's box is
where consecutive words on one line spell it::

    boxes = find_text(Path("window.png"), "Speichern")   # [(x, y, width, height), ...]
"""

from __future__ import annotations

import csv
import io
import subprocess
import tempfile
import time
from pathlib import Path

from connectors.base import ConnectorError, ConnectorTimeout

Box = tuple[int, int, int, int]


def words(
    image: Path, *, languages: str = "deu+eng", timeout: float = 30
) -> list[tuple[str, Box, tuple[int, int, int]]]:
    """(word, box, (block, paragraph, line)) of every word Tesseract reads in ``image``."""
    try:
        done = subprocess.run(
            ["tesseract", str(image), "-", "-l", languages, "--psm", "11", "tsv"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ConnectorError(
            "tesseract is not installed; fix: apt-get install -y tesseract-ocr tesseract-ocr-deu"
        ) from None
    except subprocess.TimeoutExpired:
        raise ConnectorError("tesseract did not read the screen in time") from None
    if done.returncode != 0:
        raise ConnectorError(f"tesseract failed: {done.stderr.strip()[:200]}")
    found = []
    for row in csv.DictReader(io.StringIO(done.stdout), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if not text or float(row.get("conf") or -1) < 0:
            continue
        box = (int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"]))
        found.append(
            (text, box, (int(row["block_num"]), int(row["par_num"]), int(row["line_num"])))
        )
    return found


def find_text(image: Path, text: str) -> list[Box]:
    """Boxes where ``text`` (one or several words, case-insensitive) is shown."""
    wanted = [word.casefold() for word in text.split()]
    if not wanted:
        return []
    read = words(image)
    boxes: list[Box] = []
    for start in range(len(read)):
        run = read[start : start + len(wanted)]
        if len(run) < len(wanted) or len({line for _, _, line in run}) != 1:
            continue
        if all(_same(w, seen) for w, (seen, _, _) in zip(wanted, run, strict=True)):
            xs = [b[0] for _, b, _ in run]
            ys = [b[1] for _, b, _ in run]
            ends = [b[0] + b[2] for _, b, _ in run]
            bottoms = [b[1] + b[3] for _, b, _ in run]
            boxes.append((min(xs), min(ys), max(ends) - min(xs), max(bottoms) - min(ys)))
    return boxes


def _same(wanted: str, seen: str) -> bool:
    quotes = ".,:;!?()[]\"'„“”‚‘’«»"
    return seen.casefold().strip(quotes) == wanted.strip(quotes)


def find_on_screen(display: str, box: Box | None, text: str) -> list[Box]:
    """Where ``text`` is inside ``box`` of the display (None: all of it), in screen
    coordinates. The pixels are read at twice their size: Tesseract reads a user
    interface's small type far better so."""
    x, y, _, _ = box or (0, 0, 0, 0)
    with tempfile.TemporaryDirectory(prefix="bots-ocr-") as scratch:
        shot = _enlarged(display, Path(scratch) / "box.png", box)
        return [
            (x + bx // SCALE, y + by // SCALE, w // SCALE, h // SCALE)
            for bx, by, w, h in find_text(shot, text)
        ]


def line_text(display: str, box: Box) -> str:
    """The text of one line of the screen (``box``: the line's strip), read by OCR."""
    x, y, width, height = box
    strip = (x, max(y - 4, 0), width, height + 8)
    with tempfile.TemporaryDirectory(prefix="bots-ocr-") as scratch:
        shot = _enlarged(display, Path(scratch) / "line.png", strip)
        read = sorted(words(shot), key=lambda word: word[1][0])
    return " ".join(word for word, _, _ in read)


#: How much larger the pixels are read.
SCALE = 2


def _enlarged(display: str, target: Path, box: Box | None) -> Path:
    from PIL import Image

    from connectors.desktop.xinput import screenshot

    screenshot(display, target, box)
    with Image.open(target) as image:
        large = image.convert("L").resize(
            (image.width * SCALE, image.height * SCALE), Image.Resampling.LANCZOS
        )
    large.save(target)
    return target


def wait_text(display: str, text: str, *, gone: bool, timeout: float) -> None:
    """Wait until ``text`` is on the display, or (``gone``) no longer is; a timeout names it."""
    deadline = time.monotonic() + timeout
    while bool(find_on_screen(display, None, text)) == gone:
        if time.monotonic() + 0.5 > deadline:
            state = "still shown" if gone else "not shown"
            raise ConnectorTimeout(f"the text {text!r} was {state} after {timeout:g} s")
        time.sleep(0.5)
