"""Real PDF, DOCX and XLSX files made from a small markup, for the second identify labelled set.

The labelled documents of `tests/data/identify2/` are kept as text: `.md`, `.txt` and `.csv` files
are the documents themselves; `NAME.pdf.src`, `NAME.docx.src` and `NAME.xlsx.src` describe a file
that `materialise()` writes as `NAME.pdf`, `NAME.docx` or `NAME.xlsx` with reportlab, python-docx
and openpyxl, so the tests read real files through the real readers.

Markup, one paragraph per blank-line-separated chunk (its lines are joined with a space):
- `# text`, `## text`, `### text`: title (18 pt bold) and headings (14 pt, 12 pt bold);
  in DOCX the Title/Heading 1-3 styles.
- `**text`: a paragraph in bold at the body size (DOCX: a bold run in a Normal paragraph).
- `^^text`: a paragraph in larger, regular type (PDF 13 pt; DOCX 14 pt run).
- `- text`: a bullet item (PDF: bullet '•'; DOCX: List Bullet). `1. text`: numbered (DOCX: List Number).
- `| a | b |` lines: a table (DOCX table; PDF ruled table).
- `<<<page>>>`: page break (PDF). `@spacer N`: N points of empty space (PDF), to push the next
  paragraph across a page break. `@footer TEXT` (first line): a running footer 'TEXT  page N'.
  `@font Times` (first lines): Times-Roman/Times-Bold instead of Helvetica.
XLSX: `=== sheet NAME ===` starts a sheet; every other line is a row of cells split on ' | ';
`\\n` inside a cell is a line break; an empty line is an empty row.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

PAGE = "<<<page>>>"
ITEM = re.compile(r"^(\||- |\d+\. |<<<page>>>$|@spacer )")


def materialise(source: Path, out_dir: Path) -> Path:
    """Write the real document for one labelled source file into out_dir; returns its path."""
    name = source.name
    out_dir.mkdir(parents=True, exist_ok=True)
    for suffix, maker in ((".pdf.src", make_pdf), (".docx.src", make_docx), (".xlsx.src", make_xlsx)):
        if name.endswith(suffix):
            target = out_dir / (name[: -len(".src")])
            maker(source.read_text(encoding="utf-8"), target)
            return target
    target = out_dir / name
    shutil.copyfile(source, target)
    return target


def _chunks(markup: str) -> tuple[dict[str, str], list[str]]:
    """Directives of the first lines, then paragraphs (lines of one chunk joined by a space)."""
    directives: dict[str, str] = {}
    body: list[str] = []
    for chunk in re.split(r"\n\s*\n", markup.strip("\n")):
        lines = [line.strip() for line in chunk.strip().split("\n")]
        while lines and lines[0].startswith(("@footer ", "@font ")):
            key, _, value = lines.pop(0).partition(" ")
            directives[key[1:]] = value.strip()
        if not lines:
            continue
        if ITEM.match(lines[0]):  # table rows and list items: one entry per item
            for line in lines:
                if ITEM.match(line) or not body:
                    body.append(line)
                else:
                    body[-1] += " " + line
        else:
            body.append(" ".join(lines))
    return directives, body


def _items(body: list[str]) -> list[tuple[str, list[list[str]]]]:
    """(paragraph, []) or ("", table rows) in order: consecutive '| a | b |' lines form a table."""
    items: list[tuple[str, list[list[str]]]] = []
    for para in body:
        if para.startswith("|"):
            row = [cell.strip() for cell in para.strip("|").split("|")]
            if items and items[-1][1]:
                items[-1][1].append(row)
            else:
                items.append(("", [row]))
        else:
            items.append((para, []))
    return items


# ------------------------------------------------------------------ PDF (reportlab)

def make_pdf(markup: str, target: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    directives, body = _chunks(markup)
    family = directives.get("font", "Helvetica")
    regular, bold = ("Times-Roman", "Times-Bold") if family == "Times" else ("Helvetica", "Helvetica-Bold")

    def style(name: str, font: str, size: float, after: float = 6, **extra: float) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3,
                              spaceAfter=after, **extra)

    styles = {"#": style("h1", bold, 18, 12), "##": style("h2", bold, 14, 8),
              "###": style("h3", bold, 12, 6), "**": style("b", bold, 10, 4),
              "^^": style("l", regular, 13, 4), "p": style("p", regular, 10),
              "-": style("li", regular, 10, 2, leftIndent=14, bulletIndent=4,
                                bulletFontName="Symbol")}
    story: list = []
    for para, table in _items(body):
        if table:
            grid = Table([[Paragraph(escape(c), styles["p"]) for c in row] for row in table])
            grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
            story.append(grid)
        elif para == PAGE:
            story.append(PageBreak())
        elif para.startswith("@spacer "):
            story.append(Spacer(1, float(para.split()[1])))
        elif para.startswith("- "):
            story.append(Paragraph(escape(para[2:]), styles["-"], bulletText="•"))  # Symbol, as Word does
        else:
            mark = next((m for m in ("###", "##", "#", "**", "^^") if para.startswith(m)), "")
            text = para[len(mark):].strip() if mark else para
            story.append(Paragraph(escape(text), styles[mark or "p"]))
    footer = directives.get("footer")

    def on_page(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        if footer:
            canvas.setFont(regular, 8)
            canvas.drawString(72, 30, f"{footer}  page {doc.page}")

    pdf = SimpleDocTemplate(str(target), pagesize=A4, invariant=1)
    pdf.build(story, onFirstPage=on_page, onLaterPages=on_page)


# ------------------------------------------------------------------ DOCX (python-docx)

def make_docx(markup: str, target: Path) -> None:
    import docx
    from docx.shared import Pt

    _, body = _chunks(markup)
    document = docx.Document()
    for para, table in _items(body):
        if table:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    grid.cell(r, c).text = cell
        elif para == PAGE or para.startswith("@spacer"):
            continue
        elif para.startswith("#"):
            level = len(para) - len(para.lstrip("#"))
            document.add_heading(para[level:].strip(), level=0 if level == 1 else level - 1)
        elif para.startswith("**"):
            document.add_paragraph().add_run(para[2:].strip()).bold = True
        elif para.startswith("^^"):
            document.add_paragraph().add_run(para[2:].strip()).font.size = Pt(14)
        elif para.startswith("- "):
            document.add_paragraph(para[2:], style="List Bullet")
        elif re.match(r"^\d+\. ", para):
            document.add_paragraph(para.split(" ", 1)[1], style="List Number")
        else:
            document.add_paragraph(para)
    document.save(str(target))


# ------------------------------------------------------------------ XLSX (openpyxl)

def make_xlsx(markup: str, target: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    first = True
    for line in markup.strip("\n").split("\n"):
        header = re.match(r"^=== sheet (.+) ===$", line.strip())
        if header:
            sheet = sheet if first else book.create_sheet()
            sheet.title = header.group(1)
            first = False
            continue
        cells = [c.strip().replace("\\n", "\n") for c in line.split(" | ")] if line.strip() else []
        sheet.append([int(c) if c.isdigit() else (c or None) for c in cells] or [None])
    book.save(str(target))
