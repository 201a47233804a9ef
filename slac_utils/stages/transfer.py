"""Stage 08 — transfer: fine-tune the SLAC models on target datasets (paper section 4.2, Tables 5-7).

The stage's orchestration; what it computes lives in :mod:`slac_utils.transfer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .. import plots
from ..data.clips import ClipDataset
from ..data.flow_cache import precompute_flow
from ..engine.metrics import clip_accuracy, late_fusion
from ..engine.train import cpu_threads, distributed, train
from ..io import save_figure, write_json, write_skipped, write_table
from ..transfer import (
    METRICS,
    SKIP_TABLES,
    evaluate_videos,
    finetune_cfg,
    init_model,
    quarantine,
    read_target,
    slug,
    target_unavailable,
    write_tables,
)
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    models_dir: str = "data/models/res3d"
    out_models_dir: str = "data/models/transfer"
    tables_dir: str = "reports/tables/08_transfer"
    figures_dir: str = "reports/figures/08_transfer"
    metrics_path: str = "metrics/08_transfer.json"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 08: fine-tune and evaluate every (target, init, modality); write Tables 5-7."""
    tr = params.transfer
    cpu_threads(tr.threads)
    inits = _inits(tr, paths.models_dir)
    rank = distributed()[0]  # under torchrun every process fine-tunes; only rank 0 evaluates and writes
    usable = [t for t in tr.targets if target_unavailable(t) is None]
    if not usable:
        return _skip(tr, paths)
    acc_rows, score_rows, logs, sizes = [], [], {}, {}
    quarantined = [
        pd.DataFrame([dict(target=t.name, path=t.root, reason=target_unavailable(t))])
        for t in tr.targets
        if t not in usable
    ]
    for t in usable:
        df, bad = quarantine(read_target(t), progress=progress)
        quarantined.append(bad.assign(target=t.name))
        for s in ("train", "test"):
            if not (df.split == s).any():
                raise ValueError(
                    f"transfer target {t.name!r}: no usable {s} video under {t.root} ({len(bad)} quarantined: see the quarantine table)"
                )
        n_classes = int(df.label_index.max()) + 1
        sizes[t.name] = (int((df.split == "train").sum()), int((df.split == "test").sum()), n_classes, len(bad))
        got = _finetune_target(params, paths, t, df, inits, rank, progress)
        logs.update(got["logs"])
        acc_rows += got["acc_rows"]
        score_rows += got["score_rows"]

    if rank != 0:
        return dict(logs=logs)
    acc = pd.DataFrame(acc_rows)
    tables_dir, figures_dir = Path(paths.tables_dir), Path(paths.figures_dir)
    write_table(acc, tables_dir / "accuracy.csv")
    write_table(pd.DataFrame(score_rows), Path(paths.out_models_dir) / "scores.parquet")
    for (tname, init, modality), log in logs.items():
        write_table(
            log.drop(columns=["seconds"], errors="ignore").assign(target=tname, init=init, modality=modality),
            tables_dir / f"log_{slug(tname)}_{slug(init)}_{modality}.csv",
        )
    q = pd.concat(quarantined, ignore_index=True) if quarantined else pd.DataFrame()
    t5, t6, t7 = write_tables(tables_dir, acc, [t.name for t in usable], list(inits), params, sizes, q)
    save_figure(
        plots.training_curves({f"{tn} {i} {m}": log.to_dict("records") for (tn, i, m), log in logs.items()}),
        figures_dir / "finetune_curves.png",
    )
    save_figure(plots.transfer_bars(acc), figures_dir / "transfer_accuracy.png")
    metrics = {f"{r.target} {r.init} {r.modality} {r.metric}": round(float(r.accuracy), 4) for r in acc.itertuples()}
    write_json(metrics, paths.metrics_path)
    return dict(accuracy=acc, table5=t5, table6=t6, table7=t7, metrics=metrics)


def _inits(tr, models_dir) -> dict[str, Path | None]:
    """init name -> checkpoint: scratch (None), SLAC (the stage-06 models), every ``transfer.pretrained`` file."""
    inits: dict[str, Path | None] = {"scratch": None}
    for modality in tr.modalities:
        if not (Path(models_dir) / modality / "last.pt").exists():
            raise FileNotFoundError(
                f"no SLAC {modality} model at {Path(models_dir) / modality / 'last.pt'}: run stage 06 first"
            )
    inits["SLAC"] = Path(models_dir)
    for name, path in tr.pretrained.items():
        if not Path(path).is_file():
            raise FileNotFoundError(f"transfer.pretrained.{name}: {path} is not a file (weights are never downloaded)")
        inits[name] = Path(path)
    return inits


def _skip(tr, paths: Paths) -> dict:
    """No usable target: every declared output says why."""
    reason = "; ".join(f"{t.name}: {target_unavailable(t)}" for t in tr.targets) or "transfer.targets is empty"
    write_table(
        pd.DataFrame(columns=["target", "video_id", "label_index", "scores"]),
        Path(paths.out_models_dir) / "scores.parquet",
    )
    metrics = write_skipped(paths.tables_dir, paths.figures_dir, paths.metrics_path, SKIP_TABLES, reason)
    return dict(accuracy=pd.DataFrame(columns=["target", "init", "modality", "metric", "accuracy"]), metrics=metrics)


def _finetune_target(params, paths, t, df, inits, rank, progress) -> dict:
    """Fine-tune every (init, modality) on target ``t`` (its usable videos ``df``), evaluate on its test split, and
    fuse RGB + flow: {logs, acc_rows, score_rows} (rows only on rank 0)."""
    rec, tr = params.recognition, params.transfer
    n_classes = int(df.label_index.max()) + 1
    train_df, test_df = df[df.split == "train"], df[df.split == "test"]
    y = test_df.label_index.to_numpy()
    logs, acc_rows, score_rows, video_scores = {}, [], [], {}

    def dataset(d, m):
        flows = precompute_flow(d, rec.resize_short, params.compute, progress) if m == "flow" else None
        return ClipDataset(d, rec.frames, rec.crop, rec.resize_short, m, params.seed, rec.cache_clips, flows)

    data = {
        m: tuple(dataset(d, m) for d in (train_df, test_df)) for m in tr.modalities
    }  # decoded (and their flow computed) once, shared by every initialisation
    for init, src in inits.items():
        for modality in tr.modalities:
            ds, test_ds = data[modality]
            ckpt = (src / modality / "last.pt") if init == "SLAC" else src
            torch.manual_seed(params.seed)
            model = init_model(rec, n_classes, modality, ckpt)
            out = Path(paths.out_models_dir) / slug(t.name) / slug(init) / modality
            cfg = finetune_cfg(rec, tr, t.epochs)
            logs[t.name, init, modality] = train(
                model, ds, ds.labels, n_classes, cfg, out, seed=params.seed, progress=progress
            )
            if rank != 0:
                continue
            # one score row per video: top-1 accuracy over these rows (metrics.clip_accuracy) is Video@1 / Dense@1
            s = evaluate_videos(model.cpu(), test_ds, tr, progress, desc=f"{t.name} {init} {modality}")
            video_scores[init, modality] = s
            for m, sm in s.items():
                acc_rows.append(
                    dict(
                        target=t.name,
                        init=init,
                        modality=modality,
                        metric=m,
                        accuracy=100 * clip_accuracy(sm, y),
                        videos=len(y),
                    )
                )
                score_rows += [
                    dict(
                        target=t.name,
                        init=init,
                        modality=modality,
                        metric=m,
                        video_id=v,
                        label_index=int(l),
                        scores=row.round(6).tolist(),
                    )
                    for v, l, row in zip(test_df.video_id, y, sm)
                ]
    if rank == 0 and {"rgb", "flow"} <= set(tr.modalities):
        w_rgb, w_flow = rec.fusion_weights
        for init in inits:
            for m in METRICS:
                fused = late_fusion(video_scores[init, "rgb"][m], video_scores[init, "flow"][m], w_rgb, w_flow)
                acc_rows.append(
                    dict(
                        target=t.name,
                        init=init,
                        modality="two-stream",
                        metric=m,
                        accuracy=100 * clip_accuracy(fused, y),
                        videos=len(y),
                    )
                )
    return dict(logs=logs, acc_rows=acc_rows, score_rows=score_rows)


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
