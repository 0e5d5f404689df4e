"""``dendrite playground``: arguments, a taken port, a missing extra, and a real run stopped with Ctrl-C."""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dendrite.cli.main import build_parser, main
from dendrite.playground.serve import is_loopback

ROOT = Path(__file__).resolve().parents[2]


def test_arguments_and_their_defaults():
    args = build_parser().parse_args(["playground"])
    assert (args.port, args.host, args.no_browser, args.session_ttl) == (8000, "127.0.0.1", False, 900.0)
    args = build_parser().parse_args(["playground", "--port", "0", "--host", "::1", "--no-browser",
                                      "--session-ttl", "60"])
    assert (args.port, args.host, args.no_browser, args.session_ttl) == (0, "::1", True, 60.0)


@pytest.mark.parametrize("argv, message", [
    (["--port", "70000"], "--port must be a port number in 0..65535"),
    (["--port", "-1"], "--port must be a whole number"),
    (["--session-ttl", "0"], "--session-ttl must be a finite number > 0"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(["playground", *argv])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1


def test_a_taken_port_is_a_usage_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_missing_extra_says_what_to_install(capsys, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "uvicorn" else find_spec(name, *args))
    assert main(["playground", "--no-browser"]) == 2
    error = capsys.readouterr().err.strip()
    assert "install dendrite[playground]" in error and "uvicorn" in error and len(error.splitlines()) == 1


def test_loopback_addresses():
    assert all(map(is_loopback, ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "192.168.1.2", "example.org")))


def _health(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url + "api/health", headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_real_run_prints_the_url_opens_the_browser_and_stops_cleanly_on_ctrl_c(tmp_path, host):
    opened = tmp_path / "opened.txt"
    record = f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])"
    browser = f"{shlex.quote(sys.executable)} -c {shlex.quote(record)} %s"  # webbrowser runs $BROWSER
    env = {**os.environ, "BROWSER": browser, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "dendrite.cli.main", "playground", "--port", "0",
                                "--host", host], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if host == "0.0.0.0":
            warning = process.stdout.readline()
            assert warning.startswith("warning: the playground listens on 0.0.0.0"), warning
        ready = process.stdout.readline()
        assert ready.startswith("dendrite playground: http://127.0.0.1:"), ready
        url = ready.split()[2]
        assert _health(url) == 200
        # on a loopback address only this machine's names are served (no DNS rebinding)
        assert _health(url, host="attacker.example") == (400 if host == "127.0.0.1" else 200)
        deadline = time.monotonic() + 30
        while not opened.exists() or not opened.read_text():
            assert time.monotonic() < deadline, "the browser was never opened"
            time.sleep(0.05)
        assert opened.read_text() == url
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.strip().endswith("dendrite playground: stopped") and "Traceback" not in err
