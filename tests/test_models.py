"""The embedded model's folder: weights, tokenizer and config all checked by sha256."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import PodalignError
from pipeline.files import file_sha256
from pipeline.whisper.models import EMBEDDED_SHA256, copy_verified, embedded_model_path


def test_a_side_file_with_other_content_is_refused_and_nothing_is_replaced(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "tokenizer.json", tmp_path / "out" / "tokenizer.json"
    source.write_text('{"model": "tampered"}', encoding="utf-8")
    target.parent.mkdir()
    target.write_text("the good one", encoding="utf-8")
    with pytest.raises(PodalignError, match=r"tokenizer\.json has sha256 [0-9a-f]{64}, expected"):
        copy_verified(source, target, "0" * 64)
    assert target.read_text(encoding="utf-8") == "the good one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["tokenizer.json"]
    copy_verified(source, target, file_sha256(source))
    assert target.read_text(encoding="utf-8") == '{"model": "tampered"}'


def test_a_folder_joined_without_checked_side_files_is_joined_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODALIGN_MODELS", str(tmp_path))
    folder = embedded_model_path()
    assert folder == tmp_path / "whisper-base"
    good = {name: file_sha256(folder / name) for name in ("config.json", "tokenizer.json")}
    # as an older podalign left it: only the weights' sum recorded, the tokenizer damaged
    (folder / ".verified").write_text(EMBEDDED_SHA256 + "\n")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert embedded_model_path() == folder
    assert {name: file_sha256(folder / name) for name in good} == good
    assert file_sha256(folder / "model.bin") == EMBEDDED_SHA256
    assert not list(folder.glob("*.joining")) and not list(folder.glob("*.copying"))
