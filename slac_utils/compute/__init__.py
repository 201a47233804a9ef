"""Running per-video steps at scale: the runner (:mod:`.runner`), its shard cache (:mod:`.cache`), what steps that
make files share (:mod:`.files`) and the Ray engine (:mod:`.ray_engine`, imported only when ``compute.engine: ray``
asks for it)."""

from .cache import ShardStore, params_digest
from .runner import Prebuilt, Step, cache_keys, error_text, run_step, strip_clock

__all__ = ["Prebuilt", "ShardStore", "Step", "cache_keys", "error_text", "params_digest", "run_step", "strip_clock"]
