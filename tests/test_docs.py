"""Every command the README and docs/ show exists: each `bench ...` line of a shell block parses with
bench's own parser (subcommand, options, choices), each `bench ...` in inline code names a real
subcommand and its options, and each `python -m MODULE` and `python benchmarks/SCRIPT.py` is there."""
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from bench.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = ("bash", "sh", "shell", "")


def shell_lines(text: str) -> list[str]:
    """The lines of the page's shell blocks, a line ending in a backslash joined with the next."""
    lines, block, shell = [], None, False
    for line in text.splitlines():
        if line.startswith("```"):
            if block is None:
                block, shell = [], line[3:].strip() in SHELL
            else:
                if shell:
                    lines += "\n".join(block).replace("\\\n", " ").splitlines()
                block = None
        elif block is not None:
            block.append(line)
    return lines


def simple_commands(line: str) -> list[list[str]]:
    """The commands of a shell line: comments dropped, split at ``&&``, ``||``, ``;`` and ``|``."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    commands = [[]]
    for token in lex:
        if set(token) <= set(";&|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def shown(kind: str) -> list[tuple[str, list[str]]]:
    """(page, command) for every command of ``kind`` (``block`` or ``inline``) on every page."""
    out = []
    for page in PAGES:
        text = page.read_text()
        if kind == "block":
            out += [(page.name, c) for line in shell_lines(text) for c in simple_commands(line)]
        else:
            prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
            out += [(page.name, shlex.split(span)) for span in re.findall(r"`((?:bench|python) [^`]+)`", prose)]
    return out


def parser():
    """bench's parser, taking options only as spelled in full (the pages must not abbreviate)."""
    p = build_parser()
    for sub in [p, *next(a for a in p._actions if a.dest == "command").choices.values()]:
        sub.allow_abbrev = False
    return p


def subcommands() -> dict:
    return next(a for a in parser()._actions if a.dest == "command").choices


def check_python(cmd: list[str]) -> None:
    if cmd[1] == "-m":
        assert importlib.util.find_spec(cmd[2]) is not None, f"no module {cmd[2]}"
    elif cmd[1].startswith("benchmarks/"):
        assert (ROOT / cmd[1]).is_file(), f"no script {cmd[1]}"


def test_the_pages_show_commands():
    blocks = [c for _, c in shown("block") if c[0] == "bench"]
    assert len(blocks) > 20 and {c[1] for c in blocks} == set(subcommands())  # every subcommand is shown
    assert 'pip install -e ".[test]" && bench run --suite demo && bench report' in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("page,cmd", [p for p in shown("block") if p[1][0] in ("bench", "python")],
                         ids=lambda v: v if isinstance(v, str) else " ".join(v)[:60])
def test_every_shell_command_parses(page, cmd, capsys):
    if cmd[0] == "python":
        check_python(cmd)
        return
    try:
        parser().parse_args(cmd[1:])
    except SystemExit:
        pytest.fail(f"{page}: `{' '.join(cmd)}` does not parse: {capsys.readouterr().err.strip().splitlines()[-1]}")


@pytest.mark.parametrize("page,cmd", shown("inline"), ids=lambda v: v if isinstance(v, str) else " ".join(v)[:60])
def test_every_inline_command_names_real_options(page, cmd):
    if cmd[0] == "python":
        check_python(cmd)
        return
    subs = subcommands()
    assert cmd[1] in subs, f"{page}: `{' '.join(cmd)}`: no subcommand {cmd[1]}"
    options = subs[cmd[1]]._option_string_actions
    for token in cmd[2:]:
        if token.startswith("-"):
            assert token.split("=")[0] in options, f"{page}: `{' '.join(cmd)}`: bench {cmd[1]} has no {token}"
