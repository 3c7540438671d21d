"""The pace an agent server showed (speed.py), the pre-run time of a job (estimate.py) and the
price of cached prompt tokens (prices.py), issue 20. Arithmetic checked by hand in the comments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.config import Config, home, load_config
from src.providers import speed
from src.providers.estimate import estimate, request_seconds
from src.providers.prices import AgentPrice, price_for
from src.providers.speed import MIN_ANSWERS, Speed, fit
from tests.pipeline_helpers import write_config

# ------------------------------------------------------------------ fit


def test_fit_recovers_latency_and_seconds_per_token() -> None:
    answers = [(0.3 + 0.01 * t, t) for t in (50, 120, 200, 310, 400, 90)]
    found = fit(answers)
    assert found is not None and found.measured
    assert found.latency_s == pytest.approx(0.3, abs=1e-9)
    assert found.seconds_per_token == pytest.approx(0.01, abs=1e-12)
    assert found.request_seconds(100) == pytest.approx(1.3)


def test_fit_through_noise_stays_close() -> None:
    noise = [0.02, -0.03, 0.01, -0.01, 0.03, -0.02, 0.0, 0.01]
    tokens = [100, 150, 200, 250, 300, 350, 400, 450]
    found = fit([(0.8 + 0.004 * t + e, t) for t, e in zip(tokens, noise)])
    assert found is not None
    assert found.latency_s == pytest.approx(0.8, abs=0.05)
    assert found.seconds_per_token == pytest.approx(0.004, rel=0.1)


def test_fewer_answers_than_the_minimum_say_nothing() -> None:
    assert fit([]) is None
    assert fit([(1.0, 10)] * (MIN_ANSWERS - 1)) is None
    assert fit([(1.0, 10)] * MIN_ANSWERS) is not None


def test_answers_of_one_size_give_a_latency_only() -> None:
    found = fit([(0.5, 200), (0.7, 200), (0.6, 200)])
    assert found is not None
    assert found.latency_s == pytest.approx(0.6) and found.seconds_per_token == 0.0


def test_a_time_that_does_not_grow_with_size_gives_a_latency_only() -> None:
    found = fit([(1.0, 10), (0.9, 500), (0.8, 1000)])  # the slope comes out negative
    assert found is not None
    assert found.latency_s == pytest.approx(0.9) and found.seconds_per_token == 0.0
    steep = fit([(0.1, 100), (1.0, 200), (1.9, 300)])  # 0.009 s/token, latency -0.8: refused
    assert steep is not None and steep.seconds_per_token == 0.0
    assert steep.latency_s == pytest.approx(1.0)


# ------------------------------------------------------------------ save / load


def test_save_and_load_round_trip_in_the_home(isolated_home: Path) -> None:
    key = speed.agent_key("openai", "gpt-4o-mini", "http://127.0.0.1:9999/v1")
    assert speed.load(key) == Speed()  # nothing recorded: the defaults
    assert not speed.load(key).measured
    speed.save(key, Speed(0.25, 0.002, 0.4, measured=True), (10.0, 100))
    path = home() / "memory" / "agent_speed.json"
    assert path.parent.parent == isolated_home and path.exists()
    assert speed.load(key) == Speed(0.25, 0.002, 0.4, measured=True)
    assert speed.load("another|model|") == Speed()
    # finishing: 1.5 s fixed (the default is the cap) + (10 - 1.5) / 100 samples per sample
    assert speed.finish_seconds(100) == pytest.approx(10.0)
    assert speed.finish_seconds(0) == pytest.approx(1.5)
    other = speed.agent_key("anthropic", "claude-haiku-4-5", None)
    speed.save(other, Speed(2.0, 0.0, measured=True))  # a second agent: the first one stays
    assert speed.load(key).latency_s == 0.25 and speed.load(other).latency_s == 2.0
    assert speed.finish_seconds(100) == pytest.approx(10.0)


def test_the_key_hides_a_secret_in_the_base_url() -> None:
    key = speed.agent_key("openai", "m", "https://user:sk-secret-123456789@example.test/v1")
    assert "sk-secret-123456789" not in key


@pytest.mark.parametrize("text", [
    "{not json",
    "",
    "[1, 2, 3]",
    json.dumps({"k": [1, 2]}),
    json.dumps({"k": {"latency_s": 1.0, "from_a_future_version": 3}}),
])
def test_a_corrupt_file_gives_the_defaults(text: str) -> None:
    path = home() / "memory" / "agent_speed.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    assert speed.load("k") == Speed()
    assert speed.finish_seconds(10) == pytest.approx(speed.FINISH_FIXED_S
                                                     + 10 * speed.FINISH_PER_SAMPLE_S)
    speed.save("k", Speed(0.5, 0.001, measured=True))  # and it is replaced by a good one
    assert speed.load("k") == Speed(0.5, 0.001, 0.0, measured=True)


@pytest.mark.parametrize("text", [
    json.dumps({"k": {"latency_s": "fast", "seconds_per_token": 0.01, "output_share": 0.3}}),
    json.dumps({"k": {"latency_s": None, "seconds_per_token": 0.01, "output_share": 0.3}}),
    json.dumps({"finish": {"fixed_s": "x", "per_sample_s": 0.1}}),
])
def test_a_record_with_values_of_the_wrong_type_gives_the_defaults(tmp_path: Path,
                                                                     text: str) -> None:
    path = home() / "memory" / "agent_speed.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    loaded = speed.load("k")
    assert isinstance(loaded.request_seconds(100), float)
    assert isinstance(speed.finish_seconds(10), float)


# ------------------------------------------------------------------ request_seconds


def config_with(tmp_path: Path, rpm: int, tpm: int, concurrency: int) -> Config:
    return load_config(write_config(tmp_path, **{
        "system.rate_limit": {"requests_per_minute": rpm, "tokens_per_minute": tpm},
        "system.concurrency": concurrency}))


PACE = Speed(latency_s=0.5, seconds_per_token=0.001, measured=True)  # 0.5 s + 1 ms per token


def test_zero_requests_take_no_time(tmp_path: Path) -> None:
    assert request_seconds(config_with(tmp_path, 600, 10**9, 16), 0, 0, 0, PACE) == 0.0


def test_a_request_limited_job_runs_at_the_limit(tmp_path: Path) -> None:
    config = config_with(tmp_path, rpm=600, tpm=10**9, concurrency=16)
    # 101 requests of 500 output tokens: latency 0.5 + 0.5 = 1.0 s; 600/min = 10/s allowed,
    # 16 in flight / 1.0 s = 16/s possible: the limit decides. First answer 1.0 s, the other 100
    # leave 0.1 s apart (10 s), the last answer 1.0 s later: 12.0 s.
    seconds = request_seconds(config, 101, 101 * 1000, 101 * 500, PACE)
    assert seconds == pytest.approx(1.0 + 100 / 10 + 1.0)


def test_a_token_limited_job_runs_at_the_token_limit(tmp_path: Path) -> None:
    config = config_with(tmp_path, rpm=10**6, tpm=90_000, concurrency=16)
    # 1,500 tokens per request: 90,000/min allow 60/min = 1/s; the rest as above
    seconds = request_seconds(config, 31, 31 * 1000, 31 * 500, PACE)
    assert seconds == pytest.approx(1.0 + 30 / 1 + 1.0)


def test_a_concurrency_limited_job_runs_at_concurrency_over_latency(tmp_path: Path) -> None:
    config = config_with(tmp_path, rpm=10**6, tpm=10**9, concurrency=4)
    slow = Speed(latency_s=2.0, seconds_per_token=0.0, measured=True)
    # 4 in flight at 2 s each: 2 requests/s. The first goes alone (2 s), the other 100 in 25
    # waves of 4 (50 s): 52 s, i.e. requests × latency / concurrency plus the first's latency
    seconds = request_seconds(config, 101, 101 * 1000, 101 * 300, slow)
    assert seconds == pytest.approx(2.0 + 100 * 2.0 / 4)
    assert request_seconds(config, 201, 201 * 1000, 201 * 300, slow) - seconds == \
        pytest.approx(100 * 2.0 / 4)  # each further request adds latency / concurrency


def test_the_estimate_uses_the_recorded_pace(tmp_path: Path) -> None:
    config = config_with(tmp_path, rpm=600, tpm=10**9, concurrency=16)
    without = estimate(config, 101, 101 * 1000, 101 * 500)
    assert not without.speed.measured  # defaults: 1 s + 500 tokens at 60/s = 9.33 s per request
    assert without.seconds == pytest.approx(9.3333 + 100 / (16 / 9.3333), rel=1e-3)
    provider, model = "openai", "gpt-4o-mini"
    speed.save(speed.agent_key(provider, model, None), PACE)
    recorded = estimate(config, 101, 101 * 1000, 101 * 500)
    assert recorded.speed == Speed(0.5, 0.001, 0.0, measured=True)
    assert recorded.seconds == pytest.approx(12.0)
    assert "measured in an earlier run" in recorded.describe()


# ------------------------------------------------------------------ cached prices


def test_cached_tokens_cost_the_cached_price() -> None:
    price = AgentPrice(0.15, 0.60, "test", cached_per_million=0.075)
    # 600,000 plain × 0.15 + 400,000 cached × 0.075 + 100,000 output × 0.60 = 0.09 + 0.03 + 0.06
    assert price.cost(1_000_000, 100_000, cached=400_000) == pytest.approx(0.18)
    assert price.cost(1_000_000, 100_000) == pytest.approx(0.21)  # nothing cached


def test_cache_writes_cost_the_write_price() -> None:
    price = AgentPrice(1.00, 5.00, "test", cached_per_million=0.10, cache_write_per_million=1.25)
    # 1,000 plain × 1.00 + 6,000 read × 0.10 + 3,000 written × 1.25 + 2,000 out × 5.00
    # = 1,000 + 600 + 3,750 + 10,000 = 15,350 per million
    assert price.cost(10_000, 2_000, cached=6_000, cache_written=3_000) == pytest.approx(0.01535)


def test_without_cache_prices_cached_tokens_cost_the_input_price() -> None:
    price = AgentPrice(2.0, 8.0, "test")
    assert price.cost(10_000, 1_000, cached=9_000, cache_written=500) == \
        pytest.approx(price.cost(10_000, 1_000))


def test_cache_counts_out_of_range_never_discount_below_zero() -> None:
    price = AgentPrice(1.0, 2.0, "test", cached_per_million=0.5)
    assert price.cost(1_000, 0, cached=-50) == pytest.approx(price.cost(1_000, 0))
    # more cached than sent: the plain part is 0, never negative
    assert price.cost(1_000, 0, cached=1_000) == pytest.approx(0.0005)
    assert price.cost(1_000, 0, cached=1_500) >= 0


def test_gpt_4o_mini_carries_its_cached_price(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    price = price_for(config, "openai", "gpt-4o-mini", None)
    assert price is not None
    assert (price.input_per_million, price.output_per_million) == (0.15, 0.60)
    assert price.cached_per_million == 0.075 and price.cache_write_per_million is None
    dated = price_for(config, "openai", "gpt-4o-mini-2024-07-18", None)
    assert dated is not None and dated.cached_per_million == 0.075
    haiku = price_for(config, "anthropic", "claude-haiku-4-5", None)
    assert haiku is not None and (haiku.cached_per_million, haiku.cache_write_per_million) == \
        (0.10, 1.25)


# ------------------------------------------------------------------ the summary's time line


def _timed(seconds: float, estimated: float, pace_known: bool) -> list[str]:
    from src.cli.reports import describe_result
    from src.pipeline.result import RunResult

    result = RunResult("id", "pipe", "create", "openai/gpt-4o-mini",
                       {"samples": 10, "train": 9, "validation": 1, "rejected": 0}, 100, 0.0, 2,
                       {}, [], [], summary={"seconds": seconds, "estimated_seconds": estimated,
                                            "pace_known": pace_known})
    return [line for line in describe_result(result) if line.startswith("Took")]


def test_the_summary_says_why_a_first_estimate_was_far_off() -> None:
    assert _timed(14, 180, pace_known=False) == [
        "Took 14 s (estimated 3.0 min); this server's pace was not known before this run: "
        "the next estimate uses what it measured."]
    assert _timed(14, 15, pace_known=False) == ["Took 14 s (estimated 15 s)."]  # close enough
    assert _timed(14, 180, pace_known=True) == ["Took 14 s (estimated 3.0 min)."]  # no excuse
