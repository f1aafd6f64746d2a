"""The fault-injection suite (bench/faults.py) is wired into CI and plans what the issue asks for."""

import importlib.util
from collections import Counter
from types import ModuleType

from support.suite import ROOT


def faults() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faults", ROOT / "bench" / "faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_runs_the_short_fault_suite_after_the_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make test") < ci.index("make faults-short")
    makefile = (ROOT / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()
    assert {"faults", "faults-short"} <= set(phony)
    assert "--creations 20000 --report" in makefile[makefile.index("\nfaults:"):makefile.index("\nfaults-short:")]


def test_the_chaos_restarts_postgresql_twice_and_kills_both_kinds_of_worker() -> None:
    plan = faults().chaos_plan(1000, seed=7)
    restarts = [share for share, action in plan if action == "restart postgresql"]
    assert len(restarts) == 2 and restarts[0] < 0.5 < restarts[1]  # spread out, one in each half
    kinds = Counter(action for _, action in plan)
    assert kinds["kill gunicorn worker"] >= 6 and kinds["kill outbox worker"] >= 6
    assert all(0 < share < 0.9 for share, _ in plan)  # all done while clients still run
    assert plan == faults().chaos_plan(1000, seed=7)  # a seed gives the same schedule


def test_the_suite_never_restarts_the_shared_cluster() -> None:
    module = faults()
    assert module.PG_PORT != 5432 and module.CLUSTER != "main"
