"""``import_description``: a description (and an overlay) in, an app manifest and a report out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from actionruns.openapi.actions import (
    Answer,
    Draft,
    FieldMaker,
    answer,
    body_drafts,
    parameter_drafts,
)
from actionruns.openapi.document import MULTIPART, Node, Operation, Parsed, parse_openapi
from actionruns.openapi.errors import ImportFailed
from actionruns.openapi.graphql_schema import is_graphql, parse_graphql
from actionruns.openapi.load import digest, load
from actionruns.openapi.naming import first_sentence, limited, snake, title, unique
from actionruns.openapi.overlay import (
    ActionRule,
    AuthRule,
    BasicRule,
    ChoiceRule,
    ChoicesRule,
    ExtraField,
    FieldRule,
    Overlay,
    matches,
)
from actionruns.openapi.schemas import Shape, _Reader
from actionruns.openapi.security import (
    Candidate,
    Unsupported,
    auth_spec,
    candidates,
    credential_parameters,
    rank,
)
from actionruns.sdk.app import DEFAULT_HEX_COLOR
from actionruns.sdk.auth import AuthType
from actionruns.sdk.described.manifest import (
    AppManifest,
    AuthSpec,
    Binding,
    ChoiceSpec,
    DynamicChoicesSpec,
    FieldSpec,
    OperationSpec,
    OutputSpec,
    RequestSpec,
    SourceSpec,
    TestSpec,
)
from actionruns.sdk.described.templates import fill, placeholders
from actionruns.sdk.fields import FieldType, sample_value

DEFAULT_CATEGORY = "developer-tools"
# Paths of the operation that tells who is connected: the default connection test.
_WHO_AM_I = re.compile(
    r"/(me|myself|whoami|user|users/me|users/current|account|accounts/me|self|profile|"
    r"identity|current_?user|userinfo|auth[./]test|token/info|viewer|shop)(\.json)?$",
    re.IGNORECASE,
)
_LABEL_KEYS = (
    "name",
    "display_name",
    "friendly_name",
    "full_name",
    "login",
    "username",
    "email",
    "title",
)
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


@dataclass
class Report:
    """What an import made, and what it left out and why."""

    manifest: AppManifest
    skipped: list[tuple[str, str]] = field(default_factory=list)
    auth_alternatives: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]


def _default_key(operation: Operation) -> str:
    if operation.operation_id:
        return snake(operation.operation_id, fallback="operation")
    segments = [
        part
        for part in operation.path.split("/")
        if part
        and not part.startswith("{")
        and not re.fullmatch(r"v?\d+(\.\d+)*|\d{4}-\d{2}-\d{2}", part)
    ]
    return snake(" ".join([_VERBS.get(operation.method, operation.method.lower()), *segments[-3:]]))


class _Importer:
    def __init__(self, parsed: Parsed, overlay: Overlay, base_url: str | None) -> None:
        self.parsed = parsed
        self.overlay = overlay
        self.base_url_override = base_url
        self.reader = _Reader()
        self.report_skipped: list[tuple[str, str]] = []
        self.warnings: list[str] = []
        self.operations = parsed.operations
        taken: set[str] = set()
        self.default_keys = {id(op): unique(_default_key(op), taken) for op in self.operations}
        self.keys: dict[int, str] = {}
        self.used_rules: set[tuple[str, str]] = set()

    # -- naming operations -----------------------------------------------------------------

    def names(self, operation: Operation) -> tuple[str, ...]:
        own = (operation.operation_id, operation.name, self.default_keys[id(operation)])
        final = self.keys.get(id(operation))
        return (*own, final) if final else own

    def find(self, name: str, what: str) -> Operation:
        found = [op for op in self.operations if matches(name, self.names(op))]
        if not found:
            raise ImportFailed(f"{what} names the operation {name!r}, which the description lacks.")
        if len(found) > 1:
            raise ImportFailed(f"{what} names {name!r}, which matches {len(found)} operations.")
        return found[0]

    # -- which operations ------------------------------------------------------------------

    def select(self) -> tuple[list[Operation], list[Operation]]:
        """The operations made into actions, and those kept hidden (used by a dropdown or
        the connection test only)."""
        overlay = self.overlay
        patterns = overlay.operations
        for pattern in patterns or ():
            if not any(matches(pattern, self.names(op)) for op in self.operations):
                raise ImportFailed(
                    f"operations: {pattern!r} matches no operation of the description."
                )
        chosen: list[Operation] = []
        for op in self.operations:
            named = patterns is None or any(matches(p, self.names(op)) for p in patterns)
            exact = any(p in self.names(op) for p in patterns or ())
            if not named or any(matches(p, self.names(op)) for p in overlay.exclude):
                continue
            if op.deprecated and not exact:
                self.report_skipped.append((op.name, "deprecated"))
            elif op.unsupported_body:
                self.report_skipped.append((op.name, f"sends only {op.unsupported_body}"))
            else:
                chosen.append(op)
        referenced = [
            self.find(name, "a dropdown or the connection test") for name in self._referenced()
        ]
        # A hidden operation may have rules too: where its result is (an account whose only
        # list is not the answer), what its outputs are.
        for name in overlay.actions:
            target = self.find(name, f"actions.{name}")
            if target not in chosen and target not in referenced:
                raise ImportFailed(
                    f"actions.{name} is an operation the overlay neither keeps nor uses."
                )
        taken: set[str] = set()
        for op in chosen:
            rule = self.action_rule(op)
            wanted = rule.key if rule is not None and rule.key else self.default_keys[id(op)]
            if rule is not None and rule.key and rule.key in taken:
                raise ImportFailed(f"two actions would have the key {rule.key!r}.")
            self.keys[id(op)] = unique(wanted, taken)
        hidden: list[Operation] = []
        for op in referenced:
            if op not in chosen and op not in hidden:
                self.keys[id(op)] = unique(self.default_keys[id(op)], taken)
                hidden.append(op)
        return chosen, hidden

    def _referenced(self) -> list[str]:
        rules = [*self.overlay.fields.values()]
        for action in self.overlay.actions.values():
            rules.extend(action.fields.values())
        sources = [rule.choices_from for rule in rules]
        for action in self.overlay.actions.values():
            sources += [extra.choices_from for extra in action.extra_fields]
        names = [source.operation for source in sources if source is not None]
        if self.overlay.test is not None:
            names.append(self.overlay.test.operation)
        return names

    def action_rule(self, operation: Operation) -> ActionRule | None:
        for name, rule in self.overlay.actions.items():
            if matches(name, self.names(operation)[:3]):
                return rule
        return None

    # -- where requests go -----------------------------------------------------------------

    def base_url(self, connection_fields: set[str]) -> tuple[str, list[FieldSpec]]:
        """The base URL template, and the connection fields its variables need."""
        listed = self.parsed.servers
        url = self.base_url_override or self.overlay.base_url
        variables: dict[str, Any] = {}
        if url is None:
            if not listed:
                raise ImportFailed(
                    "the description names no server: give the API's address with --base-url."
                )
            url, variables = listed[0]
        if not re.match(r"^(https?://|\{)", url):
            raise ImportFailed(
                f"the server {url!r} is not an absolute http(s) address: give --base-url."
            )
        fields: list[FieldSpec] = []
        for name in placeholders(url):
            found = variables.get(name)
            spec: dict[str, Any] = found if isinstance(found, dict) else {}
            if name in connection_fields:
                continue
            default = spec.get("default") if isinstance(spec, dict) else None
            if default is not None and not re.search(r"your|example|\{", str(default), re.I):
                url = url.replace("{" + name + "}", str(default))
                continue
            fields.append(
                FieldSpec(
                    key=name,
                    label=title(name),
                    required=True,
                    help_text=first_sentence(str(spec.get("description") or ""))
                    or f"Your {title(name).lower()}, as in {url}.",
                )
            )
        return url.rstrip("/"), fields

    # -- auth ------------------------------------------------------------------------------

    def auth(self, kept: Sequence[Operation], base: str) -> tuple[AuthSpec, list[str]]:
        rule = self.overlay.auth
        schemes = dict(self.parsed.schemes)
        schemes.update({name: Node(value, None) for name, value in rule.schemes.items()})
        default = self.parsed.default_security
        found = candidates([op.security if op.security is not None else default for op in kept])
        wanted = rule.scheme
        if wanted is not None:
            names = tuple(sorted([wanted] if isinstance(wanted, str) else wanted))
            if names == ("none",):
                names = ()
            elif missing := [name for name in names if name not in schemes]:
                raise ImportFailed(f"auth.scheme: the description has no scheme {missing[0]!r}.")
            chosen = next((c for c in found if c.schemes == names), Candidate(names))
            try:
                spec = auth_spec(chosen, schemes, base, rule.scopes)
            except Unsupported as exc:
                raise ImportFailed(f"auth.scheme: {exc}.") from None
            return self._auth_rules(spec, rule), [c.name for c in found]
        problems = []
        for candidate in sorted(found, key=lambda c: rank(c, schemes)):
            try:
                spec = auth_spec(candidate, schemes, base, rule.scopes)
            except Unsupported as exc:
                problems.append(str(exc))
                continue
            self.warnings.extend(f"auth: {problem}" for problem in problems)
            return self._auth_rules(spec, rule), [c.name for c in found]
        if problems:
            self.warnings.append(
                "auth: no supported scheme (" + "; ".join(problems) + "); the app asks for none"
            )
        return self._auth_rules(AuthSpec(), rule), [c.name for c in found]

    def _auth_rules(self, spec: AuthSpec, rule: AuthRule) -> AuthSpec:
        """The overlay's renames and extra connection fields on the chosen auth."""
        fields = list(spec.fields)
        renames: dict[str, str] = {}
        known = {f.key for f in fields}
        for name, change in rule.fields.items():
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise ImportFailed(f"auth.fields: {name!r} is not a field of the auth ({listed}).")
            index = next(i for i, f in enumerate(fields) if f.key == name)
            given = {k: v for k, v in change.model_dump().items() if v is not None}
            fields[index] = fields[index].model_copy(update=given)
            if change.key:
                renames[name] = change.key
        if spec.type is AuthType.NONE and (rule.extra_fields or rule.placements):
            spec = spec.model_copy(update={"type": AuthType.CUSTOM})
        for extra in rule.extra_fields:
            fields.append(
                FieldSpec(
                    key=extra.key,
                    label=extra.label,
                    required=extra.required,
                    help_text=extra.help_text,
                    placeholder=extra.placeholder,
                    help_url=extra.help_url,
                    help_steps=extra.help_steps,
                    type=FieldType.PASSWORD if extra.secret else FieldType.STRING,
                    secret=extra.secret,
                    default=extra.default,
                    choices=_choice_specs(extra.choices),
                )
            )

        def renamed(template: str) -> str:
            for old, new in renames.items():
                template = template.replace("{" + old + "}", "{" + new + "}")
            return template

        placements = [
            p.model_copy(update={"template": renamed(p.template)}) for p in spec.placements
        ]
        if rule.template is not None:
            if len(placements) != 1:
                raise ImportFailed(
                    f"auth.template: the auth sends {len(placements)} credentials; "
                    "say where each goes with auth.placements."
                )
            placements[0] = placements[0].model_copy(update={"template": rule.template})
        if rule.placements is not None:
            placements = list(rule.placements)
        update: dict[str, Any] = {"fields": tuple(fields), "placements": tuple(placements)}
        if rule.basic is not None and spec.basic is None:
            raise ImportFailed("auth.basic: the auth is not HTTP Basic.")
        if spec.basic is not None:
            own = rule.basic or BasicRule()
            basic = spec.basic.model_copy(
                update={
                    "username": renamed(spec.basic.username)
                    if own.username is None
                    else own.username,
                    "password": renamed(spec.basic.password)
                    if own.password is None
                    else own.password,
                }
            )
            update["basic"] = basic
            if rule.basic is not None:
                # The scheme's own fields that neither template uses any more are not asked.
                scheme = {renamed(name)[1:-1] for name in ("{username}", "{password}")}
                used = {*placeholders(basic.username), *placeholders(basic.password)}
                used |= {name for p in placements for name in placeholders(p.template)}
                update["fields"] = tuple(f for f in fields if f.key not in scheme or f.key in used)
        if spec.oauth2 is not None:
            tweaks = {
                "scope_separator": rule.scope_separator,
                "pkce": rule.pkce,
                "token_auth_method": rule.token_auth_method,
                "authorize_params": rule.authorize_params or None,
                "scope_descriptions": (
                    {**spec.oauth2.scope_descriptions, **rule.scope_descriptions}
                    if rule.scope_descriptions
                    else None
                ),
            }
            update["oauth2"] = spec.oauth2.model_copy(
                update={k: v for k, v in tweaks.items() if v is not None}
            )
        return spec.model_copy(update=update)

    # -- actions ---------------------------------------------------------------------------

    def _rules_for(
        self, names: tuple[str, str], rules: dict[str, FieldRule], where: str
    ) -> list[FieldRule]:
        found = []
        for name, rule in rules.items():
            if matches(name, names):
                self.used_rules.add((where, name))
                found.append(rule)
        return found

    def _apply(
        self, draft: Draft, spec: FieldSpec, rules: list[FieldRule], auth_keys: set[str], where: str
    ) -> Draft | None:
        """The draft with the overlay's rules for it applied; None if it is hidden."""
        binding = draft.binding
        for rule in rules:
            if rule.hidden:
                if spec.required and binding.location == "path":
                    raise ImportFailed(
                        f"{where}.{draft.source}: a path parameter cannot be hidden; give it a "
                        "value or a credential."
                    )
                return None
            if rule.value is not None:
                fixed = binding.model_copy(update={"field": None, "value": rule.value})
                return Draft(None, draft.source, fixed)
            if rule.template is not None:
                templated = binding.model_copy(update={"field": None, "template": rule.template})
                return Draft(None, draft.source, templated)
            if rule.credential is not None:
                if rule.credential not in auth_keys:
                    raise ImportFailed(
                        f"{where}.{draft.source}: the connection has no field {rule.credential!r}."
                    )
                bound = binding.model_copy(update={"field": None, "credential": rule.credential})
                return Draft(None, draft.source, bound)
            changes: dict[str, Any] = {
                name: value
                for name, value in rule.model_dump(
                    include={
                        "key",
                        "label",
                        "help_text",
                        "placeholder",
                        "type",
                        "required",
                        "default",
                        "list",
                    }
                ).items()
                if value is not None
            }
            if "default" in rule.model_fields_set and rule.default is None:
                changes["default"] = None  # `default: null`: the description's is not sent
            if rule.choices is not None:
                changes["choices"] = tuple(ChoiceSpec(value=str(choice)) for choice in rule.choices)
            if rule.choices_from is not None:
                changes["dynamic"] = self.dynamic(
                    rule.choices_from, f"{where}.{draft.source}.choices_from"
                )
                changes["choices"] = ()
            spec = spec.model_copy(update=changes)
        if spec.key != binding.field:
            binding = binding.model_copy(update={"field": spec.key})
        return Draft(spec, draft.source, binding)

    def dynamic(self, rule: ChoicesRule, where: str) -> DynamicChoicesSpec:
        target = self.find(rule.operation, where)
        return DynamicChoicesSpec(**{**rule.model_dump(), "operation": self.keys[id(target)]})

    def extra_field(self, extra: ExtraField, where: str) -> FieldSpec:
        dynamic = None
        if extra.choices_from is not None:
            dynamic = self.dynamic(extra.choices_from, f"{where}.{extra.key}.choices_from")
        given = extra.model_dump(exclude={"choices", "choices_from"})
        return FieldSpec(**given, choices=_choice_specs(extra.choices), dynamic=dynamic)

    def operation(self, op: Operation, hidden: bool, auth: AuthSpec) -> OperationSpec:
        rule = self.action_rule(op) or ActionRule()
        where = f"actions.{op.operation_id or op.name}"
        multipart = op.body is not None and op.body.content_type == MULTIPART
        maker = FieldMaker(self.reader, multipart)
        drafts = parameter_drafts(maker, op.parameters, credential_parameters(auth))
        if op.body is not None:
            given = body_drafts(maker, op.body, rule.flatten)
            if op.method == "PATCH":
                # A schema's default is what the API assumes for a new record; sent with
                # every change it would reset what the user left empty (Pinecone's
                # deletion protection, its replicas). A change sends only what is given.
                given = [
                    replace(d, spec=d.spec.model_copy(update={"default": None})) if d.spec else d
                    for d in given
                ]
            drafts += given
        declared = {d.binding.name for d in drafts if d.binding.location == "path"}
        for name in re.findall(r"\{([^}]+)\}", op.path):
            if name not in declared:  # the path names a parameter the description forgot
                spec = maker.field(Shape(type="string"), name, snake(name), True, "The")
                drafts.append(
                    Draft(spec, name, Binding(location="path", name=name, field=spec.key))
                )
        auth_keys = {f.key for f in auth.fields}
        kept: list[Draft] = []
        for draft in drafts:
            if draft.spec is None:  # a fixed value
                kept.append(draft)
                continue
            names = (draft.source, draft.spec.key)
            shared = self._rules_for(names, self.overlay.fields, "fields")
            own = self._rules_for(names, rule.fields, where)
            if any(_says_how_sent(r) for r in own):
                # The action's own word on how the field is sent (a value where every other
                # action hides it) wins over the app's.
                shared = [r for r in shared if not _says_how_sent(r)]
            rules = shared + own
            changed = self._apply(draft, draft.spec, rules, auth_keys, where)
            if changed is not None:
                kept.append(changed)
        for name in rule.fields:
            if (where, name) not in self.used_rules:
                raise ImportFailed(f"{where}.fields: {name!r} is not a field of the operation.")
        inputs = _one_field_per_key([d.spec for d in kept if d.spec is not None], where)
        inputs += [self.extra_field(extra, where) for extra in rule.extra_fields]
        keys = [spec.key for spec in inputs]
        if len(keys) != len(set(keys)):
            raise ImportFailed(f"{where}: two fields would have the same key.")
        _check_templates(where, [d.binding.template for d in kept], keys, rule.extra_fields)
        for name in rule.required:
            if name not in keys:
                raise ImportFailed(f"{where}.required: {name!r} is not a field of the action.")
        inputs = [
            spec.model_copy(update={"required": True}) if spec.key in rule.required else spec
            for spec in inputs
        ]
        order = {key: index for index, key in enumerate(rule.order)}
        inputs.sort(key=lambda spec: order.get(spec.key, len(order)))
        result = answer(op, self.reader, rule.results)
        outputs = result.outputs
        if rule.outputs is not None:
            named = {o.key: o for o in outputs}
            outputs = [named.get(key) or result_output(key) for key in rule.outputs]
        if rule.extract:
            extracted = {key: fill(path, result.sample) for key, path in rule.extract.items()}
            result.sample = {**result.sample, **extracted}
            shown = {o.key for o in outputs}
            outputs = [result_output(key) for key in rule.extract if key not in shown] + outputs
        sample = rule.sample if rule.sample is not None else _complete(result, outputs)
        summary = op.summary.rstrip(".")
        action_title = rule.title or summary or title(op.operation_id) or op.name
        description = rule.description or first_sentence(op.description) or summary
        if len(description) < 10:
            description = f"{action_title}: {op.name}."
        body = None
        headers = {**self.overlay.headers, **rule.headers}
        if op.body is not None:
            body = {"application/json": "json", MULTIPART: "multipart"}.get(
                op.body.content_type, "form"
            )
            if body == "json" and op.body.media_type not in ("", "application/json", "*/*"):
                # JSON of a kind of its own (JSON:API's application/vnd.api+json): said so.
                headers = {"Content-Type": op.body.media_type, **headers}
        return OperationSpec(
            key=self.keys[id(op)],
            title=action_title,
            description=description,
            type=rule.type or result.type,
            hidden=hidden,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            sample=sample,
            request=RequestSpec(
                method=op.method,
                # Box tells operations on one path apart with a fragment
                # ("/files/{file_id}#add_shared_link"), which is no part of the request.
                path=op.path.split("#")[0],
                bindings=tuple(d.binding for d in kept),
                body=body,
                empty_body=body == "json"
                and op.body is not None
                and op.body.required
                and not any(d.binding.location == "body" for d in kept),
                headers=headers,
                base_url=op.server,
                results=tuple(rule.results) if rule.results is not None else result.results,
                # GraphQL answers 200 with the refusal in "errors".
                errors=("errors",) if op.graphql else (),
                extract=rule.extract,
                answer_file=result.file,
            ),
            source=f"{op.name} {op.operation_id}".strip(),
            timeout=rule.timeout,
        )

    def test(self, built: Sequence[OperationSpec], kept: Sequence[Operation]) -> TestSpec | None:
        rule = self.overlay.test
        if rule is not None:
            target = self.find(rule.operation, "test.operation")
            return TestSpec(operation=self.keys[id(target)], inputs=rule.inputs, label=rule.label)
        by_key = {spec.key: spec for spec in built}
        found = [
            op
            for op in kept
            if op.reads
            and _WHO_AM_I.search(op.identity)
            and not any(f.required for f in by_key[self.keys[id(op)]].inputs)
        ]
        if not found:
            return None
        best = min(found, key=lambda op: len(op.identity))
        spec = by_key[self.keys[id(best)]]
        outputs = {o.key for o in spec.outputs}
        label_keys = [key for key in _LABEL_KEYS if key in outputs]
        label = None
        if label_keys:
            label = "{" + label_keys[0] + "}"
            if "email" in outputs and label_keys[0] != "email":
                label += " ({email})"
        return TestSpec(operation=spec.key, label=label)


def _inputs_by_key(
    built: list[OperationSpec], test: TestSpec | None
) -> tuple[list[OperationSpec], TestSpec | None]:
    """The inputs a dropdown or the connection test gives another operation, named by that
    operation's field keys (``page_size``) where the overlay names them as the description
    does (``PageSize``), as it may name anything else."""
    keys: dict[str, dict[str, str]] = {}
    for spec in built:
        keys[spec.key] = {
            ".".join(b.path) if b.location == "body" and b.path else b.name: b.field
            for b in (spec.request.bindings if spec.request is not None else ())
            if b.field is not None
        }

    def rename(values: dict[str, Any], target: str) -> dict[str, Any]:
        return {keys[target].get(name, name): value for name, value in values.items()}

    def renamed(dynamic: DynamicChoicesSpec) -> DynamicChoicesSpec:
        target = keys[dynamic.operation]
        return dynamic.model_copy(
            update={
                "inputs": rename(dynamic.inputs, dynamic.operation),
                "page_input": target.get(dynamic.page_input or "", dynamic.page_input),
                "page_size_input": target.get(
                    dynamic.page_size_input or "", dynamic.page_size_input
                ),
            }
        )

    operations = [
        spec.model_copy(
            update={
                "inputs": tuple(
                    field.model_copy(update={"dynamic": renamed(field.dynamic)})
                    if field.dynamic is not None
                    else field
                    for field in spec.inputs
                )
            }
        )
        for spec in built
    ]
    if test is not None:
        test = test.model_copy(update={"inputs": rename(test.inputs, test.operation)})
    return operations, test


def _one_field_per_key(specs: Sequence[FieldSpec], where: str) -> list[FieldSpec]:
    """The action's fields. Two that the overlay gave the same key are one field, whose value
    goes in both places (Algolia wants a synonym's objectID in the path and in the body): the
    first of them, required if either is."""
    merged: dict[str, FieldSpec] = {}
    for spec in specs:
        first = merged.get(spec.key)
        if first is None:
            merged[spec.key] = spec
        elif (first.type, first.list) != (spec.type, spec.list):
            raise ImportFailed(
                f"{where}: two fields would have the key {spec.key!r}, of different types."
            )
        elif spec.required and not first.required:
            merged[spec.key] = first.model_copy(update={"required": True})
    return list(merged.values())


def _choice_specs(choices: Sequence[str | ChoiceRule]) -> tuple[ChoiceSpec, ...]:
    return tuple(
        ChoiceSpec(value=c) if isinstance(c, str) else ChoiceSpec(value=c.value, label=c.label)
        for c in choices
    )


def _says_how_sent(rule: FieldRule) -> bool:
    """Whether a rule decides how a field is sent (or that it is not), not only how it looks."""
    fixed = (rule.value, rule.template, rule.credential)
    return "hidden" in rule.model_fields_set or any(v is not None for v in fixed)


def _check_templates(
    where: str, templates: Sequence[Any], keys: Sequence[str], extra: Sequence[ExtraField]
) -> None:
    """Templates name fields of the action, and every extra field goes into one."""
    named: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            named.update(name.split(".")[0] for name in placeholders(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for template in templates:
        walk(template)
    if unknown := sorted(named - set(keys)):
        raise ImportFailed(f"{where}: a template names {unknown[0]!r}, not a field of the action.")
    if unused := [field.key for field in extra if field.key not in named]:
        raise ImportFailed(f"{where}.extra_fields: {unused[0]!r} goes into no template.")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def result_output(key: str) -> OutputSpec:
    return OutputSpec(key=key, label=title(key.replace("__", " ")))


def _complete(result: Answer, outputs: Sequence[Any]) -> dict[str, Any]:
    """The sample, with a value for every output field it lacks (a description's example
    need not show every property)."""
    sample = dict(result.sample)
    for output in outputs:
        if not sample_value(sample, output.key)[0]:
            node = sample
            parts = output.key.split("__")
            for part in parts[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[parts[-1]] = None
    return sample


def import_description(
    source: Path,
    *,
    key: str | None = None,
    overlay: Overlay | None = None,
    overlay_bytes: bytes = b"",
    base_url: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Make an app of the description at ``source``; raises ``ImportFailed`` saying why not."""
    overlay = overlay or Overlay()
    if is_graphql(source):
        selections = {
            name: rule.selection for name, rule in overlay.actions.items() if rule.selection
        }
        parsed = parse_graphql(source, selections)
    else:
        parsed = parse_openapi(load(source, overlay.references))
    importer = _Importer(parsed, overlay, base_url)
    chosen, hidden = importer.select()
    if not chosen:
        raise ImportFailed("no operation is left to make an action of.")
    extra = {f.key for f in overlay.auth.extra_fields}
    base, variable_fields = importer.base_url(extra)
    auth, alternatives = importer.auth([*chosen, *hidden], base)
    # A variable that is also a credential the auth asks for (Algolia's application id is
    # both the host's first label and a header) is that one field, asked once.
    asked = {f.key for f in auth.fields}
    variable_fields = [spec for spec in variable_fields if spec.key not in asked]
    if variable_fields:
        fields = (*auth.fields, *variable_fields)
        kind = (
            AuthType.CUSTOM
            if auth.type in (AuthType.NONE, AuthType.API_KEY, AuthType.BASIC)
            else auth.type
        )
        auth = auth.model_copy(update={"fields": fields, "type": kind})
    built: list[OperationSpec] = []
    everything = [(op, False) for op in chosen] + [(op, True) for op in hidden]
    for number, (op, is_hidden) in enumerate(everything, 1):
        try:
            built.append(importer.operation(op, is_hidden, auth))
        except ImportFailed:
            raise
        except RecursionError:
            raise ImportFailed(f"{op.name}: its schemas nest too deeply to read.") from None
        if progress is not None:
            progress(number, len(everything))
    importer.warnings.extend(
        f"{problem} (read as JSON)" for problem in sorted(importer.reader.dangling)
    )
    for name in overlay.fields:
        if ("fields", name) not in importer.used_rules:
            raise ImportFailed(f"fields: {name!r} names no field of any kept operation.")
    if parsed.kind == "graphql" and auth.type is AuthType.NONE:
        importer.warnings.append("a GraphQL schema says nothing of auth: declare it (auth.schemes)")
    info = parsed.info
    api_title = str(info.get("title") or source.stem)
    license_info = _mapping(info.get("license"))
    app_key = key or overlay.key or snake(api_title, fallback="api")
    app_key = limited(app_key)
    manifest_test = importer.test(built, chosen)
    built, manifest_test = _inputs_by_key(built, manifest_test)
    if manifest_test is None and auth.type is not AuthType.NONE:
        importer.warnings.append("no connection test: name one in the overlay (test.operation)")
    color = overlay.hex_color or DEFAULT_HEX_COLOR
    try:
        manifest = AppManifest(
            key=app_key,
            title=overlay.title or api_title,
            description=overlay.description
            or first_sentence(str(info.get("description") or ""), 300)
            or f"The {api_title}, imported from its description.",
            categories=tuple(overlay.categories or (DEFAULT_CATEGORY,)),
            hex_color=color if color.startswith("#") else f"#{color}",
            icon=overlay.icon,
            source=SourceSpec(
                kind=parsed.kind,
                title=api_title,
                version=str(info.get("version") or ""),
                spec_version=parsed.spec_version,
                file=parsed.name,
                sha256=digest(parsed.files),
                license=overlay.source.license
                if overlay.source is not None
                else str(license_info.get("name") or ""),
                overlay_sha256=hashlib.sha256(overlay_bytes).hexdigest() if overlay_bytes else "",
            ),
            base_url=base,
            auth=auth,
            test=manifest_test,
            limits=overlay.limits,
            transient_statuses=tuple(overlay.transient_statuses or (408,)),
            expired_when=tuple(overlay.expired_when),
            operations=tuple(built),
            hook=overlay.hook,
        )
    except ValueError as exc:
        raise ImportFailed(str(exc)) from None
    return Report(manifest, importer.report_skipped, alternatives, importer.warnings)
