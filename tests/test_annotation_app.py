"""The annotators' web app without a browser: the team file (tokens stored as hashes), the server's identity
provider (no token, no entry), and the grid an annotator gets (only their name, only their classes, whatever a
crafted request asks for)."""

import asyncio

import pytest

from slac_utils import annotation as A
from slac_utils.annotation import team as T
from slac_utils.annotation.app import TeamIdentityProvider, annotator_app, token_of
from slac_utils.config import load_params

from .clip_fixtures import make_clip_world, write_params


@pytest.fixture
def team(tmp_path):
    path = tmp_path / "team.yaml"
    tokens = {
        "alice": T.add_member(path, "alice", ["archery"]),
        "bob": T.add_member(path, "bob", ["hula_hoop", "jump_rope"]),
    }
    return path, tokens


def test_the_team_file_keeps_hashes_and_knows_each_token(team):
    path, tok = team
    text = path.read_text()
    assert tok["alice"] not in text and tok["bob"] not in text and T.token_hash(tok["alice"]) in text
    t = T.load_team(path)
    assert t.who(tok["alice"]) == T.Member("alice", ("archery",))
    assert t.who(tok["bob"]).classes == ("hula_hoop", "jump_rope")
    assert t.who("guess") is None and t.who("") is None and t.who(None) is None
    assert T.load_team(path.parent / "absent.yaml").members == {}
    path.write_text("annotators:\n  eve: {token_sha256: abc}\n")
    with pytest.raises(T.TeamError, match="eve.*token_sha256"):
        T.load_team(path)


class _Handler:
    """What the identity provider reads of a request."""

    def __init__(self, token="", password=""):
        self.args = dict(token=token, password=password)
        self.request = type("R", (), dict(headers={}, remote_ip="127.0.0.1"))()

    def get_argument(self, name, default=""):
        return self.args.get(name) or default

    def get_cookie(self, name):
        return None

    def get_secure_cookie(self, *a, **k):
        return None


def test_the_server_lets_in_only_a_member_token(team):
    path, tok = team
    idp = TeamIdentityProvider(team_file=str(path))
    user = asyncio.run(idp.get_user_token(_Handler(token=tok["alice"])))
    assert user.username == "alice" and idp.auth_enabled
    assert asyncio.run(idp.get_user_token(_Handler(token="wrong"))) is None
    assert asyncio.run(idp.get_user_token(_Handler())) is None
    assert idp.process_login_form(_Handler(password=tok["bob"])).username == "bob"
    assert idp.process_login_form(_Handler(password="nope")) is None


@pytest.fixture
def app_world(tmp_path, team):
    path, tok = team
    w = make_clip_world(
        tmp_path / "w", classes=("archery", "hula_hoop", "jump_rope"), videos_per_class=1, clips_per_video=4
    )
    pf = write_params(
        tmp_path / "params.yaml", mode="human", store=str(tmp_path / "labels.sqlite"), team=str(path), page_size=3
    )
    return dict(params=str(pf), clips=str(w["clips_path"]), guideline=str(w["world_path"]), tok=tok, tmp=tmp_path)


def test_a_page_without_a_member_token_gets_no_grid(app_world):
    for query in ("", "token=guess", "annotator=alice"):
        w = annotator_app(app_world["params"], app_world["clips"], app_world["guideline"], query=query)
        assert "slac-refused" in w.value
    assert token_of("token=abc&x=1") == "abc" and token_of("") is None


def test_an_annotator_labels_only_as_themselves_and_only_their_classes(app_world):
    from slac_utils.grid import AnnotationGrid

    P = load_params(app_world["params"])
    member = T.load_team(P.annotation.team).who(app_world["tok"]["bob"])
    grid = AnnotationGrid.from_params(P, app_world["clips"], None, app_world["guideline"], human=True, member=member)
    assert grid.classes == ["hula_hoop", "jump_rope"] and grid.name_box.disabled and grid.name_box.value == "bob"
    assert [v for _, v in grid.class_box.options] == ["hula_hoop", "jump_rope"]
    # what a crafted widget message could ask for: another name, another member's class
    assert not grid.login("alice", "hula_hoop") and not grid.login("bob", "archery")
    assert grid.session is None and grid.store.assignments().empty
    assert grid.login("bob", None) and grid.session.class_label == "hula_hoop"
    grid.flip(0)
    grid.submit()
    labels = A.LabelStore(app_world["tmp"] / "labels.sqlite").current_labels()
    assert set(labels.class_label) == {"hula_hoop"} and set(labels.annotator) == {"bob"} and len(labels) == 3
    w = annotator_app(
        app_world["params"], app_world["clips"], app_world["guideline"], query=f"token={app_world['tok']['alice']}"
    )
    assert "slac-grid" in w._dom_classes
