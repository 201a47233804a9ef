"""The annotation team: who may label which classes, and how each annotator proves who they are.

``annotation.team`` names a YAML file the researcher keeps (``configs/team.yaml`` by default; it holds no secret
and may be committed)::

    annotators:
      alice:
        token_sha256: 9f2c...      # SHA-256 of alice's token; the token itself is never stored
        classes: [archery, hula_hoop]

``python -m slac_utils.annotation team add alice --classes archery,hula_hoop`` makes a random token (32 bytes,
URL-safe), writes its hash and prints alice's personal link once.  The web app (:mod:`.app`) lets a request in
only with a token of the file (the server's identity provider) and the grid lets that annotator label only their
classes; all clips of a class still go to one annotator (the store's ``assignments``).  Tokens are random, so a
plain SHA-256 is enough (nothing to brute-force from a dictionary); comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from .store import check_name


class TeamError(ValueError):
    """A team file that cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class Member:
    name: str
    classes: tuple[str, ...]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Team:
    members: dict[str, tuple[str, tuple[str, ...]]]  # name -> (token hash, classes)
    path: str | None = None

    def who(self, token: str | None) -> Member | None:
        """The member whose token this is, else None (every hash compared, in constant time)."""
        if not token:
            return None
        h, found = token_hash(token), None
        for name, (th, classes) in sorted(self.members.items()):
            if hmac.compare_digest(h, th):
                found = Member(name, classes)
        return found

    def member(self, name: str) -> Member | None:
        m = self.members.get(name)
        return Member(name, m[1]) if m else None


def load_team(path) -> Team:
    """The team file at ``path`` (an absent file is an empty team: nobody gets in)."""
    p = Path(path)
    if not p.exists():
        return Team({}, str(p))
    data = yaml.safe_load(p.read_text()) or {}
    entries = data.get("annotators", {}) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise TeamError(f"{p}: expected 'annotators: {{<name>: {{token_sha256: ..., classes: [...]}}}}'")
    members = {}
    for name, e in entries.items():
        name = check_name(name)
        if not isinstance(e, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(e.get("token_sha256", ""))):
            raise TeamError(f"{p}: annotator {name!r} needs token_sha256 (64 hex digits)")
        classes = e.get("classes", [])
        if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
            raise TeamError(f"{p}: annotator {name!r}: classes must be a list of class labels")
        members[name] = (str(e["token_sha256"]), tuple(classes))
    return Team(members, str(p))


def add_member(path, name: str, classes: list[str]) -> str:
    """Add (or re-key) ``name`` with these classes; returns the new token (shown once, stored only as a hash)."""
    name = check_name(name)
    p = Path(path)
    data = (yaml.safe_load(p.read_text()) if p.exists() else None) or {}
    data.setdefault("annotators", {})
    token = secrets.token_urlsafe(32)
    data["annotators"][name] = dict(token_sha256=token_hash(token), classes=list(classes))
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=True))
    tmp.replace(p)
    load_team(p)  # what was written reads back
    return token
