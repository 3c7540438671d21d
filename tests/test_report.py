"""`report NAME` and the figures behind it: a create run with the LLM judge against the fake server
(one answer per request gets an invented sentence), then the page checked as a file, its numbers
against `stats --json`, and the page opened in headless Chromium with a screenshot of the charts."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from src.config import output_root
from src.main import main
from tests.fake_llm_server import FakeLLMServer, FakeRequest
from tests.grounded_responder import each_turn
from tests.judge_responder import judging_responder
from tests.pipeline_helpers import generate, point_env_at, stored, write_config

INVENTED = " Students also enjoy a rooftop cinema and free concerts every weekend."
CHARTS = ("tokens", "scores", "reasons", "split", "coverage", "cost", "mix")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--host-resolver-rules=MAP * ~NOTFOUND"]  # nothing may resolve: the page is offline


def embellishing_responder(request: FakeRequest) -> dict:
    """Grounded answers, except the second answer of each request gains an invented sentence."""
    reply = judging_responder()(request)
    for turn in each_turn(reply)[1:2]:
        turn["answer"] += INVENTED
    return reply


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture
def dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    with FakeLLMServer(responder=embellishing_responder) as server:
        point_env_at(server, monkeypatch)
        config = write_config(tmp_path, dataset_size=12, output_name="rep",
                              **{"quality.llm_judge": True})
        code, result, err = generate(config)
    assert code == 0, err
    return result


def test_every_accepted_sample_carries_claims_evidence_and_faithfulness(dataset: dict) -> None:
    accepted = [e for e in stored("rep") if not e.reasons]
    assert len(accepted) == 12
    for example in accepted:
        assert example.claims and "faithfulness" in example.scores and example.judge
        for claim in example.claims:
            assert claim.status in ("supported", "unsupported")
            for start, end in claim.evidence:
                assert example.context[start:end].strip()
    embellished = [e for e in stored("rep") if INVENTED.strip() in e.answer]
    assert embellished and all(any(c.status == "unsupported" and INVENTED.strip() in e.answer[c.start:c.end]
                                   for c in e.claims) for e in embellished)
    # 2 of 3 claims supported passes faithfulness (0.5); the judge, reading the source, rejects them
    offline_kept = [e for e in embellished if e.scores["faithfulness"] == round(2 / 3, 4)]
    assert offline_kept and all("judge_rejected" in e.reasons for e in offline_kept if e.judge)


def test_report_is_written_with_the_run_and_by_the_command(dataset: dict) -> None:
    path = Path(dataset["files"]["report"])
    assert path == output_root() / "rep" / "rep_report.html" and path.exists()
    path.unlink()
    code, out = run_cli("report", "rep", "--json")
    assert code == 0 and json.loads(out) == {"report": str(path)}
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for key in CHARTS:
        assert f"data-chart={key} " in page
    assert "<mark class=unsupported" in page and "rooftop cinema" in page
    assert len(page) < 600_000  # seven SVG charts and the samples, no bundled library


def test_stats_json_carries_the_reports_figures(dataset: dict) -> None:
    code, out = run_cli("stats", "rep", "--json")
    stats = json.loads(out)
    quality = stats["quality"]
    assert code == 0
    assert set(quality) >= {"distributions", "faithfulness", "judge", "diversity", "contamination"}
    assert quality["faithfulness"]["samples_checked"] == 12
    assert quality["faithfulness"]["claims"] >= 12  # over the accepted samples (the judge took out
    assert quality["rejection_reasons"]["judge_rejected"] >= 1  # the embellished ones)
    assert quality["judge"]["judged"] >= 12 and quality["judge"]["agreement"] is not None
    assert stats["tokens"]["limit"] == 65_536 and stats["tokens"]["over"] == 0
    assert stats["cost"]["per_run"][0]["cost_usd"] > 0
    flagged = {f["metric"] for f in quality["diversity"]["flags"]}
    assert "questions.self_similarity" in flagged  # every question starts "What does the guide say"
    page = (output_root() / "rep" / "rep_report.html").read_text(encoding="utf-8")
    faith = quality["faithfulness"]
    assert f"<b>{faith['mean']:.0%}</b><span>mean faithfulness" in page
    assert f"{quality['judge']['judged']} judged" in page
    exported = json.loads(Path(dataset["files"]["stats"]).read_text(encoding="utf-8"))
    assert exported["quality"]["faithfulness"] == faith  # the stats file the export wrote


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed, so the report is not opened in a real "
                    "browser here: `apt-get install chromium` (.ci/run installs it)")
    return found


def test_report_renders_every_chart_in_headless_chromium(dataset: dict, tmp_path: Path) -> None:
    browser = chromium()
    page = (output_root() / "rep" / "rep_report.html").as_uri()
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page], capture_output=True, text=True,
                         timeout=120)
    assert f'data-charts-drawn="{len(CHARTS)}/{len(CHARTS)}"' in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1280,2200", page],
                   capture_output=True, timeout=120, check=True)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2200)
    colours = image.getcolors(maxcolors=1 << 20) or []
    counts = {rgb: n for n, rgb in colours}
    assert counts.get((0x2F, 0x9E, 0x44), 0) > 2000  # accepted green: score and coverage bars
    assert counts.get((0x19, 0x71, 0xC2), 0) > 2000  # train blue: tokens, split and mix bars
    assert counts.get((0x67, 0x41, 0xD9), 0) > 500  # cost bars
    keep = os.environ.get("REPORT_SCREENSHOT")
    if keep:  # to look at it: REPORT_SCREENSHOT=/tmp/report.png pytest tests/test_report.py
        shutil.copy(shot, keep)


def test_dataset_card_carries_the_same_quality_figures(dataset: dict) -> None:
    code, out = run_cli("stats", "rep", "--json")
    quality = json.loads(out)["quality"]
    code, out = run_cli("export", "rep", "--format", "hf", "--json")
    assert code == 0, out
    card = next((output_root() / "rep" / "hf").rglob("README.md")).read_text(encoding="utf-8")
    assert (f"| mean faithfulness (share of claims the source supports) | "
            f"{quality['faithfulness']['mean']} |") in card
    assert f"| LLM judge agrees with the offline checks | {quality['judge']['agreement']} |" in card
