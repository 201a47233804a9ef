"""The annotation grid in a real browser: JupyterLab serves notebooks/05_annotate.ipynb (human mode, a test store),
headless Chromium (Debian's /usr/bin/chromium) driven by Playwright logs in, checks that the clips render and
play, flips clips by a click on the video, by the flip button and by a hotkey, submits with Enter, and the test
reads the labels back from the SQLite store.

Needs: apt ``chromium``; pip ``playwright`` (its Python package only; no browser download). Skipped, with the
reason, when either is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .clip_fixtures import make_clip_world, write_params
from .conftest import REPO

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("SLAC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GREEN_RGB, RED_RGB = "rgb(44, 160, 44)", "rgb(214, 39, 40)"
PAGE = 4


def _requirements():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip(
            "browser test needs the Python package 'playwright' (pip install playwright; no browser download: it drives Debian's chromium)"
        )
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"browser test needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.skip("browser test needs jupyterlab")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free localhost port, serving a parameterized copy of the annotation notebook."""
    _requirements()
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    w = make_clip_world(tmp_path / "w", classes=("archery", "hula_hoop"), videos_per_class=2, clips_per_video=4)
    store = tmp_path / "labels" / "labels.sqlite"
    pf = write_params(tmp_path / "params.yaml", mode="human", store=str(store), page_size=PAGE, min_labeled_per_class=0)
    root = tmp_path / "lab"
    root.mkdir()
    nb = load_notebook_node(str(REPO / "notebooks" / "05_annotate.ipynb"))
    out = tmp_path / "out"
    nb = parameterize_notebook(
        nb,
        dict(
            params_file=str(pf),
            clips_path=str(w["clips_path"]),
            clips_truth_path=str(w["truth_path"]),
            guideline_path=str(w["world_path"]),
            labeled_path=str(out / "labeled.parquet"),
            tables_dir=str(out / "t"),
            figures_dir=str(out / "f"),
            metrics_path=str(out / "m.json"),
        ),
    )
    nbformat.write(nb, str(root / "05_annotate.ipynb"))
    port, token = _free_port(), "slac-test-token"
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"),
    )
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            "--LabApp.extension_manager=readonly",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabServerApp.workspaces_dir={tmp_path / 'ws'}",
            f"--LabServerApp.user_settings_dir={tmp_path / 'settings'}",
        ],
        cwd=str(root),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield dict(url=url, token=token, store=store, tmp=tmp_path, world=w)
    finally:
        proc.terminate()  # the server shuts its kernels down
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def _labels(store: Path) -> dict[str, tuple[int, str]]:
    if not store.exists():
        return {}
    con = sqlite3.connect(str(store))
    try:
        return {
            c: (l, s) for c, l, s in con.execute("SELECT clip_id, label, source FROM events WHERE action = 'submit'")
        }
    finally:
        con.close()


def _wait(fn, timeout=60, what="condition"):
    t = time.time()
    while time.time() - t < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_grid_plays_flips_and_submits_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=dict(width=1400, height=1000),
        )
        page = ctx.new_page()
        try:
            page.goto(f"{lab['url']}/lab/tree/05_annotate.ipynb?token={lab['token']}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # JupyterLab may ask which kernel to start (accept the notebook's python3) and about news (no)
            t0 = time.time()
            while time.time() - t0 < 8:
                if page.locator(".jp-Dialog .jp-mod-accept").count():
                    page.locator(".jp-Dialog .jp-mod-accept").first.click()
                    break
                time.sleep(0.25)
            if page.locator(".jp-toast-button", has_text="No").count():
                page.locator(".jp-toast-button", has_text="No").first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            # log in: name, class, Start
            login = page.locator(".slac-login")
            login.wait_for(timeout=120_000)
            login.locator("input[type='text']").fill("alice")
            login.locator("select").select_option(value="archery") if login.locator(
                "select option[value='archery']"
            ).count() else None
            login.locator("button", has_text="Start").click()

            tiles = page.locator(".slac-tile:visible")
            _wait(
                lambda: tiles.count() == PAGE and page.locator(".slac-tile:visible video").count() == PAGE,
                60,
                "a page of clips",
            )
            # the clips really play: decoded frames, not paused, muted, and the playback position moves
            state = lambda: page.evaluate(
                "() => [...document.querySelectorAll('.slac-tile video')].filter(v => v.offsetParent)"  # noqa: E731
                ".map(v => ({rs: v.readyState, t: v.currentTime, paused: v.paused, muted: v.muted, w: v.videoWidth, err: v.error && v.error.code, loop: v.loop}))"
            )
            s1 = _wait(
                lambda: (s := state()) and all(v["rs"] >= 2 and v["w"] > 0 for v in s) and s, 30, "clips decoded"
            )
            time.sleep(0.7)
            s2 = state()
            assert all(not v["paused"] and v["muted"] and v["loop"] and v["err"] is None for v in s2), s2
            assert any(abs(a["t"] - b["t"]) > 0.05 for a, b in zip(s1, s2)), (s1, s2)
            clip_ids = page.evaluate(
                "() => [...document.querySelectorAll('.slac-tile video')].filter(v => v.offsetParent).map(v => v.dataset.clip)"
            )
            border = lambda i: page.evaluate(
                "(i) => getComputedStyle([...document.querySelectorAll('.slac-tile')].filter(t => t.offsetParent)[i]).borderTopColor",
                i,
            )  # noqa: E731
            assert [border(i) for i in range(PAGE)] == [RED_RGB] * PAGE  # default negative

            tiles.nth(0).locator("video").click()  # a click on the clip itself
            _wait(lambda: border(0) == GREEN_RGB, 20, "clip 1 green after a click on the video")
            tiles.nth(1).locator("button.slac-flip").click()  # its flip button
            _wait(lambda: border(1) == GREEN_RGB, 20, "clip 2 green after its button")
            keys = page.locator(".slac-keys input")
            keys.click()
            keys.press("3")  # hotkey of clip 3
            _wait(lambda: border(2) == GREEN_RGB, 20, "clip 3 green after its hotkey")
            keys.press("3")  # and back
            _wait(lambda: border(2) == RED_RGB, 20, "clip 3 red again")
            assert border(3) == RED_RGB
            page.screenshot(path=str(tmp_path / "grid.png"))
            keys.press("Enter")  # submit the page

            got = _wait(
                lambda: len(lab_labels := _labels(lab["store"])) >= PAGE and lab_labels,
                30,
                "submitted labels in the store",
            )
            assert {c: got[c][0] for c in clip_ids} == {
                clip_ids[0]: 1,
                clip_ids[1]: 1,
                clip_ids[2]: -1,
                clip_ids[3]: -1,
            }
            assert {got[c][1] for c in clip_ids} == {"key"}
            con = sqlite3.connect(str(lab["store"]))
            flips = con.execute(
                "SELECT clip_id, label, source FROM events WHERE action = 'flip' ORDER BY event_id"
            ).fetchall()
            con.close()
            assert flips == [
                (clip_ids[0], 1, "click"),
                (clip_ids[1], 1, "click"),
                (clip_ids[2], 1, "key"),
                (clip_ids[2], -1, "key"),
            ]
            # the next page is shown, all red, and the progress moved
            _wait(lambda: page.locator(".slac-done").first.inner_text() == str(PAGE), 20, "progress after submit")
            _wait(
                lambda: (
                    page.evaluate(
                        "() => [...document.querySelectorAll('.slac-tile video')].filter(v => v.offsetParent).map(v => v.dataset.clip)"
                    )
                    != clip_ids
                ),
                20,
                "next page",
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise
        finally:
            ctx.close()
