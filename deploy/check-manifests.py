"""Checks Couplet's Kubernetes manifests; run by deploy/check-deploy in its virtual environment.

    python deploy/check-manifests.py REPOSITORY

Builds every kustomization of deploy/kubernetes (base and each overlay) and checks what it builds:

- each kustomization's resources and patches exist, and every manifest file is part of one;
- every Kubernetes kind validates against kubernetes-validate's strict schemas (no unknown field),
  for the oldest and the newest Kubernetes this deployment supports;
- every custom resource (KEDA, Prometheus Operator, CloudNativePG) validates against the strict
  schema of deploy/kubernetes/schemas for the fields the manifests use;
- the references between resources resolve: selectors select pod templates, probes and Services
  name a container port, volumes and TriggerAuthentications name a Secret and key that exist (or
  that CloudNativePG generates), a ScaledObject names a Deployment.

The build is done here for the few kustomize features the manifests use (resources, patches as
strategic merges, namespace, images), so no kustomize binary is needed; a feature outside that set
is a finding. Where `kubectl kustomize` is installed its build must equal this one.

Prints one line per finding and exits 1 when there is any; prints nothing and exits 0 otherwise.
"""

import copy
import pathlib
import shutil
import subprocess
import sys

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

# The oldest Kubernetes still supported upstream when these manifests were written, and the newest
# kubernetes-validate knows.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
# What the build below implements of a kustomization.
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "patches", "namespace", "images"}
# The merge keys of strategic merge patches on the lists the patches may touch (Kubernetes' own kinds
# only: a custom resource's lists are replaced whole, as kustomize does).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "env": "name", "volumeMounts": "mountPath"}
# The Secret CloudNativePG generates for a Cluster's application owner, and its keys.
CNPG_APP_SECRET_KEYS = {"username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass"}


class Findings(list):
    """What is wrong, one message each."""

    def add(self, where, message):
        self.append(f"{where}: {message}")


def load_all(path):
    """The YAML documents of a file, empty ones dropped."""
    with open(path, encoding="utf-8") as file:
        return [doc for doc in yaml.safe_load_all(file) if doc is not None]


def identity(doc):
    """apiVersion, kind, namespace and name: what tells two resources apart."""
    metadata = doc.get("metadata", {})
    return (doc.get("apiVersion"), doc.get("kind"), metadata.get("namespace"), metadata.get("name"))


def is_builtin(doc):
    """Whether the kind is Kubernetes' own (core or a *.k8s.io group) rather than a custom resource."""
    group = doc.get("apiVersion", "").rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def strategic_merge(target, patch, builtin):
    """Merges patch into target: maps key by key, the lists of MERGE_KEYS item by item, others replaced."""
    for key, value in patch.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            strategic_merge(current, value, builtin)
        elif builtin and key in MERGE_KEYS and isinstance(value, list) and isinstance(current, list):
            merge_key = MERGE_KEYS[key]
            for item in value:
                match = next((c for c in current if c.get(merge_key) == item.get(merge_key)), None)
                if match is None:
                    current.append(copy.deepcopy(item))
                else:
                    strategic_merge(match, item, builtin)
        else:
            target[key] = copy.deepcopy(value)


def pod_templates(doc):
    """The pod template of a Deployment or Job, if any."""
    return [doc["spec"]["template"]] if doc.get("kind") in ("Deployment", "Job") and "template" in doc.get("spec", {}) else []


def set_images(docs, images):
    """The images transformer: a container whose image is `name` (any tag) gets newName:newTag."""
    for doc in docs:
        for template in pod_templates(doc):
            for container in template["spec"].get("containers", []) + template["spec"].get("initContainers", []):
                for image in images:
                    name = container.get("image", "").split("@")[0].rsplit(":", 1)[0]
                    if name == image["name"]:
                        container["image"] = f"{image.get('newName', name)}:{image.get('newTag', 'latest')}"


def build(directory, findings, used):
    """The resources the kustomization in `directory` builds; `used` collects the files it reads."""
    path = directory / "kustomization.yaml"
    used.add(path.resolve())
    kustomization = load_all(path)[0]
    for field in sorted(set(kustomization) - KUSTOMIZATION_FIELDS):
        findings.add(path, f"{field} is not supported by deploy/check-manifests.py's build")
    docs = []
    for resource in kustomization.get("resources", []):
        target = (directory / resource)
        if target.is_dir():
            docs += build(target, findings, used)
        elif target.is_file():
            used.add(target.resolve())
            docs += load_all(target)
        else:
            findings.add(path, f"the resource {resource} does not exist")
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            findings.add(path, f"a patch other than a strategic merge file (path:) is not supported: {patch}")
            continue
        patch_path = directory / patch["path"]
        if not patch_path.is_file():
            findings.add(path, f"the patch {patch['path']} does not exist")
            continue
        used.add(patch_path.resolve())
        for patch_doc in load_all(patch_path):
            targets = [d for d in docs if identity(d)[:2] == identity(patch_doc)[:2] and identity(d)[3] == identity(patch_doc)[3]]
            if len(targets) != 1:
                findings.add(patch_path, f"patches {identity(patch_doc)}, which the resources hold {len(targets)} times")
                continue
            strategic_merge(targets[0], patch_doc, is_builtin(patch_doc))
    set_images(docs, kustomization.get("images", []))
    if "namespace" in kustomization:
        for doc in docs:
            doc.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return docs


def compare_with_kubectl(directory, docs, findings):
    """Where kubectl is installed, its kustomize build must equal ours."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        findings.add(directory, f"kubectl kustomize failed: {result.stderr.strip()}")
        return
    theirs = {identity(d): d for d in yaml.safe_load_all(result.stdout) if d}
    ours = {identity(d): d for d in docs}
    for key in sorted(set(theirs) | set(ours), key=str):
        if theirs.get(key) != ours.get(key):
            findings.add(directory, f"kubectl kustomize builds {key} differently from deploy/check-manifests.py")


def load_schemas(directory):
    """The custom resources' schemas, by (apiVersion, kind)."""
    schemas = {}
    for path in sorted(directory.glob("*.yaml")):
        document = load_all(path)[0]
        schema = dict(document["schema"], **{"$defs": document.get("$defs", {})})
        jsonschema.Draft202012Validator.check_schema(schema)
        schemas[(document["apiVersion"], document["kind"])] = schema
    return schemas


def validate(where, doc, schemas, findings):
    """Checks one resource against Kubernetes' schema of its kind, or ours for a custom resource."""
    if is_builtin(doc):
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except SchemaNotFoundError:
                findings.add(where, f"Kubernetes {version} has no {doc.get('kind')} in {doc.get('apiVersion')}")
            except jsonschema.ValidationError as error:
                findings.add(where, f"Kubernetes {version}: {error.message} at {'.'.join(map(str, error.absolute_path))}")
        return
    schema = schemas.get((doc.get("apiVersion"), doc.get("kind")))
    if schema is None:
        findings.add(where, f"no schema for {doc.get('apiVersion')} {doc.get('kind')} in deploy/kubernetes/schemas")
        return
    for error in jsonschema.Draft202012Validator(schema).iter_errors(doc):
        findings.add(where, f"{error.message} at {'.'.join(map(str, error.absolute_path)) or 'the top'}")


def selects(selector, labels):
    """Whether matchLabels-style `selector` selects `labels`."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_references(where, docs, findings):
    """The references between resources resolve."""
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    secrets = {name: set(doc.get("stringData", {})) | set(doc.get("data", {})) for name, doc in by_kind.get("Secret", {}).items()}
    for cluster in by_kind.get("Cluster", {}):
        secrets[f"{cluster}-app"] = CNPG_APP_SECRET_KEYS
    templates = {name: doc["spec"]["template"] for kind in ("Deployment", "Job") for name, doc in by_kind.get(kind, {}).items()}

    def secret_key(place, name, key):
        if name not in secrets:
            findings.add(where, f"{place} names the Secret {name}, which the build does not hold")
        elif key not in secrets[name]:
            findings.add(where, f"{place} names the key {key} of the Secret {name}, which has {sorted(secrets[name])}")

    for name, template in templates.items():
        spec = template["spec"]
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                for item in volume["secret"].get("items", []):
                    secret_key(f"{name}'s volume {volume['name']}", volume["secret"]["secretName"], item["key"])
        for container in spec["containers"]:
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                port = container.get(probe, {}).get("httpGet", {}).get("port")
                if port is not None and port not in ports and port not in ports.values():
                    findings.add(where, f"{name}'s {probe} names the port {port}, which the container does not have")
            volumes = {v["name"] for v in spec.get("volumes", [])}
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes:
                    findings.add(where, f"{name} mounts the volume {mount['name']}, which the pod does not have")
    for name, doc in by_kind.get("Deployment", {}).items():
        if not selects(doc["spec"]["selector"]["matchLabels"], doc["spec"]["template"]["metadata"]["labels"]):
            findings.add(where, f"the Deployment {name}'s selector does not select its own pods")
    for kind in ("Service", "PodDisruptionBudget"):
        for name, doc in by_kind.get(kind, {}).items():
            selector = doc["spec"]["selector"]
            selector = selector.get("matchLabels", {}) if kind == "PodDisruptionBudget" else selector
            chosen = [t for t in templates.values() if selects(selector, t["metadata"]["labels"])]
            if not chosen:
                findings.add(where, f"the {kind} {name} selects no pod")
            if kind == "Service":
                for port in doc["spec"]["ports"]:
                    for template in chosen:
                        names = {p.get("name") for c in template["spec"]["containers"] for p in c.get("ports", [])}
                        if port.get("targetPort") not in names:
                            findings.add(where, f"the Service {name}'s targetPort {port.get('targetPort')} is no port of the pods it selects")
    for name, doc in by_kind.get("ServiceMonitor", {}).items():
        services = [s for s in by_kind.get("Service", {}).values() if selects(doc["spec"]["selector"].get("matchLabels"), s["metadata"].get("labels", {}))]
        if not services:
            findings.add(where, f"the ServiceMonitor {name} selects no Service")
        for endpoint in doc["spec"]["endpoints"]:
            for service in services:
                if endpoint["port"] not in {p.get("name") for p in service["spec"]["ports"]}:
                    findings.add(where, f"the ServiceMonitor {name} scrapes the port {endpoint['port']}, which the Service {service['metadata']['name']} lacks")
    for name, doc in by_kind.get("ScaledObject", {}).items():
        if doc["spec"]["scaleTargetRef"]["name"] not in by_kind.get("Deployment", {}):
            findings.add(where, f"the ScaledObject {name} scales a Deployment the build does not hold")
        for trigger in doc["spec"]["triggers"]:
            reference = trigger.get("authenticationRef", {}).get("name")
            if reference is not None and reference not in by_kind.get("TriggerAuthentication", {}):
                findings.add(where, f"the ScaledObject {name} names the TriggerAuthentication {reference}, which the build does not hold")
    for name, doc in by_kind.get("TriggerAuthentication", {}).items():
        for reference in doc["spec"]["secretTargetRef"]:
            secret_key(f"the TriggerAuthentication {name}", reference["name"], reference["key"])
    for name, doc in by_kind.get("Cluster", {}).items():
        for role in doc["spec"].get("managed", {}).get("roles", []):
            if "passwordSecret" in role:
                secret_key(f"the Cluster {name}'s role {role['name']}", role["passwordSecret"]["name"], "password")


def main():
    repository = pathlib.Path(sys.argv[1]).resolve()
    kubernetes = repository / "deploy" / "kubernetes"
    findings = Findings()
    schemas = load_schemas(kubernetes / "schemas")
    used = set()
    directories = [kubernetes / "base"] + sorted(p for p in (kubernetes / "overlays").iterdir() if p.is_dir())
    for directory in directories:
        where = directory.relative_to(repository)
        before = len(findings)
        docs = build(directory, findings, used)
        compare_with_kubectl(directory, docs, findings)
        for doc in docs:
            validate(f"{where}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}", doc, schemas, findings)
        # The references are followed only in a build whose resources have the shape they must have.
        if len(findings) == before:
            check_references(where, docs, findings)
    for path in sorted(kubernetes.glob("[bo]*/**/*.yaml")):
        if path.resolve() not in used:
            findings.add(path.relative_to(repository), "no kustomization uses this file")
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
