"""``python -m slac_utils.annotation COMMAND``:

check --params P --clips C          stage 05's first command: exit 1 with one line while labels are missing
team add NAME --classes A,B         add an annotator to annotation.team; prints their personal link once
serve [--port 8866] [--ip ADDR]     the annotators' web app (Voila, one kernel per annotator; make annotate)
"""

import argparse
import os
import sys
from pathlib import Path

from ..config import load_params
from .check import labels_missing

ap = argparse.ArgumentParser(
    prog="python -m slac_utils.annotation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
)
ap.add_argument("command", choices=["check", "team", "serve", "dashboard"])
ap.add_argument("action", nargs="?", choices=["add"], help="team: add")
ap.add_argument("name", nargs="?", help="team add: the annotator's name")
ap.add_argument("--params", default="params.yaml")
ap.add_argument("--clips", default="data/interim/clips.parquet", help="check: the clips table")
ap.add_argument("--classes", default="", help="team add: comma-separated class labels the annotator may label")
ap.add_argument("--port", type=int, default=None, help="serve / dashboard: the port (8866 / 8867)")
ap.add_argument("--ip", default="127.0.0.1", help="serve: the address (0.0.0.0 to serve the team's machines)")
a = ap.parse_args()
P = load_params(a.params)
if a.command in ("serve", "dashboard"):  # the app's kernels read these (notebooks/annotate_app, qc_dashboard)
    os.environ.update(SLAC_PARAMS=str(Path(a.params).resolve()), SLAC_CLIPS=str(Path(a.clips).resolve()))
if a.command == "check":
    msg = labels_missing(P, a.clips)
    if msg:
        print(msg, file=sys.stderr)
        sys.exit(1)
elif a.command == "team":
    from .team import add_member

    if a.action != "add" or not a.name:
        ap.error("usage: team add NAME --classes A,B")
    token = add_member(P.annotation.team, a.name, [c for c in a.classes.split(",") if c])
    print(f"added {a.name} to {P.annotation.team}; their personal link (shown once, keep it private):")
    print(f"  http://<this machine>:{a.port or 8866}/?token={token}")
elif a.command == "serve":
    from .app import voila_command

    cmd = voila_command(P, a.port or 8866, a.ip)
    print(">>", " ".join(cmd), flush=True)
    os.execv(cmd[0], cmd)
else:
    import secrets

    from .app import dashboard_command

    token = secrets.token_urlsafe(24)
    print(f"QC dashboard: http://{a.ip}:{a.port or 8867}/?token={token}", flush=True)
    cmd = dashboard_command(token, a.port or 8867, a.ip)
    os.execv(cmd[0], cmd)
