"""compute.engine: ray on a local Ray cluster: the same rows as local, resume after a killed driver, incremental
runs, a corrupt video as a row with its reason, and stage 02 through both engines."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from slac_utils.compute import ShardStore, Step, run_step
from slac_utils.config import ComputeConfig, DedupConfig, PersonsConfig, ShotsConfig
from slac_utils.features import SignatureEmbedder, video_features
from slac_utils.video.encode import write_h264

from .clip_fixtures import clip_frames

ray = pytest.importorskip("ray")
from ray import cloudpickle  # noqa: E402  (Ray vendors it)

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers need not import the tests package


@pytest.fixture(scope="module")
def cluster():
    from slac_utils.compute.ray_engine import ensure_ray

    resources = ensure_ray(ComputeConfig(engine="ray", ray_num_cpus=2))
    yield resources
    ray.shutdown()


def _manifest(n, start=0):
    ids = [f"v{i:04d}" for i in range(start, start + n)]
    return pd.DataFrame(dict(video_id=ids, path=[f"/x/{v}.mp4" for v in ids], sha256=[f"h{v}" for v in ids]))


def _double(state, row):
    if row.video_id in ("v0007", "v0031"):
        raise ValueError(f"cannot decode {row.video_id}")
    i = int(row.video_id[1:])
    return dict(value=i * state, vec=np.full(3, i, np.float32), name=f"{row.path}#{i}")


STEP = Step(name="double", version="1", process=_double, setup=lambda: 2)
COLS = ["video_id", "key", "status", "error", "value", "name"]


def _cfg(tmp_path, name, **kw):
    return ComputeConfig(cache_dir=str(tmp_path / name), batch_videos=10, **kw)


def test_ray_gives_the_rows_local_gives(cluster, tmp_path):
    m = _manifest(57)
    local, nl = run_step(STEP, m, _cfg(tmp_path, "local"), progress=False)
    remote, nr = run_step(STEP, m, _cfg(tmp_path, "ray", engine="ray"), progress=False)
    assert nl == nr == dict(videos=57, computed=57, cached=0, errors=2)
    assert local[COLS].equals(remote[COLS])
    ok = local.status == "ok"
    assert np.array_equal(np.stack(local.vec[ok]), np.stack(remote.vec[ok]))
    assert remote.set_index("video_id").loc["v0031", "error"] == "ValueError: cannot decode v0031"
    assert len(ShardStore(tmp_path / "ray", "double", "1", {}).shards()) == 6  # one shard per batch


def test_ray_computes_only_the_added_videos(cluster, tmp_path):
    cfg = _cfg(tmp_path, "c", engine="ray")
    run_step(STEP, _manifest(30), cfg, progress=False)
    t, n = run_step(STEP, _manifest(45), cfg, progress=False)
    assert n == dict(videos=45, computed=15, cached=30, errors=2)
    assert (t.value.dropna().to_numpy() == 2 * np.array([i for i in range(45) if i not in (7, 31)])).all()


DRIVER = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from slac_utils.compute import Step, run_step
    from slac_utils.config import ComputeConfig

    def slow(state, row):
        time.sleep(0.05)
        return dict(value=int(row.video_id[1:]))

    ids = [f"v{i:04d}" for i in range(int(sys.argv[2]))]
    m = pd.DataFrame(dict(video_id=ids, path=ids, sha256=ids))
    cfg = ComputeConfig(cache_dir=sys.argv[1], batch_videos=10, engine="ray", ray_num_cpus=2)
    run_step(Step(name="slow", version="1", process=slow), m, cfg, progress=False)
    """
)


@pytest.mark.slow
def test_a_killed_ray_run_resumes_with_only_the_unfinished_shards(cluster, tmp_path):
    n, cache = 400, tmp_path / "cache"
    store = ShardStore(cache, "slow", "1", {})
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(cache), str(n)], start_new_session=True)
    deadline = time.time() + 120
    while len(store.shards()) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local cluster it started die mid-run
    proc.wait()
    time.sleep(2)
    finished = len(store.read())
    assert 40 <= finished < n and finished % 10 == 0  # whole shards only
    time.sleep(1)
    assert len(store.read()) == finished  # nothing went on computing after the kill

    def slow(state, row):
        return dict(value=int(row.video_id[1:]))

    ids = [f"v{i:04d}" for i in range(n)]
    m = pd.DataFrame(dict(video_id=ids, path=ids, sha256=ids))
    cfg = ComputeConfig(cache_dir=str(cache), batch_videos=10, engine="ray")
    t, c = run_step(Step(name="slow", version="1", process=slow), m, cfg, progress=False)
    assert c["computed"] == n - finished and c["cached"] == finished
    assert (t.status == "ok").all() and (t.value.to_numpy() == np.arange(n)).all()


def _videos(tmp_path, n=4):
    paths = [write_h264(tmp_path / f"{i}.mp4", clip_frames(i, n=40, h=48, w=64), 15) for i in range(n)]
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(paths[0].read_bytes()[:2000])  # truncated mid-stream: probes, then fails to decode
    rows = [dict(video_id=f"v{i}", path=str(p), sha256=f"s{i}") for i, p in enumerate(paths)]
    rows.insert(2, dict(video_id="broken", path=str(bad), sha256="sbad"))
    m = pd.DataFrame(rows).assign(status="ok", n_frames=40, fps=15.0, width=64, height=48, class_label="c")
    return m


def test_a_corrupt_video_mid_run_is_a_row_with_its_reason(cluster, tmp_path):
    m = _videos(tmp_path)
    cfg = DedupConfig(embedder="signature")
    X0, ids0, f0 = video_features(m, SignatureEmbedder(), cfg, False, "f", _cfg(tmp_path, "l"))
    X1, ids1, f1 = video_features(m, SignatureEmbedder(), cfg, False, "f", _cfg(tmp_path, "r", engine="ray"))
    assert ids0 == ids1 == ["v0", "v1", "v2", "v3"] and np.array_equal(X0, X1)
    assert list(f1) == ["broken"] and f1 == f0 and f1["broken"].startswith("feature extraction failed: ")


def test_stage_02_steps_give_the_same_tables_on_both_engines(cluster, tmp_path):
    from slac_utils import persons as P
    from slac_utils import shots as S

    m = _videos(tmp_path)
    tables = []
    for name, engine in (("l", "local"), ("r", "ray")):
        comp = _cfg(tmp_path, name, engine=engine)
        shots, failed = S.detect_shots(m, ShotsConfig(detector="histogram"), False, None, comp)
        pcfg = PersonsConfig(detector="opencv")
        pers = P.score_shots(shots, m, None, pcfg, False, comp, failures=failed)
        tables.append((shots, pers, failed))
    (s0, p0, f0), (s1, p1, f1) = tables
    assert s0.equals(s1) and p0.equals(p1) and f0 == f1
    assert set(f0) == {"broken"} and len(p0) == len(s0) and set(s0.video_id) == {"v0", "v1", "v2", "v3"}


def test_stage_03_frame_step_gives_the_same_inputs_on_both_engines(cluster, tmp_path):
    from slac_utils.config import ProposalsConfig
    from slac_utils.proposal_frames import frame_inputs

    m = _videos(tmp_path)
    ask = m[["video_id", "path"]].loc[m.index.repeat(3)].assign(frame=[1, 30, 7] * len(m))
    cfg = ProposalsConfig(backbone="features", image_size=48)
    outs = [
        frame_inputs(ask, m, cfg, "features", _cfg(tmp_path, n, engine=e), False)
        for n, e in (("l", "local"), ("r", "ray"))
    ]
    (i0, p0, ok0, f0), (i1, p1, ok1, f1) = outs
    assert np.array_equal(i0, i1) and np.array_equal(ok0, ok1) and f0 == f1 and set(f0) == {"broken"}
    assert ok0.sum() == 12 and i0[ok0].any(axis=1).all()


@pytest.mark.slow
def test_dvc_repro_on_ray_gives_the_outputs_local_gives(tmp_path):
    """Stages 00-03 of a folder source by ``dvc repro``, once per engine: every output byte for byte the same."""
    import shutil

    import yaml

    from slac_utils.config import DemoConfig
    from slac_utils.demo.world import generate

    from .test_folder_source import _copy_repo, _dvc

    small = dict(web_images_per_class=0, background_images=0, external_videos_per_class=0, external_overlaps=0)
    generate(DemoConfig(videos_per_class=3, **small), tmp_path / "world", progress=False)
    shutil.copytree(tmp_path / "world" / "videos", tmp_path / "videos")
    locks = {}
    for engine in ("local", "ray"):
        repo = tmp_path / engine
        _copy_repo(repo)
        p = yaml.safe_load((repo / "params.yaml").read_text())
        p["data"].update(source="folder", videos_dir=str(tmp_path / "videos"))
        p["compute"].update(engine=engine, ray_num_cpus=2)
        (repo / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
        run = _dvc(repo, "proposals")
        assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
        stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
        locks[engine] = {
            o["path"]: o["md5"]
            for s in stages.values()
            for o in s.get("outs", [])
            if o["path"].startswith(("data/", "reports/tables", "metrics/"))
        }
    assert len(locks["local"]) >= 10 and locks["local"] == locks["ray"]


def test_a_gpu_step_on_a_cluster_without_gpus_fails_with_its_reason(cluster, tmp_path):
    gpu_step = Step(name="g", version="1", process=_double, resources={"cpus": 1, "gpus": 1})
    with pytest.raises(RuntimeError, match="asks for 1 GPU per worker; the Ray cluster has 0"):
        run_step(gpu_step, _manifest(3), _cfg(tmp_path, "g", engine="ray"), progress=False)


def test_stage_00_probe_gives_the_same_manifest_on_both_engines(cluster, tmp_path):
    from slac_utils import ingest
    from slac_utils.config import IngestConfig

    (tmp_path / "videos" / "c").mkdir(parents=True)
    m = _videos(tmp_path / "videos" / "c")  # <videos_dir>/<class>/<file>
    listing = ingest.list_folder(tmp_path / "videos", [".mp4"])
    assert len(listing) == len(m)
    man = [
        ingest.build_manifest(listing, IngestConfig(workers=2), False, _cfg(tmp_path, name, engine=engine))
        for name, engine in (("l", "local"), ("r", "ray"))
    ]
    assert man[0].equals(man[1]) and (man[0].status == "ok").sum() == 4
    assert man[1].set_index("video_id").loc["broken", "error"].startswith("unreadable")


SPLIT = textwrap.dedent(
    """
    import os, sys, json
    import numpy as np, pandas as pd, ray
    from slac_utils.compute import Step, run_step
    from slac_utils.config import ComputeConfig

    def decode(row):
        if row.video_id == "v0005":
            raise OSError("cannot read v0005")
        return dict(frames=np.full((2, 4), int(row.video_id[1:]), np.uint8), pid=os.getpid())

    def process(state, row, decoded=None):
        decoded = decoded if decoded is not None else decode(row)  # the local engine: decodes for itself
        return dict(total=int(decoded["frames"].sum()), split=decoded["pid"] != os.getpid())

    step = Step(name="split", version="1", process=process, decode=decode, resources={"cpus": 1, "gpus": 1})
    ids = [f"v{i:04d}" for i in range(23)]
    m = pd.DataFrame(dict(video_id=ids, path=ids, sha256=ids))
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)  # a pretend GPU
    out = {}
    for engine in ("local", "ray"):
        cfg = ComputeConfig(cache_dir=f"{sys.argv[1]}/{engine}", batch_videos=4, engine=engine)
        t, c = run_step(step, m, cfg, progress=False)
        out[engine] = dict(rows=t[["video_id", "status", "error", "total"]].to_json(), split=t.split.dropna().tolist())
    print("RESULT" + json.dumps(out))
    """
)


def test_a_gpu_step_decodes_in_cpu_tasks_and_scores_in_its_actors(tmp_path):
    r = subprocess.run([sys.executable, "-c", SPLIT, str(tmp_path)], capture_output=True, text=True, timeout=300)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT")]
    assert line, r.stderr[-3000:]
    out = json.loads(line[0][6:])
    assert out["local"]["rows"] == out["ray"]["rows"]  # the same rows, the decode failure included
    rows = pd.read_json(io.StringIO(out["ray"]["rows"]))
    assert rows.set_index("video_id").loc["v0005", "error"] == "OSError: cannot read v0005"
    assert not any(out["local"]["split"]) and all(out["ray"]["split"]) and len(out["ray"]["split"]) == 22
