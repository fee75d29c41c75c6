"""The batch engine: dataset-scale jobs (evaluate, pseudo-label, the studies, the explanation sweep) with loader
workers, on one machine or, through Lightning's ``Trainer.predict``, across GPUs and nodes, resumable by shard.

:mod:`.faces` and :mod:`.blocks` import without torch; the engine and the jobs load torch (and Lightning, only for
a multi-device job or a shard folder) when used.
"""

from __future__ import annotations

from .._utils.lazy import lazy_getattr

_EXPORTS = {
    "FaceRecord": ".faces",
    "FaceRows": ".faces",
    "STATUSES": ".faces",
    "RowBlocks": ".blocks",
    "auto_workers": ".blocks",
    "ClassifyJob": ".jobs",
    "ExplainJob": ".jobs",
    "FaceJob": ".jobs",
    "OcclusionJob": ".jobs",
    "RegionShareJob": ".jobs",
    "embed_crops": ".jobs",
    "EngineOptions": ".engine",
    "EngineResult": ".engine",
    "run_job": ".engine",
    "read_shards": ".shards",
    "ShardsMismatchError": ".shards",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
