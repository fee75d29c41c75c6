"""Dependency direction (DESIGN.md section 2): fer_core never imports the dashboard or streamlit, explain/ and
fairness/ never import train/, and only train/ may import Lightning."""
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
        if rel[0] != "train":
            assert not any(i.split(".")[0] in ("lightning", "pytorch_lightning") for i in imports), path
        if rel[0] in ("explain", "fairness"):
            assert not any("train" in i.split(".") for i in imports), path


def test_dashboard_pages_use_only_public_fer_core():
    for path in (ROOT / "dashboard" / "views").glob("*.py"):
        for name in _imports(path):
            if name.startswith("fer_core"):
                assert not any(part.startswith("_") for part in name.split(".")), f"{path.name}: {name}"
            assert not name.startswith(("torch", "zennit", "captum", "sqlite3", "sqlalchemy")), f"{path.name}: {name}"
