"""Setup for the tests under tests/ (the repository's conftest.py holds what the doctests share too).

The playground's browser tests drive Debian's Chromium at /usr/bin/chromium. When a run that
collects tests/playground finds none, on a system with apt-get as root or with a password-less sudo
(a CI container), the controller process installs it once before the tests start (about 25 s); elsewhere
the browser tests skip with the reason (and fail with it when the environment variable CI is "true").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# the tests that drive Chromium: the playground's pages, and the tour report opened in the browser
BROWSER_TESTS = (Path(__file__).resolve().parent / "playground",
                 Path(__file__).resolve().parent / "recipes" / "test_tour_report.py")


def _collects_browser_tests(config) -> bool:
    """Whether the run's paths include a browser test (a folder above it, it, or a file in it)."""
    paths = config.args or [str(config.rootpath / path) for path in config.getini("testpaths")]
    for arg in paths:
        path = Path(arg.split("::")[0])
        path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
        for tests in BROWSER_TESTS:
            if path == tests or path in tests.parents or tests in path.parents:
                return True
    return False


def pytest_configure(config):
    """Install Chromium for the browser tests when missing and allowed (root, apt-get, controller only)."""
    if hasattr(config, "workerinput") or os.path.exists(CHROMIUM):  # xdist workers: the controller did it
        return
    if shutil.which("apt-get") is None or not hasattr(os, "geteuid"):
        return
    # root installs directly; another user only through a password-less sudo (sudo -n never prompts)
    sudo = "" if os.geteuid() == 0 else "sudo -n "
    if sudo and shutil.which("sudo") is None:
        return
    if not _collects_browser_tests(config):
        return
    print("conftest: installing chromium with apt-get for the playground's browser tests ...",
          file=sys.stderr, flush=True)
    command = (f"{sudo}apt-get update -q && "
               f"{sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium")
    try:
        done = subprocess.run(["sh", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=900)
        failure = done.stderr.strip().splitlines()[-1:] if done.returncode else None
    except (OSError, subprocess.TimeoutExpired) as error:
        failure = [str(error)]
    if failure is not None or not os.path.exists(CHROMIUM):
        print(f"conftest: could not install chromium ({' '.join(failure or ['no ' + CHROMIUM])}); "
              f"the browser tests will not run", file=sys.stderr, flush=True)
