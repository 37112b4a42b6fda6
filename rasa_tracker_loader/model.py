"""Read a bot model (domain, stories, rules, model id and name) from a Rasa project folder or model archive.

The rows go to the ``{prefix}_model`` dataset:

* ``model``: one row per model: ``model_id``, ``name``, ``sdk_version``, ``timestamp``, ``source``,
  ``source_path``, ``assistant_id``, ``language``, ``domain_version``, ``config`` (config.yml as JSON),
  ``intents_count``, ``actions_count``, ``slots_count``, ``responses_count``, ``forms_count``,
  ``stories_count``, ``rules_count``
* ``domain_intent``, ``domain_entity``, ``domain_slot``, ``domain_action``, ``domain_response`` (child table
  ``domain_response__variants``), ``domain_form`` (child table ``domain_form__required_slots``): one row per
  domain item with ``model_id`` and ``name``
* ``story`` and ``rule``: one row per story/rule with ``model_id``, ``name``, ``source_file``; their steps are
  child rows in ``story__steps`` / ``rule__steps`` (``_pos``, ``kind``, ``name``, ``detail``)

Model archives (``.tar.gz``) hold no stories or rules, only the domain; Rasa 3.x archives name their model id
in ``metadata.json``, older ones (``fingerprint.json``) are identified by the archive name.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import LoaderError
from .events import canonical_json

#: Columns of `model` that exist even when every value is NULL (the dbt package reads them).
MODEL_COLUMNS: dict[str, dict[str, Any]] = {
    "model_id": {"data_type": "text", "nullable": False, "primary_key": True},
    "name": {"data_type": "text"},
    "sdk_version": {"data_type": "text"},
    "timestamp": {"data_type": "timestamp"},
    "source": {"data_type": "text"},
    "source_path": {"data_type": "text"},
    "assistant_id": {"data_type": "text"},
    "language": {"data_type": "text"},
    "domain_version": {"data_type": "text"},
    "config": {"data_type": "text"},
}

STEP_KINDS = ("intent", "user", "action", "bot", "slot_was_set", "active_loop", "checkpoint", "or", "link")


@dataclass
class BotModel:
    model_id: str
    name: str
    sdk_version: str | None
    timestamp: datetime
    source: str  # "project" or "archive"
    source_path: str
    domain: dict[str, Any]
    config: dict[str, Any] | None = None
    stories: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (file, story)
    rules: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    assistant_id: str | None = None


def _yaml_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise LoaderError(f"{path}: cannot read file: {getattr(ex, 'strerror', None) or ex}") from None
    return _yaml_text(text, str(path))


def _yaml_text(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as ex:
        mark = ex.problem_mark or ex.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise LoaderError(f"{where}{line}: invalid YAML: {ex.problem or ex.context}") from None
    except yaml.YAMLError as ex:
        raise LoaderError(f"{where}: invalid YAML: {ex}") from None


def _merge_domain(into: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key in into and isinstance(into[key], list) and isinstance(value, list):
            into[key] = into[key] + value
        elif key in into and isinstance(into[key], dict) and isinstance(value, dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".yml", ".yaml"))


def read_project(folder: Path, model_id: str | None, name: str | None) -> BotModel:
    """A Rasa project folder: domain.yml (or a domain/ folder), config.yml and the YAML files under data/."""
    domain_file = next((folder / n for n in ("domain.yml", "domain.yaml") if (folder / n).is_file()), None)
    domain_dir = folder / "domain"
    read_files: list[Path] = []
    domain: dict[str, Any] = {}
    if domain_file is not None:
        parts = [domain_file]
    elif domain_dir.is_dir():
        parts = _yaml_files(domain_dir)
    else:
        raise LoaderError(f"{folder}: no domain.yml or domain/ folder: is this a Rasa project folder?")
    for part_file in parts:
        part = _yaml_file(part_file) or {}
        if not isinstance(part, dict):
            raise LoaderError(f"{part_file}: a domain file must be a YAML mapping")
        _merge_domain(domain, part)
        read_files.append(part_file)

    config = None
    config_file = folder / "config.yml"
    if config_file.is_file():
        config = _yaml_file(config_file)
        read_files.append(config_file)
        if config is not None and not isinstance(config, dict):
            raise LoaderError(f"{config_file}: config must be a YAML mapping")

    stories: list[tuple[str, dict[str, Any]]] = []
    rules: list[tuple[str, dict[str, Any]]] = []
    data_dir = folder / "data"
    if data_dir.is_dir():
        for data_file in _yaml_files(data_dir):
            content = _yaml_file(data_file)
            if not isinstance(content, dict):
                continue
            rel = data_file.relative_to(folder).as_posix()
            for key, target in (("stories", stories), ("rules", rules)):
                items = content.get(key) or []
                if not isinstance(items, list):
                    raise LoaderError(f"{data_file}: '{key}' must be a list")
                for idx, item in enumerate(items):
                    if not isinstance(item, dict):
                        raise LoaderError(f"{data_file}: {key}[{idx}] must be a mapping")
                    target.append((rel, item))
            if "stories" in content or "rules" in content:
                read_files.append(data_file)

    newest = max(p.stat().st_mtime for p in read_files)
    return BotModel(
        model_id=model_id or folder.resolve().name,
        name=name or folder.resolve().name,
        sdk_version=None,
        timestamp=datetime.fromtimestamp(newest, tz=UTC),
        source="project",
        source_path=str(folder),
        domain=domain,
        config=config,
        stories=stories,
        rules=rules,
        assistant_id=(config or {}).get("assistant_id"),
    )


def _archive_stem(path: Path) -> str:
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def read_archive(path: Path, model_id: str | None, name: str | None) -> BotModel:
    """Model archive: Rasa 3.x (metadata.json with domain) or 1.x/2.x (fingerprint.json, core/domain.yml)."""
    try:
        archive = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as ex:
        raise LoaderError(f"{path}: not a readable model archive: {ex}") from None
    with archive:
        try:
            members = {m.name.removeprefix("./"): m for m in archive.getmembers() if m.isfile()}
        except (OSError, tarfile.TarError, EOFError) as ex:
            raise LoaderError(f"{path}: model archive is damaged or truncated: {ex}") from None

        def read_member(member_name: str) -> str:
            try:
                fh = archive.extractfile(members[member_name])
                assert fh is not None
                return fh.read().decode("utf-8")
            except (OSError, tarfile.TarError, EOFError, UnicodeDecodeError) as ex:
                raise LoaderError(f"{path}: cannot read {member_name} from the archive: {ex}") from None

        def read_json(member_name: str) -> dict[str, Any]:
            try:
                value = json.loads(read_member(member_name))
            except ValueError as ex:
                raise LoaderError(f"{path}: {member_name} is not valid JSON: {ex}") from None
            if not isinstance(value, dict):
                raise LoaderError(f"{path}: {member_name} must be a JSON object")
            return value

        stem = _archive_stem(path)
        if "metadata.json" in members:
            meta = read_json("metadata.json")
            domain = meta.get("domain")
            if not isinstance(domain, dict):
                raise LoaderError(f"{path}: metadata.json has no domain")
            version = meta.get("rasa_open_source_version") or meta.get("rasa_pro_version") or meta.get("version")
            return BotModel(
                model_id=model_id or str(meta.get("model_id") or stem),
                name=name or stem,
                sdk_version=str(version) if version else None,
                timestamp=_parse_time(meta.get("trained_at")) or datetime.now(UTC),
                source="archive",
                source_path=str(path),
                domain=domain,
                assistant_id=meta.get("assistant_id"),
                config={k: meta[k] for k in ("language", "training_type") if k in meta} or None,
            )
        if "fingerprint.json" in members:
            fingerprint = read_json("fingerprint.json")
            domain_member = next(
                (m for m in ("core/domain.yml", "core/domain.json", "domain.yml", "domain.json") if m in members), None
            )
            if domain_member is None:
                raise LoaderError(f"{path}: archive has fingerprint.json but no core/domain.yml")
            domain = _yaml_text(read_member(domain_member), f"{path}!{domain_member}") or {}
            if not isinstance(domain, dict):
                raise LoaderError(f"{path}!{domain_member}: a domain must be a mapping")
            version = fingerprint.get("version")
            return BotModel(
                model_id=model_id or stem,
                name=name or stem,
                sdk_version=str(version) if version else None,
                timestamp=_parse_time(fingerprint.get("trained_at")) or datetime.now(UTC),
                source="archive",
                source_path=str(path),
                domain=domain,
            )
        raise LoaderError(f"{path}: no metadata.json or fingerprint.json: is this a Rasa model archive?")


def read_model(spec: str, model_id: str | None, name: str | None) -> BotModel:
    path = Path(spec)
    if path.is_dir():
        model = read_project(path, model_id, name)
    elif path.is_file():
        model = read_archive(path, model_id, name)
    else:
        raise LoaderError(f"{spec}: no such Rasa project folder or model archive")
    if not model.model_id:
        raise LoaderError(f"{spec}: cannot derive a model id, give one with --model-id")
    return model


# ---------------------------------------------------------------------------------------------------------
# rows


def _json_or_none(value: Any) -> str | None:
    return None if value is None else canonical_json(value)


def _named_items(value: Any) -> Iterator[tuple[str, Any]]:
    """Domain sections are lists of names / single-key mappings, or mappings of name -> properties."""
    if isinstance(value, dict):
        for key, props in value.items():
            yield str(key), props
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                for key, props in item.items():
                    yield str(key), props
            elif item is not None:
                yield str(item), None


def _step_row(step: Any) -> dict[str, Any]:
    if not isinstance(step, dict):
        return {"kind": None, "name": None, "detail": _json_or_none(step)}
    kind = next((k for k in STEP_KINDS if k in step), next(iter(step), None))
    value = step.get(kind) if kind is not None else None
    return {
        "kind": kind,
        "name": value if isinstance(value, str) else None,
        "detail": canonical_json(step),
    }


def _row_hash(*parts: Any) -> str:
    return hashlib.md5(canonical_json(list(parts)).encode("utf-8")).hexdigest()


def model_rows(model: BotModel) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) pairs for one model."""
    domain = model.domain
    mid = model.model_id
    intents = list(_named_items(domain.get("intents")))
    entities = list(_named_items(domain.get("entities")))
    slots = list(_named_items(domain.get("slots")))
    responses = list(_named_items(domain.get("responses") or domain.get("templates")))
    forms = list(_named_items(domain.get("forms")))
    actions = list(_named_items(domain.get("actions")))
    config = model.config or {}

    ordinals: dict[str, int] = {}

    def row(table: str, name: str, **cols: Any) -> tuple[str, dict[str, Any]]:
        ordinal = ordinals[table] = ordinals.get(table, -1) + 1
        return table, {"_record_hash": _row_hash(table, mid, ordinal, name), "model_id": mid, "name": name, **cols}

    yield (
        "model",
        {
            "_record_hash": _row_hash("model", mid),
            "model_id": mid,
            "name": model.name,
            "sdk_version": model.sdk_version,
            "timestamp": model.timestamp,
            "source": model.source,
            "source_path": model.source_path,
            "assistant_id": model.assistant_id,
            "language": config.get("language"),
            "domain_version": str(domain["version"]) if domain.get("version") is not None else None,
            "config": _json_or_none(model.config),
            "intents_count": len(intents),
            "actions_count": len({n for n, _ in actions + responses + forms}),
            "slots_count": len(slots),
            "responses_count": len(responses),
            "forms_count": len(forms),
            "stories_count": len(model.stories),
            "rules_count": len(model.rules),
        },
    )
    for name, props in intents:
        yield row("domain_intent", name, properties=_json_or_none(props))
    for name, props in entities:
        yield row("domain_entity", name, properties=_json_or_none(props))
    for name, props in slots:
        p = props if isinstance(props, dict) else {}
        yield row(
            "domain_slot",
            name,
            type=p.get("type"),
            influence_conversation=p.get("influence_conversation"),
            initial_value=_json_or_none(p.get("initial_value")),
            definition=_json_or_none(props),
        )
    response_names = {n for n, _ in responses}
    form_names = {n for n, _ in forms}
    action_names = list(dict.fromkeys([n for n, _ in actions] + sorted(response_names) + sorted(form_names)))
    for name in action_names:
        kind = "response" if name in response_names else "form" if name in form_names else "custom"
        yield row("domain_action", name, kind=kind)
    for name, variants in responses:
        variant_list = variants if isinstance(variants, list) else [variants]
        yield row(
            "domain_response",
            name,
            variants=[
                {
                    "text": v.get("text") if isinstance(v, dict) else None,
                    "channel": v.get("channel") if isinstance(v, dict) else None,
                    "definition": _json_or_none(v),
                }
                for v in variant_list
            ],
        )
    for name, props in forms:
        required = props.get("required_slots") if isinstance(props, dict) else None
        slot_names = [n for n, _ in _named_items(required)]
        yield row("domain_form", name, required_slots=slot_names, definition=_json_or_none(props))
    for table, items in (("story", model.stories), ("rule", model.rules)):
        for source_file, item in items:
            name = str(item.get(table) or item.get("story") or item.get("rule") or "")
            steps = item.get("steps") or []
            extra = {}
            if table == "rule":
                extra = {
                    "condition": _json_or_none(item.get("condition")),
                    "conversation_start": item.get("conversation_start"),
                    "wait_for_user_input": item.get("wait_for_user_input"),
                }
            yield row(
                table,
                name,
                source_file=source_file,
                steps_count=len(steps) if isinstance(steps, list) else 0,
                **extra,
                steps=[_step_row(s) for s in steps] if isinstance(steps, list) else [],
            )
