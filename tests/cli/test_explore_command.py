"""`dendrite explore init|optim|gan`: each explorer's pictures written headless, and its usage errors."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from dendrite.cli.main import main  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("explorer", ["init", "optim", "gan"])
def test_explore_writes_the_explorers_pictures(explorer, tmp_path, capsys):
    out = tmp_path / "pictures" / explorer
    assert main(["explore", explorer, "--out", str(out), "--quick", "--seed", "1"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    written = sorted(out.glob("*.png"))
    assert written, f"no picture in {out}"
    assert sorted(printed) == sorted(str(path) for path in written)
    for path in written:
        assert path.read_bytes()[:8] == PNG, f"{path} is not a PNG file"
        assert path.stat().st_size > 5_000, f"{path} is too small to hold a figure"


def test_explore_refuses_an_unknown_explorer(capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's own check of the choices
        main(["explore", "lottery"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'lottery'" in capsys.readouterr().err


def test_explore_refuses_an_out_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("mine")
    assert main(["explore", "init", "--out", str(blocker), "--quick"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "mine"
