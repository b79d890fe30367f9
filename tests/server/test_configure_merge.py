"""Item 4: ``configure`` merges typed sections. A section that is not an object is refused
naming ``config.<section>`` (it used to crash the merge: "'int' object does not support
item assignment"); a null section keeps its values; the session is left as it was."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from server_helpers import Conn, SessionHandle

from backprop_playground.live.handlers import merge_config
from backprop_playground.trainer import TrainerConfig, config_to_dict


def _config(app: FastAPI, session: SessionHandle) -> dict[str, Any]:
    result: dict[str, Any] = config_to_dict(app.state.registry.get(session.id).trainer.config)
    return result


@pytest.mark.parametrize("section", ["network", "data", "hyper"])
@pytest.mark.parametrize("value", [5, [], "x", True, 1.5])
def test_a_section_that_is_not_an_object_is_refused(presenter: Conn, app: FastAPI,
                                                    session: SessionHandle, section: str,
                                                    value: Any) -> None:
    """``{"network": 5, "data": {"dataset": "xor"}}`` and its relatives are refused naming
    the section; nothing changes and the socket keeps working."""
    before = _config(app, session)
    changes = {section: value, **({} if section == "data" else {"data": {"dataset": "circle"}})}
    error = presenter.error({"type": "configure", "config": changes})
    assert error["field"] == f"config.{section}", error
    assert "could not do that" not in error["message"]
    assert _config(app, session) == before
    presenter.ack({"type": "step"})


def test_a_null_section_keeps_its_values(presenter: Conn, app: FastAPI,
                                        session: SessionHandle) -> None:
    """``{"network": null, "data": {"dataset": "circle"}}``: the network stays, the data set
    changes."""
    network = _config(app, session)["network"]["hidden_layers"]
    presenter.ack({"type": "configure", "config": {"network": None,
                                                   "data": {"dataset": "circle"}}})
    config = _config(app, session)
    assert config["data"]["dataset"] == "circle"
    assert config["network"]["hidden_layers"] == network


@pytest.mark.parametrize(("config", "field"), [
    ({"seed": "3"}, "config.seed"), ({"seed": 2.5}, "config.seed"), ({"seed": True},
                                                                      "config.seed"),
    ({"network": {"features": {"x1": True}}}, "config.network.features"),
    ({"network": {"hidden_layers": "44"}}, "config.network.hidden_layers"),
    ({"data": {"dataset": "custom", "points": {"0": [0, 0, 1]}}}, "config.data.points"),
])
def test_fields_of_the_wrong_json_type_are_refused(presenter: Conn, config: dict[str, Any],
                                                   field: str) -> None:
    """Typed all the way down: a string seed, features as an object, layer sizes as a
    string are refused naming the field (item 14: an object of features used to pass)."""
    assert presenter.error({"type": "configure", "config": config})["field"] == field


@pytest.mark.parametrize("changes", [{"network": 5}, {"data": None}, {"hyper": []},
                                     {"network": {"hidden_layers": [2]}, "data": "x"}])
def test_merge_config_never_raises(changes: dict[str, Any]) -> None:
    """merge_config leaves values of the wrong type for the trainer to refuse."""
    current = config_to_dict(TrainerConfig())
    merged = merge_config(current, changes)
    assert set(merged) >= {"network", "data", "hyper", "seed"}
