"""Config files: every key documented, unknown keys and bad values rejected by name, overrides parsed as YAML."""

from __future__ import annotations

from dataclasses import fields

import pytest

from fer_core.train import ConfigError, config_from_dict, config_help, load_config
from fer_core.train.config import (
    DataConfig,
    FairConfig,
    ModelConfig,
    OptimConfig,
    TrainerConfig,
    TransferConfig,
    apply_overrides,
)


def test_unknown_key_is_named_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown config key optim\.'epoch'.*did you mean 'epochs'"):
        config_from_dict({"optim": {"epoch": 3}})


def test_unknown_section_is_named():
    with pytest.raises(ConfigError, match="'fairness'.*did you mean 'fair'"):
        config_from_dict({"fairness": {"lambda_mmd": 1}})


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"optim": {"epochs": "ten"}}, "optim.epochs must be an integer"),
        ({"optim": {"lr": -1}}, "optim.lr must be > 0"),
        ({"data": {"sampler": "balanced"}}, "data.sampler must be one of"),
        ({"data": {"hflip": "yes"}}, "data.hflip must be true or false"),
        ({"data": {"val_fraction": 0.6, "test_fraction": 0.5}}, "must leave rows for training"),
        ({"fair": {"bandwidths": [0]}}, "fair.bandwidths"),
    ],
)
def test_bad_values_are_named(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_overrides_are_yaml_values():
    raw = apply_overrides(
        {"optim": {"epochs": 3}}, ["optim.epochs=5", "fair.bandwidths=[0.5, 1, 2]", "data.hflip=false", "name=run1"]
    )
    cfg = config_from_dict(raw)
    assert cfg.optim.epochs == 5 and cfg.fair.bandwidths == [0.5, 1, 2] and cfg.data.hflip is False
    assert cfg.name == "run1"
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides({}, ["optim.epochs"])


def test_help_documents_every_key():
    text = config_help()
    for cls in (DataConfig, ModelConfig, OptimConfig, FairConfig, TransferConfig, TrainerConfig):
        for f in fields(cls):
            assert f"    {f.name} " in text, f.name
            assert f.metadata["help"], f.name


def test_manifest_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    cfg_file = tmp_path / "sub" / "c.yaml"
    cfg_file.write_text("data:\n  manifest: data/m.csv\n", encoding="utf-8")
    cfg = load_config(cfg_file, recipe="supervised")
    assert cfg.data.manifest == str((tmp_path / "sub" / "data" / "m.csv").resolve())


def test_recipe_conflict_is_reported(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("recipe: fair_mmd\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="for recipe 'fair_mmd' but 'supervised'"):
        load_config(cfg_file, recipe="supervised")


def test_shipped_configs_load():
    from tests.conftest import ROOT

    for path in sorted((ROOT / "assets" / "configs").glob("*.yaml")):
        cfg = load_config(path)
        assert cfg.recipe in ("supervised", "fair_mmd", "transfer", "semi_dtm", "au_iat", "emonet40"), path


def test_the_recipe_list_is_importable_without_lightning_and_every_recipe_implements_it():
    import subprocess
    import sys

    code = (
        "import sys; from fer_core.train import RECIPES, RECIPE_NAMES; "
        "assert 'lightning' not in sys.modules, 'the recipe list imported Lightning'; print(len(RECIPE_NAMES))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    from fer_core.train import RECIPE_NAMES, RECIPES, Recipe, get_recipe

    assert int(out.stdout) == len(RECIPES) == 7
    for name in RECIPE_NAMES:
        recipe = get_recipe(name)
        assert isinstance(recipe, Recipe) and recipe.info is RECIPES[name]
    with pytest.raises(ValueError, match="did you mean 'fair_mmd'"):
        get_recipe("fair_mdm")
