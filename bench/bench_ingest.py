"""Benchmark: PDF pages/second against raw pdfplumber, and peak RSS ingesting a large folder."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pdfplumber

from src.utils.file_processor import read_document

ROOT = Path(__file__).resolve().parent.parent
PDF_SOURCES = [ROOT.parent / "shared/corpus/pdf/federal-register-2020-17221.pdf",
               ROOT / "tests/data/corpus/pdf/copy-protected.pdf",
               ROOT / "tests/data/corpus/pdf/test.pdf",
               ROOT / "tests/data/corpus/pdf/scotus-transcript-p1.pdf"]
AIM_RATIO = 1.2
AIM_RSS_MB = 400
FOLDER_MB = 360
FILE_MB = 10  # typical large inputs; one big CSV is measured separately
BIG_CSV_MB = 40
_MEASURE = """
import resource, sys
from src.utils.file_processor import iter_documents
docs = failures = 0
for result in iter_documents([sys.argv[1]]):
    docs += hasattr(result, "blocks")
    failures += not hasattr(result, "blocks")
    del result  # a consumer keeps one document at a time
print(docs, failures, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _raw(path: Path) -> int:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
        return len(pdf.pages)


def _timed(paths: list[Path], reader: object) -> float:
    start = time.perf_counter()
    for path in paths:
        reader(path)  # type: ignore[operator]
    return time.perf_counter() - start


def pdf_rows() -> list[dict]:
    """Pages per second for our reader and for raw extract_text(), best of 2 alternating runs."""
    paths = [p for p in PDF_SOURCES if p.exists()] * 2
    pages = sum(_raw(p) for p in paths)
    ours = min(_timed(paths, read_document) for _ in range(2))
    raw = min(_timed(paths, _raw) for _ in range(2))
    ratio = ours / raw
    notes = f"{len(paths)} PDFs, {pages} pages (3-column Federal Register when ../shared exists)"
    return [
        {"name": "pdf pages/s (file_processor)", "value": round(pages / ours, 1), "unit": "pages/s",
         "aim": "report", "ok": True, "notes": notes},
        {"name": "pdf pages/s (raw pdfplumber extract_text)", "value": round(pages / raw, 1),
         "unit": "pages/s", "aim": "report", "ok": True, "notes": notes},
        {"name": "pdf overhead vs raw pdfplumber", "value": round(ratio, 2), "unit": "x",
         "aim": f"<= {AIM_RATIO:g}x", "ok": ratio <= AIM_RATIO,
         "notes": "ours adds reading order, header/footer removal, ruled tables, word gaps"},
    ]


PARAGRAPH = ("The scholarship office answers questions about tuition fees, visas and hostel rooms. "
             "Applications close on 30 June; late forms are not accepted.\n") * 3 + "\n"
ROW = '{i},"What is fee {i}?","Fee {i} is ₹{i}00, payable by 30 June.\nLate fee applies.",en\n'


def write_txt(path: Path, mb: int) -> None:
    """A text file of about mb MB in paragraphs."""
    path.write_text(PARAGRAPH * ((mb << 20) // len(PARAGRAPH)), encoding="utf-8")


def write_csv(path: Path, mb: int) -> None:
    """A question/answer CSV of about mb MB with quoted multi-line answers."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("id,question,answer,lang\n")
        out.writelines(ROW.format(i=i) for i in range(mb * 12_500))


def make_folder(folder: Path, total_mb: int = FOLDER_MB, file_mb: int = FILE_MB) -> int:
    """TXT and CSV files of ~file_mb each adding up to total_mb; returns the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    count, size = 0, 0
    while size < total_mb << 20:
        path = folder / f"part{count:02d}.{'csv' if count % 2 else 'txt'}"
        (write_csv if count % 2 else write_txt)(path, file_mb)
        size += path.stat().st_size
        count += 1
    return count


def _measure(folder: Path) -> tuple[int, int, float, float]:
    """(documents, failures, peak RSS MB, seconds) of a clean subprocess ingesting folder."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(folder)], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2]) / 1024, time.perf_counter() - start


def rss_rows(workdir: Path) -> list[dict]:
    """Peak RSS for a folder of several hundred MB, and for one big CSV (the per-file cost)."""
    folder, single = workdir / "big_folder", workdir / "one_csv"
    files = make_folder(folder)
    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    docs, failures, peak_mb, seconds = _measure(folder)
    single.mkdir(parents=True, exist_ok=True)
    write_csv(single / "big.csv", BIG_CSV_MB)
    _, _, csv_peak, csv_seconds = _measure(single)
    return [
        {"name": "peak RSS ingesting a large folder", "value": round(peak_mb, 1), "unit": "MB",
         "aim": f"< {AIM_RSS_MB} MB", "ok": peak_mb < AIM_RSS_MB and failures == 0,
         "notes": f"{files} files of ~{FILE_MB} MB, {size_mb:.0f} MB of TXT/CSV, {docs} read, "
                  f"{failures} failed, {seconds:.0f} s ({size_mb / seconds:.1f} MB/s)"},
        {"name": f"peak RSS for one {BIG_CSV_MB} MB CSV", "value": round(csv_peak, 1), "unit": "MB",
         "aim": "report", "ok": True,
         "notes": f"{csv_seconds:.0f} s; memory grows with the largest single file (a Document "
                  "holds every row as a Block), not with the folder"},
    ]


def run(workdir: Path) -> list[dict]:
    """Both ingestion benchmarks; the generated folder is deleted afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    rows = pdf_rows()
    try:
        rows += rss_rows(workdir)
    finally:
        for path in list(workdir.glob("big_folder/*")) + list(workdir.glob("one_csv/*")):
            path.unlink()
    return rows


if __name__ == "__main__":
    print(json.dumps(run(ROOT / "bench" / "work" / "bench_ingest"), indent=2))
