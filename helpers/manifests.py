"""Kubernetes manifests checked offline against the JSON schema of the API, as ``kubectl apply`` would.

    from helpers.manifests import validate_manifest
    for doc in yaml.safe_load_all(text):
        validate_manifest(doc, "1.30")       # "Deployment/wine", or ManifestError naming the field

Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
"""

from __future__ import annotations


class ManifestError(ValueError):
    """A Kubernetes manifest the API server would refuse; the message names the field and the rule.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """


def validate_manifest(manifest: dict, kubernetes_version: str = "1.30", strict: bool = True) -> str:
    """Check one manifest against the JSON schema of its kind; return ``"<Kind>/<name>"`` when valid.

    ``kubernetes_validate`` ships the schemas of every Kubernetes release, so this works offline; with
    ``strict`` a field the schema does not know (a typo) is an error too. Beyond the schema, an HPA's
    ``minReplicas`` may not exceed its ``maxReplicas`` (the API server checks that).

    Raises:
        ManifestError: the manifest is not a mapping, lacks ``apiVersion``/``kind``, has a kind the schema
            does not know, or breaks the schema; the message says where (``spec.scaleTargetRef``) and what.

    Introduced in course4_deployment/C4_W2_Lab_3_Autoscaling.ipynb.
    """
    import kubernetes_validate

    if not isinstance(manifest, dict):
        raise ManifestError(f"a manifest must be a mapping (a YAML document), got {type(manifest).__name__}")
    missing = [key for key in ("apiVersion", "kind") if not isinstance(manifest.get(key), str)]
    if missing:
        raise ManifestError(f"the manifest lacks {' and '.join(missing)}; every manifest starts with "
                            "apiVersion (e.g. apps/v1) and kind (e.g. Deployment)")
    name = f"{manifest['kind']}/{(manifest.get('metadata') or {}).get('name', '?')}"
    try:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=strict)
    except kubernetes_validate.SchemaNotFoundError:
        raise ManifestError(f"{name}: no schema for kind {manifest['kind']!r} in apiVersion "
                            f"{manifest['apiVersion']!r} (Kubernetes {kubernetes_version}); check both") from None
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ManifestError(f"{name}: {where}: {exc.message}") from None
    spec = manifest.get("spec") or {}
    if manifest["kind"] == "HorizontalPodAutoscaler" and spec.get("minReplicas", 1) > spec["maxReplicas"]:
        raise ManifestError(f"{name}: spec.maxReplicas: must be greater than or equal to minReplicas "
                            f"({spec['maxReplicas']} < {spec['minReplicas']})")
    return name
