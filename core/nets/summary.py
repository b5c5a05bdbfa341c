"""A model's layers as rows, for display."""

from __future__ import annotations


def layer_table(model) -> list[dict]:
    """One row per layer: {"layer", "type", "output shape", "parameters"}.

    Nested models (an autoencoder's ``encoder`` and ``decoder``) are one row each,
    followed by their own layers indented. The output shape is one image's (or code's),
    without the batch dimension: "26 × 26 × 32", "784".
    """
    rows = []

    def add(layer, depth):
        output = getattr(layer, "output", None)
        outputs = output if isinstance(output, (list, tuple)) else [output]
        shape = ", ".join(" × ".join(str(d) for d in tuple(o.shape)[1:]) for o in outputs
                          if hasattr(o, "shape")) or "-"
        rows.append({"layer": "    " * depth + layer.name, "type": type(layer).__name__,
                     "output shape": shape, "parameters": int(layer.count_params())})
        for inner in getattr(layer, "layers", []):
            if type(inner).__name__ != "InputLayer":
                add(inner, depth + 1)

    for layer in model.layers:
        if type(layer).__name__ != "InputLayer":
            add(layer, 0)
    return rows
