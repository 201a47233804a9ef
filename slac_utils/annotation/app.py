"""The annotators' web app: the grid served by Voilà as a standalone page, one kernel per annotator, no code cells.

``make annotate`` (``python -m slac_utils.annotation serve``) runs Voilà on ``notebooks/annotate_app.ipynb``
with :class:`TeamIdentityProvider`: the server lets a request in only with the token of a member of the team file
(``annotation.team``, :mod:`.team`), given as ``?token=...`` in the annotator's personal link (or typed into the
login page) and then kept in a signed cookie.  The notebook's kernel identifies the annotator again from the
token of the page request (:func:`annotator_app`), so the grid it builds labels only as that annotator and only
their classes; every click the page sends goes through that grid, whose session checks the clip against its
page and the class against the store's assignment.  All kernels write one store (``annotation.db_url``: the
team's PostgreSQL; SQLite works for a few annotators on one machine).
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs

from .team import load_team

try:  # the server half needs jupyter_server (installed with jupyterlab); the kernel half does not
    from jupyter_server.auth.identity import IdentityProvider, User
    from traitlets import Unicode
except ImportError:  # pragma: no cover - jupyterlab is in the lock
    IdentityProvider = object


class TeamIdentityProvider(IdentityProvider):
    """jupyter_server identity from the team file: a member's token (URL ``?token=``, ``Authorization: token``
    header or the login form) is the credential, the member's name the user.  No token, no entry: there is no
    anonymous access.  The file is re-read per request, so a member added or removed takes effect at once."""

    team_file = Unicode("configs/team.yaml", help="The team file (annotation.team).").tag(config=True)

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    def _user(self, name: str):
        return User(username=name, name=name, display_name=name)

    async def get_user_token(self, handler):
        m = load_team(self.team_file).who(self.get_token(handler))
        return self._user(m.name) if m else None

    async def get_user_cookie(self, handler):
        user = super().get_user_cookie(handler)
        if hasattr(user, "__await__"):
            user = await user
        if user is None or load_team(self.team_file).member(user.username) is None:
            return None  # a removed member's cookie no longer opens anything
        return user

    def process_login_form(self, handler):
        m = load_team(self.team_file).who(handler.get_argument("password", default=""))
        return self._user(m.name) if m else None

    def validate_security(self, app, ssl_options=None):
        if not load_team(self.team_file).members:
            self.log.warning(
                "team file %s lists no annotator: nobody can open the app "
                "(python -m slac_utils.annotation team add NAME --classes A,B)",
                self.team_file,
            )


def token_of(query: str | None) -> str | None:
    """The ``token`` of a request's query string (Voilà gives the kernel ``QUERY_STRING``)."""
    return (parse_qs(query or "").get("token") or [None])[0]


def annotator_app(params_file: str, clips_path: str, guideline_path: str, clips_truth_path=None, query=None):
    """The widget the app notebook displays: the grid of the annotator whose token opened the page, or a refusal
    (``query``: the request's query string; default ``$QUERY_STRING``, which Voilà sets)."""
    import ipywidgets as W

    from ..config import load_params
    from ..grid import AnnotationGrid

    P = load_params(params_file)
    member = load_team(P.annotation.team).who(token_of(os.environ.get("QUERY_STRING") if query is None else query))
    if member is None:
        return W.HTML(
            '<div class="slac-refused" style="color:#c00;font-size:16px">Not signed in: open the personal link your '
            "researcher gave you (it ends in <code>?token=…</code>).</div>"
        )
    grid = AnnotationGrid.from_params(P, clips_path, clips_truth_path, guideline_path, human=True, member=member)
    if not grid.classes:
        grid._say(f"{html.escape(member.name)}: no class of these clips is assigned to you yet.", "#c00")
    return grid.widget


def voila_command(params, port: int = 8866, ip: str = "127.0.0.1", notebook: str = "notebooks/annotate_app.ipynb"):
    """The Voilà command line of the annotators' app (what ``serve`` runs): the team's identity provider."""
    return [
        *_voila(notebook, port, ip),
        "--Voila.identity_provider_class=slac_utils.annotation.app.TeamIdentityProvider",
        f"--TeamIdentityProvider.team_file={Path(params.annotation.team).resolve()}",
    ]


def dashboard_command(
    token: str, port: int = 8867, ip: str = "127.0.0.1", notebook: str = "notebooks/qc_dashboard.ipynb"
):
    """The Voilà command line of the researcher's QC dashboard: one token (``?token=``), made fresh per start."""
    return [*_voila(notebook, port, ip), f"--Voila.token={token}"]


def _voila(notebook: str, port: int, ip: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        notebook,
        f"--port={port}",
        f"--Voila.ip={ip}",
        "--no-browser",
        "--VoilaConfiguration.file_allowlist=[]",  # the clips are inlined into the page; no file is served
    ]
