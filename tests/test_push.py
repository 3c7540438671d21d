"""`push` uploads the hf export with huggingface_hub, against a local fake of the Hub (never the real one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.main import main
from tests.export_helpers import examples, store
from tests.fake_hub_server import FakeHub

TOKEN = "hf_fake_token_0123456789"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no cache or token file of the user
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        yield fake


def test_push_uploads_the_card_and_parquet_splits_in_one_commit(hub, capsys) -> None:
    store("handbook", examples(20))
    assert main(["push", "handbook", "--repo", "acme/handbook-qa", "--private", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    routes = hub.routes()
    assert routes[0] == "create" and routes[-1] == "commit" and "preupload" in routes
    create = json.loads(hub.state.requests[0]["body"])
    assert (create["name"], create["organization"], create["type"]) == ("handbook-qa", "acme",
                                                                         "dataset")
    assert create.get("visibility") == "private" or create.get("private") is True
    assert {r["auth"] for r in hub.state.requests if r["route"] != "lfs_put"} == \
        {f"Bearer {TOKEN}"}
    folder = Path(report["folder"])
    assert sorted(hub.state.files) == ["README.md", "data/train-00000-of-00001.parquet",
                                       "data/validation-00000-of-00001.parquet"]
    for path, data in hub.state.files.items():
        assert (folder / path).read_bytes() == data  # byte for byte what the export wrote
    card = hub.state.files["README.md"].decode()
    assert card.startswith("---\n") and "synthetic" in card and "secret-pass" not in card
    assert report["url"].endswith("/datasets/acme/handbook-qa") and report["private"] is True


# huggingface_hub 2.4.0's LFS PUT passes bytes as `data=`, which httpx2 deprecates (library code)
@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
def test_push_through_the_lfs_path_with_xet_off(hub, monkeypatch, capsys) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)  # library switch
    hub.state.lfs_suffix = ".parquet"
    store("handbook", examples(12))
    assert main(["push", "handbook", "--repo", "acme/qa"]) == 0
    assert "lfs_batch" in hub.routes() and hub.routes().count("lfs_put") == 2
    assert len(hub.state.lfs) == 2 and "data/train-00000-of-00001.parquet" in hub.state.files
    assert "Pushed handbook to" in capsys.readouterr().err


def test_push_without_a_token_says_what_to_set(monkeypatch, capsys) -> None:
    store("handbook", examples(12))
    assert main(["push", "handbook", "--repo", "acme/qa"]) == 2
    assert "set HF_TOKEN in .env" in capsys.readouterr().err


@pytest.mark.parametrize("repo", ["handbook", "a/b/c", "_x/y", "acme/../x", "acme/x.git", "a b/c"])
def test_a_malformed_repo_id_is_refused_before_any_request(hub, repo, capsys) -> None:
    store("handbook", examples(12))
    assert main(["push", "handbook", f"--repo={repo}"]) == 2
    assert "is not OWNER/NAME" in capsys.readouterr().err and hub.routes() == []


def test_a_refused_token_is_an_auth_error_with_the_token_masked(hub, capsys) -> None:
    hub.state.fail["create"] = (401, {"error": f"Invalid token {TOKEN}"})
    store("handbook", examples(12))
    assert main(["push", "handbook", "--repo", "acme/qa"]) == 2
    err = capsys.readouterr().err
    assert "The Hub refused the token for acme/qa (401)" in err and TOKEN not in err


def test_a_hub_error_on_commit_is_reported_and_nothing_crashes(hub, capsys) -> None:
    hub.state.fail["commit"] = (422, {"error": "Invalid metadata"})
    store("handbook", examples(12))
    assert main(["push", "handbook", "--repo", "acme/qa"]) == 1
    assert "The Hub answered 422 while pushing acme/qa" in capsys.readouterr().err
