"""The paper backends load local weight files (random weights here: nothing can be downloaded)."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_resnet50_embedder_loads_local_state_dict(tmp_path):
    import torch
    import torchvision

    from slac_utils.config import DedupConfig
    from slac_utils.features import ResNet50Embedder, make_embedder

    torch.manual_seed(0)
    path = tmp_path / "r50.pth"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), path)
    emb = make_embedder(DedupConfig(resnet50_weights=str(path)))
    assert isinstance(emb, ResNet50Embedder)
    f = emb.embed(np.zeros((2, 224, 224, 3), np.uint8))
    assert f.shape == (2, 2048)
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(Exception):
        ResNet50Embedder(str(tmp_path / "bad.pth"))


def test_faster_rcnn_detector_loads_local_state_dict(tmp_path):
    import torch
    import torchvision

    from slac_utils.config import PersonsConfig
    from slac_utils.persons import FasterRCNNPersonDetector, make_detector

    torch.manual_seed(0)
    path = tmp_path / "frcnn.pth"
    torch.save(
        torchvision.models.detection.fasterrcnn_resnet50_fpn(
            weights=None, weights_backbone=None, num_classes=91
        ).state_dict(),
        path,
    )
    det = make_detector(PersonsConfig(faster_rcnn_weights=str(path)))
    assert isinstance(det, FasterRCNNPersonDetector)
    s = det.score(np.zeros((1, 120, 160, 3), np.uint8))
    assert s.shape == (1,) and 0.0 <= s[0] <= 1.0
