"""check_tensor on tensors held in shards where they live (issue 15): jax arrays over 8 host
devices (rows, columns, both, replicated) and torch DTensors over 2 gloo ranks (Shard(0),
Shard(1), Replicate): every check's verdict equals the unsharded check's on the same values
(p-values to float64 summation order), and a twin with one shard scaled x1.05 fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the repository, or CI's copy of the suite
WORKER = Path(__file__).resolve().with_name("sharded_worker.py")


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _torchrun(kind: str, out: Path) -> None:
    """The worker's ``kind`` on 2 gloo ranks; rank r writes ``{out}.r``."""
    _run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
          str(WORKER), kind, str(out)], {"OMP_NUM_THREADS": "1"})


def _lines(path: Path | str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def _same_verdicts(line: dict) -> None:
    assert line["sharded"].keys() == line["whole"].keys()
    for check, (passed, p) in line["sharded"].items():
        whole_passed, whole_p = line["whole"][check]
        assert passed == whole_passed, (line["case"], line["sharding"], check)
        assert p == pytest.approx(whole_p, rel=1e-6, abs=1e-12), (
            line["case"],
            line["sharding"],
            check,
        )


def test_jax_arrays_sharded_over_8_devices_get_the_unsharded_verdicts(tmp_path):
    pytest.importorskip("jax")
    out = tmp_path / "jax.jsonl"
    _run([sys.executable, str(WORKER), "jax", str(out)],
         {"XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"})
    lines = _lines(out)
    assert len(lines) == 12
    for line in lines:
        _same_verdicts(line)
        assert line["passed"] == (line["case"] != "broken"), line
    assert {line["shards"] for line in lines} == {4, 2, 8, 1}


def test_jax_arrays_over_2_processes_merge_to_the_unsharded_verdicts(tmp_path):
    """jax.distributed with 2 processes of 4 host devices each: arrays that no process holds
    whole (rows, columns, both, replicated over the processes) get the unsharded verdicts
    in both processes; a process that never joins is a ValueError after the timeout."""
    pytest.importorskip("jax")
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    out = tmp_path / "jaxmp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "JAX_COORDINATOR": f"localhost:{port}"}
    procs = [subprocess.Popen([sys.executable, str(WORKER), "jaxmp", str(out)], cwd=ROOT,
                              env={**env, "JAX_PROCESS_ID": str(pid)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for pid in (0, 1)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(log[-3000:] for log in logs)
    for pid in (0, 1):
        lines = _lines(f"{out}.{pid}")
        checked = [line for line in lines if "case" in line]
        assert len(checked) == 12
        for line in checked:
            _same_verdicts(line)
            assert line["passed"] == (line["case"] != "broken"), line
            assert not line["addressable"]  # no process holds any of them whole
        alone = [line["alone"] for line in lines if "alone" in line]
        assert alone == ([] if pid else [alone[0]])
    assert "did not join" in _lines(f"{out}.0")[-1]["alone"]
    # each process holds its half of a row-sharded array; the replicated one counts once, in 0
    held = {(line["process"], line["case"], line["sharding"]): line["held"]
            for pid in (0, 1) for line in _lines(f"{out}.{pid}") if "case" in line}
    assert held[(0, "he", "P('rows', None)")] == held[(1, "he", "P('rows', None)")] == 256 * 96 // 2
    assert held[(0, "he", "P(None, None)")] == 256 * 96 and held[(1, "he", "P(None, None)")] == 0


def test_torch_dtensors_over_2_gloo_ranks_get_the_unsharded_verdicts_on_every_rank(tmp_path):
    """One launch of 2 gloo ranks (each costs a torch import): the DTensor cases, then rank 1
    never joins a check and rank 0 gets a ValueError after the timeout instead of a hang."""
    pytest.importorskip("torch")
    out = tmp_path / "torch.jsonl"
    _torchrun("torch", out)
    for rank in (0, 1):
        lines = _lines(f"{out}.{rank}")
        assert len(lines) == 9
        for line in lines:
            _same_verdicts(line)
            assert line["passed"] == (line["case"] != "broken"), line
    assert _lines(f"{out}.0")[0]["local"] == [128, 96]  # each rank held half the rows
    alone = json.loads(Path(f"{out}.lone.0").read_text())
    assert "did not join" in alone["alone"] and alone["seconds"] < 30, alone
    for rank in (0, 1):  # after destroy_process_group, a DTensor is refused with the fix
        line = json.loads(Path(f"{out}.lone.{rank}").read_text())
        assert "process group is not initialized" in line["destroyed"], line


def test_fsdp2_gpt2_gets_the_unsharded_report_on_every_rank(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out = tmp_path / "fsdp.jsonl"
    _torchrun("fsdp", out)
    for rank in (0, 1):
        clean, broken, disagree = _lines(f"{out}.{rank}")
        for line in (clean, broken):
            assert line["rows"] == line["whole_rows"]
            assert line["passed"] == line["whole_passed"]
            for (name, passed, p), (_, whole_passed, whole_p) in zip(
                line["groups"], line["whole_groups"]
            ):
                assert passed == whole_passed and p == pytest.approx(
                    whole_p, rel=1e-6, abs=1e-12
                ), name
        assert clean["passed"] and clean["local"] == [64, 512]  # each rank held half of c_fc
        assert not broken["passed"]
        assert [n for n, v in broken["rows"].items() if v == "FAIL"] == [
            "transformer.h.1.mlp.c_fc.weight"
        ]
        assert "ranks disagree" in disagree["disagree"]
