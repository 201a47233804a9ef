"""``python -m slac_utils.annotation COMMAND``:

* ``check --params P --clips C`` — stage 05's first command: exit 1 with one line while labels are missing;
* ``team add NAME --classes A,B`` — add an annotator to ``annotation.team`` and print their personal link once;
* ``serve [--port 8866] [--ip 127.0.0.1]`` — the annotators' web app (Voilà, one kernel per annotator; ``make annotate``).
"""

import argparse
import os
import sys

from .check import _main

if len(sys.argv) > 1 and sys.argv[1] in ("team", "serve"):
    from ..config import load_params

    ap = argparse.ArgumentParser(prog="python -m slac_utils.annotation")
    ap.add_argument("command", choices=["team", "serve"])
    ap.add_argument("action", nargs="?", choices=["add"])
    ap.add_argument("name", nargs="?")
    ap.add_argument("--classes", default="", help="comma-separated class labels the annotator may label")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--port", type=int, default=8866)
    ap.add_argument("--ip", default="127.0.0.1", help="0.0.0.0 to serve the team's machines")
    a = ap.parse_args()
    P = load_params(a.params)
    if a.command == "team":
        from .team import add_member

        if a.action != "add" or not a.name:
            ap.error("usage: team add NAME --classes A,B")
        token = add_member(P.annotation.team, a.name, [c for c in a.classes.split(",") if c])
        print(f"added {a.name} to {P.annotation.team}; their personal link (shown once, keep it private):")
        print(f"  http://<this machine>:{a.port}/?token={token}")
    else:
        from .app import voila_command

        cmd = voila_command(P, a.port, a.ip)
        print(">>", " ".join(cmd), flush=True)
        os.execv(cmd[0], cmd)
else:
    _main()
