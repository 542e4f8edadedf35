"""The `vhr` entry point: whatever goes wrong ends in a bilingual line, never a traceback."""

from __future__ import annotations

import pytest

from vhr_conformance import cli


def _fail_with(exc: BaseException, monkeypatch: pytest.MonkeyPatch) -> int:
    def app() -> None:
        raise exc

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as info:
        cli.main()
    return int(info.value.code or 0)


def test_os_error_names_the_path(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code = _fail_with(IsADirectoryError(21, "Is a directory", "/tmp/out"), monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and "[/tmp/out]" in err and "file system error: Is a directory" in err
    assert "Traceback" not in err


def test_internal_error_is_bilingual_and_says_how_to_see_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VHR_DEBUG", raising=False)
    code = _fail_with(RuntimeError("boom"), monkeypatch)
    err = capsys.readouterr().err
    assert code == 3 and "Lỗi nội bộ" in err and "internal error" in err and "RuntimeError: boom" in err
    assert "VHR_DEBUG=1" in err and "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VHR_DEBUG", "1")
    monkeypatch.setattr(cli, "app", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        cli.main()
