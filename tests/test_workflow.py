"""The GitHub workflow runs what CI runs: ``make test`` (as ``.ci/run`` does) on every push
and pull request, and ``make book`` then a GitHub Pages deployment on main."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
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
    """The make commands of .ci/run, in the order they are written."""
    code = [line.split("#")[0] for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    return re.findall(r"^\s*(make [a-z-]+)", "\n".join(code), re.M)  # commands, not words


def run_steps(job: dict) -> list[str]:
    return [" ".join(step["run"].split()) for step in job.get("steps", []) if "run" in step]


def make_commands(job: dict) -> list[str]:
    return [cmd for cmd in run_steps(job) if cmd.startswith("make")]


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def test_ci_runs_make_test_and_the_readers_stacks():
    assert ci_commands() == ["make setup", "make test-stacks", "make test"]


def _fake_ci(tmp_path: Path, fail: str = "") -> subprocess.CompletedProcess:
    """.ci/run in a copy of its folder, with a ``make`` that records its target and fails
    for ``fail``."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    make = bin_ / "make"
    make.write_text(f'#!/usr/bin/env bash\necho "ran $1" >> "{tmp_path}/made"\n'
                    f'echo "output of $1"\n[ "$1" != "{fail}" ]\n')
    make.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("fail", ["", "test", "test-stacks", "setup"])
def test_ci_fails_when_make_test_or_the_stacks_fail(tmp_path, fail):
    proc = _fake_ci(tmp_path, fail)
    made = sorted((tmp_path / "made").read_text().split("\n")[:-1])
    if fail == "setup":  # nothing to test without the install
        assert proc.returncode != 0 and made == ["ran setup"]
        return
    assert made == ["ran setup", "ran test", "ran test-stacks"]
    assert "output of test-stacks" in proc.stdout  # the stacks' log, printed whole
    assert proc.stdout.index("output of test\n") < proc.stdout.index("output of test-stacks")
    assert (proc.returncode == 0) == (fail == "")
    assert ("make test FAILED" in proc.stdout) == (fail == "test")
    assert ("make test-stacks FAILED" in proc.stdout) == (fail == "test-stacks")


def test_workflow_runs_on_pushes_and_pull_requests(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers and "pull_request" in triggers


def test_the_test_jobs_run_exactly_what_ci_runs(workflow):
    jobs = [workflow["jobs"]["test"], workflow["jobs"]["stacks"]]  # side by side, as in .ci/run
    assert sorted(cmd for job in jobs for cmd in make_commands(job)) == sorted(
        c for c in ci_commands() if c != "make setup")  # (make test's own first step)
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
