"""Layers only point down: staging reads sources and seeds, intermediate models read staging,
other intermediate models and seeds, marts read any of those and other marts. A model that
reads a layer above its own (an intermediate model reading a mart, say) fails here, named
with what it reads. The layer is the model's folder under models/ (its fqn)."""

from __future__ import annotations

import json

from orchestration.defs.dbt import DBT_PROJECT

LAYERS = ("staging", "intermediate", "marts")  # bottom to top


def _layer(node: dict) -> str:
    return node["fqn"][1]  # ["sros", "<layer>", ..., "<model>"]


def test_no_model_reads_a_layer_above_its_own() -> None:
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    models = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    assert {_layer(node) for node in models.values()} == set(LAYERS)
    upward = [
        f"{model['name']} ({_layer(model)}) reads {models[parent]['name']} "
        f"({_layer(models[parent])})"
        for model in models.values()
        for parent in model["depends_on"]["nodes"]
        if parent in models and LAYERS.index(_layer(models[parent])) > LAYERS.index(_layer(model))
    ]
    assert upward == []
