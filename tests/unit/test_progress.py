"""Progress lines: cadence, content, resume, and where they go (file always, stderr unless a bar)."""

from __future__ import annotations

import logging

import pytest

from reproflow import logs
from reproflow.logs import Progress


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(logs, "_last_line", [c.t])
    return c


def _lines(caplog):
    return [r.getMessage() for r in caplog.records if getattr(r, logs._PROGRESS, False)]


def test_one_line_per_cadence_with_rate_and_eta(clock, caplog):
    caplog.set_level(logging.INFO, logger="reproflow.logs")
    with Progress(100, "cell", unit="steps", every_s=30, clock=clock, bar=False) as p:
        for _ in range(100):
            clock.t += 1.0  # 1 step/s: 100 s in all
            p.update()
    lines = _lines(caplog)
    # at 30, 60, 90 s, plus the closing line
    assert len(lines) == 4, lines
    assert lines[0] == "cell: 30/100 steps (30%), 1 steps/s, elapsed 30s, eta 1m10s"
    assert lines[-1].startswith("cell: 100/100 steps (100%)")


def test_short_loops_stay_quiet(clock, caplog):
    caplog.set_level(logging.INFO, logger="reproflow.logs")
    with Progress(10, "short", every_s=30, clock=clock, bar=False) as p:
        for _ in range(10):
            clock.t += 1.0
            p.update()
    assert _lines(caplog) == []


def test_cadence_is_per_process_not_per_loop(clock, caplog):
    """Many 20 s loops in one job still give a line every 30 s."""
    caplog.set_level(logging.INFO, logger="reproflow.logs")
    for k in range(6):  # 120 s of work in 20 s loops
        p = Progress(20, f"loop {k}", every_s=30, clock=clock, bar=False)
        for _ in range(20):
            clock.t += 1.0
            p.set(p.n + 1)
        p.close()
    times = [line for line in _lines(caplog)]
    assert len(times) >= 3, times


def test_resumed_loop_rates_from_where_it_resumed(clock, caplog):
    caplog.set_level(logging.INFO, logger="reproflow.logs")
    p = Progress(1000, "resumed", unit="steps", every_s=30, clock=clock, bar=False, initial=None)
    for step in range(501, 561):  # checkpoint at 500, 2 steps/s after
        clock.t += 0.5
        p.set(step)
    line = _lines(caplog)[0]
    assert line == "resumed: 560/1000 steps (56%), 2 steps/s, elapsed 30s, eta 3m40s", line


def test_batches_of_draws_count_from_zero(clock, caplog):
    caplog.set_level(logging.INFO, logger="reproflow.logs")
    p = Progress(400, "draws", unit="draws", every_s=30, clock=clock, bar=False)
    for done in range(4, 404, 4):  # 4 draws per batch, 1 batch/s
        clock.t += 1.0
        p.set(done)
    assert _lines(caplog)[0] == "draws: 120/400 draws (30%), 4 draws/s, elapsed 30s, eta 1m10s"


def test_lines_reach_the_log_file_and_not_a_bar_terminal(tmp_path, clock, monkeypatch, capsys):
    monkeypatch.setattr(logs, "bars_enabled", lambda: True)
    logfile = tmp_path / "job.log"
    logs.setup_logging(logfile)
    try:
        p = Progress(10, "job", every_s=30, clock=clock, bar=False)
        clock.t += 31
        p.update()
        logging.getLogger("reproflow.test").info("ordinary line")
    finally:
        logs.setup_logging(None)
    text = logfile.read_text()
    assert "job: 1/10 it (10%)" in text and "ordinary line" in text
    err = capsys.readouterr().err
    assert "ordinary line" in err and "job: 1/10" not in err


def test_no_bars_without_a_terminal_of_our_own():
    # pytest captures stderr, as Snakemake and SLURM jobs write to a pipe or a file
    assert logs.bars_enabled() is False


def test_progress_iterator_yields_everything(clock):
    assert list(logs.progress(range(7), desc="x")) == list(range(7))


def _in_a_terminal(cmd: list[str]) -> str:
    """Run ``cmd`` as the foreground job of a fresh pseudo-terminal; return what it printed."""
    import os
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child: session leader, the pty is its controlling terminal
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode()


def test_bars_only_for_the_terminal_s_own_job():
    import sys

    probe = "from reproflow.logs import bars_enabled; print('BARS', bars_enabled())"
    # typed at a prompt: python leads the terminal's foreground job
    assert "BARS True" in _in_a_terminal([sys.executable, "-c", probe])
    # started by another program (as Snakemake starts jobs): same terminal, not the job's leader
    assert "BARS False" in _in_a_terminal(["bash", "-c", f"{sys.executable} -c \"{probe}\"; true"])


def test_depth_sweep_trainer_and_gradient_draws_report(monkeypatch, caplog):
    """The two long loops are wired: with the cadence's clock run out, each writes its line."""
    import torch

    from reproflow.depthsweep.batched import StackedMLP
    from reproflow.depthsweep.train import Data, cell_specs, train_stack
    from reproflow.meanfield.gradients import measure_gradients

    caplog.set_level(logging.INFO, logger="reproflow.logs")
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(60, 8, generator=g), torch.randint(0, 3, (60,), generator=g)
    data = Data(x, y, x[:20], y[:20], 3)
    model = StackedMLP(cell_specs([1.0, 2.0], [0], 3, 0.01), 8, 6, 3, 3, 0.05, 1.0, "gaussian", "sgd")
    monkeypatch.setattr(logs, "_last_line", [-1e9])
    train_stack(model, data, steps=4, batch=10, curve_every=2)
    monkeypatch.setattr(logs, "_last_line", [-1e9])
    measure_gradients("tanh", 1.5, 0.05, 0.9, width=5, depth=3, draws=8, inputs="standard",
                      generator=torch.Generator().manual_seed(0), draws_per_batch=4)
    lines = _lines(caplog)
    assert any(line.startswith("2 networks, depth 3: 1/4 steps (25%)") for line in lines), lines
    assert any(line.startswith("tanh sw2=1.5 rho=0.9 depth 3: 4/8 draws (50%)") for line in lines), lines
