"""Every number the paper prints that this run is put beside, in one place (Tables 1-9, the Figure 1 counts,
the model sizes of section 5). Values as printed; ``None``: not reported. The stages' tables read them from here.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- Tables 1-2, Figure 1 (section 3)
# Table 1 as printed: dataset, actions, videos, annotations, source, localization.
PAPER_TABLE1 = [
    ("UCF101", "101", "13K", "13K", "YouTube", "No"),
    ("HMDB51", "51", "7K", "7K", "YouTube/Movie", "No"),
    ("Kinetics", "400", "305K", "305K", "YouTube", "No"),
    ("Sports1M", "487", "1.1M", "1.1M", "YouTube", "No"),
    ("THUMOS 15", "101", "24K", "21K", "YouTube", "Yes"),
    ("ActivityNet", "200", "20K", "23K", "YouTube", "Yes"),
    ("Charades", "157", "10K", "67K", "267 Homes", "Yes"),
    ("AVA", "80", "214", "197K", "Movie", "Yes"),
    ("SLAC", "200", "520K", "1.75M", "YouTube", "Yes"),
]
# Table 2 as printed (removed videos, starting from 1.1M candidates), in the paper's order.
PAPER_TABLE2 = [
    ("Internal (within the dataset)", "171,378", None),
    ("Kinetics", "4,029", "kinetics"),
    ("ActivityNet", "1,925", "activitynet"),
    ("UCF-101", "660", "ucf"),
    ("HMDB-51", "11", "hmdb"),
]
# Section 3: the numbers behind Figure 1.
PAPER_PIPELINE = dict(
    candidates="1.1M",
    removed_internal="171K",
    removed_external="6.6K",
    person_share="~49% of shots",
    removed_no_person="193K",
    videos="520K",
    clips="1.75M",
    positives="755K",
    negatives="993K",
    seconds_per_clip="8.8 s",
    frames_model="600K frames",
    web_model="300K images",
)

# ----------------------------------------------------------------------------- Table 3 (section 3.7)
# Paper Table 3 (section 3.7), as printed, and the scale behind it.
PAPER_TABLE3 = dict(
    videos=520_000,
    clips=1_750_000,
    per_clip_s=8.8,
    per_video_sparse_s=30.6,
    per_video_full_min=11.3,
    dataset_full_hr=113_200,
    dataset_sparse_hr=4_390,
    annotators=70,
    mean_gold_accuracy=0.94,
)

# ----------------------------------------------------------------------------- Table 4 (section 4.1)
PAPER_TABLE4 = {  # Table 4: (val agnostic, val aware, test agnostic, test aware)
    "RGB": (54.3, 76.5, 53.7, 76.2),
    "Flow": (47.3, 64.9, 46.3, 63.6),
    "RGB+Flow": (62.4, 78.3, 61.5, 77.8),
}

# ----------------------------------------------------------------------------- Tables 5-7 (section 4.2)
PAPER_TARGETS = ("UCF-101", "HMDB-51", "Kinetics")
# Table 5: (input, training) -> {target: (Clip@1, Video@1)}
PAPER_TABLE5 = {
    ("RGB", "w/o pre-training"): {"UCF-101": (72.7, 75.6), "HMDB-51": (34.0, 35.9), "Kinetics": (57.0, 68.2)},
    ("RGB", "w/ pre-training"): {"UCF-101": (93.4, 95.7), "HMDB-51": (67.3, 71.3), "Kinetics": (58.5, 70.2)},
    ("Flow", "w/o pre-training"): {"UCF-101": (68.7, 80.8), "HMDB-51": (34.0, 45.1), "Kinetics": (42.2, 59.2)},
    ("Flow", "w/ pre-training"): {"UCF-101": (87.9, 93.6), "HMDB-51": (60.0, 69.5), "Kinetics": (45.0, 62.6)},
}
# Table 6 (RGB): pre-training dataset -> {target: (Clip@1, Video@1)}
PAPER_TABLE6 = {
    "w/o pre-training": PAPER_TABLE5["RGB", "w/o pre-training"],
    "Kinetics": {"UCF-101": (89.9, 92.5), "HMDB-51": (64.9, 67.4), "Kinetics": (57.0, 68.2)},
    "Sports1M": {"UCF-101": (90.9, 92.6), "HMDB-51": (64.1, 65.9), "Kinetics": (57.4, 68.4)},
    "SLAC": PAPER_TABLE5["RGB", "w/ pre-training"],
}
# Table 7: method -> {target: top-1}
PAPER_TABLE7 = {
    "Long-term temporal convolutions": {"UCF-101": 92.7, "HMDB-51": 67.2, "Kinetics": None},
    "ST-Multiplier Net + IDT": {"UCF-101": 94.9, "HMDB-51": 72.2, "Kinetics": None},
    "Temporal Segment Networks": {"UCF-101": 94.2, "HMDB-51": 69.4, "Kinetics": None},
    "Two-Stream I3D, Kinetics pre-training": {"UCF-101": 98.0, "HMDB-51": 80.7, "Kinetics": 75.7},
    "Two-Stream Res3D-34, SLAC pre-training, video@1": {"UCF-101": 96.6, "HMDB-51": 75.6, "Kinetics": 73.5},
    "Two-Stream Res3D-34, SLAC pre-training, dense prediction, w/ multi-cropping@1": {
        "UCF-101": 97.6,
        "HMDB-51": 76.7,
        "Kinetics": 74.8,
    },
}

# ----------------------------------------------------------------------------- Tables 8-9 (section 5)
PAPER_TABLE8 = {  # THUMOS14 test, mAP @ tIoU 0.3 0.4 0.5 0.6 0.7, average
    "w/o pre-training": (33.0, 27.1, 18.9, 10.5, 4.0, 18.7),
    "pre-train on Sports1M [26]": (40.1, 29.4, 23.3, 13.1, 7.9, 22.8),
    "pre-train on SLAC": (45.0, 35.8, 29.2, 17.2, 9.5, 27.3),
}
PAPER_TABLE8_TIOU = (0.3, 0.4, 0.5, 0.6, 0.7)
PAPER_TABLE9 = {  # ActivityNet-v1.3 validation, mAP @ tIoU 0.5:0.05:0.95, average
    "before refinement [36]": (43.3, 39.9, 36.7, 16.8, 8.7, 3.9, 1.9, 0.8, 0.2, 0.0, 15.3),
    "after refinement, w/o pre-training": (43.0, 39.5, 36.0, 32.0, 28.6, 24.6, 13.5, 5.4, 1.4, 0.2, 22.4),
    "after refinement, pre-train on Sports1M [26]": (45.3, None, None, None, None, 26.0, None, None, None, 0.2, 23.8),
    "after refinement, pre-train on SLAC": (42.9, 38.9, 34.7, 31.0, 28.0, 24.6, 20.9, 16.9, 9.7, 1.4, 24.9),
}
PAPER_TABLE9_TIOU = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)

# ----------------------------------------------------------------------------- model sizes (section 5)
#: the paper's counts (section 5)
PAPER_TRUNK_PARAMETERS = 63.4e6
PAPER_CDC_PARAMETERS = 20.4e6
#: paper settings: Res3D-34, width 64, 32 x 112 x 112 input, 200 actions + background
PAPER_SETTINGS = dict(depth=34, width=64, frames=32, crop=112, num_classes=201)
