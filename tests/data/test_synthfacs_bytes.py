"""SynthFACS byte-for-byte regression: SHA-256 digests of what the renderer produces, pinned.

Rendered sets are cached under a key that includes ``RENDERER_VERSION`` and the claims' figures are computed on
rendered faces, so any change to the renderer's pixels, masks, landmarks, labels or written files must be a deliberate
one (and bump ``RENDERER_VERSION``). These cases together touch every code path of the renderer: identity sampling
(every skin tone, age, gender and hair style, fringe or not), every AU alone and in combinations (furrows, nose
wrinkles, open mouth with teeth, dimples, chin boss, press lines ...), every lighting (and an unknown one), glasses and
mask occluders, blur and noise on and off, sizes 32 / 48 / 112, the bias, lighting-bias, habit, label-noise, group and
label-probability knobs, EmoNet-40 faces, ``metadata``, ``write_dataset`` (basic-7 and EmoNet-40 with ``ratings.csv``,
an ``indices`` subset over two worker processes, a progress bar and callback, numpy arrays in ``spec.json``), the
AU/label helpers and the spec validation messages.

The golden digests are of the renderer on x86-64 with AVX2 (the project pins numerics to AVX2, see
:mod:`fer_core.train.numerics`, which notes that the renderer's bytes are the same with and without AVX-512 and differ
on CPUs without AVX2). They were checked not to depend on OpenCV's or OpenMP's thread count (``cv2.setNumThreads``
1 and 8, ``OMP_NUM_THREADS=1``, ``OPENCV_CPU_DISABLE=AVX512-SKX`` all give the same table), so nothing is pinned here.

To re-record after a deliberate change: ``python tests/data/test_synthfacs_bytes.py`` prints the new table.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from fer_core.data import synthfacs as sf


def _h():
    return hashlib.sha256()


def _add_array(h, a: np.ndarray) -> None:
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


def _add_render(h, out) -> None:
    for a in out:
        _add_array(h, a)


def _add_json(h, obj) -> None:
    h.update(json.dumps(obj, sort_keys=True, default=str).encode())


def _add_tree(h, root: Path) -> None:
    """Every file under ``root``: relative path and bytes, in sorted order."""
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())


def _add_frame(h, df) -> None:
    import pandas as pd

    h.update(json.dumps([list(map(str, df.columns)), [str(t) for t in df.dtypes]]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    h.update(df.to_csv(index=False, lineterminator="\n").encode())


# ---------------------------------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------------------------------

BIASED = {
    "n": 10,
    "size": 48,
    "seed": 13,
    "label_probs": {
        "happy": 2.0,
        "sad": 1.0,
        "angry": 1.0,
        "neutral": 0.5,
        "fear": 1.0,
        "disgust": 1.0,
        "surprise": 1.0,
    },
    "bias": [
        {"attribute": "skin_tone", "group": "dark", "label": "happy", "strength": 0.6},
        {"attribute": "gender", "group": "feminine", "label": "sad", "strength": 0.3},
    ],
    "lighting_bias": {"attribute": "age", "group": "older", "lighting": "dim", "strength": 0.5},
    "habit_rate": 1.0,
    "habit_share": 0.5,
    "label_noise": 0.3,
    "glasses_rate": 0.3,
    "mask_rate": 0.3,
    "n_identities": 3,
    "group_probs": {"skin_tone": (0.2, 0.3, 0.5), "age": (0.2, 0.3, 0.5)},
    "blur_rate": 1.0,
    "max_blur": 1.5,
    "max_noise": 9.0,
    "max_roll": 8.0,
    "intensity": (0.25, 0.5),
}


def case_generate() -> dict[str, str]:
    out = {}
    for name, spec, kw in (
        ("generate_default_seed0", sf.SynthSpec(n=6, size=48, seed=0), {}),
        ("generate_default_seed7_112", sf.SynthSpec(n=4, size=112, seed=7), {}),
        ("generate_seed3_size32_slice", sf.SynthSpec(n=8, size=32, seed=3), {"start": 2, "stop": 6}),
        ("generate_biased", sf.SynthSpec(**BIASED), {}),
        (
            "generate_seq_probs_noblur_nonoise",
            sf.SynthSpec(
                n=5, size=40, seed=21, label_probs=[1, 1, 1, 1, 1, 1, 3], blur_rate=0.0, max_noise=0.0, max_roll=0.0
            ),
            {},
        ),
        ("generate_emonet", sf.SynthSpec(n=8, size=48, seed=9, label_set="emonet40", habit_rate=0.5), {}),
    ):
        h = _h()
        for s in sf.generate(spec, **kw):
            _add_json(h, [s.index, s.label, s.true_label, s.split, s.row(), asdict(s.params), s.identity.subject])
            _add_render(h, (s.image, s.evidence, s.landmarks))
        meta = sf.metadata(spec)
        _add_frame(h, meta)
        out[name] = h.hexdigest()
    return out


def case_params_only() -> dict[str, str]:
    """Parameter sampling alone over many faces (cheap): labels, AUs, nuisances, splits."""
    h = _h()
    for spec in (
        sf.SynthSpec(n=300, seed=4),
        sf.SynthSpec(**(BIASED | {"n": 300})),
        sf.SynthSpec(n=300, seed=5, label_set="emonet40", habit_rate=1.0, habit_share=0.3),
    ):
        for i in range(0, spec.n, 7):
            p, label, true_label, split = sf.sample_params(spec, i)  # no shared cache
            _add_json(h, [i, label, true_label, split, asdict(p)])
    return {"sample_params": h.hexdigest()}


def _base(size: int = 112):
    return sf.sample_params(sf.SynthSpec(n=4, size=size, seed=21, glasses_rate=0.0, mask_rate=0.0), 1)[0]


def case_aus() -> dict[str, str]:
    """Every AU alone at two intensities, a few combinations, explicit and derived labels, EmoNet labels."""
    out = {}
    for size in (48, 112):
        base = _base(size)
        h = _h()
        for au in sf.AUS:
            for v in (0.3, 1.0):
                p = sf.with_aus(base, {au: v})
                _add_json(h, [p.resolved_label(), p.aus])
                _add_render(h, sf.render_face(p))
        combos = [
            ({25: 1.0, 26: 1.0}, None),
            ({25: 1.0, 26: 1.0, 10: 1.0, 16: 1.0}, None),
            ({1: 0.9, 2: 0.9, 4: 0.9, 5: 0.9, 7: 0.9, 20: 0.9, 26: 0.9}, None),
            ({6: 0.8, 12: 0.9, 25: 0.5, 14: 0.6, 17: 0.7, 24: 0.7}, "happy"),
            ({9: 1.0, 15: 0.7, 16: 0.7, 17: 0.6}, "disgust"),
            ({9: 1.0, 10: 1.0}, None),
            ({4: 0.7, 5: 0.7, 7: 0.7, 23: 0.7, 24: 0.5}, "angry"),
            ({1: 0.6, 4: 0.6, 15: 0.6, 17: 0.4}, None),
            ({6: 1.0, 12: 1.0, 25: 1.0, 26: 1.0}, "Amusement"),
            ({10: 0.8, 17: 0.8, 24: 0.8}, "Bitterness"),
            ({4: 0.8, 6: 0.8, 7: 0.8, 9: 0.8, 10: 0.8}, "Pain"),
            ({14: 0.9}, "Contempt"),
            ({12: 0.9}, "surprise"),  # a label whose AUs are not shown: no evidence
        ]
        for aus, label in combos:
            p = sf.with_aus(base, aus, label)
            _add_json(h, [p.resolved_label(), p.aus])
            _add_render(h, sf.render_face(p))
            _add_render(h, sf.render_face(sf.neutral_of(p)))
        out[f"aus_size{size}"] = h.hexdigest()
    return out


def case_identities() -> dict[str, str]:
    """Identities of every group (forced and drawn), lightings, occluders, blur/noise on and off, return_occluder."""
    base = _base(48)
    h = _h()
    styles, fringes = set(), set()
    lightings = (*sf.LIGHTINGS, "no-such-lighting")
    k = 0
    for tone in sf.SKIN_TONES:
        for age in sf.AGES:
            for gender in sf.GENDERS:
                for subject in (k, k + 100):
                    idn = sf.make_identity(
                        5, subject, habit_rate=0.5, skin_tone=tone if subject == k else None, age=age, gender=gender
                    )
                    styles.add(idn.hair_style)
                    fringes.add(idn.fringe)
                    _add_json(h, asdict(idn))
                    occ = sf.OCCLUDERS[k % 3]
                    p = replace(
                        base,
                        identity=idn,
                        lighting=lightings[k % len(lightings)],
                        occluder=occ,
                        occluder_color=(30.0 + k, 60.0, 250.0 + k),  # clipped to 255 on some channels
                        blur_sigma=0.0 if k % 2 else 0.8,
                        noise_sigma=0.0 if k % 4 == 1 else 4.0,
                        aus=((1, 0.7), (2, 0.7), (5, 0.7), (26, 0.7)) if k % 2 else ((6, 0.9), (12, 0.9)),
                        label=None,
                    )
                    _add_render(h, sf.render_face(p, return_occluder=True))
                k += 1
    for subject in range(40):  # drawn groups, with group_probs
        idn = sf.make_identity(2, subject, habit_rate=0.3, group_probs={"gender": (0.5, 0.5), "age": (0.1, 0.1, 0.8)})
        styles.add(idn.hair_style)
        fringes.add(idn.fringe)
        _add_json(h, asdict(idn))
    assert styles == {"short", "long", "bob", "bald"} and fringes == {True, False}  # coverage of the hair branches
    return {"identities": h.hexdigest()}


def case_write(root: Path) -> dict[str, str]:
    out = {}
    calls: list[tuple[int, int]] = []
    spec = sf.SynthSpec(**(BIASED | {"n": 6, "size": 40}))
    m = sf.write_dataset(spec, root / "basic7", callback=lambda d, n: calls.append((d, n)))
    assert m == root / "basic7" / "manifest.csv" and calls == [(i, 6) for i in range(1, 7)]
    h = _h()
    _add_tree(h, root / "basic7")
    out["write_basic7"] = h.hexdigest()

    # an ``indices`` subset out of order, over two chunks rendered by two worker processes, with a progress bar and
    # numpy arrays in the spec (written to spec.json through the JSON fallback)
    probs = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    subset = sf.SynthSpec(n=150, size=32, seed=2, label_probs=probs, group_probs={"age": np.array([0.2, 0.3, 0.5])})
    sf.write_dataset(subset, root / "subset", indices=[149, *range(1, 140, 2), 0], workers=2, progress=True)
    h = _h()
    _add_tree(h, root / "subset")
    out["write_subset"] = h.hexdigest()

    sf.write_dataset(sf.SynthSpec(n=6, size=40, seed=3, label_set="emonet40"), root / "emonet")
    assert (root / "emonet" / "ratings.csv").is_file()
    h = _h()
    _add_tree(h, root / "emonet")
    out["write_emonet"] = h.hexdigest()
    return out


def case_tables() -> dict[str, str]:
    """Tables, label/AU helpers and validation messages."""
    h = _h()
    names = [
        "AUS",
        "EMFACS_PROTOTYPES",
        "EMONET_PROTOTYPES",
        "EMONET_ANNOTATORS",
        "LABEL_EXTRAS",
        "HABIT_AUS",
        "SKIN_TONES",
        "AGES",
        "GENDERS",
        "LIGHTINGS",
        "OCCLUDERS",
        "GROUP_ATTRIBUTES",
        "ACTIVE_THRESHOLD",
        "RENDERER_VERSION",
        "MANIFEST_COLUMNS",
        "EMONET_COLUMNS",
    ]
    _add_json(h, {n: getattr(sf, n) for n in names})
    _add_json(h, sorted(sf.__all__))
    rng = np.random.default_rng(0)
    for _ in range(300):
        aus = {int(a): float(np.round(rng.random(), 2)) for a in rng.choice(sf.AUS, rng.integers(0, 8), replace=False)}
        label = sf.label_from_aus(aus)
        text = sf.format_aus(aus)
        _add_json(h, [label, text, sorted(sf.parse_aus(text).items()), sf.evidence_aus(label, aus)])
        _add_json(h, [sf.label_from_aus(aus, threshold=0.5), sf.evidence_aus("Pain", aus, threshold=0.1)])
    _add_json(h, [sf.parse_aus(""), sf.parse_aus(None), sf.parse_aus("6; 12:0.5;")])
    for label, protos in sf.EMONET_PROTOTYPES.items():
        for v in (0.3, 0.55, 0.8, 1.0):
            aus = {a: v for a in protos}
            _add_json(h, [label, sf.emonet_level(aus, label), sf.emonet_intensities(label, aus)])
    _add_json(h, [sf.emonet_level_of(u) for u in np.linspace(0, 0.999999, 50)])
    _add_json(h, [sf.parse_bias("skin_tone=dark:happy:0.6"), sf.parse_bias(" age = older : sad : 0 ")])
    spec = sf.SynthSpec(**BIASED)
    _add_json(h, [spec.identities, sf.SynthSpec(n=500).identities, sf.SynthSpec(n=3).identities])
    _add_array(h, spec.base_label_probs())
    _add_json(h, [sf.manifest_columns(spec), sf.manifest_columns(sf.SynthSpec(n=1, label_set="emonet40"))])
    errors = []
    for kw in (
        {"label_set": "x"},
        {"label_set": "emonet40", "label_noise": 0.1},
        {"n": -1},
        {"size": 16},
        {"habit_share": 1.5},
        {"intensity": (0.1, 0.5)},
        {"glasses_rate": 0.6, "mask_rate": 0.6},
        {"label_probs": {"joy": 1.0}},
        {"label_probs": [1, 2]},
        {"label_probs": [0] * 7},
        {"bias": {"attribute": "height", "group": "x", "label": "happy"}},
        {"bias": {"attribute": "age", "group": "dark", "label": "happy"}},
        {"bias": {"attribute": "age", "group": "older", "label": "joy"}},
        {"bias": {"attribute": "age", "group": "older", "label": "happy", "strength": 2}},
        {"lighting_bias": {"attribute": "age", "group": "older", "lighting": "neon"}},
    ):
        with pytest.raises(ValueError) as exc:
            sf.SynthSpec(**({"n": 2} | kw))
        errors.append(str(exc.value))
    for text in ("nonsense", "skin_tone=dark:happy"):
        with pytest.raises(ValueError) as exc:
            sf.parse_bias(text)
        errors.append(str(exc.value))
    _add_json(h, errors)
    return {"tables": h.hexdigest()}


def all_digests(root: Path) -> dict[str, str]:
    return case_tables() | case_params_only() | case_generate() | case_aus() | case_identities() | case_write(root)


# ---------------------------------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------------------------------


def _check(got: dict[str, str]) -> None:
    want = {k: GOLDEN[k] for k in got}
    bad = [k for k in got if got[k] != want[k]]
    assert not bad, f"renderer output changed for {bad}: {json.dumps({k: got[k] for k in bad}, indent=1)}"


def test_tables_and_helpers_bytes():
    _check(case_tables())


def test_sample_params_bytes():
    _check(case_params_only())


def test_generate_and_metadata_bytes():
    _check(case_generate())


def test_every_au_bytes():
    _check(case_aus())


def test_identities_lightings_occluders_bytes():
    _check(case_identities())


def test_write_dataset_bytes(tmp_path):
    _check(case_write(tmp_path))


def test_measure_speed_runs():
    assert sf.measure_speed(n=3, size=32) > 0


#: Recorded from the single-module renderer (fer_core/data/synthfacs.py) before it was split into a package.
GOLDEN: dict[str, str] = {
    "aus_size112": "79a225c3a04e2d874da012d9c6d6d7cad43fe5c71d55ca2c2d9282abe99ba2c2",
    "aus_size48": "e6ac1dcab5270c7b49754a472f6dd042e500dac027fdcb180aae6d1c351fde1a",
    "generate_biased": "77dadb3aa38e192a7cc50084456fa728b3e8e7e11486f238589a468d21aede7a",
    "generate_default_seed0": "806f8ec752cf06349211ef4f0210a530f01c682b6e51664bc214fe6d88690fd4",
    "generate_default_seed7_112": "1b11f732eddd48e9d2d536676bd1eace1e88f41e57c4b269fc7270526d2ada4a",
    "generate_emonet": "bacb4881edb3b3cc048147761a83ebf8322443b56e9a7614adbddd734d092191",
    "generate_seed3_size32_slice": "bc4c81eb722afa6c3348deadf191a471ff0df3bc09eccddcd849449038eb6864",
    "generate_seq_probs_noblur_nonoise": "82d0ad15cd00264c35cbdf6030ff30a317f90381b6947d89deefb07030cf6ec4",
    "identities": "602cc39717626a396159625ae181e4c2bb515fa602be542015f5a4819f45c4e0",
    "sample_params": "4a46fb6c7b4541060931c81906ca6057ac4180813396864033d6b660de6d4352",
    "tables": "4b68cf335a30fc7589e5031146b57269b0a23ea3f9c42a66f14eb19bda0ba5c8",
    "write_basic7": "e49931990cb67b0c949000b944f7c3179ff3a6c0c126fcfb3f3607a4fc413455",
    "write_emonet": "0f344a6297f03152f03f46151b93c64cd4aa70199d1ad7b7bb6f196f07599fe8",
    "write_subset": "2eba82f98227225af4ac4ac7345d369d19c9f14e7226f52d01494e5e7956216a",
}


if __name__ == "__main__":  # print the digest table (to re-record after a deliberate renderer change)
    with tempfile.TemporaryDirectory() as d:
        json.dump(all_digests(Path(d)), sys.stdout, indent=4, sort_keys=True)
    print()
