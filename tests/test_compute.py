"""The per-video runner: cached by content, resumable after a kill, incremental, errors as rows."""

import numpy as np
import pandas as pd
import pytest

from slac_utils.compute import ShardStore, Step, run_step
from slac_utils.config import ComputeConfig, DedupConfig
from slac_utils.features import SignatureEmbedder, video_features
from slac_utils.video.encode import write_h264

from .clip_fixtures import clip_frames


def _manifest(n, start=0):
    ids = [f"v{i:04d}" for i in range(start, start + n)]
    return pd.DataFrame(dict(video_id=ids, path=[f"/x/{v}.mp4" for v in ids], sha256=[f"h{v}" for v in ids]))


class Counter:
    def __init__(self, fail=(), kill_after=None):
        self.calls, self.fail, self.kill_after = [], set(fail), kill_after

    def step(self, **kw):
        def process(state, row):
            if self.kill_after is not None and len(self.calls) >= self.kill_after:
                raise KeyboardInterrupt  # the run is killed mid-batch
            self.calls.append(row.video_id)
            if row.video_id in self.fail:
                raise ValueError(f"cannot decode {row.video_id}")
            return dict(value=int(row.video_id[1:]) * 2, vec=np.full(3, int(row.video_id[1:]), np.float32))

        return Step(name="double", version="1", process=process, params=kw)


def _cfg(tmp_path, **kw):
    return ComputeConfig(cache_dir=str(tmp_path / "cache"), batch_videos=10, **kw)


def test_second_run_reads_everything_from_the_cache(tmp_path):
    c = Counter()
    t1, n1 = run_step(c.step(), _manifest(35), _cfg(tmp_path), progress=False)
    t2, n2 = run_step(c.step(), _manifest(35), _cfg(tmp_path), progress=False)
    assert n1["computed"] == 35 and n2 == dict(videos=35, computed=0, cached=35, errors=0)
    assert len(c.calls) == 35
    assert t1[["video_id", "value"]].equals(t2[["video_id", "value"]])
    assert list(t1.video_id) == list(_manifest(35).video_id) and (t1.value == np.arange(35) * 2).all()
    assert np.array_equal(np.stack(t2.vec), np.repeat(np.arange(35, dtype=np.float32)[:, None], 3, 1))
    assert len(ShardStore(tmp_path / "cache", "double", "1", {}).shards()) == 4  # 10 + 10 + 10 + 5


def test_a_killed_run_resumes_with_only_the_unfinished_batches(tmp_path):
    killed = Counter(kill_after=25)  # dies inside the third batch
    with pytest.raises(KeyboardInterrupt):
        run_step(killed.step(), _manifest(40), _cfg(tmp_path), progress=False)
    store = ShardStore(tmp_path / "cache", "double", "1", {})
    assert len(store.shards()) == 2 and not list(store.dir.glob(".*tmp"))  # whole shards only
    again = Counter()
    t, n = run_step(again.step(), _manifest(40), _cfg(tmp_path), progress=False)
    assert n["computed"] == 20 and again.calls == [f"v{i:04d}" for i in range(20, 40)]
    ref, _ = run_step(Counter().step(), _manifest(40), ComputeConfig(cache_dir=None), progress=False)
    assert t[["video_id", "value", "status"]].equals(ref[["video_id", "value", "status"]])


def test_adding_videos_computes_only_the_new_ones_and_renames_are_free(tmp_path):
    c = Counter()
    run_step(c.step(), _manifest(30), _cfg(tmp_path), progress=False)
    grown = pd.concat([_manifest(30), _manifest(5, start=30)], ignore_index=True)
    grown.loc[0, ["video_id", "path"]] = ["renamed", "/elsewhere/renamed.mp4"]  # same content, new name
    t, n = run_step(c.step(), grown, _cfg(tmp_path), progress=False)
    assert n["computed"] == 5 and c.calls[30:] == [f"v{i:04d}" for i in range(30, 35)]
    assert t.set_index("video_id").loc["renamed", "value"] == 0


def test_errors_are_rows_and_are_retried_only_on_request(tmp_path):
    c = Counter(fail={"v0003"})
    t, n = run_step(c.step(), _manifest(12), _cfg(tmp_path), progress=False)
    bad = t.set_index("video_id").loc["v0003"]
    assert n["errors"] == 1 and bad.status == "error" and "cannot decode v0003" in bad.error
    assert (t.status == "ok").sum() == 11
    run_step(c.step(), _manifest(12), _cfg(tmp_path), progress=False)
    assert c.calls.count("v0003") == 1  # not retried by default
    fixed = Counter()
    t2, n2 = run_step(fixed.step(), _manifest(12), _cfg(tmp_path, retry_errors=True), progress=False)
    assert fixed.calls == ["v0003"] and n2["errors"] == 0 and (t2.status == "ok").all()


def test_params_and_duplicates(tmp_path):
    c = Counter()
    m = pd.concat([_manifest(6), _manifest(2)], ignore_index=True)  # two files listed twice
    t, n = run_step(c.step(k=1), m, _cfg(tmp_path), progress=False)
    assert n["computed"] == 6 and len(t) == 8
    run_step(c.step(k=2), m, _cfg(tmp_path), progress=False)  # other params: another cache, recomputed
    assert len(c.calls) == 12


def test_video_features_same_with_and_without_the_cache(tmp_path):
    paths = [write_h264(tmp_path / f"{i}.mp4", clip_frames(i, n=30, h=48, w=64), 15) for i in range(3)]
    m = pd.DataFrame(
        dict(
            video_id=["a", "b", "c"],
            path=[str(p) for p in paths],
            status="ok",
            n_frames=30,
            fps=15.0,
            width=64,
            height=48,
            sha256=["1", "2", "3"],
        )
    )
    cfg = DedupConfig(embedder="signature")
    X0, ids0, f0 = video_features(m, SignatureEmbedder(), cfg, progress=False)
    comp = ComputeConfig(cache_dir=str(tmp_path / "cache"))
    X1, ids1, _ = video_features(m, SignatureEmbedder(), cfg, False, "f", comp)
    X2, ids2, _ = video_features(m, SignatureEmbedder(), cfg, False, "f", comp)  # from the shards
    assert ids0 == ids1 == ids2 == ["a", "b", "c"] and not f0
    assert X0.dtype == X2.dtype == np.float32 and np.array_equal(X0, X1) and np.array_equal(X0, X2)


def test_compute_is_never_a_stage_param():
    # compute.* changes where and how fast, never what: a DVC stage that listed it would re-run for nothing
    import yaml

    from slac_utils.config import Params

    stages = yaml.safe_load(open("dvc.yaml"))["stages"]
    listed = [p for s in stages.values() for p in s.get("params", []) if isinstance(p, str)]
    assert not [p for p in listed if p == "compute" or p.startswith("compute.")]
    assert "compute" in Params.model_fields


def test_a_vector_column_gathers_into_a_memory_map_in_key_order(tmp_path):
    c = Counter()
    m = pd.concat([_manifest(25), _manifest(3)], ignore_index=True)  # three files listed twice
    t, _ = run_step(c.step(), m, _cfg(tmp_path), progress=False, columns=[])
    assert list(t.columns) == ["video_id", "key", "status", "error"]  # the vectors stay in the shards
    store = ShardStore(tmp_path / "cache", "double", "1", {})
    keys = list(t.key[::-1])
    M = store.matrix(keys, "vec")
    assert isinstance(M, np.memmap) and M.dtype == np.float32 and M.shape == (28, 3)
    assert np.array_equal(M[:, 0], [int(k[2:]) for k in keys])  # key "hv0007" -> 7
    assert store.matrix(keys, "vec").filename == M.filename  # built once, then reopened
    assert store.matrix([], "vec", dim=3).shape == (0, 3)
    with pytest.raises(KeyError, match="no ok 'vec' row"):
        store.matrix(["nope"], "vec")


def test_cached_video_features_are_a_memory_map_equal_to_the_in_memory_ones(tmp_path):
    paths = [write_h264(tmp_path / f"{i}.mp4", clip_frames(i, n=30, h=48, w=64), 15) for i in range(3)]
    m = pd.DataFrame(
        dict(video_id=list("abc"), path=list(map(str, paths)), status="ok", n_frames=30, fps=15.0, width=64, height=48)
    ).assign(sha256=["1", "2", "3"])
    cfg = DedupConfig(embedder="signature")
    X0, _, _ = video_features(m, SignatureEmbedder(), cfg, progress=False)
    X1, _, _ = video_features(m, SignatureEmbedder(), cfg, False, "f", ComputeConfig(cache_dir=str(tmp_path / "c")))
    assert isinstance(X1, np.memmap) and not isinstance(X0, np.memmap) and np.array_equal(X0, X1)


def test_a_step_that_fixes_threads_reserves_them_and_keys_its_cache_by_them(tmp_path):
    from slac_utils.compute import Step

    def noop(state, row):
        return {}

    plain = Step(name="s", version="1", process=noop, params=dict(a=1))
    fixed = Step(name="s", version="1", process=noop, params=dict(a=1), threads=2)
    assert plain.resources["cpus"] == 1 and fixed.resources["cpus"] == 2
    assert plain.store(tmp_path).dir != fixed.store(tmp_path).dir  # other threads, other floats: other shards
    assert plain.store(tmp_path).dir == Step(name="s", version="1", process=noop, params=dict(a=1)).store(tmp_path).dir
