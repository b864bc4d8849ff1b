"""The README's command-line examples, run as written from a folder laid out like a fresh clone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_block(after: str) -> list[str]:
    """The lines of the first ```bash block after the heading `after`."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index(after):], re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_usage_commands_run_as_written(corpus_dir: Path, default_index: Path, tmp_path: Path):
    clone = tmp_path / "qa"
    shutil.copytree(corpus_dir, clone / "corpus")
    shutil.copytree(default_index, clone / "index")  # as after the README's first command built it
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "qa").exists(), "scripts/setup.sh installs the qa command beside python"
    env = {k: v for k, v in os.environ.items() if k not in ("QA_INDEX", "NO_COLOR")}
    env |= {"PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv_bin.parent)}

    lines = readme_block("## Using it")
    assert lines[0] == "source .venv/bin/activate"
    ran = 0
    for line in lines[1:]:
        command = line.split("  #")[0].strip()
        if command.startswith("qa tui"):
            continue  # the chat is driven by tests/test_tui.py
        done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
                              timeout=300)
        expected = 1 if "exit status 1" in line else 0
        assert done.returncode == expected, (command, done.stdout[-500:], done.stderr[-1500:])
        assert "Traceback" not in done.stderr, command
        if command.startswith("qa "):
            ran += 1
            assert done.stdout.strip(), command
    assert ran >= 10


def test_the_python_example_runs_as_written(corpus_dir: Path, default_index: Path, tmp_path: Path, monkeypatch):
    text = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text[text.index("## Using it"):], re.S).group(1)
    shutil.copytree(corpus_dir, tmp_path / "corpus")
    shutil.copytree(default_index, tmp_path / "index")
    monkeypatch.chdir(tmp_path)

    shown = {}
    for line in code.splitlines():
        if line.startswith("bot ") and "# <QA" in line:
            shown["repr"] = line.split("# ", 1)[1]
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)

    assert namespace["report"].unchanged == 5 and namespace["answer"].found
    assert repr(namespace["bot"]) == "<QA 'index' gen-000001 closed>"  # the example ends with bot.close()
    import qa

    with qa.open_index("index/") as bot:
        assert repr(bot) == shown["repr"]
