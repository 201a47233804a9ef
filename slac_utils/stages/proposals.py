"""Stage 03 — the two proposal classifiers (paper section 3.6).

The stage's orchestration; what it computes lives in :mod:`slac_utils.proposals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import plots
from ..config import resolve_auto_backends
from ..io import read_table, save_figure, write_json, write_markdown_table, write_no_truth_table, write_table
from ..models import provenance_line
from ..models.proposal_nets import (
    BACKGROUND,
    resolve_backbone,
)
from ..proposal_frames import frame_inputs
from ..proposals import (
    ProposalModel,
    _accuracy,
    candidate_frames,
    load_images,
    save_model,
    split_holdout,
    video_training_frames,
    web_image_table,
)
from ..sampling import frame_truth_kind
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    manifest_path: str = "data/interim/manifest.parquet"
    shots_path: str = "data/interim/shots.parquet"
    persons_path: str = "data/interim/persons.parquet"
    candidates_path: str = "data/interim/candidates.parquet"
    models_dir: str = "data/models/proposals"
    frames_path: str = "data/interim/proposal_frames.parquet"
    tables_dir: str = "reports/tables/03_proposals"
    figures_dir: str = "reports/figures/03_proposals"
    metrics_path: str = "metrics/03_proposals.json"
    demo_dir: str = "data/raw/demo"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 03: train Y and G, score X, report held-out accuracy and agreement.

    The stage's steps in the paper's order (Y and G, X, the report); each step is a call."""
    paths = paths.for_source(params)

    params = resolve_auto_backends(params)
    cfg = params.proposals
    cfg = cfg.model_copy(update={"backbone": resolve_backbone(cfg)})  # checkpoints, metrics and report name what ran
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    manifest, shots, persons, cand = (
        read_table(p) for p in (paths.manifest_path, paths.shots_path, paths.persons_path, paths.candidates_path)
    )
    classes = sorted(cand.class_label.unique())
    K = len(classes)
    if K == 0:
        raise ValueError("no candidate videos: stage 02 removed every video (no person shots)")

    frames = _frames(params, cfg, cand, persons, shots, manifest, classes, progress)
    m = _train_y_and_g(params, cfg, frames, classes, progress)
    y_model, g_model, y_log, g_log = m["y_model"], m["g_model"], m["y_log"], m["g_log"]

    models_dir = Path(paths.models_dir)
    save_model(y_model.net, models_dir / "frames_model.pt", classes, cfg.backbone, y_log)
    save_model(g_model.net, models_dir / "web_model.pt", classes, cfg.backbone, g_log)

    X, PY, PG, out, f_source = _score_X(cfg, frames, y_model, g_model)
    write_table(out, paths.frames_path)
    write_json(dict(classes=classes, background=BACKGROUND, f_source=f_source), Path(models_dir) / "classes.json")

    # report
    tables_dir, figures_dir = Path(paths.tables_dir), Path(paths.figures_dir)
    cidx = np.array([classes.index(c) for c in X.class_label])
    agree = float((PY.argmax(1) == PG.argmax(1)).mean()) if len(X) else float("nan")
    summary = pd.DataFrame(
        [
            dict(
                model="video frames (Y)",
                train_examples=int((~m["v_hold"]).sum()),
                heldout_examples=int(m["v_hold"].sum()),
                heldout_accuracy=m["y_acc"],
                final_train_loss=y_log[-1]["loss"],
            ),
            dict(
                model="web images (G)",
                train_examples=int((~m["w_hold"] & m["ok"]).sum()),
                heldout_examples=int(m["w_hold"].sum()),
                heldout_accuracy=m["g_acc"],
                final_train_loss=g_log[-1]["loss"],
            ),
        ]
    )
    backbone_text = {
        "features": "weight-free descriptor (HOG + spatial HSV histograms) + MLP head",
        "small": "compact CNN trained from scratch",
        "resnet50": "ResNet-50",
        "efficientnet_lite0": "frozen ImageNet EfficientNet-Lite0 features (224px) + MLP head",
    }[cfg.backbone]
    prov = [
        f"backbone: {backbone_text}"
        + (f", initialised from {cfg.resnet50_weights}" if cfg.resnet50_weights and cfg.backbone == "resnet50" else "")
        + f"; {K}+1 classes, {cfg.image_size}px, {cfg.epochs} epochs",
        f"Y held out by video ({cfg.holdout_fraction:.0%}); G held out by image; f(x) for R(x): {f_source}; G's data: {m['g_source']}",
        f"on X ({len(X)} frames, one per person shot): the two models' argmax agree on {agree:.1%} of frames",
    ]
    if hasattr(y_model.desc, "info"):
        prov.append(f"backbone {cfg.backbone}: {provenance_line(y_model.desc.info())}")
    if m["bad"]:
        prov.append(f"{len(m['bad'])} unreadable web images skipped: {m['bad'][:3]}")
    if frames["failures"]:
        bad = sorted(frames["failures"].items())
        prov.append(
            f"{len(bad)} videos whose frames could not be read, left out: " + "; ".join(f"{v}: {e}" for v, e in bad[:3])
        )
    write_markdown_table(summary, tables_dir / "proposal_models.md", "Stage 03 — proposal models", prov)
    metrics = dict(
        classes=K,
        frames_model_heldout_accuracy=m["y_acc"],
        web_model_heldout_accuracy=m["g_acc"],
        agreement_on_X=agree,
        X_frames=int(len(X)),
        f_source=f_source,
        g_source=m["g_source"],
        backbone=cfg.backbone,
    )
    res = dict(summary=summary, frames=out, classes=classes, metrics=metrics)
    save_figure(
        plots.training_curves({"video frames (Y)": y_log, "web images (G)": g_log}), figures_dir / "training_curves.png"
    )

    _by_truth_kind(params, paths, X, PY, PG, cidx, metrics, res)
    write_json(metrics, paths.metrics_path)
    return res


def _frames(params, cfg, cand, persons, shots, manifest, classes, progress) -> dict:
    """Every frame stage 03 reads, through one runner step (:func:`slac_utils.proposal_frames.frame_inputs`: each
    video decoded once, its frames described by the frozen backbone, cached): the frames model's training frames
    ``vt`` (video_id, frame, label, path) and X (:func:`candidate_frames`), each with its ``inputs`` (and X's
    ``pool5`` with ResNet-50 weights); the rows of videos that cannot be read are left out (``failures``)."""
    vt = video_training_frames(cand, persons, shots, manifest, classes, cfg, params.seed)
    X = candidate_frames(cand, params.seed)
    cols = ["video_id", "path", "frame"]
    both = pd.concat([vt[cols], X[cols]], ignore_index=True)
    inputs, pool5, ok, failures = frame_inputs(both, manifest, cfg, cfg.backbone, params.compute, progress)
    n = len(vt)
    keep_v, keep_x = ok[:n], ok[n:]
    return dict(
        vt=vt[keep_v].reset_index(drop=True),
        vt_inputs=inputs[:n][keep_v],
        X=X[keep_x].reset_index(drop=True),
        X_inputs=inputs[n:][keep_x],
        X_pool5=pool5[n:][keep_x],
        failures=failures,
    )


def _train_y_and_g(params, cfg, frames: dict, classes, progress) -> dict:
    """Y on frames of the candidate videos' person shots (held out by video); G on the web images (held out by
    image), or on the frames of a disjoint half of the videos when there are none. Returns the models, logs,
    held-out masks and accuracies, G's data source and the unreadable web images."""
    K = len(classes)
    # Y: the video frames model
    vt, v_in = frames["vt"], frames["vt_inputs"]
    wt = web_image_table(params.data.web_images_dir, classes)
    g_source = "web images"
    w_in = None
    if len(wt) == 0:
        # no web images: G learns from frames of the other half of the videos, so the two models still see different data
        g_source = f"no web images under {params.data.web_images_dir}: G trained on the frames of a disjoint half of the candidate videos"
        half = split_holdout(vt.video_id.to_numpy(), 0.5, params.seed + 2)
        vt, wt, v_in, w_in = vt[~half].reset_index(drop=True), vt[half].reset_index(drop=True), v_in[~half], v_in[half]
    v_hold = split_holdout(vt.video_id.to_numpy(), cfg.holdout_fraction, params.seed)
    y_model = ProposalModel(cfg, K + 1, params.seed)
    y_log = y_model.fit_inputs(v_in[~v_hold], vt.label.to_numpy()[~v_hold], "train frames model", progress)
    y_acc = _accuracy(y_model.predict_inputs(v_in[v_hold])[0], vt.label.to_numpy()[v_hold])

    # G: the web images model
    g_model = ProposalModel(cfg, K + 1, params.seed + 1)
    if w_in is not None:
        bad, ok = [], np.ones(len(wt), bool)
        w_hold = split_holdout(wt.video_id.to_numpy(), cfg.holdout_fraction, params.seed + 1)
    else:
        w_img, bad = load_images(wt.path, cfg.image_size)
        w_in = g_model.encode(w_img)
        ok = ~wt.path.isin(bad).to_numpy()
        w_hold = split_holdout(np.arange(len(wt)), cfg.holdout_fraction, params.seed + 1) & ok
    g_log = g_model.fit_inputs(w_in[~w_hold & ok], wt.label.to_numpy()[~w_hold & ok], "train web model", progress)
    g_acc = _accuracy(g_model.predict_inputs(w_in[w_hold])[0], wt.label.to_numpy()[w_hold])

    return dict(
        y_model=y_model,
        g_model=g_model,
        y_log=y_log,
        g_log=g_log,
        y_acc=y_acc,
        g_acc=g_acc,
        v_hold=v_hold,
        w_hold=w_hold,
        ok=ok,
        bad=bad,
        g_source=g_source,
    )


def _by_truth_kind(params, paths: Paths, X, PY, PG, cidx, metrics: dict, res: dict) -> None:
    """With the demo world's truth: the two models' scores on X by the frame's true segment kind; else a no-truth
    table."""
    tables_dir = Path(paths.tables_dir)
    if paths.demo_dir is not None and (Path(paths.demo_dir) / "truth" / "segments.parquet").exists():
        kinds = frame_truth_kind(X, Path(paths.demo_dir))
        cons = PY[np.arange(len(X)), cidx] + PG[np.arange(len(X)), cidx]
        by = (
            pd.DataFrame(
                dict(
                    truth_kind=kinds,
                    pY_c=PY[np.arange(len(X)), cidx],
                    pG_c=PG[np.arange(len(X)), cidx],
                    consensus=cons,
                    agree=PY.argmax(1) == PG.argmax(1),
                )
            )
            .groupby("truth_kind")
            .agg(
                frames=("consensus", "size"),
                mean_pY_c=("pY_c", "mean"),
                mean_pG_c=("pG_c", "mean"),
                mean_consensus=("consensus", "mean"),
                argmax_agreement=("agree", "mean"),
            )
            .reset_index()
        )
        write_markdown_table(
            by,
            tables_dir / "scores_by_truth_kind.md",
            "Stage 03 — model scores on X by the frame's true segment kind (demo world)",
            [
                "consensus = P^Y_c + P^G_c for the video's query class c; 'no context' frames should score low on both (paper 3.6)"
            ],
        )
        res["by_kind"] = by
        metrics["consensus_by_kind"] = {r.truth_kind: float(r.mean_consensus) for r in by.itertuples()}
    else:
        write_no_truth_table(
            tables_dir / "scores_by_truth_kind.md",
            "Stage 03 — model scores on X by the frame's true segment kind",
            params.data.source,
        )


def _score_X(cfg, frames: dict, y_model, g_model) -> tuple:
    """X: one frame per person shot, with P^Y, P^G and f(x) (the features R(x) compares); returns (X, P^Y, P^G,
    the frames table, where f(x) comes from)."""
    X, x_in = frames["X"], frames["X_inputs"]
    PY, FY = y_model.predict_inputs(x_in)
    PG, _ = g_model.predict_inputs(x_in)
    if cfg.resnet50_weights:
        feats = frames["X_pool5"] if len(X) else np.zeros((0, 2048))
        f_source = f"ImageNet ResNet-50 pool5 ({cfg.resnet50_weights})"
    else:
        feats, f_source = (
            FY,
            {
                "features": "the weight-free image descriptor (HOG + colour histograms; no ImageNet weights given)",
                "efficientnet_lite0": "ImageNet EfficientNet-Lite0 pooled features (1280-d, frozen)",
            }.get(cfg.backbone, "pooled conv5 of the trained frames model (no ImageNet weights given)"),
        )
    out = X.drop(columns=["path"]).copy()
    out["p_frames"] = [np.round(r, 6).astype(np.float32) for r in PY]
    out["p_web"] = [np.round(r, 6).astype(np.float32) for r in PG]
    out["feature"] = [np.round(r, 5).astype(np.float32) for r in feats]
    return X, PY, PG, out, f_source


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
