"""The Rasa 3.x project shipped beside our training data (issue 14, "Rasa assistants"; R5.2-1).

Rasa itself does not install on Python 3.11, so its files are checked here: each against a JSON
schema of Rasa 3.x's format (tests/nlu/rasa_schemas, written after Rasa's published domain, NLU,
story and config schemas), the generated ``data/nlu.yml`` against our training data, every name a
rule or story uses against the domain, and every action the domain names against what our action
server (``shopbot rasa-actions``) lists on ``GET /actions``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator

from bot.rasa_actions import action_executor
from bot.rasa_server import create_action_app
from commerce_core.api import Commerce
from nlu.data import data_files, load_examples
from nlu.rasa_export import NLU_FILE, PROJECT_DIR, expected_nlu_file

SCHEMAS = Path(__file__).parent / "rasa_schemas"
FILES = {
    "domain.yml": "domain",
    "config.yml": "config",
    "endpoints.yml": "endpoints",
    "data/nlu.yml": "nlu",
    "data/rules.yml": "stories",
    "data/stories.yml": "stories",
}


def load(name: str) -> Any:
    return yaml.safe_load((PROJECT_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "schema"), sorted(FILES.items()))
def test_files_match_rasa_schemas(name: str, schema: str) -> None:
    validator = Draft202012Validator(json.loads((SCHEMAS / f"{schema}.schema.json").read_text()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load(name))]
    assert errors == []


def test_schemas_reject_what_rasa_rejects() -> None:
    domain = Draft202012Validator(json.loads((SCHEMAS / "domain.schema.json").read_text()))
    assert not domain.is_valid({"responses": {"greet": [{"text": "hi"}]}})  # not utter_*
    assert not domain.is_valid({"slots": {"x": {"type": "text"}}})  # Rasa 3 slots need mappings
    stories = Draft202012Validator(json.loads((SCHEMAS / "stories.schema.json").read_text()))
    assert not stories.is_valid({"rules": [{"steps": [{"intent": "greet"}]}]})  # unnamed rule


def test_nlu_data_is_generated_from_the_training_data() -> None:
    assert NLU_FILE.read_text(encoding="utf-8") == expected_nlu_file(), (
        "run `python -m nlu.rasa_export` after changing nlu/data"
    )


def test_domain_knows_every_intent_and_entity_of_the_training_data() -> None:
    domain = load("domain.yml")
    examples = load_examples(data_files())
    assert set(domain["intents"]) == {e.intent for e in examples}
    assert {a.type for e in examples for a in e.entities} <= set(domain["entities"])


def test_rules_and_stories_use_only_what_the_domain_declares() -> None:
    domain = load("domain.yml")
    intents = set(domain["intents"]) | {"nlu_fallback"}
    actions = set(domain["actions"]) | set(domain["responses"])
    entities = set(domain["entities"])
    for name, key in (("data/rules.yml", "rules"), ("data/stories.yml", "stories")):
        for flow in load(name)[key]:
            for step in flow["steps"]:
                assert step.get("intent", "greet") in intents, (name, step)
                assert step.get("action", "utter_greet") in actions, (name, step)
                for entity in step.get("entities", []):
                    assert set(entity) <= entities, (name, step)


def test_endpoints_point_at_the_action_server() -> None:
    assert load("endpoints.yml")["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_action_server_serves_every_domain_action(commerce: Commerce) -> None:
    async with TestClient(TestServer(create_action_app(action_executor(commerce)))) as client:
        response = await client.get("/actions")
        assert response.status == 200
        served = {a["name"] for a in await response.json()}
    assert set(load("domain.yml")["actions"]) <= served
