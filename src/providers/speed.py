"""How fast an agent server answered before, so the next pre-run estimate knows (issue 20).

No estimate can know a server's pace before talking to it: a hosted model writes ~60 tokens/s,
a local test server answers in milliseconds. So each run remembers what it saw, per agent
(provider, model and base URL), in memory/agent_speed.json: the time of a request as
`latency_s + seconds_per_token × output tokens` (fitted over the run's answers), and the output
share of their max_tokens the writing agent's replies used. The run's finishing stages (validation, split,
export, report) are remembered too, per sample. An estimate without a record assumes a hosted
model's pace and says so.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass

from src.config import home
from src.errors import StorageError
from src.masking import mask_url
from src.persistence.files import write_json_atomic

log = logging.getLogger(__name__)

BASE_LATENCY_S = 1.0  # without a record: time to first token ...
OUTPUT_TOKENS_PER_S = 60.0  # ... plus a hosted model's generation speed
FINISH_FIXED_S = 1.5  # without a record: validation, split, export and report ...
FINISH_PER_SAMPLE_S = 0.004  # ... plus this per sample
FINISH_KEY = "finish"
MIN_ANSWERS = 3  # answers a run needs to say anything about a server's pace


@dataclass
class Speed:
    """One agent server's pace; `measured` False: the defaults, nothing was recorded."""

    latency_s: float = BASE_LATENCY_S
    seconds_per_token: float = 1 / OUTPUT_TOKENS_PER_S
    output_share: float = 0.0  # what writing replies used of their max_tokens (0: not known)
    measured: bool = False

    def request_seconds(self, output_tokens: float) -> float:
        return self.latency_s + self.seconds_per_token * output_tokens

    def describe(self) -> str:
        if not self.measured:
            return (f"this server's pace is not known yet: assumed {BASE_LATENCY_S:g} s + "
                    f"{OUTPUT_TOKENS_PER_S:g} tokens/s per request")
        rate = f" + {1 / self.seconds_per_token:,.0f} tokens/s" if self.seconds_per_token else ""
        return f"pace measured in an earlier run: {self.latency_s:.2f} s{rate} per request"


def fit(answers: list[tuple[float, int]]) -> Speed | None:
    """Latency and per-token time from (seconds, output tokens) of answers, by least squares;
    a fixed latency when the sizes hardly vary or the slope comes out negative."""
    if len(answers) < MIN_ANSWERS:
        return None
    n = len(answers)
    mean_s = sum(s for s, _ in answers) / n
    mean_t = sum(t for _, t in answers) / n
    var_t = sum((t - mean_t) ** 2 for _, t in answers)
    slope = sum((t - mean_t) * (s - mean_s) for s, t in answers) / var_t if var_t else 0.0
    if slope <= 0 or mean_s - slope * mean_t < 0:
        return Speed(mean_s, 0.0, measured=True)
    return Speed(mean_s - slope * mean_t, slope, measured=True)


def _path():
    return home() / "memory" / "agent_speed.json"


def _records() -> dict:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def agent_key(provider: str, model: str, url: str | None) -> str:
    return f"{provider}|{model}|{mask_url(url) if url else ''}"


def _sound(*values: object) -> bool:
    """Numbers a record may hold: finite and not negative (a hand-edited file may hold anything)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               and v >= 0 for v in values)


def load(key: str) -> Speed:
    """The recorded pace of an agent, or the defaults (no record, or one that is not sound)."""
    record = _records().get(key)
    try:
        speed = Speed(**{**record, "measured": True}) if isinstance(record, dict) else Speed()
    except TypeError:  # a record of another version of this file
        return Speed()
    return speed if _sound(speed.latency_s, speed.seconds_per_token, speed.output_share) \
        else Speed()


def finish_seconds(samples: int) -> float:
    """Time of the finishing stages for a dataset of `samples` (recorded, or the defaults)."""
    record = _records().get(FINISH_KEY)
    fixed, per_sample = FINISH_FIXED_S, FINISH_PER_SAMPLE_S
    if isinstance(record, dict) and _sound(record.get("fixed_s"), record.get("per_sample_s")):
        fixed, per_sample = float(record["fixed_s"]), float(record["per_sample_s"])
    return fixed + per_sample * samples


def save(key: str, speed: Speed | None, finish: tuple[float, int] | None = None) -> None:
    """Remember an agent's pace and the finishing time of a run (seconds, samples); a file that
    cannot be written only costs the next estimate its accuracy."""
    records = _records()
    if speed is not None:
        records[key] = {k: round(v, 6) for k, v in asdict(speed).items() if k != "measured"}
    if finish is not None and finish[1] > 0:
        seconds, samples = finish
        fixed = min(seconds, FINISH_FIXED_S)
        records[FINISH_KEY] = {"fixed_s": round(fixed, 3),
                               "per_sample_s": round(max(0.0, seconds - fixed) / samples, 6)}
    try:
        write_json_atomic(_path(), records)
    except StorageError as exc:
        log.info("could not remember the agent's pace (%s)", exc)
