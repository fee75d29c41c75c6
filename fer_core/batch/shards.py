"""Shard files of a batch job: one Parquet file per block, written by the rank that computed it, read back as one
table. A folder holds one job (``job.json`` says which); a block whose file exists is done, so a stopped job
resumes where it stopped, with any number of ranks.

Each shard has a row per manifest row of its block: ``row``, ``status`` and ``error`` (see
:data:`~fer_core.batch.faces.STATUSES`) and one column per job output, a fixed-size list of the output's values
(null where the row had no face); the outputs' shapes and dtypes are in the file's schema metadata.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import FerCoreError

__all__ = [
    "JOB_FILE",
    "ShardsMismatchError",
    "done_blocks",
    "job_settings",
    "open_job_folder",
    "read_row",
    "read_shards",
    "write_shard",
]

JOB_FILE = "job.json"
_SHAPES = b"fer_core.shapes"


class ShardsMismatchError(FerCoreError):
    """The output folder holds shards of a different job: resuming into it would mix two jobs' results."""


def shard_path(folder: Path, block: int) -> Path:
    return Path(folder) / f"shard-{block:07d}.parquet"


def open_job_folder(folder: str | Path, job: Mapping) -> Path:
    """Create ``folder`` for ``job`` or reopen it to resume the same job; a different job raises
    :class:`ShardsMismatchError` naming what differs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / JOB_FILE
    wanted = json.loads(json.dumps(dict(job), default=str))
    if path.is_file():
        try:
            have = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            msg = f"{path} is unreadable ({exc}); delete the folder or choose another --out"
            raise ShardsMismatchError(msg) from exc
        diff = sorted(k for k in set(have) | set(wanted) if have.get(k) != wanted.get(k))
        if diff:
            shown = ", ".join(f"{k}: {have.get(k)!r} there, {wanted.get(k)!r} now" for k in diff[:4])
            raise ShardsMismatchError(
                f"{folder} holds the shards of another job ({shown}); choose another --out or delete that folder"
            )
    else:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(wanted, indent=2))
        os.replace(tmp, path)
    return folder


def job_settings(folder: str | Path) -> dict:
    """The ``job.json`` of a shard folder (what the job was: data, model, job, block size)."""
    return json.loads((Path(folder) / JOB_FILE).read_text())


def done_blocks(folder: str | Path) -> set[int]:
    """Blocks whose shard file is complete (files are renamed into place only once written)."""
    return {int(p.stem.split("-")[1]) for p in Path(folder).glob("shard-*.parquet")}


def write_shard(
    folder: str | Path,
    block: int,
    rows: Sequence[int],
    status: Sequence[str],
    errors: Sequence[str],
    face_rows: np.ndarray,
    outputs: Mapping[str, np.ndarray],
) -> Path:
    """Write block ``block``: every row's status, and ``outputs`` (arrays over ``face_rows``, the rows with a face)."""
    rows = np.asarray(rows, dtype=np.int64)
    position = {int(r): i for i, r in enumerate(rows)}
    at = np.asarray([position[int(r)] for r in face_rows], dtype=np.int64)
    has = np.zeros(len(rows), dtype=bool)
    has[at] = True
    columns = {"row": pa.array(rows), "status": pa.array(list(status)), "error": pa.array(list(errors))}
    shapes = {}
    for name, values in outputs.items():
        values = np.asarray(values)
        shape = values.shape[1:]
        size = int(np.prod(shape)) if shape else 1
        flat = np.zeros((len(rows), size), dtype=values.dtype)
        flat[at] = values.reshape(len(values), size)
        columns[name] = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), size, mask=pa.array(~has))
        shapes[name] = {"shape": list(shape), "dtype": str(values.dtype)}
    table = pa.table(columns).replace_schema_metadata({_SHAPES: json.dumps(shapes).encode()})
    path = shard_path(Path(folder), block)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def _shapes(schema: pa.Schema) -> dict:
    return json.loads((schema.metadata or {}).get(_SHAPES, b"{}"))


def _read(path: Path, outputs: Sequence[str] | None) -> tuple[pa.Table, dict]:
    """One shard with only ``outputs`` (None: all) besides row, status and error; its outputs' shapes."""
    schema = pq.read_schema(path)
    shapes = _shapes(schema)
    names = ["row", "status", "error"] + [n for n in shapes if outputs is None or n in outputs]
    return pq.read_table(path, columns=names), {n: shapes[n] for n in names[3:]}


def _values(table: pa.Table, name: str, spec: dict, keep: np.ndarray) -> np.ndarray:
    col = table.column(name).combine_chunks().filter(pa.array(keep))
    values = col.flatten().to_numpy(zero_copy_only=False).astype(spec["dtype"], copy=False)
    return values.reshape(len(col), *spec["shape"])


def read_shards(
    folder: str | Path, outputs: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(rows, status, errors, outputs, face_rows) of every shard, in row order; ``outputs`` (only the named ones:
    a sweep's heatmaps stay on disk) hold the rows that had a face (``face_rows``), each with its recorded shape.
    A block in which no row had a face has no output columns; it adds only its rows' statuses."""
    files = sorted(Path(folder).glob("shard-*.parquet"))
    if not files:
        return (np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0, object), {}, np.zeros(0, np.int64))
    read = [_read(f, outputs) for f in files]
    shapes: dict = {}
    for _, found in read:
        shapes |= found
    table = pa.concat_tables([t for t, _ in read], promote_options="default").sort_by("row")
    rows = table.column("row").to_numpy()
    status = np.asarray(table.column("status").to_pylist(), dtype=object)
    errors = np.asarray(table.column("error").to_pylist(), dtype=object)
    has = np.isin(status, ("detected", "crop"))
    values = {name: _values(table, name, spec, has) for name, spec in shapes.items()}
    return rows, status, errors, values, rows[has]


def read_row(folder: str | Path, block: int, row: int, output: str) -> np.ndarray:
    """One row's ``output`` from the shard of its block (KeyError when that row has none: no face)."""
    table, shapes = _read(shard_path(Path(folder), block), [output])
    rows = table.column("row").to_numpy()
    status = np.asarray(table.column("status").to_pylist(), dtype=object)
    hit = (rows == row) & np.isin(status, ("detected", "crop"))
    if output not in shapes or not hit.any():
        raise KeyError(f"row {row} has no {output} in {folder}")
    return _values(table, output, shapes[output], hit)[0]
