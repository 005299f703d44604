"""The GitHub workflow runs what CI runs: ``make test`` (as ``.ci/run`` does) on every push
and pull request, and ``make book`` then a GitHub Pages deployment on main."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))


def ci_commands() -> list[str]:
    """The commands of .ci/run (comments, set and cd lines aside)."""
    lines = []
    for line in (ROOT / ".ci" / "run").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "set ", "cd ")):
            lines.append(line)
    return lines


def run_steps(job: dict) -> list[str]:
    return [" ".join(step["run"].split()) for step in job.get("steps", []) if "run" in step]


def make_commands(job: dict) -> list[str]:
    return [cmd for cmd in run_steps(job) if cmd.startswith("make")]


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def test_ci_runs_make_test_then_the_readers_stacks():
    assert ci_commands() == ["make test", "make test-stacks"]


def test_workflow_runs_on_pushes_and_pull_requests(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers and "pull_request" in triggers


def test_the_test_jobs_run_exactly_what_ci_runs(workflow):
    jobs = [workflow["jobs"]["test"], workflow["jobs"]["stacks"]]
    assert [cmd for job in jobs for cmd in make_commands(job)] == ci_commands()
    assert all("if" not in job for job in jobs), "tests run on every push and pull request"


def test_main_builds_the_book_and_deploys_it_to_pages(workflow):
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert make_commands(build) == ["make book"]
    assert "refs/heads/main" in build["if"] and "push" in build["if"]
    assert "test" in build["needs"], "publish only what passed the tests"
    upload = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build"
    assert [u.split("@")[0] for u in uses(deploy)] == ["actions/deploy-pages"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"


def test_every_command_is_a_make_target_or_a_system_package_install(workflow):
    targets = makefile_targets()
    for name, job in workflow["jobs"].items():
        for command in run_steps(job):
            words = shlex.split(command)
            if words[0] == "make":
                assert len(words) == 2 and words[1] in targets, f"{name}: {command!r} is not a Makefile target"
            else:
                assert words[0] in ("apt-get", "pyenv"), f"{name}: {command!r}: CI's work belongs in the Makefile"
    assert {"test", "book", "browser", "vendor"} <= targets
