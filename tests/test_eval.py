"""How well `ask` answers realistic Slack questions (tests/eval_questions.yaml) and refuses the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, Field

from knowledge import KnowledgeBase
from knowledge import default as default_kb
from knowledge.search import search

EVAL_FILE = Path(__file__).with_name("eval_questions.yaml")
MIN_TOP1 = 0.90
MIN_REFUSAL = 1.00


class InScope(BaseModel):
    q: str
    id: str
    alt: list[str] = []


class EvalSet(BaseModel):
    in_scope: list[InScope] = Field(min_length=80)
    out_of_scope: list[str] = Field(min_length=20)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return default_kb()


@pytest.fixture(scope="module")
def evalset() -> EvalSet:
    return EvalSet.model_validate(yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8")))


def test_eval_ids_exist(kb: KnowledgeBase, evalset: EvalSet) -> None:
    unknown = {i for item in evalset.in_scope for i in [item.id, *item.alt] if i not in kb.entries}
    assert not unknown, f"eval questions name unknown entries: {sorted(unknown)}"


def test_eval_mixes_languages(evalset: EvalSet) -> None:
    korean = sum(any("\uac00" <= ch <= "\ud7a3" for ch in item.q) for item in evalset.in_scope)
    assert 0.3 < korean / len(evalset.in_scope) < 0.7


def test_top1_accuracy_and_refusal(kb: KnowledgeBase, evalset: EvalSet) -> None:
    misses = []
    per_language = {"ko": [0, 0], "en": [0, 0]}
    for item in evalset.in_scope:
        result = search(kb, item.q)
        got = result.best.entry_id if result.best else None
        per_language[result.language][1] += 1
        if got not in [item.id, *item.alt]:
            misses.append(f"{item.q!r}: want {item.id}, got {got} ({result.refusal or 'ranked'})")
        else:
            per_language[result.language][0] += 1
    wrongly_found = [q for q in evalset.out_of_scope if search(kb, q).found]
    top1 = 1 - len(misses) / len(evalset.in_scope)
    refusal = 1 - len(wrongly_found) / len(evalset.out_of_scope)
    n_in, n_out = len(evalset.in_scope), len(evalset.out_of_scope)
    print(
        f"\nask eval: top-1 source accuracy {top1:.3f} ({n_in - len(misses)}/{n_in}), "
        f"refusal accuracy {refusal:.3f} ({n_out - len(wrongly_found)}/{n_out})"
    )
    print("  by question language: " + ", ".join(f"{lang} {ok}/{n}" for lang, (ok, n) in per_language.items()))
    for miss in misses:
        print("  miss:", miss)
    for q in wrongly_found:
        print("  wrongly answered:", q)
    assert top1 >= MIN_TOP1, misses
    assert refusal >= MIN_REFUSAL, wrongly_found
