"""The model is cached by a hash of its training data: reused when unchanged, rebuilt when edited."""

from __future__ import annotations

from pathlib import Path

from nlu.training import load_or_train

TINY = """version: "3.1"
nlu:
- intent: greet
  examples: |
{greet}
- intent: thanks
  examples: |
{thanks}
- intent: out_of_scope
  examples: |
{oos}
"""


def _lines(words: list[str]) -> str:
    return "\n".join(f"    - {w}" for w in words)


def write_data(folder: Path, extra_greeting: str = "") -> None:
    greet = ["hi", "hello", "hey", "good morning", "你好", "您好", "嗨", "早上好", "hello there", "hiya"]
    thanks = ["thanks", "thank you", "谢谢", "多谢", "感谢", "thx", "cheers", "many thanks", "谢谢你", "ty"]
    oos = [
        "weather today",
        "tell me a joke",
        "讲个笑话",
        "天气怎么样",
        "2+2",
        "play music",
        "几点了",
        "set an alarm",
        "time now?",
        "放首歌",
    ]
    if extra_greeting:
        greet.append(extra_greeting)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yml").write_text(
        TINY.format(greet=_lines(greet), thanks=_lines(thanks), oos=_lines(oos)), encoding="utf-8"
    )


def test_cache_is_reused_when_data_is_unchanged_and_rebuilt_when_it_changes(tmp_path: Path) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    write_data(data)

    first = load_or_train(cache, data)
    assert first.trained and first.path.exists()

    again = load_or_train(cache, data)
    assert not again.trained
    assert again.path == first.path
    assert again.model.vocabulary == first.model.vocabulary

    write_data(data, extra_greeting="howdy partner")
    changed = load_or_train(cache, data)
    assert changed.trained
    assert changed.path != first.path
    assert not first.path.exists(), "the stale model is removed"
    assert "w:howdi" in changed.model.vocabulary


def test_a_damaged_cache_file_is_retrained(tmp_path: Path) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    write_data(data)
    first = load_or_train(cache, data)
    first.path.write_bytes(b"not a model")
    again = load_or_train(cache, data)
    assert again.trained
    assert again.model.labels == first.model.labels


def test_cache_dir_defaults_to_shopbot_data_dir(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from nlu.training import default_cache_dir

    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("SHOPBOT_DATA_DIR", str(tmp_path))
        assert default_cache_dir() == tmp_path / "nlu"
        mp.delenv("SHOPBOT_DATA_DIR")
        assert default_cache_dir() == Path(".shopbot") / "nlu"
    finally:
        mp.undo()
