"""What the Runs page lists: one row per run from its run.json, the shipped configs with their recipes, a run's
config as YAML and its sensitive columns."""

from __future__ import annotations

import yaml

from fer_core.runs import (
    EMBEDDED_RUNS_DIR,
    RUNS_TABLE_COLUMNS,
    config_recipe,
    config_yaml,
    open_run,
    run_summary,
    runs_table,
    sensitive_columns,
    shipped_configs,
    write_status,
)


def test_a_run_summary_reads_its_status(tmp_path):
    folder = tmp_path / "r1"
    folder.mkdir()
    write_status(
        folder,
        recipe="supervised",
        status="finished",
        epoch=11,
        epochs=12,
        started=0,
        test={"accuracy": 0.9, "macro_f1": 0.8, "worst_group_acc": 0.75, "note": "x"},
    )
    row = run_summary(folder)
    assert row == {
        "run": "r1",
        "recipe": "supervised",
        "status": "finished",
        "epoch": "12/12",
        "test accuracy": 0.9,
        "test macro-F1": 0.8,
        "other test figures": "worst group acc 0.75, note x",
        "started": "1970-01-01 00:00",
    }
    write_status(folder, status="running", epoch=0, epochs=None, test=None)
    assert run_summary(folder)["epoch"] == "" and run_summary(folder)["test accuracy"] is None


def test_the_table_has_one_row_per_run_in_order():
    runs = [EMBEDDED_RUNS_DIR / "synthfacs_bias_supervised", EMBEDDED_RUNS_DIR / "synthfacs_au_iat"]
    table = runs_table(runs)
    assert list(table.columns) == list(RUNS_TABLE_COLUMNS)
    assert list(table["run"]) == ["synthfacs_bias_supervised", "synthfacs_au_iat"]
    assert list(table["recipe"]) == ["supervised", "au_iat"]


def test_shipped_configs_and_their_recipes(tmp_path):
    configs = shipped_configs()
    assert configs and list(configs) == sorted(configs) and all(n.endswith(".yaml") for n in configs)
    for path in configs.values():
        assert config_recipe(path) == (yaml.safe_load(path.read_text()) or {}).get("recipe", "supervised")
    bare = tmp_path / "bare.yaml"
    bare.write_text("data: {}\n")
    assert config_recipe(bare) == "supervised" and config_recipe(bare, default="transfer") == "transfer"


def test_a_runs_config_text_and_sensitive_columns():
    run = open_run(EMBEDDED_RUNS_DIR / "synthfacs_bias_fair_mmd")
    assert yaml.safe_load(config_yaml(run)) == run.config
    assert config_yaml(run).startswith("recipe: fair_mmd")  # the run's own key order
    assert sensitive_columns(run) == ["age", "skin_tone", "gender"]
