"""Loading the knowledge base from its YAML files, validated by `knowledge.schema`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.schema import (
    AdviceRules,
    Checklist,
    Checklists,
    Comparison,
    DecisionTree,
    Entry,
    EntryFile,
    FindingText,
    FindingTexts,
    Limitation,
    Limitations,
    Unit,
    UnitFile,
    Vocabulary,
)

DATA_DIR = Path(__file__).parent / "data"
ENTRIES_DIR = "entries"
UNITS_DIR = "units"
"""Answer units (optional: a knowledge dir without it has no units)."""
VOCABULARY_FILE = "synonyms.yaml"
ADVICE_FILE = "advice.yaml"
DIR_ENV = "MESHBOT_KNOWLEDGE_DIR"
"""Points `default()` at another knowledge directory (a team's own entries, or a test fixture)."""

M = TypeVar("M", bound=BaseModel)
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (10x faster on a fresh process), else the pure-Python one."""


def yaml_load(text: str) -> Any:
    """yaml.safe_load, with libyaml when available (the same safe subset of YAML)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506  (a safe loader, C or Python)


class KnowledgeError(Exception):
    """A knowledge file is missing, not YAML, or does not match the schema."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"knowledge file {path}: {problem}")
        self.path = path
        self.problem = problem


def _load(path: Path, model: type[M]) -> M:
    try:
        raw: Any = yaml_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeError(path, f"cannot be read ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KnowledgeError(path, f"is not valid YAML: {exc}".replace("\n", " ")) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise KnowledgeError(path, f"field {where}: {first['msg']}{more}") from None


@dataclass(frozen=True)
class KnowledgeBase:
    entries: dict[str, Entry]
    comparison: Comparison
    limitations: list[Limitation]
    checklists: dict[str, Checklist]
    decision: DecisionTree
    findings: dict[str, FindingText]
    entry_files: dict[str, Path] = field(default_factory=dict)
    vocabulary: Vocabulary | None = None
    """Synonyms and domain terms for question matching; optional so small fixture dirs may omit it."""
    advice: AdviceRules | None = None
    """How `advise` settles conflicting needs; optional like `vocabulary`."""
    units: dict[str, Unit] = field(default_factory=dict)
    """Answer units by id, in file order (knowledge/data/units/*.yaml); empty when the dir has none."""
    unit_files: dict[str, Path] = field(default_factory=dict)

    def units_of(self, entry_id: str) -> list[Unit]:
        """The units whose detail page is `entry_id`, in file order."""
        return [unit for unit in self.units.values() if unit.entry == entry_id]

    def entry(self, entry_id: str) -> Entry:
        return self.entries[entry_id]

    def finding(self, code: str) -> FindingText:
        return self.findings[code]

    def limitation(self, name: str) -> Limitation | None:
        wanted = name.strip().lower()
        for row in self.limitations:
            names = {row.key, *row.aliases, row.feature.en.lower(), row.feature.ko.lower()}
            if wanted in {n.lower() for n in names}:
                return row
        return None


def load(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Read and validate every knowledge file; raise KnowledgeError naming the file and field."""
    entries: dict[str, Entry] = {}
    files: dict[str, Path] = {}
    entry_paths = sorted((data_dir / ENTRIES_DIR).glob("*.yaml"))
    if not entry_paths:
        raise KnowledgeError(data_dir / ENTRIES_DIR, "holds no *.yaml entry files")
    for path in entry_paths:
        for entry in _load(path, EntryFile).entries:
            if entry.id in entries:
                raise KnowledgeError(path, f"entry id {entry.id!r} is also defined in {files[entry.id]}")
            entries[entry.id] = entry
            files[entry.id] = path
    units, unit_files = _load_units(data_dir / UNITS_DIR)
    kb = KnowledgeBase(
        entries=entries,
        comparison=_load(data_dir / "comparison.yaml", Comparison),
        limitations=_load(data_dir / "limitations.yaml", Limitations).rows,
        checklists={c.key: c for c in _load(data_dir / "checklists.yaml", Checklists).checklists},
        decision=_load(data_dir / "decision.yaml", DecisionTree),
        findings={f.code: f for f in _load(data_dir / "findings.yaml", FindingTexts).findings},
        entry_files=files,
        vocabulary=_load(vocab, Vocabulary) if (vocab := data_dir / VOCABULARY_FILE).exists() else None,
        advice=_load(advice, AdviceRules) if (advice := data_dir / ADVICE_FILE).exists() else None,
        units=units,
        unit_files=unit_files,
    )
    _check_references(kb, data_dir)
    return kb


def _load_units(units_dir: Path) -> tuple[dict[str, Unit], dict[str, Path]]:
    """Every unit file in `units_dir` (none when it does not exist); a unit id defined twice fails."""
    units: dict[str, Unit] = {}
    files: dict[str, Path] = {}
    for path in sorted(units_dir.glob("*.yaml")):
        for unit in _load(path, UnitFile).units:
            if unit.id in units:
                raise KnowledgeError(path, f"unit id {unit.id!r} is also defined in {files[unit.id]}")
            units[unit.id] = unit
            files[unit.id] = path
    return units, files


def _check_references(kb: KnowledgeBase, data_dir: Path) -> None:
    """Every `related` and `kb` reference must name an existing entry."""

    def need(entry_id: str | None, path: Path, where: str) -> None:
        if entry_id is not None and entry_id not in kb.entries:
            raise KnowledgeError(path, f"field {where}: unknown entry id {entry_id!r}")

    for entry in kb.entries.values():
        for i, rel in enumerate(entry.related):
            need(rel, kb.entry_files[entry.id], f"{entry.id}.related.{i}")
    for i, row in enumerate([*kb.comparison.rows, *kb.comparison.figures]):
        need(row.kb, data_dir / "comparison.yaml", f"rows.{i}.kb")
    for i, lim in enumerate(kb.limitations):
        need(lim.kb, data_dir / "limitations.yaml", f"rows.{i}.kb")
    for checklist in kb.checklists.values():
        for group in checklist.groups:
            for item in group.items:
                need(item.kb, data_dir / "checklists.yaml", f"{checklist.key}.kb")
    for need_ in kb.decision.needs:
        need(need_.kb, data_dir / "decision.yaml", f"{need_.key}.kb")
    if kb.advice is not None:
        keys = {n.key for n in kb.decision.needs}
        for name, listed in (("only_ambient", kb.advice.only_ambient), ("waypoint_serves", kb.advice.waypoint_serves)):
            for i, key in enumerate(listed):
                if key not in keys:
                    raise KnowledgeError(data_dir / ADVICE_FILE, f"field {name}.{i}: unknown need {key!r}")
    for finding in kb.findings.values():
        need(finding.kb, data_dir / "findings.yaml", f"{finding.code}.kb")
    index_in_file: dict[Path, int] = {}
    for unit_id, unit in kb.units.items():
        path = kb.unit_files[unit_id]
        index = index_in_file[path] = index_in_file.get(path, -1) + 1
        need(unit.entry, path, f"units.{index}.entry ({unit_id})")


@cache
def default() -> KnowledgeBase:
    """The bundled knowledge base (or the one in $MESHBOT_KNOWLEDGE_DIR), loaded once per process."""
    from knowledge.answers.cache import cached_knowledge

    override = os.environ.get(DIR_ENV)
    return cached_knowledge(Path(override) if override else DATA_DIR, load)
