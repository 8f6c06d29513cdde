"""Answer units: strict schema, loaded with the entries, every claim starting with its answer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from knowledge import KnowledgeError, load
from knowledge.base import KnowledgeBase
from knowledge.schema import YES_NO_EN, YES_NO_KO, Unit, number_text

KB_MIN = Path(__file__).with_name("fixtures") / "kb_min"
BUNDLED = Path(__file__).parents[1] / "knowledge" / "data"
COMMAND_TOOLS = {"kubectl", "istioctl", "helm", "cilium", "curl"}
RECOMMENDATION_OPENINGS = ("Ambient", "Sidecar", "Either", "Use", "Keep", "Stay", "Deploy", "Move", "Start", "Don't")
"""A recommendation opens with what to choose or do, before the reason."""

GOOD_UNIT: dict[str, object] = {
    "id": "envoyfilter-in-ambient",
    "entry": "envoyfilter-ambient",
    "kind": "yesno",
    "answers": ["yesno", "broken"],
    "claim": {
        "en": "No: EnvoyFilter does not apply in ambient mode.",
        "ko": "아니요: ambient 모드에서는 EnvoyFilter가 적용되지 않습니다.",
    },
    "terms": ["EnvoyFilter", "ambient"],
    "questions": {
        "en": ["can I use EnvoyFilter with ambient?", "envoyfilter ambient support", "envoyfilter works in ambient?"],
        "ko": ["ambient에서 EnvoyFilter 돼?", "앰비언트 엔보이필터 지원함?", "EnvoyFilter ambient 적용됨?"],
    },
    "source": {"guide": "Ambient Mode 제한사항"},
}


def unit_dir(tmp_path: Path, *units: dict[str, object], name: str = "t.yaml") -> Path:
    """A copy of the small fixture knowledge base with the given units in units/NAME."""
    target = tmp_path / "kb"
    if not target.exists():
        shutil.copytree(KB_MIN, target)
    (target / "units").mkdir(exist_ok=True)
    (target / "units" / name).write_text(yaml.safe_dump({"units": list(units)}, allow_unicode=True), "utf-8")
    return target


def changed(**fields: object) -> dict[str, object]:
    return {**GOOD_UNIT, **fields}


# --- loading ---


def test_fixture_without_units_dir_loads_with_no_units() -> None:
    kb = load(KB_MIN)
    assert kb.units == {}
    assert kb.entries  # the entries themselves are unaffected


def test_a_good_unit_loads_with_its_file(tmp_path: Path) -> None:
    kb = load(unit_dir(tmp_path, GOOD_UNIT))
    assert list(kb.units) == ["envoyfilter-in-ambient"]
    assert kb.unit_files["envoyfilter-in-ambient"].name == "t.yaml"
    assert [u.id for u in kb.units_of("envoyfilter-ambient")] == ["envoyfilter-in-ambient"]
    assert kb.units_of("mtls-strict") == []


def test_unknown_entry_is_rejected_with_file_and_field(tmp_path: Path) -> None:
    second = changed(id="second-unit", entry="no-such-entry")
    with pytest.raises(KnowledgeError) as err:
        load(unit_dir(tmp_path, GOOD_UNIT, second))
    assert err.value.path.name == "t.yaml"
    assert "units.1.entry" in err.value.problem and "no-such-entry" in err.value.problem


def test_duplicate_unit_ids_across_files_fail(tmp_path: Path) -> None:
    unit_dir(tmp_path, GOOD_UNIT, name="a.yaml")
    with pytest.raises(KnowledgeError) as err:
        load(unit_dir(tmp_path, GOOD_UNIT, name="b.yaml"))
    assert err.value.path.name == "b.yaml"
    assert "envoyfilter-in-ambient" in err.value.problem and "a.yaml" in err.value.problem


@pytest.mark.parametrize(
    ("unit", "field", "words"),
    [
        (changed(id="Bad_Id"), "units.0.id", "lower-case"),
        (changed(colour="red"), "units.0.colour", "Extra inputs"),
        (changed(kind="opinion"), "units.0.kind", "Input should be"),
        (changed(answers=["maybe"]), "units.0.answers.0", "Input should be"),
        (changed(answers=[]), "units.0.answers", "at least 1"),
        (changed(claim={"en": "No: missing Korean."}), "units.0.claim.ko", "Field required"),
        (changed(questions={"en": ["a", "b"], "ko": ["가", "나", "다"]}), "units.0.questions.en", "at least 3"),
        (changed(questions={"en": ["a", "b", "A"], "ko": ["가", "나", "다"]}), "units.0.questions.en", "twice"),
        (changed(source={}), "units.0.source", "at least one source"),
        (changed(source={"upstream": "istio.io/latest"}), "units.0.source.upstream", "https://"),
        (changed(terms=[]), "units.0.terms", "at least 1"),
        (
            changed(claim={"en": "EnvoyFilter is not applied.", "ko": "아니요: 적용되지 않습니다."}),
            "units.0",
            "claim.en of a yesno unit",
        ),
        (
            changed(claim={"en": "No: not applied.", "ko": "EnvoyFilter는 적용되지 않습니다."}),
            "units.0",
            "claim.ko of a yesno unit",
        ),
        (changed(kind="figure"), "units.0", "`figure` is required"),
        (
            changed(
                figure={"value": 1, "unit": "MiB", "per": "pod", "component": "x", "resource": "cpu", "basis": "limit"}
            ),
            "units.0",
            "allowed only there",
        ),
        (changed(kind="command", claim={"en": "Run it.", "ko": "실행하세요."}), "units.0", "needs a `command`"),
        (changed(command="kubectl get pods"), "units.0", "kinds command and steps"),
        (changed(detail={"en": "a\nb\nc\nd", "ko": "가"}), "units.0.detail", "more than 3 lines"),
        (changed(claim={"en": "No: " + "x" * 400, "ko": "아니요: 짧음."}), "units.0.claim", "keep it under"),
    ],
)
def test_schema_errors_name_the_file_and_field(tmp_path: Path, unit: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(KnowledgeError) as err:
        load(unit_dir(tmp_path, unit))
    assert err.value.path.name == "t.yaml"
    assert f"field {field}" in err.value.problem
    assert words in err.value.problem


def figure_unit(claim_en: str, claim_ko: str, **figure: object) -> dict[str, object]:
    spec = {"unit": "MiB", "per": "node", "component": "ztunnel", "resource": "memory", "basis": "observed", **figure}
    return changed(kind="figure", answers=["how-much"], claim={"en": claim_en, "ko": claim_ko}, figure=spec)


def test_figure_claim_must_state_its_number(tmp_path: Path) -> None:
    ok = figure_unit("About 50 MiB per node (observed).", "노드당 약 50 MiB (실측).", value=50)
    assert load(unit_dir(tmp_path, ok)).units["envoyfilter-in-ambient"].figure is not None
    wrong = figure_unit("About 50 MiB per node (observed).", "노드당 약 60 MiB (실측).", value=50)
    with pytest.raises(KnowledgeError) as err:
        load(unit_dir(tmp_path, wrong))
    assert "claim.ko must state the figure's number 50" in err.value.problem


def test_figure_range_needs_both_ends_in_order(tmp_path: Path) -> None:
    ranged = figure_unit("50-100 MiB per pod.", "Pod당 50-100 MiB.", low=50, high=100)
    assert load(unit_dir(tmp_path, ranged)).units
    for bad, words in (
        (figure_unit("50 MiB.", "50 MiB.", low=50), "a value, or both"),
        (figure_unit("100-50 MiB.", "100-50 MiB.", low=100, high=50), "is above high"),
    ):
        with pytest.raises(KnowledgeError) as err:
            load(unit_dir(tmp_path, bad))
        assert words in err.value.problem


def test_number_text_matches_how_claims_write_numbers() -> None:
    assert number_text(50.0) == "50"
    assert number_text(0.5) == "0.5"


# --- the bundled units ---


@pytest.fixture(scope="module")
def bundled_kb() -> KnowledgeBase:
    return load(BUNDLED)


@pytest.fixture(scope="module")
def bundled_units(bundled_kb: KnowledgeBase) -> list[Unit]:
    return list(bundled_kb.units.values())


def test_bundled_units_load_and_name_real_entries(bundled_kb: KnowledgeBase, bundled_units: list[Unit]) -> None:
    kb = bundled_kb
    assert bundled_units
    assert all(unit.entry in kb.entries for unit in bundled_units)


def test_every_bundled_unit_has_both_languages_and_a_source(bundled_units: list[Unit]) -> None:
    for unit in bundled_units:
        assert unit.claim.en.strip() and unit.claim.ko.strip(), unit.id
        assert any(ch >= "\uac00" and ch <= "\ud7a3" for ch in unit.claim.ko), f"{unit.id}: Korean claim has no Hangul"
        assert len(unit.questions.en) >= 3 and len(unit.questions.ko) >= 3, unit.id
        assert any(any("\uac00" <= ch <= "\ud7a3" for ch in q) for q in unit.questions.ko), unit.id
        assert unit.source.guide or unit.source.upstream or unit.source.facts, unit.id


def test_bundled_claims_start_with_their_answer(bundled_units: list[Unit]) -> None:
    for unit in bundled_units:
        if unit.kind == "yesno":
            assert unit.claim.en.startswith(YES_NO_EN), unit.id
            assert unit.claim.ko.startswith(YES_NO_KO), unit.id
        if unit.figure is not None:
            first = number_text(unit.figure.numbers()[0])
            # the number is said early, before any explanation
            assert first in unit.claim.en.replace(",", "")[:120], unit.id
            assert first in unit.claim.ko.replace(",", "")[:120], unit.id
        if unit.kind == "command":
            assert unit.command and unit.command.split()[0] in COMMAND_TOOLS, unit.id
        if unit.kind == "recommendation":
            assert unit.claim.en.startswith(RECOMMENDATION_OPENINGS), unit.id


def test_bundled_figures_say_their_basis(bundled_units: list[Unit]) -> None:
    """Observed figures and chart defaults are different things; each claim says which it is."""
    words = {
        "observed": ("observed", "관측", "실측"),
        "chart-default": ("default", "기본"),
        "limit": ("limit", "limit"),
        "upstream-doc": ("", ""),
    }
    for unit in bundled_units:
        if unit.figure is not None:
            en_word, ko_word = words[unit.figure.basis][0], words[unit.figure.basis][-1]
            assert en_word in unit.claim.en, unit.id
            assert ko_word in unit.claim.ko or words[unit.figure.basis][1] in unit.claim.ko, unit.id


def test_bundled_unit_commands_use_placeholders_not_guide_names(bundled_units: list[Unit]) -> None:
    """Commands are filled with real names: the guide's example namespace must not be baked in."""
    for unit in bundled_units:
        if unit.command:
            assert "production" not in unit.command, unit.id
            assert "<" not in unit.command, f"{unit.id}: use {{namespace}}-style placeholders"


GUIDE_SECTIONS = {
    "Quick Reference",
    "Sidecar Mode",
    "Ambient Mode",
    "CRITICAL: Sidecar vs Ambient 비교표",
    "CRITICAL: Ambient Mode 제한사항 (2026.01)",
    "마이그레이션 가이드",
    "하이브리드 구성",
    "Anti-Patterns",
    "체크리스트",
    "CRITICAL: mTLS 강제 설정",
    "CRITICAL: Ambient Mode 심화",
    "Ambient Mode 체크리스트",
}
"""The guide's top-level headings: a unit's `guide` source starts with one of them ("HEADING > SUBHEADING")."""

C_ENTRIES = {
    "istioctl-migrate-precheck",
    "official-migration-order",
    "ambient-firewall-ports",
    "mtls-status-meanings",
    "ambient-custom-audit-authz",
    "sidecar-workload-in-ambient-namespace",
    "slo-alerts-after-migration",
    "ambient-components-deployment",
    "ambient-upgrades",
}


def test_bundled_guide_sources_name_a_guide_section(bundled_units: list[Unit]) -> None:
    for unit in bundled_units:
        if unit.source.guide:
            assert unit.source.guide.split(" > ")[0] in GUIDE_SECTIONS, (unit.id, unit.source.guide)


def test_every_guide_section_has_units(bundled_units: list[Unit]) -> None:
    cited = {unit.source.guide.split(" > ")[0] for unit in bundled_units if unit.source.guide}
    assert cited >= GUIDE_SECTIONS, GUIDE_SECTIONS - cited


def test_unit_ids_and_questions_are_distinct(bundled_units: list[Unit]) -> None:
    owners: dict[str, str] = {}
    for unit in bundled_units:
        for question in [*unit.questions.en, *unit.questions.ko]:
            key = question.strip().lower()
            assert owners.setdefault(key, unit.id) == unit.id, f"{question!r}: {owners[key]} and {unit.id}"


def test_new_detail_entries_have_the_entry_shape(bundled_kb: KnowledgeBase) -> None:
    """The c-* entries written for units follow the same rules as the other detail pages."""
    kb = bundled_kb
    hangul = re.compile(r"[\uac00-\ud7a3]")
    for entry_id in C_ENTRIES:
        entry = kb.entry(entry_id)
        assert kb.entry_files[entry_id].name.startswith("c-"), entry_id
        assert not hangul.search(entry.title.en + entry.body.en) and hangul.search(entry.body.ko), entry_id
        for lang in ("en", "ko"):
            questions = getattr(entry.questions, lang)
            assert 5 <= len(questions) <= 8, (entry_id, lang)
            assert 3 <= len(getattr(entry.body, lang).strip().splitlines()) <= 45, (entry_id, lang)
            assert getattr(entry.body, lang).count("```") % 2 == 0, (entry_id, lang)
        assert entry.tags == [t.lower() for t in entry.tags] and any(hangul.search(t) for t in entry.tags), entry_id
        assert all(rel in kb.entries for rel in entry.related) and entry_id not in entry.related, entry_id
        assert entry.source.seed and entry.source.upstream and entry.source.version, entry_id
        assert kb.units_of(entry_id), f"{entry_id} has no units"


def test_every_entry_has_units_to_answer_from(bundled_kb: KnowledgeBase) -> None:
    kb = bundled_kb
    assert [entry_id for entry_id in kb.entries if not kb.units_of(entry_id)] == []


def test_memory_figures_come_both_observed_and_as_chart_defaults(bundled_units: list[Unit]) -> None:
    """Each proxy's memory is given as the guide measured it and as the chart requests it, never mixed."""
    bases: dict[str, set[str]] = {}
    for unit in bundled_units:
        if unit.figure is not None and unit.figure.resource == "memory":
            bases.setdefault(unit.figure.component, set()).add(unit.figure.basis)
    for component in ("sidecar", "ztunnel", "waypoint"):
        assert {"observed", "chart-default"} <= bases.get(component, set()), component


def test_each_language_is_written_in_its_language(bundled_units: list[Unit]) -> None:
    hangul = re.compile(r"[\uac00-\ud7a3]")
    for unit in bundled_units:
        english = [unit.claim.en, *unit.questions.en]
        english += [text.en for text in (unit.detail, unit.condition) if text is not None]
        assert not any(hangul.search(text) for text in english), unit.id
        korean = [unit.claim.ko] + [text.ko for text in (unit.detail,) if text is not None]
        assert all(hangul.search(text) for text in korean), unit.id
        # Slack Korean mixes in English terms: at least one Korean example question does.
        assert any(re.search(r"[A-Za-z]", q) for q in unit.questions.ko), unit.id


def test_every_figure_of_a_claim_is_stated_in_it(tmp_path: Path) -> None:
    cpu = {"value": 100, "unit": "millicores", "per": "pod", "component": "sidecar", "resource": "cpu"}
    cpu["basis"] = "chart-default"
    ok = figure_unit("128 MiB and 100m per pod.", "Pod당 128 MiB, 100m.", value=128)
    ok["more_figures"] = [cpu]
    unit = load(unit_dir(tmp_path, ok)).units["envoyfilter-in-ambient"]
    assert [f.resource for f in unit.figures()] == ["memory", "cpu"]
    wrong = figure_unit("128 MiB per pod.", "Pod당 128 MiB.", value=128)
    wrong["more_figures"] = [cpu]
    with pytest.raises(KnowledgeError) as err:
        load(unit_dir(tmp_path / "w", wrong))
    assert "must state the figure's number 100" in err.value.problem
