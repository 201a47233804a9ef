"""Running per-video steps at scale: the runner (:mod:`.runner`) and its shard cache (:mod:`.cache`)."""

from .cache import ShardStore, params_digest
from .runner import Prebuilt, Step, cache_keys, error_text, run_step

__all__ = ["Prebuilt", "ShardStore", "Step", "cache_keys", "error_text", "params_digest", "run_step"]
