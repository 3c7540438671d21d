"""Benchmark: quality scoring and dedup of 100,000 generated samples (aim: under 60 s together).

The samples imitate a create run on the SetForge domain: one source chunk of about 600 words per three
samples (questions_per_chunk: 3), mostly grounded answers, some with invented figures, some generic,
and about 10% near duplicates (a word changed) of earlier samples. Run alone with
`.venv/bin/python -m bench.bench_quality`.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

from src.config import DomainProfile, QualityConfig
from src.engine.local import LocalEngine
from src.models import Example, Turn
from src.quality import dedup, language, scores

SAMPLES = 100_000
PER_CHUNK = 3
AIM_TOTAL_S = 60.0

UNIVERSITIES = ["Sharda University", "Amity University", "Galgotias University", "Chandigarh University",
                "Lovely Professional University", "Manipal University", "Parul University"]
PROGRAMMES = ["B.Tech Computer Science", "BBA", "MBBS", "B.Pharm", "M.Tech", "BCA", "B.Sc Nursing"]
CITIES = ["Greater Noida", "Noida", "Mohali", "Phagwara", "Jaipur", "Vadodara", "Dhaka", "Chittagong"]
MONTHS = ["January", "March", "May", "June", "July", "August", "October", "December"]
# Prose around the facts: sentences from 10,000 combinations, so chunks differ the way real
# documents do (a tiny vocabulary would make every sample a near duplicate of every other).
SUBJECTS = ["Students", "Applicants", "The office", "The faculty", "Parents", "The hostel warden",
            "The registrar", "International students", "The admissions team", "Every candidate"]
VERBS = ["should check", "can request", "must submit", "will receive", "may review",
         "are asked to confirm", "have to collect", "can book", "need to renew", "are told to read"]
OBJECTS = ["the course handbook", "a medical certificate", "the transport schedule", "the refund policy",
           "their exam timetable", "the library card", "an insurance form", "the internship list",
           "a deposit receipt", "the placement report"]
TAILS = ["before the semester starts", "at the start of each term", "from the student portal",
         "with the help of a mentor", "during orientation week", "after the first month",
         "at the campus office", "when the results are published", "through the online form",
         "before travelling home"]

OPENERS = ["What should I know about", "Can you explain", "How does it work with", "Tell me about",
           "I am a Bangladeshi student; what about", "Is it true that", "Could you clarify"]

PROFILE = DomainProfile(
    name="Bangladeshi students choosing Indian universities",
    keywords={"SSC": 1.0, "HSC": 1.0, "equivalence": 0.8, "scholarship": 1.0, "₹": 0.8, "৳": 0.8,
              "fee": 0.6, "visa": 0.8, "embassy": 0.8, "high commission": 0.8, "halal": 1.0,
              "prayer": 0.8, "hostel": 0.5, "GPA": 0.6},
    entities=UNIVERSITIES + ["Indian High Commission Dhaka", "AIU"])


def _facts(rng: random.Random) -> list[str]:
    uni, prog, city = rng.choice(UNIVERSITIES), rng.choice(PROGRAMMES), rng.choice(CITIES)
    fee, pct = rng.randrange(80, 400) * 1000, rng.choice([20, 25, 30, 50, 75])
    gpa = rng.choice(["4.0", "4.5", "5.0"])
    day, month, year = rng.randrange(1, 29), rng.choice(MONTHS), rng.choice([2024, 2025, 2026])
    return [f"{uni} in {city} admits Bangladeshi students to {prog} after SSC and HSC with a GPA of {gpa}.",
            f"The tuition fee for {prog} at {uni} is ₹{fee:,} per year, about ৳{fee * 13 // 10:,}.",
            f"Students with HSC GPA 5.0 receive a {pct}% scholarship on tuition at {uni}.",
            f"The application deadline is {day} {month} {year}.",
            "Apply for a student visa at the Indian High Commission in Dhaka with the admission letter.",
            "The campus has a prayer room and halal food in the hostel mess.",
            f"AIU equivalence of the HSC certificate takes {rng.randrange(2, 9)} weeks."]


def _filler(rng: random.Random) -> list[str]:
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."
            for _ in range(45)]


def _context(facts: list[str], filler: list[str], rng: random.Random) -> str:
    sentences = facts + filler
    rng.shuffle(sentences)
    return " ".join(sentences)


def _answer(facts: list[str], filler: list[str], kind: str, rng: random.Random) -> str:
    fact, extra = rng.choice(facts), rng.choice(filler)
    if kind == "invented":
        return f"{fact} {extra} The fee rose by {rng.randrange(11, 99)}% in {rng.choice(MONTHS)} 2031."
    if kind == "generic":
        return "Studying abroad is a wonderful experience that helps you grow in many ways. " + extra
    return f"According to the information provided, {fact[0].lower()}{fact[1:]} {extra}"


def _question(facts: list[str], rng: random.Random) -> str:
    """Varied wording, as an LLM writes questions, about one fact of the chunk."""
    words = rng.choice(facts).rstrip(".").split()
    start = rng.randrange(0, max(1, len(words) - 6))
    topic = " ".join(words[start:start + rng.randrange(4, 8)])
    return f"{rng.choice(OPENERS)} {topic} {rng.choice(TAILS)}?"


def make_samples(count: int, seed: int = 7) -> list[Example]:
    """`count` samples on `count / PER_CHUNK` distinct chunks, about 10% near duplicates."""
    rng = random.Random(seed)
    samples: list[Example] = []
    while len(samples) < count:
        facts, filler = _facts(rng), _filler(rng)
        context = _context(facts, filler, rng)
        for _ in range(PER_CHUNK):
            if samples and rng.random() < 0.1:
                base = rng.choice(samples)
                answer = base.answer.replace(" the ", " this ", 1) + " Good luck!"
                question, context_used = base.question, base.context
            else:
                kind = rng.choices(["grounded", "invented", "generic"], [0.75, 0.15, 0.1])[0]
                answer = _answer(facts, filler, kind, rng)
                question, context_used = _question(facts, rng), context
            samples.append(Example(turns=[Turn("user", question), Turn("assistant", answer)],
                                   context=context_used, origin="synthetic", mode="create"))
    return samples[:count]


def _timed(action) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(workdir: Path) -> list[dict]:
    """Score and deduplicate SAMPLES generated samples; one row per stage, one for both in one
    process, and one with scoring on every core (the local engine a run scores on)."""
    samples = make_samples(SAMPLES)
    config = QualityConfig(domain=PROFILE)
    language.detect("Le modèle est chargé une fois, avant la mesure.")  # load py3langid untimed
    scoring, scoring_cpu = _timed(lambda: scores.score_examples(samples, config))
    result: dict = {}
    dedup_s, dedup_cpu = _timed(lambda: result.update(
        zip(("kept", "dropped"), dedup.deduplicate(samples, config.near_duplicate_threshold))))
    rejected = sum(e.rejected for e in samples)
    total = scoring + dedup_s
    fresh = make_samples(SAMPLES)  # unscored again
    with LocalEngine(os.cpu_count() or 1) as engine:  # as a run scores: every core (issue 18)
        pooled, _ = _timed(lambda: engine.score(fresh, config))
    same = [(e.reasons, e.scores) for e in fresh] == \
        [([r for r in e.reasons if r != "duplicate"], e.scores) for e in samples]  # dedup's mark
    on_cores = pooled + dedup_s
    return [
        {"name": "quality scoring of 100k samples", "value": round(scoring, 2), "unit": "s",
         "aim": f"part of <= {AIM_TOTAL_S:.0f} s", "ok": total <= AIM_TOTAL_S,
         "notes": f"CPU {scoring_cpu:.1f} s; {SAMPLES / scoring:,.0f} samples/s; "
                  f"{SAMPLES // PER_CHUNK:,} distinct ~600-word chunks; {rejected:,} rejected in all"},
        {"name": "dedup of 100k samples (exact + MinHash/LSH)", "value": round(dedup_s, 2),
         "unit": "s", "aim": f"part of <= {AIM_TOTAL_S:.0f} s", "ok": total <= AIM_TOTAL_S,
         "notes": f"CPU {dedup_cpu:.1f} s; {len(result['dropped']):,} duplicates dropped, "
                  f"{len(result['kept']):,} kept"},
        {"name": "scoring + dedup of 100k samples, one process", "value": round(total, 2),
         "unit": "s", "aim": f"<= {AIM_TOTAL_S:.0f} s", "ok": total <= AIM_TOTAL_S,
         "notes": f"CPU {scoring_cpu + dedup_cpu:.1f} s (wall exceeds CPU when the 2 cores are shared)"},
        {"name": "scoring on every core (as a run scores) + dedup of 100k samples",
         "value": round(on_cores, 2), "unit": "s", "aim": f"<= {AIM_TOTAL_S:.0f} s, same scores",
         "ok": on_cores <= AIM_TOTAL_S and same,
         "notes": f"scoring {pooled:.1f} s on {os.cpu_count()} processes (pool start included), "
                  f"dedup {dedup_s:.1f} s; scores and reasons {'identical to' if same else 'DIFFER from'} "
                  "the one-process run"},
    ]


if __name__ == "__main__":
    for row in run(Path("bench/work/bench_quality")):
        print(row, file=sys.stderr)
