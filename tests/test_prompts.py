"""On a terminal, `add threat` asks for what is missing: driven here through a real pseudo-terminal."""

import os
import pty
import select
import subprocess
import time

from conftest import run_installed


class Terminal:
    """The installed `redlines`, run on a pseudo-terminal: read what it shows, type answers."""

    def __init__(self, exe: str, *args: str, env: dict):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([exe, *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.screen = ""

    def expect(self, text: str, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < end, f"never saw {text!r}; the screen holds:\n{self.screen}"
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.screen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the program ended
                    break
        assert text in self.screen, f"never saw {text!r}; the screen holds:\n{self.screen}"

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def wait(self) -> int:
        code = self.proc.wait(timeout=30)
        os.close(self.master)
        return code


def test_a_threat_is_recorded_from_answers_alone(installed, tmp_path):
    db = tmp_path / "p.db"
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    assert run_installed(installed, "add", "actor", "kim", "--name", "Kim Jong Un", db=db).returncode == 0
    env = {**os.environ, "REDLINES_DB": str(db), "REDLINES_TODAY": "2025-03-02", "NO_COLOR": "1"}
    env.pop("REDLINES_NO_INPUT", None)
    term = Terminal(installed, "add", "threat", env=env)
    term.expect("Made by (actor):")
    term.type("Kim Jong Unn")  # a typo: told, and asked again
    term.expect("did you mean: kim (Kim Jong Un)?")
    term.expect("Made by (actor):")
    term.type("kim")
    term.expect("Made on (date) [today]:")
    term.type("yesterday")
    term.expect("Statement:")
    term.type("Drills will be met with fire")
    term.expect("Category (military, nuclear, economic, diplomatic, other) [other]:")
    term.type("military")
    term.expect("Source URL (Enter skips):")
    term.type("")  # skipped: no source
    term.expect("kim-drills-met-fire")
    assert term.wait() == 0
    shown = run_installed(installed, "show", "kim-drills-met-fire", "--json", db=db, today="2025-03-02")
    import json

    t = json.loads(shown.stdout)
    assert (t["issuer"], t["made_on"], t["statement"], t["category"]) == (
        "kim",
        "2025-03-01",
        "Drills will be met with fire",
        "military",
    )
    assert t["sources"] == []


def test_no_input_fails_instead_of_asking(installed, tmp_path):
    db = tmp_path / "q.db"
    run_installed(installed, "db", "init", "--empty", db=db)
    env = {**os.environ, "REDLINES_DB": str(db)}
    term = Terminal(installed, "--no-input", "add", "threat", "--by", "x", env=env)
    term.expect("missing --on, --said")
    assert term.wait() == 2


def test_a_large_import_shows_progress_on_a_terminal(installed, tmp_path):
    import json

    db, data = tmp_path / "big.db", tmp_path / "big.jsonl"
    with open(data, "w") as f:
        f.write(json.dumps({"type": "actor", "slug": "a", "name": "A", "kind": "state"}) + "\n")
        for i in range(5000):
            f.write(
                json.dumps({"type": "threat", "id": f"t{i}", "issuer": "a", "made_on": "2024-01-01", "statement": "x"})
                + "\n"
            )
    run_installed(installed, "db", "init", "--empty", db=db)
    term = Terminal(installed, "import", str(data), env={**os.environ, "REDLINES_DB": str(db)})
    term.expect("2,000 threats loaded")
    term.expect("5,000 threats loaded")
    term.expect("threats: 5000 added")
    assert term.wait() == 0
    piped = run_installed(installed, "import", str(data), db=db)
    assert "loaded" not in piped.stderr  # no progress when stderr is not a terminal
