"""The annotators' web app in a real browser: Voilà serves notebooks/annotate_app.ipynb with the team's identity
provider, two annotators in two headless-Chromium contexts (their personal links) label pages of their own
classes, and the test reads the labels back from a real PostgreSQL server; a third context without a token, and
one with a wrong token, are refused.

Needs: Debian ``chromium`` and ``postgresql`` (``make test`` installs both), pip ``playwright`` and ``voila``.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from slac_utils.annotation import team as T

from .clip_fixtures import make_clip_world, write_params
from .conftest import REPO
from .pg_server import PgServer, why_unavailable
from .test_browser import CHROMIUM, CHROMIUM_ARGS, GREEN_RGB, _free_port, _requirements, _wait

pytestmark = pytest.mark.slow
PAGE = 3


def _env(tmp_path) -> dict:
    """The server's environment: this checkout's package, Jupyter's config and runtime in the test's folder."""
    return dict(
        os.environ,
        PYTHONPATH=str(REPO),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"),
    )


@pytest.fixture
def app(tmp_path):
    _requirements()
    pytest.importorskip("voila", reason="the web app needs voila (in requirements.lock)")
    if why_unavailable():
        pytest.skip(why_unavailable())
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    pg = PgServer()
    pg.start()
    url = pg.create_db(f"app_{uuid.uuid4().hex[:8]}")
    w = make_clip_world(tmp_path / "w", classes=("archery", "hula_hoop"), videos_per_class=2, clips_per_video=3)
    team = tmp_path / "team.yaml"
    tokens = {"alice": T.add_member(team, "alice", ["archery"]), "bob": T.add_member(team, "bob", ["hula_hoop"])}
    pf = write_params(tmp_path / "params.yaml", mode="human", db_url=url, team=str(team), page_size=PAGE)
    root = tmp_path / "app"
    root.mkdir()
    nb = load_notebook_node(str(REPO / "notebooks" / "annotate_app.ipynb"))
    nb = parameterize_notebook(
        nb, dict(params_file=str(pf), clips_path=str(w["clips_path"]), guideline_path=str(w["world_path"]))
    )
    nbformat.write(nb, str(root / "annotate_app.ipynb"))
    port = _free_port()
    env = _env(tmp_path)
    log = open(tmp_path / "voila.log", "w")
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(root / "annotate_app.ipynb"),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--no-browser",
        "--Voila.identity_provider_class=slac_utils.annotation.app.TeamIdentityProvider",
        f"--TeamIdentityProvider.team_file={team}",
    ]
    proc = subprocess.Popen(cmd, cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # the server answers
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"voila did not start: {(tmp_path / 'voila.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield dict(base=base, tokens=tokens, url=url, tmp=tmp_path)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()
        pg.close()


def _label_a_page(page, flips: list[int]) -> list[str]:
    """Log in to the only class offered, flip these tiles, submit; returns the page's clip ids."""
    login = page.locator(".slac-login")
    login.wait_for(timeout=120_000)
    assert login.locator("input[type='text']").is_disabled()  # the name comes from the token
    login.locator("button", has_text="Start").click()
    tiles = page.locator(".slac-tile:visible")
    _wait(lambda: tiles.count() == PAGE, 60, "a page of clips")
    ids = page.evaluate(
        "() => [...document.querySelectorAll('.slac-tile video')].filter(v => v.offsetParent).map(v => v.dataset.clip)"
    )
    border = lambda i: page.evaluate(  # noqa: E731
        "(i) => getComputedStyle([...document.querySelectorAll('.slac-tile')].filter(t => t.offsetParent)[i]).borderTopColor",
        i,
    )
    for i in flips:
        tiles.nth(i).locator("button.slac-flip").click()
        _wait(lambda i=i: border(i) == GREEN_RGB, 20, f"tile {i} green")
    page.locator("button", has_text="Submit page").click()
    return ids


def test_two_annotators_label_through_the_app_and_a_stranger_is_refused(app):
    from playwright.sync_api import sync_playwright

    from slac_utils.annotation import LabelStore

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for who in ("alice", "bob"):  # two browser contexts: two annotators, two kernels
                ctx = browser.new_context(viewport=dict(width=1300, height=900))
                pages[who] = ctx.new_page()
                pages[who].goto(f"{app['base']}/?token={app['tokens'][who]}", timeout=120_000)
            ids = {"alice": _label_a_page(pages["alice"], [0]), "bob": _label_a_page(pages["bob"], [1, 2])}
            store = LabelStore(url=app["url"])
            _wait(lambda: len(store.current_labels()) >= 2 * PAGE, 30, "labels in PostgreSQL")
            got = store.current_labels()
            lab = {r.clip_id: (r.annotator, r.class_label, int(r.label)) for r in got.itertuples()}
            assert {c: lab[c] for c in ids["alice"]} == dict(
                zip(ids["alice"], [("alice", "archery", 1), ("alice", "archery", -1), ("alice", "archery", -1)])
            )
            assert {c: lab[c] for c in ids["bob"]} == dict(
                zip(ids["bob"], [("bob", "hula_hoop", -1), ("bob", "hula_hoop", 1), ("bob", "hula_hoop", 1)])
            )
            assert store.assignments().set_index("class_label").annotator.to_dict() == {
                "archery": "alice",
                "hula_hoop": "bob",
            }

            for query in ("", "?token=not-a-member"):  # no credentials: the login page, never the grid
                stranger = browser.new_context().new_page()
                stranger.goto(f"{app['base']}/{query}", timeout=60_000)
                stranger.wait_for_selector("input[type='password']", timeout=30_000)
                time.sleep(2)
                assert stranger.locator(".slac-grid, .slac-login").count() == 0
                assert "/login" in stranger.url
            for path in ("/api/kernels", "/api/kernels/x/channels", "/voila/files/params.yaml"):  # nor the APIs
                con = http.client.HTTPConnection("127.0.0.1", int(app["base"].rsplit(":", 1)[1]), timeout=10)
                con.request("GET", path)
                r = con.getresponse()
                assert r.status == 403 or (r.status == 302 and r.getheader("Location").startswith("/login")), path
            store.close()
        except Exception:
            for who, p in locals().get("pages", {}).items():
                p.screenshot(path=str(app["tmp"] / f"failure_{who}.png"))
            raise
        finally:
            browser.close()


def test_the_qc_dashboard_is_served_behind_its_token(tmp_path):
    """`python -m slac_utils.annotation dashboard`: the link it prints opens the dashboard, nothing else does."""
    pytest.importorskip("voila", reason="the dashboard needs voila (in requirements.lock)")
    import pandas as pd

    from slac_utils.annotation import AnnotationSession, LabelStore

    w = make_clip_world(tmp_path / "w", classes=("archery",), videos_per_class=2, clips_per_video=3, files=False)
    store = LabelStore(tmp_path / "labels.sqlite")
    s = AnnotationSession(store, w["clips"], "archery", "alice", page_size=3)
    s.flip(0)
    s.submit()
    store.close()
    pf = write_params(tmp_path / "params.yaml", mode="human", store=str(tmp_path / "labels.sqlite"))
    port = _free_port()
    env = _env(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "slac_utils.annotation",
        "dashboard",
        "--params",
        str(pf),
        "--clips",
        str(w["clips_path"]),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd, cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        link = proc.stdout.readline().strip().split(" ", 2)[-1]
        assert link.startswith(f"http://127.0.0.1:{port}/?token="), link
        page = None
        for _ in range(120):
            try:
                page = urllib.request.urlopen(link, timeout=60).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert page and "annotation QC dashboard" in page and "alice" in page and "Traceback" not in page
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        con.request("GET", "/")
        r = con.getresponse()
        assert r.status == 403 or (r.status == 302 and r.getheader("Location").startswith("/login"))
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)
    assert pd.read_parquet(w["clips_path"]).clip_id.nunique() == 6
