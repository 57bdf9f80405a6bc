"""What an upgrade changes: actions added and removed, fields changed, the auth."""

from __future__ import annotations

from dataclasses import dataclass, field

from actionruns.sdk.described.manifest import AppManifest, FieldSpec, OperationSpec


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # action → what changed
    auth: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.auth)

    def lines(self) -> list[str]:
        said = [f"auth: {change}" for change in self.auth]
        said += [f"+ {key}" for key in self.added]
        said += [f"- {key}" for key in self.removed]
        said += [f"~ {key}: {'; '.join(what)}" for key, what in self.changed.items()]
        return said


def _field_changes(old: dict[str, FieldSpec], new: dict[str, FieldSpec]) -> list[str]:
    found = [f"field {key} added" for key in new if key not in old]
    found += [f"field {key} removed" for key in old if key not in new]
    for key in new.keys() & old.keys():
        before, after = old[key], new[key]
        if before.type != after.type or before.list != after.list:
            found.append(f"field {key} is now {after.type.value}{' list' if after.list else ''}")
        if before.required != after.required:
            found.append(f"field {key} is now {'required' if after.required else 'optional'}")
        if {c.value for c in before.choices} != {c.value for c in after.choices}:
            found.append(f"field {key} has other choices")
    return sorted(found)


def _operation_changes(old: OperationSpec, new: OperationSpec) -> list[str]:
    found = _field_changes({f.key: f for f in old.inputs}, {f.key: f for f in new.inputs})
    if old.target != new.target:
        found.append(f"now {new.target}")
    before, after = {o.key for o in old.outputs}, {o.key for o in new.outputs}
    if before != after:
        found.append(f"outputs +{len(after - before)} -{len(before - after)}")
    return found


def changes(old: AppManifest, new: AppManifest) -> Changes:
    before = {op.key: op for op in old.actions}
    after = {op.key: op for op in new.actions}
    result = Changes(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
    )
    for key in sorted(after.keys() & before.keys()):
        found = _operation_changes(before[key], after[key])
        if found:
            result.changed[key] = found
    if old.auth.type != new.auth.type or old.auth.scheme != new.auth.scheme:
        result.auth.append(
            f"{old.auth.type.value} ({old.auth.scheme}) → {new.auth.type.value} ({new.auth.scheme})"
        )
    old_fields = {f.key for f in old.auth.fields}
    new_fields = {f.key for f in new.auth.fields}
    if old_fields != new_fields:
        result.auth.append(
            "connection fields now "
            + ", ".join(sorted(new_fields))
            + " (existing connections may need to be made again)"
        )
    return result
