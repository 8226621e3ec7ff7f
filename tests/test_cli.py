"""The command line: tokens, configuration, export/import, replay — and its error paths."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOG
from flask import Flask
from flask.testing import FlaskCliRunner

from queue_board.cli import cli

REPO = Path(__file__).resolve().parent.parent


def test_token_create_prints_a_token_that_works(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["token", "create", "--role", "teller", "--branch", "main", "--counter", "3"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    record = app.extensions["queue_board"].store.find_token(token)
    assert record is not None and (record.role, record.branch, record.counter) == ("teller", "main", "3")
    listed = runner.invoke(args=["token", "list"]).output
    assert "teller\tmain\t3" in listed and token not in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "teller", "--branch", "main"], "needs a counter"),
        (["--role", "kiosk"], "needs a branch"),
        (["--role", "kiosk", "--branch", "main", "--counter", "1"], "cannot be bound to a counter"),
        (["--role", "wizard", "--branch", "main"], "Invalid value"),
    ],
)
def test_token_create_refuses_bad_grants(runner: FlaskCliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(args=["token", "create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_revoked_token_no_longer_works(app: Flask, runner: FlaskCliRunner) -> None:
    token = runner.invoke(args=["token", "create", "--role", "kiosk", "--branch", "main"]).output.strip()
    token_id = runner.invoke(args=["token", "list"]).output.split("\t")[0]
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert app.extensions["queue_board"].store.find_token(token) is None
    again = runner.invoke(args=["token", "revoke", token_id])
    assert again.exit_code != 0 and "no live token" in again.output


def test_branch_config_loads_from_toml(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "north.toml"
    path.write_text(
        'name = "North"\n'
        '[[services]]\ncode = "deposit"\nprefix = "A"\nnames = { en = "Deposit", zh-Hant = "存款", zh-Hans = "存款" }\n'
        '[[counters]]\nname = "1"\nservices = [["deposit"]]\n',
        encoding="utf-8",
    )
    result = runner.invoke(args=["branch", "load-config", "north", str(path)])
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(args=["branch", "show-config", "north"]).output)
    assert shown["services"][0]["names"]["zh-Hant"] == "存款"


def test_branch_config_error_names_the_field(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"services": [{"code": "deposit", "prefix": "lower"}]}))
    result = runner.invoke(args=["branch", "load-config", "north", str(path)])
    assert result.exit_code != 0
    assert "services[0].prefix" in result.output


def test_import_then_export_gives_back_the_log(runner: FlaskCliRunner, tmp_path: Path) -> None:
    assert runner.invoke(args=["import", "sample", str(SAMPLE_LOG)]).exit_code == 0
    out = tmp_path / "out.jsonl"
    assert runner.invoke(args=["export", "sample", "--out", str(out)]).exit_code == 0
    exported = [json.loads(x) for x in out.read_text().splitlines()]
    # besides the spec's fields, each new ticket carries the promise it was told (docs/event-log.md)
    issued = [line for line in exported if line["type"] == "ticket_issued"]
    assert issued and all(set(line.pop("told")) == {"p10", "p50", "p90"} and line.pop("told_raw") for line in issued)
    # and the transaction length predicted for it (docs/event-log.md "Express counters")
    assert all(line.pop("predicted_seconds") > 0 for line in issued)
    assert exported == [json.loads(x) for x in SAMPLE_LOG.read_text().splitlines()]


def test_import_of_a_bad_log_stores_nothing(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    lines = SAMPLE_LOG.read_text().splitlines()[:50]
    lines.insert(20, '{"ts": "2026-02-02T09:10:00+08:00", "type": "service_finished", "ticket": "ZZ9", "counter": "1"}')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = runner.invoke(args=["import", "sample", str(bad)])
    assert result.exit_code != 0
    assert "line 21" in result.output and "nothing was imported" in result.output
    assert list(app.extensions["queue_board"].store.load("sample")) == []


def test_replay_writes_a_row_for_every_issue_and_start(tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(cli, ["replay", str(SAMPLE_LOG), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    events = [json.loads(x) for x in SAMPLE_LOG.read_text().splitlines()]
    issued = [e["ticket"] for e in events if e["type"] == "ticket_issued"]
    started = [e["ticket"] for e in events if e["type"] == "service_started"]
    assert [r["ticket"] for r in rows if r["quantity"] == "wait"] == issued
    assert [r["ticket"] for r in rows if r["quantity"] == "service"] == started
    assert "973 wait rows, 905 service rows" in result.output


def test_replay_of_a_broken_log_fails_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"ts": "2026-02-02T09:00:00+08:00", "type": "ticket_issued", "ticket": "A1", "service": "x"}\n{"ts": "oops"}\n')
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(cli, ["replay", str(bad), "--out", str(out)])
    assert result.exit_code != 0
    assert "line 2" in result.output
    assert not out.exists()


def test_python_dash_m_entry_point_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "queue_board", "--help"], capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0
    for command in ("serve", "demo", "replay", "token"):
        assert command in result.stdout


def test_evaluate_prints_every_predictor_for_a_simulated_branch() -> None:
    result = CliRunner().invoke(cli, ["evaluate", "--simulate", "demo", "1", "3"])
    assert result.exit_code == 0, result.output
    for predictor in ("engine", "naive", "QL", "LES", "HOL"):
        assert f"wait     {predictor}" in result.output


def test_evaluate_without_logs_is_an_error() -> None:
    result = CliRunner().invoke(cli, ["evaluate"])
    assert result.exit_code != 0
    assert "at least one" in result.output


def test_replay_starts_without_the_web_stack(tmp_path: Path) -> None:
    # replay and evaluate are run over and over on logs; importing Flask, SQLAlchemy and
    # Socket.IO for the maintenance commands cost about a second at each start
    log = tmp_path / "short.jsonl"
    log.write_text("".join(SAMPLE_LOG.read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8")
    script = (
        "import sys\n"
        "from queue_board.cli import cli\n"
        f"cli.main(['replay', {str(log)!r}, '--out', {str(tmp_path / 'out.csv')!r}], standalone_mode=False)\n"
        "heavy = sorted(m for m in ('flask', 'sqlalchemy', 'flask_socketio', 'pydantic') if m in sys.modules)\n"
        "print('imported:', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stdout, done.stdout
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith("ts,ticket,quantity")


def test_the_lazy_commands_are_listed_and_run() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("token", "user", "db", "branch", "export", "import", "report", "replay", "evaluate"):
        assert f"  {name} " in result.output, name
    assert CliRunner().invoke(cli, ["token", "--help"]).exit_code == 0
    missing = CliRunner().invoke(cli, ["no-such-command"])
    assert missing.exit_code == 2 and "No such command" in missing.output


def test_every_maintenance_command_is_a_lazy_command() -> None:
    from queue_board.cli import LAZY_COMMANDS
    from queue_board.cli.maintenance import MAINTENANCE

    # the lazy group names its commands before importing them; one added to MAINTENANCE but not
    # there would be missing from `queue-board` while `flask --app queue_board` had it
    assert {command.name for command in MAINTENANCE} == {name for name, (module, _) in LAZY_COMMANDS.items() if module.endswith("maintenance")}
