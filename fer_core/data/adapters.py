"""Turn public FER/face datasets, in the layouts their releases use, into the canonical manifest.

Every adapter takes the dataset's root folder and returns a DataFrame with the canonical columns (``COLUMNS``);
paths are relative to that root (FER2013's csv form writes its pixels as PNGs under ``out_images``). Labels are
written as names of a label set in :mod:`fer_core.taxonomy` (column ``label_set``); unlabelled face sets (UTKFace,
FairFace, AU sets) leave ``label`` empty. A layout that does not match raises DatasetError naming what is missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError
from ..taxonomy import AFFECTNET8, BASIC7, BP4D12, CELEBA_SMILING, DISFA8, EMONET40, RAFDB7

COLUMNS = ("path", "split", "label", "label_set", "aus", "intensities", "subject", "gender", "age", "race", "source")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
ADAPTERS: dict[str, Callable[..., pd.DataFrame]] = {}


def _adapter(name: str):
    def register(fn):
        ADAPTERS[name] = fn
        return fn

    return register


def _frame(rows: list[dict], source: str) -> pd.DataFrame:
    if not rows:
        raise DatasetError(f"{source}: no images found; check the folder layout (see fer-core data import --help)")
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df["source"] = source
    extra = [c for c in df.columns if c not in COLUMNS]
    return df[list(COLUMNS) + extra].fillna("")


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetError(f"expected {what} at {path}")
    return path


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# ---- folder layouts --------------------------------------------------------------------------------------------
SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "publictest": "val",
    "privatetest": "test",
}


@_adapter("imagefolder")
def import_imagefolder(root: Path, label_set: str = "", **_) -> pd.DataFrame:
    """``root/<class>/*.jpg`` or ``root/<split>/<class>/*.jpg``; class folder names become labels."""
    rows = []
    for img in _images(root):
        parts = img.relative_to(root).parts
        if len(parts) < 2:
            continue
        split = SPLIT_NAMES.get(parts[0].lower(), "") if len(parts) >= 3 else ""
        rows.append({"path": _rel(img, root), "split": split, "label": parts[-2].lower(), "label_set": label_set})
    return _frame(rows, "imagefolder")


@_adapter("fer2013-folders")
def import_fer2013_folders(root: Path, **_) -> pd.DataFrame:
    """Kaggle's FER2013 image folders: ``train|test/<angry|disgust|...>/*.jpg``."""
    df = import_imagefolder(root, label_set="basic7")
    unknown = sorted(set(df["label"]) - set(BASIC7))
    if unknown:
        raise DatasetError(f"fer2013-folders: class folders {unknown} are not FER2013 classes {', '.join(BASIC7)}")
    df["source"] = "fer2013"
    return df


@_adapter("fer2013")
def import_fer2013_csv(root: Path, out_images: Path | None = None, **_) -> pd.DataFrame:
    """``fer2013.csv`` (emotion, pixels, Usage): the 48x48 pixels are written as PNGs under ``out_images``."""
    import cv2

    csv = root if root.is_file() else _need(root / "fer2013.csv", "fer2013.csv")
    base = csv.parent
    data = pd.read_csv(csv)
    missing = {"emotion", "pixels"} - set(data.columns)
    if missing:
        raise DatasetError(f"{csv}: FER2013 csv needs columns emotion, pixels (and Usage); missing {sorted(missing)}")
    out_images = Path(out_images or base / "fer2013_images")
    out_images.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (emotion, pixels, usage) in enumerate(
        zip(data["emotion"], data["pixels"], data.get("Usage", pd.Series([""] * len(data))))
    ):
        values = np.array(str(pixels).split(), dtype=np.uint8)
        if values.size != 48 * 48:
            raise DatasetError(f"{csv}: row {i} has {values.size} pixels, expected 2304 (48 x 48)")
        path = out_images / f"{i:05d}.png"
        cv2.imwrite(str(path), values.reshape(48, 48))
        rows.append(
            {
                "path": path.resolve().as_posix(),
                "split": SPLIT_NAMES.get(str(usage).lower(), ""),
                "label": BASIC7[int(emotion)],
                "label_set": "basic7",
            }
        )
    return _frame(rows, "fer2013")


@_adapter("ferplus")
def import_ferplus(root: Path, **_) -> pd.DataFrame:
    """FER+ ``fer2013new.csv`` votes with images in ``FER2013Train|Valid|Test``; label = majority vote."""
    csv = _need(root / "fer2013new.csv", "fer2013new.csv")
    votes_cols = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
    names = {
        "neutral": "neutral",
        "happiness": "happy",
        "surprise": "surprise",
        "sadness": "sad",
        "anger": "angry",
        "disgust": "disgust",
        "fear": "fear",
        "contempt": "contempt",
    }
    data = pd.read_csv(csv)
    folders = {
        "Training": ("FER2013Train", "train"),
        "PublicTest": ("FER2013Valid", "val"),
        "PrivateTest": ("FER2013Test", "test"),
    }
    rows = []
    for _, r in data.iterrows():
        name = str(r.get("Image name", ""))
        if not name or name == "nan":
            continue
        votes = r[votes_cols].astype(float).to_numpy()
        other = float(r.get("unknown", 0)) + float(r.get("NF", 0))
        if votes.max() <= 0 or votes.max() < other:
            continue  # no face, or "unknown" dominates: FER+ recommends dropping these
        folder, split = folders.get(r["Usage"], ("", ""))
        rows.append(
            {
                "path": f"{folder}/{name}",
                "split": split,
                "label": names[votes_cols[int(votes.argmax())]],
                "label_set": "basic8",
                "intensities": ";".join(f"{names[c]}:{int(v)}" for c, v in zip(votes_cols, votes) if v),
            }
        )
    return _frame(rows, "ferplus")


# ---- datasets with attribute files -----------------------------------------------------------------------------
RAF_GENDER = {0: "male", 1: "female", 2: "unsure"}
RAF_RACE = {0: "caucasian", 1: "african_american", 2: "asian"}
RAF_AGE = {0: "0-3", 1: "4-19", 2: "20-39", 3: "40-69", 4: "70+"}


@_adapter("rafdb")
def import_rafdb(root: Path, **_) -> pd.DataFrame:
    """RAF-DB basic: ``EmoLabel/list_patition_label.txt``, ``Image/aligned``, ``Annotation/manual`` attributes."""
    labels = _need(root / "EmoLabel" / "list_patition_label.txt", "RAF-DB's EmoLabel/list_patition_label.txt")
    rows = []
    for line in labels.read_text().split("\n"):
        if not line.strip():
            continue
        name, label = line.split()
        stem = Path(name).stem
        aligned = root / "Image" / "aligned" / f"{stem}_aligned.jpg"
        path = aligned if aligned.exists() else root / "Image" / "original" / name
        row = {
            "path": _rel(path, root),
            "split": "train" if name.startswith("train") else "test",
            "label": RAFDB7[int(label) - 1],
            "label_set": "rafdb7",
        }
        attri = root / "Annotation" / "manual" / f"{stem}_manu_attri.txt"
        if attri.exists():
            values = [int(v) for v in attri.read_text().split()[-3:]]  # after 5 landmark lines: gender race age
            row |= {"gender": RAF_GENDER[values[0]], "race": RAF_RACE[values[1]], "age": RAF_AGE[values[2]]}
        rows.append(row)
    return _frame(rows, "rafdb")


@_adapter("affectnet")
def import_affectnet(root: Path, **_) -> pd.DataFrame:
    """AffectNet (``train_set|val_set/images/<id>.jpg`` + ``annotations/<id>_exp.npy``, ``_val``, ``_aro``)."""
    rows = []
    for split_dir, split in (("train_set", "train"), ("val_set", "val")):
        images = root / split_dir / "images"
        if not images.is_dir():
            continue
        for img in _images(images):
            ann = root / split_dir / "annotations"
            exp = np.load(ann / f"{img.stem}_exp.npy", allow_pickle=False)
            row = {"path": _rel(img, root), "split": split, "label": AFFECTNET8[int(exp)], "label_set": "affectnet8"}
            for key in ("val", "aro"):
                f = ann / f"{img.stem}_{key}.npy"
                if f.exists():
                    row["valence" if key == "val" else "arousal"] = float(np.load(f, allow_pickle=False))
            rows.append(row)
    if not rows:
        raise DatasetError(f"affectnet: expected train_set/images and val_set/images under {root}")
    return _frame(rows, "affectnet")


@_adapter("celeba")
def import_celeba(root: Path, **_) -> pd.DataFrame:
    """CelebA: ``list_attr_celeba.txt``, ``list_eval_partition.txt``, ``img_align_celeba/``; Smiling is the label."""
    attr_file = _need(root / "list_attr_celeba.txt", "CelebA's list_attr_celeba.txt")
    lines = attr_file.read_text().split("\n")
    names = lines[1].split()
    part_file = root / "list_eval_partition.txt"
    parts = (
        dict(line.split() for line in part_file.read_text().split("\n") if line.strip()) if part_file.exists() else {}
    )
    split_of = {"0": "train", "1": "val", "2": "test"}
    rows = []
    for line in lines[2:]:
        if not line.strip():
            continue
        fields = line.split()
        attrs = dict(zip(names, (v == "1" for v in fields[1:])))
        row = {
            "path": f"img_align_celeba/{fields[0]}",
            "split": split_of.get(parts.get(fields[0], ""), ""),
            "label": CELEBA_SMILING[int(attrs["Smiling"])],
            "label_set": "celeba_smiling",
            "gender": "male" if attrs["Male"] else "female",
            "age": "young" if attrs["Young"] else "old",
        }
        row |= {n.lower(): int(v) for n, v in attrs.items() if n not in ("Smiling", "Male", "Young")}
        rows.append(row)
    return _frame(rows, "celeba")


UTK_GENDER = {"0": "male", "1": "female"}
UTK_RACE = {"0": "white", "1": "black", "2": "asian", "3": "indian", "4": "other"}


@_adapter("utkface")
def import_utkface(root: Path, **_) -> pd.DataFrame:
    """UTKFace: ``[age]_[gender]_[race]_[date].jpg(.chip.jpg)``; no expression label (an unlabelled pool)."""
    rows = []
    for img in _images(root):
        m = re.match(r"^(\d+)_([01])_([0-4])_", img.name)
        if m:
            rows.append(
                {
                    "path": _rel(img, root),
                    "age": int(m.group(1)),
                    "gender": UTK_GENDER[m.group(2)],
                    "race": UTK_RACE[m.group(3)],
                }
            )
    return _frame(rows, "utkface")


@_adapter("fairface")
def import_fairface(root: Path, **_) -> pd.DataFrame:
    """FairFace: ``fairface_label_train.csv`` / ``fairface_label_val.csv`` (file, age, gender, race)."""
    rows = []
    for csv, split in (("fairface_label_train.csv", "train"), ("fairface_label_val.csv", "val")):
        if (root / csv).exists():
            for r in pd.read_csv(root / csv).itertuples():
                rows.append(
                    {
                        "path": r.file,
                        "split": split,
                        "age": r.age,
                        "gender": str(r.gender).lower(),
                        "race": str(r.race).lower().replace(" ", "_"),
                    }
                )
    if not rows:
        raise DatasetError(f"fairface: expected fairface_label_train.csv or fairface_label_val.csv in {root}")
    return _frame(rows, "fairface")


CKPLUS = ("neutral", "angry", "contempt", "disgust", "fear", "happy", "sad", "surprise")


@_adapter("ckplus")
def import_ckplus(root: Path, **_) -> pd.DataFrame:
    """CK+: ``cohn-kanade-images/S005/001/*.png`` with ``Emotion/S005/001/*_emotion.txt`` on the peak frame."""
    emotion_root = _need(root / "Emotion", "CK+'s Emotion folder")
    rows = []
    for label_file in sorted(emotion_root.rglob("*_emotion.txt")):
        code = int(float(label_file.read_text().split()[0]))
        frame = label_file.name.replace("_emotion.txt", ".png")
        rel_dir = label_file.parent.relative_to(emotion_root)
        rows.append(
            {
                "path": f"cohn-kanade-images/{rel_dir.as_posix()}/{frame}",
                "label": CKPLUS[code],
                "label_set": "basic8",
                "subject": rel_dir.parts[0],
            }
        )
    return _frame(rows, "ckplus")


JAFFE = {"AN": "angry", "DI": "disgust", "FE": "fear", "HA": "happy", "SA": "sad", "SU": "surprise", "NE": "neutral"}


@_adapter("jaffe")
def import_jaffe(root: Path, **_) -> pd.DataFrame:
    """JAFFE: ``KA.AN1.39.tiff`` = subject KA, expression AN (angry), sample 1."""
    rows = []
    for img in _images(root):
        m = re.match(r"^([A-Z]{2})\.([A-Z]{2})\d*\.\d+\.", img.name)
        if m and m.group(2) in JAFFE:
            rows.append(
                {
                    "path": _rel(img, root),
                    "label": JAFFE[m.group(2)],
                    "label_set": "basic7",
                    "subject": m.group(1),
                    "gender": "female",
                    "race": "asian",
                }
            )
    return _frame(rows, "jaffe")


@_adapter("au-csv")
def import_au_csv(root: Path, au_set: str = "bp4d", csv: str = "aus.csv", **_) -> pd.DataFrame:
    """BP4D/DISFA frame lists: a csv with path, subject and AU<n> columns. BP4D: occurrence 1 = active (9 =
    unknown, counted inactive); DISFA: intensity >= 2 = active (the FMAE-IAT preprocessing)."""
    table = pd.read_csv(_need(root / csv, f"an AU csv ({csv})"))
    aus = {"bp4d": BP4D12, "disfa": DISFA8}.get(au_set)
    if aus is None:
        raise DatasetError(f"au_set must be bp4d or disfa, got {au_set!r}")
    missing = [f"AU{a}" for a in aus if f"AU{a}" not in table.columns] + [
        c for c in ("path", "subject") if c not in table.columns
    ]
    if missing:
        raise DatasetError(f"{csv}: missing columns {missing}")
    rows = []
    for r in table.to_dict("records"):
        active = [a for a in aus if (r[f"AU{a}"] == 1 if au_set == "bp4d" else r[f"AU{a}"] >= 2)]
        rows.append(
            {
                "path": r["path"],
                "subject": str(r["subject"]),
                "aus": ";".join(f"{a}:1" for a in active),
                "intensities": ";".join(f"{a}:{r[f'AU{a}']}" for a in aus) if au_set == "disfa" else "",
            }
        )
    return _frame(rows, au_set)


def emonet_ratings(root: Path, csv: str = "ratings.csv") -> pd.DataFrame:
    """EmoNet-Face ratings as one long table (image, emotion, annotator, rating) from any of its csv shapes:
    long (image, emotion, rating[, annotator]); wide (image[, annotator] and one column per category, "group|emotion"
    names allowed); or a dict column (``ratings``/``annotation``/``emotions``: {"group|emotion": value}, as hq.csv
    holds per image and annotator). Ratings are 0-7, or yes / no (Binary set)."""
    import ast

    path = _need(Path(root) / csv, f"EmoNet-Face ratings ({csv})")
    table = pd.read_csv(path)
    if "image" not in table.columns:
        raise DatasetError(
            f"{csv}: needs an image column (and emotion + rating, one column per category, or a dict column ratings)"
        )
    if "annotator" not in table.columns:
        table["annotator"] = "rater"
    dict_col = next((c for c in ("ratings", "annotation", "emotions") if c in table.columns), None)
    category_cols = [c for c in table.columns if str(c).split("|")[-1].strip() in EMONET40]
    if {"emotion", "rating"} <= set(table.columns):
        long = table[["image", "emotion", "annotator", "rating"]]
    elif dict_col is not None:
        rows = []
        for r in table.itertuples(index=False):
            cell = getattr(r, dict_col)
            try:
                values = ast.literal_eval(cell) if isinstance(cell, str) and cell.strip() else {}
            except (ValueError, SyntaxError):
                raise DatasetError(
                    f"{csv}: {dict_col} cell {str(cell)[:60]!r} is not a dict of category: rating"
                ) from None
            rows += [{"image": r.image, "emotion": k, "annotator": r.annotator, "rating": v} for k, v in values.items()]
        long = pd.DataFrame(rows, columns=["image", "emotion", "annotator", "rating"])
    elif category_cols:
        long = table.melt(
            id_vars=["image", "annotator"], value_vars=category_cols, var_name="emotion", value_name="rating"
        ).dropna(subset=["rating"])
    else:
        raise DatasetError(
            f"{csv}: needs columns image, emotion, rating (annotator optional), one column per "
            "EmoNet-40 category, or a dict column ratings"
        )
    long = long.assign(
        emotion=long["emotion"].astype(str).str.split("|").str[-1].str.strip(),
        annotator=long["annotator"].astype(str),
        image=long["image"].astype(str),
    )
    unknown = sorted(set(long["emotion"]) - set(EMONET40))
    if unknown:
        raise DatasetError(f"{csv}: unknown EmoNet-40 categories {unknown[:5]}")
    text = long["rating"].astype(str).str.strip().str.lower()
    rating = text.replace({"yes": "7", "no": "0", "true": "7", "false": "0"})
    values = pd.to_numeric(rating, errors="coerce")
    bad = long.loc[values.isna() | (values < 0) | (values > 7), "rating"].astype(str).unique().tolist()
    if bad:
        raise DatasetError(f"{csv}: ratings must be 0-7 or yes/no; found {bad[:5]}")
    return long.assign(rating=values.astype(float), binary=text.isin(["yes", "no", "true", "false"]))


@_adapter("emonet-face")
def import_emonet_face(root: Path, csv: str = "ratings.csv", layout: str = "auto", **_) -> pd.DataFrame:
    """EmoNet-Face (HQ / Binary / Big): per image the mean rating of each rated category as ``intensities`` (yes = 7,
    no = 0) and the top category as the label. ``layout`` hq or big: every category counts as rated (an expert
    leaves out what is absent, i.e. 0), so ``rated`` is "all"; binary: only the queried categories count. auto: binary
    when the ratings are yes / no, else hq."""
    if layout not in ("auto", "hq", "binary", "big"):
        raise DatasetError(f"emonet-face layout must be auto, hq, binary or big, got {layout!r}")
    long = emonet_ratings(Path(root), csv)
    if layout == "auto":
        layout = "binary" if long["binary"].all() else "hq"
    rows = []
    for image, group in long.groupby("image", sort=True):
        means = group.groupby("emotion")["rating"].mean()
        means = means.reindex([c for c in EMONET40 if c in means.index])
        rows.append(
            {
                "path": image,
                "label": means.idxmax(),
                "label_set": "emonet40",
                "intensities": ";".join(f"{e}:{v:.2f}" for e, v in means.items()),
                "rated": "" if layout == "binary" else "all",
                "n_annotators": group["annotator"].nunique(),
            }
        )
    return _frame(rows, "emonet-face")


def import_dataset(fmt: str, root: str | Path, **options) -> pd.DataFrame:
    """Run the adapter named ``fmt`` (a key of :data:`ADAPTERS`) on ``root``."""
    if fmt not in ADAPTERS:
        raise DatasetError(f"unknown dataset format {fmt!r}; choose from {', '.join(sorted(ADAPTERS))}")
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"dataset root {root} does not exist")
    return ADAPTERS[fmt](root, **options)


def write_manifest(df: pd.DataFrame, out: str | Path, root: str | Path | None = None) -> Path:
    """Write a manifest as CSV or Parquet (by suffix); paths relative to ``root`` become relative to the
    manifest's own folder, so the manifest can live anywhere."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if root is not None:
        base = Path(root).resolve()
        here = out.parent.resolve()
        df = df.assign(path=[p if Path(p).is_absolute() else os.path.relpath(base / p, here) for p in df["path"]])
    if out.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(out, index=False)
    else:
        df.to_csv(out, index=False)
    return out


__all__ = ["ADAPTERS", "COLUMNS", "emonet_ratings", "import_dataset", "write_manifest"]
