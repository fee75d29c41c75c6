"""Dependency direction (DESIGN.md section 2): fer_core never imports the dashboard or streamlit, explain/ and
fairness/ never import train/, and only train/ and the batch engine (batch/, Trainer.predict) may import Lightning."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_fer_core_never_imports_ui_or_training_where_forbidden():
    for path in (ROOT / "fer_core").rglob("*.py"):
        rel = path.relative_to(ROOT / "fer_core").parts
        imports = _imports(path)
        assert not any(i.split(".")[0] in ("streamlit", "dashboard") for i in imports), path
        if rel[0] not in ("train", "batch"):
            assert not any(i.split(".")[0] in ("lightning", "pytorch_lightning") for i in imports), path
        if rel[0] in ("explain", "fairness"):
            assert not any("train" in i.split(".") for i in imports), path


def test_dashboard_pages_use_only_public_fer_core():
    for path in (ROOT / "dashboard" / "views").glob("*.py"):
        for name in _imports(path):
            if name.startswith("fer_core"):
                assert not any(part.startswith("_") for part in name.split(".")), f"{path.name}: {name}"
            assert not name.startswith(("torch", "zennit", "captum", "sqlite3", "sqlalchemy")), f"{path.name}: {name}"


PUBLIC_SUBPACKAGES = {
    "agreement",
    "batch",
    "data",
    "errors",
    "explain",
    "face",
    "fairness",
    "models",
    "names",
    "report",
    "runs",
    "store",
    "studies",
    "taxonomy",
    "train",
    "video",
    "workflows",
}


def _fer_core_imports(path: Path) -> set[str]:
    return {n for n in _imports(path) if n == "fer_core" or n.startswith("fer_core.")}


def test_dashboard_and_cli_import_only_the_public_surface():
    """The front door (fer_core/__init__.py) and the documented subpackages, one level deep: no private module and
    no module inside a subpackage (``fer_core.studies.transfer_comparison``), so internals can move freely."""
    files = [*(ROOT / "dashboard").rglob("*.py")]
    for path in files:
        for name in _fer_core_imports(path):
            parts = name.split(".")
            assert len(parts) <= 2, f"{path.relative_to(ROOT)}: {name} reaches inside a subpackage"
            assert len(parts) == 1 or parts[1] in PUBLIC_SUBPACKAGES, f"{path.relative_to(ROOT)}: {name}"


def test_the_front_door_names_resolve_lazily():
    import importlib
    import subprocess
    import sys

    fer_core = importlib.import_module("fer_core")
    for name in fer_core.__all__:
        assert getattr(fer_core, name) is not None, name
    code = "import sys, fer_core; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "import fer_core must not import torch"


def test_every_public_subpackage_declares_all():
    import importlib

    for sub in PUBLIC_SUBPACKAGES - {"errors", "taxonomy", "names"}:
        module = importlib.import_module(f"fer_core.{sub}")
        names = getattr(module, "__all__", None)
        assert names, f"fer_core.{sub} has no __all__"
        missing = [n for n in names if not hasattr(module, n)]
        assert not missing, f"fer_core.{sub}.__all__ lists missing names {missing}"


#: modules inside a subpackage that the CLI still imports, each with why; export the name from the subpackage's
#: ``__init__`` and drop the entry (the test fails on an entry no CLI module uses any more)
CLI_DEEP_IMPORTS = {
    "..models.keras_import": "h5py: imported lazily by import-keras only, kept out of fer_core.models",
    "..workflows.bench": "the benchmarks import their reference implementations: lazily, by bench only",
}


def test_cli_imports_fer_core_only_at_subpackage_level():
    """fer_core/cli/*.py reach fer_core through the subpackages' ``__init__`` (``from ..studies import ...``) and
    their own package (``from ._common import ...``), never a module inside a subpackage nor a private one (except
    ``_utils``, the project's internal helpers), so the subpackages can reorganise their modules freely."""
    cli = ROOT / "fer_core" / "cli"
    cli_modules = {p.stem for p in cli.glob("*.py")}
    used = set()
    for path in sorted(cli.glob("*.py")):
        for name in _imports(path):
            if name.startswith("fer_core"):  # an absolute import, as the relative one it stands for
                name = ".." + name.removeprefix("fer_core").removeprefix(".")
            if not name.startswith("."):
                continue
            where = f"fer_core/cli/{path.name}: {name}"
            if not name.startswith(".."):  # this package: "." or ".module"
                assert name == "." or name[1:] in cli_modules, where
                continue
            parts = name[2:].split(".")
            assert not name.startswith("...") and parts[0], f"{where}: name the subpackage"
            if parts[0] == "_utils":
                continue
            assert parts[0] in PUBLIC_SUBPACKAGES, f"{where}: not a public subpackage"
            if len(parts) > 1:
                assert name in CLI_DEEP_IMPORTS, f"{where} reaches inside a subpackage"
                used.add(name)
    assert used == set(CLI_DEEP_IMPORTS), f"unused CLI_DEEP_IMPORTS entries: {set(CLI_DEEP_IMPORTS) - used}"
