"""The types each kind's fields must have, so that an object with wrong field types is skipped with a note.

Dumps are hand-edited and API servers of other vendors add surprises: `spec: "oops"`, `metadata: 42`, a list
where a map belongs. The reader checks each object against its kind's shape before keeping anything of it;
the analysis may then trust the fields it reads. Only fields meshbot reads are described (the rest of an
object is never looked at); a field that is absent or null is always fine. The shapes follow the
Kubernetes API and Istio's API (istio/api: security/v1beta1, networking/v1alpha3, extensions/v1alpha1,
telemetry/v1alpha1) and Gateway API (gateway.networking.k8s.io/v1).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

Problem = tuple[str, str, str]
"""(field path, the type expected, the type found): types are YAML/JSON names, "scalar" a string or number,
"item" a list item that is not null."""


def json_type(value: Any) -> str:
    """The YAML/JSON name of a value's type, for notes a user reads."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "null" if value is None else type(value).__name__


class Shape:
    def problem(self, value: Any, path: str) -> Problem | None:
        """The first field of `value` that does not fit, else None."""
        raise NotImplementedError


SCALAR_TYPES = (str, int, float, bool)


@dataclass(frozen=True)
class _Scalar(Shape):
    def problem(self, value: Any, path: str) -> Problem | None:
        return None if isinstance(value, SCALAR_TYPES) else (path, "scalar", json_type(value))


@dataclass(frozen=True)
class _Anything(Shape):
    def problem(self, value: Any, path: str) -> Problem | None:
        return None


@dataclass(frozen=True)
class Map(Shape):
    """A mapping whose listed fields (when present and not null) have their own shapes; others are ignored."""

    fields: tuple[tuple[str, Shape], ...] = ()
    _scalars: tuple[str, ...] = dataclass_field(init=False, default=())
    _nested: tuple[tuple[str, Shape], ...] = dataclass_field(init=False, default=())

    def __post_init__(self) -> None:
        # Scalars are most fields: checked inline, without a call each (20k pods are checked on every read).
        object.__setattr__(self, "_scalars", tuple(k for k, shape in self.fields if isinstance(shape, _Scalar)))
        object.__setattr__(self, "_nested", tuple((k, s) for k, s in self.fields if not isinstance(s, _Scalar)))

    def problem(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return (path, "map", json_type(value))
        for key in self._scalars:
            field = value.get(key)
            if field is not None and not isinstance(field, SCALAR_TYPES):
                return (f"{path}.{key}" if path else key, "scalar", json_type(field))
        for key, shape in self._nested:
            field = value.get(key)
            if field is not None and (found := shape.problem(field, f"{path}.{key}" if path else key)):
                return found
        return None


@dataclass(frozen=True)
class MapOf(Shape):
    """A mapping with any keys, every value of one shape (labels, selectors, port maps)."""

    values: Shape

    def problem(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return (path, "map", json_type(value))
        if isinstance(self.values, _Scalar) and all(isinstance(v, SCALAR_TYPES) or v is None for v in value.values()):
            return None  # the common case (labels, annotations), without a call per value
        for key, item in value.items():
            if item is not None and (found := self.values.problem(item, f"{path}.{key}")):
                return found
        return None


@dataclass(frozen=True)
class ListOf(Shape):
    items: Shape

    def problem(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, list):
            return (path, "list", json_type(value))
        if isinstance(self.items, _Scalar) and all(isinstance(v, SCALAR_TYPES) for v in value):
            return None
        for index, item in enumerate(value):
            if item is None:
                return (f"{path}[{index}]", "item", "null")
            if found := self.items.problem(item, f"{path}[{index}]"):
                return found
        return None


def fields(**shapes: Shape) -> Map:
    return Map(tuple((key.rstrip("_"), shape) for key, shape in shapes.items()))  # `from_` for the key "from"


SCALAR = _Scalar()
ANY = _Anything()
MAP = Map()
STRINGS = ListOf(SCALAR)
STRING_MAP = MapOf(SCALAR)

METADATA = fields(
    name=SCALAR,
    namespace=SCALAR,
    labels=STRING_MAP,
    annotations=STRING_MAP,
    creationTimestamp=SCALAR,
    ownerReferences=ListOf(fields(kind=SCALAR, name=SCALAR, controller=SCALAR)),
)
CONTAINER = fields(name=SCALAR, image=SCALAR, restartPolicy=SCALAR, args=STRINGS, resources=fields(requests=STRING_MAP))
# Environment variables are read only for DaemonSets (CNI agents such as Calico's eBPF switch).
CONTAINER_WITH_ENV = fields(**dict(CONTAINER.fields), env=ListOf(fields(name=SCALAR, value=SCALAR)))


def _pod_spec(container: Shape) -> Map:
    return fields(
        containers=ListOf(container),
        initContainers=ListOf(container),
        hostNetwork=SCALAR,
        nodeName=SCALAR,
        serviceAccountName=SCALAR,
        serviceAccount=SCALAR,
    )


POD_SPEC = _pod_spec(CONTAINER)


def _workload_spec(container: Shape) -> Map:
    template_metadata = fields(labels=STRING_MAP, annotations=STRING_MAP)
    return fields(template=fields(metadata=template_metadata, spec=_pod_spec(container)))


CONDITIONS = ListOf(fields(type=SCALAR, status=SCALAR, reason=SCALAR, message=SCALAR))

# How Istio policies bind (istio/api type/v1beta1/selector.proto: WorkloadSelector, PolicyTargetReference).
TARGET_REF = STRING_MAP
BINDING = {
    "selector": fields(matchLabels=STRING_MAP),
    "workloadSelector": fields(labels=STRING_MAP),
    "targetRef": TARGET_REF,
    "targetRefs": ListOf(TARGET_REF),
}
HTTP_ROUTE = fields(
    match=ListOf(MAP),
    route=ListOf(fields(destination=fields(host=SCALAR, subset=SCALAR, port=MAP), weight=SCALAR, headers=MAP)),
    fault=MAP,
    mirror=MAP,
    mirrors=ListOf(MAP),
    headers=MAP,
    retries=fields(attempts=SCALAR),
    timeout=SCALAR,
    rewrite=MAP,
    redirect=MAP,
    directResponse=MAP,
    corsPolicy=MAP,
)
PARENT_REF = fields(group=SCALAR, kind=SCALAR, name=SCALAR, namespace=SCALAR, port=SCALAR, sectionName=SCALAR)


def _spec(**shapes: Shape) -> Map:
    return fields(**BINDING, **shapes)


# spec (and status, where read) per kind; kinds not listed are checked for a map spec only.
SPECS: dict[str, Shape] = {
    "Pod": POD_SPEC,
    "Service": fields(selector=STRING_MAP, ports=ListOf(MAP)),
    "Deployment": _workload_spec(CONTAINER),
    "DaemonSet": _workload_spec(CONTAINER_WITH_ENV),
    "StatefulSet": _workload_spec(CONTAINER),
    "PeerAuthentication": _spec(mtls=fields(mode=SCALAR), portLevelMtls=MapOf(fields(mode=SCALAR))),
    "AuthorizationPolicy": _spec(
        action=SCALAR,
        provider=MAP,
        rules=ListOf(
            fields(
                from_=ListOf(fields(source=MapOf(STRINGS))),
                to=ListOf(fields(operation=MapOf(STRINGS))),
                when=ListOf(fields(key=SCALAR, values=STRINGS, notValues=STRINGS)),
            )
        ),
    ),
    "RequestAuthentication": _spec(jwtRules=ListOf(MAP)),
    "EnvoyFilter": _spec(
        configPatches=ListOf(fields(applyTo=SCALAR, match=MAP, patch=fields(operation=SCALAR, value=ANY))),
        priority=SCALAR,
    ),
    "Sidecar": _spec(egress=ListOf(MAP), ingress=ListOf(MAP), outboundTrafficPolicy=MAP),
    "VirtualService": _spec(
        hosts=STRINGS,
        gateways=STRINGS,
        exportTo=STRINGS,
        http=ListOf(HTTP_ROUTE),
        tcp=ListOf(MAP),
        tls=ListOf(MAP),
    ),
    "DestinationRule": _spec(
        host=SCALAR,
        exportTo=STRINGS,
        trafficPolicy=MAP,
        subsets=ListOf(fields(name=SCALAR, labels=STRING_MAP, trafficPolicy=MAP)),
    ),
    "WasmPlugin": _spec(url=SCALAR, phase=SCALAR, priority=SCALAR, match=ListOf(MAP)),
    "Telemetry": _spec(tracing=ListOf(MAP), metrics=ListOf(MAP), accessLogging=ListOf(MAP)),
    "Gateway": fields(
        gatewayClassName=SCALAR,
        addresses=ListOf(MAP),
        listeners=ListOf(
            fields(
                name=SCALAR,
                port=SCALAR,
                protocol=SCALAR,
                allowedRoutes=fields(namespaces=fields(from_=SCALAR, selector=MAP), kinds=ListOf(MAP)),
            )
        ),
    ),
    "HTTPRoute": fields(parentRefs=ListOf(PARENT_REF), hostnames=STRINGS, rules=ListOf(MAP)),
    "GRPCRoute": fields(parentRefs=ListOf(PARENT_REF), hostnames=STRINGS, rules=ListOf(MAP)),
}
STATUS: dict[str, Shape] = {
    "Pod": fields(phase=SCALAR),
    "Node": fields(nodeInfo=fields(kernelVersion=SCALAR, osImage=SCALAR, containerRuntimeVersion=SCALAR)),
}
DEFAULT_STATUS = fields(conditions=CONDITIONS, addresses=ListOf(MAP))


def object_problem(obj: dict[str, Any]) -> Problem | None:
    """(field, expected, found) for the first field of a Kubernetes object that has the wrong type, else None."""
    kind = str(obj.get("kind") or "")
    checks: tuple[tuple[str, Shape], ...] = (
        ("metadata", METADATA),
        ("spec", SPECS.get(kind, MAP)),
        ("status", STATUS.get(kind, DEFAULT_STATUS)),
    )
    for key, shape in checks:
        value = obj.get(key)
        if value is not None and (found := shape.problem(value, key)):
            return found
    return None
