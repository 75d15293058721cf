"""tracker.hookspecs and tracker.plugins: every hook documented and tested, backends by name,
after_save once per commit, and plugins found through the ``expense_tracker`` entry-point group."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from memory_backend import MemoryBackend, MemoryStoragePlugin, plugin_manager

from tracker import hookspecs
from tracker.errors import ValidationError
from tracker.hookspecs import hookimpl
from tracker.ledger import Ledger
from tracker.plugins import make_plugin_manager, storage_backends
from tracker.storage import JsonBackend, StorageBackend

TESTS = Path(__file__).resolve().parent


def hook_names() -> list[str]:
    return sorted(name for name, value in vars(hookspecs).items() if hasattr(value, f"{hookspecs.PROJECT}_spec"))


def test_there_are_hooks() -> None:
    assert {"register_storage_backends", "after_save"} <= set(hook_names())


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_documented_and_has_a_test(name: str) -> None:
    doc = getattr(hookspecs, name).__doc__
    assert doc
    assert doc.strip()
    assert callable(globals().get(f"test_hook_{name}")), f"add test_hook_{name} to {__file__}"
    assert name in set(make_plugin_manager(load_entrypoints=False).hook.__dict__)


def test_plugin_managers_are_fresh() -> None:
    a, b = make_plugin_manager(load_entrypoints=False), make_plugin_manager(load_entrypoints=False)
    a.register(MemoryStoragePlugin())
    assert "memory" in storage_backends(a)
    assert "memory" not in storage_backends(b)
    assert storage_backends(b) == {"json": JsonBackend}


# -- register_storage_backends ------------------------------------------------------------------------


def test_hook_register_storage_backends(tmp_path: Path) -> None:
    pm = plugin_manager()
    assert set(storage_backends(pm)) == {"json", "memory"}
    ledger = Ledger(tmp_path / "d", backend="memory", plugin_manager=pm)
    assert isinstance(ledger.backend, MemoryBackend)
    ledger.add("expense", "1", category="X")
    assert not (tmp_path / "d").exists()
    assert isinstance(Ledger(tmp_path / "j", plugin_manager=pm).backend, JsonBackend)  # json stays the default
    with pytest.raises(ValidationError) as info:
        Ledger(tmp_path / "x", backend="s3", plugin_manager=pm)
    assert info.value.field == "backend"
    assert "json, memory" in str(info.value)


def test_the_memory_backend_keeps_the_whole_protocol(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, backend="memory", plugin_manager=plugin_manager())
    backend = ledger.backend
    assert isinstance(backend, StorageBackend)  # the optional methods are declared in the protocol too
    assert isinstance(backend, MemoryBackend)
    assert backend.copy_snapshot_to_backup("manual", 5) is None  # nothing stored yet
    ledger.add("expense", "1", category="X")
    ledger.engine.fold()
    info = ledger.create_backup("manual")  # the state is the stored snapshot: its bytes are copied
    assert backend.store.backups[info.name] == backend.store.snapshot
    assert ledger.backups()[0].name == info.name


def test_a_later_plugin_overrides_a_backend_name(tmp_path: Path) -> None:
    class Replacement:
        @hookimpl
        def register_storage_backends(self) -> dict[str, Any]:
            return {"json": MemoryBackend}

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Replacement())
    assert isinstance(Ledger(tmp_path, plugin_manager=pm).backend, MemoryBackend)


def test_the_backend_can_be_chosen_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPENSE_TRACKER_BACKEND", "memory")
    assert isinstance(Ledger(tmp_path, plugin_manager=plugin_manager()).backend, MemoryBackend)


# -- after_save -----------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str, int, int]] = []

    @hookimpl
    def after_save(self, ledger: Ledger, revision: int, label: str) -> None:
        # what a sync plugin would look at: the ledger already holds the change
        self.calls.append((revision, label, ledger.revision, len(ledger.transactions())))


@pytest.mark.parametrize("backend", ["json", "memory"])
def test_hook_after_save(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import tracker.storage.engine as engine_module

    monkeypatch.setattr(engine_module, "COMPACT_AFTER_ENTRIES", 3)  # folding must not count as a save
    recorder = Recorder()
    pm = plugin_manager()
    pm.register(recorder)
    ledger = Ledger(tmp_path / "d", backend=backend, plugin_manager=pm)
    a = ledger.add("expense", "1", category="A")
    ledger.update(a.id, note="x")
    ledger.set_meta("budgets", [])
    backup = ledger.create_backup()
    ledger.add_many([], label="empty import")  # nothing to commit: no save
    ledger.commit()
    b = ledger.add("income", "5", category="B")
    ledger.delete(b.id)
    ledger.undo()
    ledger.restore_backup(backup.name)
    assert recorder.calls == [
        (1, "add expense", 1, 1),
        (2, "edit", 2, 1),
        (3, "change budgets", 3, 1),
        (4, "add income", 4, 2),
        (5, "delete", 5, 1),
        (6, "undo delete", 6, 2),
        (7, f"restore {backup.name}", 7, 1),
    ]


def test_a_failing_after_save_plugin_does_not_lose_the_change(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        @hookimpl
        def after_save(self, ledger: Ledger, revision: int, label: str) -> None:
            raise RuntimeError("sync server unreachable")

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Broken())
    ledger = Ledger(tmp_path, plugin_manager=pm)
    with caplog.at_level(logging.ERROR, logger="tracker.ledger"):
        tx = ledger.add("expense", "1", category="X")
        ledger.update(tx.id, note="still saved")
    assert Ledger(tmp_path).get(tx.id).note == "still saved"
    assert ledger.revision == 2
    failures = [r for r in caplog.records if "after_save" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None
    assert "sync server unreachable" in str(failures[0].exc_info[1])


# -- entry points ---------------------------------------------------------------------------------------


def make_distribution(site: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{hookspecs.PROJECT}]\n{entry_points}\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


def test_plugins_load_from_the_entry_point_group(tmp_path: Path) -> None:
    good, broken = tmp_path / "site-good", tmp_path / "site-broken"
    make_distribution(
        good,
        "et_demo_plugins",
        "memory = memory_backend:plugin\nsaver = et_demo_saver:plugin",
        {
            "et_demo_saver": """
                import json, os
                from tracker.hookspecs import hookimpl

                class Saver:
                    @hookimpl
                    def after_save(self, ledger, revision, label):
                        with open(os.environ["SAVES"], "a") as fh:
                            fh.write(json.dumps([revision, label]) + "\\n")

                plugin = Saver()
            """
        },
    )
    make_distribution(broken, "et_broken_plugin", "broken = et_no_such_module:plugin", {})
    child = textwrap.dedent(
        """
        import json, sys
        from tracker.errors import ValidationError
        from tracker.ledger import Ledger
        from tracker.plugins import make_plugin_manager

        data = sys.argv[1]
        ledger = Ledger(data, backend="memory")  # only known through the entry point
        ledger.add("expense", "1", category="X")
        ledger.undo()
        try:
            Ledger(data, backend="memory", plugin_manager=make_plugin_manager(load_entrypoints=False))
            without = "loaded"
        except ValidationError:
            without = "unknown"
        sys.path.insert(0, sys.argv[2])  # now a broken plugin is installed too
        ledger = Ledger(data)  # the app still starts, with the built-in backend
        ledger.add("expense", "2", category="Y")
        print(json.dumps({"backend": type(ledger.backend).__name__, "without": without}))
        """
    )
    saves = tmp_path / "saves.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(good), str(TESTS)]), "SAVES": str(saves)}
    result = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "data"), str(broken)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"backend": "JsonBackend", "without": "unknown"}
    lines = [json.loads(line) for line in saves.read_text().splitlines()]
    assert lines == [[1, "add expense"], [2, "undo add expense"], [1, "add expense"]]
