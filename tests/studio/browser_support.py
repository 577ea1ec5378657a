"""What the browser tests share: find Debian's Chromium and its chromedriver, drive it headless through
Selenium, run `fswap studio` as a subprocess, wait for the page, and keep screenshots.

Chromium comes from the system packages (`.ci/install-chromium`, called by `make install-test`); nothing here
downloads a browser. Without Chromium the tests skip with the reason, or fail when FSWAP_REQUIRE_BROWSER=1.
Screenshots go to $FSWAP_TEST_ARTIFACTS/<name>/ when that is set, else to a folder under pytest's tmp path.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
WINDOW = (1280, 800)
# Without the background-networking flags Chromium's own connections are refused on a closed network and
# slow every page load; a fresh --user-data-dir per browser keeps runs independent.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)
URL_LINE = re.compile(r"fswap studio: (http://\S+)")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for module in ("starlette", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[studio]')"
    chromium, driver = browser_paths()
    if chromium is None or driver is None:
        what = "chromium" if chromium is None else "chromedriver"
        return (f"{what} is not on PATH (install Debian's chromium and chromium-driver:"
                " sh .ci/install-chromium, or point FSWAP_CHROMIUM / FSWAP_CHROMEDRIVER at them)")
    return None


def browser_paths() -> tuple[str | None, str | None]:
    """The Chromium binary and its chromedriver (FSWAP_CHROMIUM / FSWAP_CHROMEDRIVER, else on PATH)."""
    return (shutil.which(os.environ.get("FSWAP_CHROMIUM", "chromium")),
            shutil.which(os.environ.get("FSWAP_CHROMEDRIVER", "chromedriver")))


def require_browser() -> None:
    """Skip the calling test (or fail it under FSWAP_REQUIRE_BROWSER=1) when no browser can run."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("FSWAP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FSWAP_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless Chromium (Selenium WebDriver) with a fresh profile in `profile`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = browser_paths()
    assert binary and driver, missing_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(driver))
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def artifacts(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Where a test module's screenshots go: $FSWAP_TEST_ARTIFACTS/<name>, else under the pytest tmp path."""
    root = os.environ.get("FSWAP_TEST_ARTIFACTS")
    if root:
        folder = Path(root) / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp(f"{name}-screenshots", numbered=True)


def screenshot(browser: Any, folder: Path, name: str, full_page: bool = True) -> Path:
    """Save a PNG of the page (the whole page's height when `full_page`, else the 1280×800 window)."""
    path = folder / f"{name}.png"
    with (folder / "steps.txt").open("a", encoding="utf-8") as steps:  # when each step was reached
        steps.write(f"{time.strftime('%H:%M:%S')} {name}\n")
    if full_page:
        height = int(browser.execute_script("return document.documentElement.scrollHeight"))
        browser.set_window_size(WINDOW[0], max(WINDOW[1], min(height, 6000)))
        browser.execute_script("window.scrollTo(0, 0)")
    try:
        browser.save_screenshot(str(path))
    finally:
        if full_page:
            browser.set_window_size(*WINDOW)
    return path


def by_testid(browser: Any, testid: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def wait_for(browser: Any, condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll `condition` (a callable that returns something truthy) until it holds; fail naming `what` and the
    page's message and job log otherwise."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as err:  # an element re-rendered between find and read: try again
            last_error = err
        time.sleep(0.2)
    page = page_summary(browser)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; {page}"
                         + (f"; last error {last_error!r}" if last_error else ""))


def page_summary(browser: Any) -> str:
    """The page's message, job status and last log lines (for a failing wait's message)."""
    try:
        return browser.execute_script(
            "const t = (id) => { const n = document.querySelector(`[data-testid=${id}]`);"
            " return n ? n.textContent.trim().slice(-600) : null; };"
            "return `message=${t('message')} job=${t('job-status')} log=${t('job-log')}`;")
    except Exception as err:
        return f"(page unreadable: {err!r})"


def attr_of(browser: Any, testid: str, attribute: str) -> str | None:
    return browser.execute_script(
        "const n = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);"
        " return n ? n.getAttribute(arguments[1]) : null;", testid, attribute)


def text_of(browser: Any, testid: str) -> str | None:
    return browser.execute_script(
        "const n = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);"
        " return n && !n.closest('[hidden]') ? n.textContent.trim() : null;", testid)


class Studio:
    """`fswap studio PIPELINE --port 0` in a subprocess; `url` is the address it printed."""

    def __init__(self, pipeline: Path | None, cwd: Path, env: dict[str, str] | None = None,
                 timeout: float = 60.0) -> None:
        args = [sys.executable, "-m", "fswap.cli", "studio", "--port", "0"]
        if pipeline is not None:
            args.insert(4, str(pipeline))
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_url(timeout)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def _wait_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            match = URL_LINE.search(line)
            if match:
                return match.group(1)
        self.stop()
        raise AssertionError(f"fswap studio printed no URL within {timeout:.0f} s; output: {self.output()}")

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def stop(self, timeout: float = 20.0) -> bool:
        """Ctrl-C the server (it stops its job cleanly); kill it if it is still there after `timeout`.
        Returns whether Ctrl-C alone stopped it."""
        if self.process.poll() is not None:
            return True
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return False


# ------------------------------------------------------------------------------------------------------------
# the screenshots in docs/studio.md: `python tests/studio/browser_support.py PIPELINE docs/images [--live N]`
# ------------------------------------------------------------------------------------------------------------

DOC_PANELS = {  # file name → the cards it shows
    "studio-overview": None,  # the top of the page in a 1280×800 window
    "studio-training": ("train-card",),
    "studio-results": ("eval-card", "output-card"),
    "studio-facesets": ("faces-card",),
    "studio-tracks": ("tracks-card",),
    "studio-swap-preview": ("swap-card",),
}


def capture_region(browser: Any, path: Path, ids: tuple[str, ...], margin: int = 8) -> Path:
    """A PNG of the smallest page region holding the elements with these ids (through the DevTools protocol,
    so the region may lie below the window)."""
    import base64

    box = browser.execute_script(
        "const rects = arguments[0].map((id) => document.getElementById(id).getBoundingClientRect());"
        " const x = Math.min(...rects.map((r) => r.left)), y = Math.min(...rects.map((r) => r.top));"
        " return [x + scrollX, y + scrollY, Math.max(...rects.map((r) => r.right)) - x,"
        " Math.max(...rects.map((r) => r.bottom)) - y];", list(ids))
    x, y, width, height = (float(v) for v in box)
    clip = {"x": max(0.0, x - margin), "y": max(0.0, y - margin), "width": width + 2 * margin,
            "height": height + 2 * margin, "scale": 1}
    shot = browser.execute_cdp_cmd("Page.captureScreenshot",
                                   {"format": "png", "clip": clip, "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def capture_docs(browser: Any, url: str, folder: Path, swap_frame: int = 0) -> list[Path]:
    """Open the studio at `url` and save DOC_PANELS into `folder` (a swap preview of `swap_frame` first)."""
    folder.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(*WINDOW)
    if browser.current_url != url:
        browser.get(url)
    wait_for(browser, lambda: browser.execute_script("return document.body.dataset.loaded === '1'"),
             "the page to render the studio's state")
    wait_for(browser, lambda: browser.execute_script(
        "return [...document.images].filter((i) => !i.hidden && i.closest('[hidden]') === null)"
        ".every((i) => i.complete)"), "the page's images to load")
    if swap_frame is not None and not by_testid(browser, "swap-preview-img").is_displayed():
        field = by_testid(browser, "swap-frame")
        field.clear()
        field.send_keys(str(swap_frame))
        by_testid(browser, "swap-preview").click()
        wait_for(browser, lambda: browser.execute_script(
            "const i = document.querySelector('[data-testid=swap-preview-img]');"
            " return !i.hidden && i.complete && i.naturalWidth > 0;"), "the swap preview", timeout=180)
    saved = []
    for name, ids in DOC_PANELS.items():
        path = folder / f"{name}.png"
        if ids is None:
            browser.execute_script("window.scrollTo(0, 0)")
            browser.save_screenshot(str(path))
        else:
            capture_region(browser, path, ids)
        saved.append(path)
    return saved


def _post(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import json
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def main(argv: list[str] | None = None) -> int:
    """Take the docs' screenshots of a studio on PIPELINE (e.g. a copy of the demo's, after `make demo`)."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("pipeline", type=Path)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--swap-frame", type=int, default=0)
    parser.add_argument("--live", type=int, default=0, metavar="N",
                        help="also resume training to N iterations and take the overview while it runs")
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    studio = Studio(args.pipeline.resolve(), cwd=args.pipeline.resolve().parent)
    try:
        with tempfile.TemporaryDirectory() as profile, chromium(Path(profile)) as browser:
            for path in capture_docs(browser, studio.url, args.folder, args.swap_frame):
                print(path)
            if args.live:
                _post(studio.url + "api/jobs", {"stage": "train", "set": {"train.iterations": args.live}})
                start = None

                def moving() -> bool:
                    nonlocal start
                    n = browser.execute_script(
                        "return document.querySelector('[data-testid=job-progress]').dataset.n")
                    if n and start is None:
                        start = int(n)
                    return bool(n) and start is not None and int(n) >= start + 3
                wait_for(browser, moving, "the resumed training to move", timeout=600)
                path = args.folder / "studio-live.png"
                browser.save_screenshot(str(path))
                print(path)
                _post(studio.url + "api/jobs/stop")
                wait_for(browser, lambda: browser.execute_script(
                    "return document.querySelector('[data-testid=job-status]').dataset.state === 'stopped'"),
                    "the training to stop", timeout=300)
    finally:
        studio.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
