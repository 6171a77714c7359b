#!/usr/bin/env python3
"""Execute the workbook's notebooks on the project's evcxr kernel, and check them.

    nbrun.py run   [NB ...]   execute, write outputs back in place, render HTML, print a summary
    nbrun.py check [NB ...]   execute, compare with the committed outputs, write nothing
    nbrun.py selftest         prove that `check` fails on a panic, a compile error and a stale output

NB selects notebooks by prefix ("07") or path; default: every notebooks/*.ipynb.

A cell fails when it has an error output, when its stderr shows a Rust panic or a
compile error (evcxr reports these on stderr only, and nbclient carries on), or when a
cross-check table it printed has a FAIL row. `check` also fails when a cell's text
outputs (stdout and text/plain) differ from the committed ones: numbers are compared
with a relative tolerance of RTOL (absolute floor ATOL), everything else exactly.
Cells tagged `volatile` are exempt from the comparison; images and HTML are never
compared. Every notebook runs even after a failure; all failures are reported at the end.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import html
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
BOOK_DIR = ROOT / "target" / "book"
KERNEL = "shousi-rust"
RTOL = 1e-6
ATOL = 1e-12
CELL_TIMEOUT = int(os.environ.get("SHOUSI_CELL_TIMEOUT", "3600"))

PANIC = re.compile(r"panicked at|thread '.*' panicked")
COMPILE_ERROR = re.compile(r"^\s*error(\[E\d{4}\])?:", re.M)
CARGO_PROGRESS = re.compile(r"^\s*(Compiling|Building|Checking|Finished|Blocking|Updating|Downloaded?|Locking|Adding)\b")
CROSSCHECK_ROW = re.compile(r"^\|.*\|\s*(pass|FAIL)\s*\|\s*$", re.M)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf\b|NaN|nan")


def text_of(output) -> str:
    t = output.get("text", "")
    return "".join(t) if isinstance(t, list) else t


def plain_of(output) -> str | None:
    data = output.get("data", {})
    if "text/plain" in data:
        t = data["text/plain"]
        return "".join(t) if isinstance(t, list) else t
    return None


def cell_texts(cell) -> list[tuple[str, str]]:
    """The compared outputs of a cell: stdout and text/plain, in order."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            out.append(("stdout", text_of(o)))
        elif o.get("output_type") in ("execute_result", "display_data"):
            p = plain_of(o)
            if p is not None and not set(o.get("data", {})) & {"image/svg+xml", "text/html", "image/png"}:
                out.append(("text/plain", p))
    # evcxr may split one print into several stream messages: compare the joined text.
    merged: list[tuple[str, str]] = []
    for kind, t in out:
        if merged and merged[-1][0] == kind == "stdout":
            merged[-1] = (kind, merged[-1][1] + t)
        else:
            merged.append((kind, t))
    return merged


def cell_problems(cell) -> list[str]:
    """Why this executed cell failed (empty if it did not)."""
    problems = []
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "error":
            tb = strip_ansi("\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}")
            # evcxr reports rustc's diagnostics (with or without an [Exxxx] code) as error outputs.
            label = "compile error" if re.search(r"\[E\d{4}\]|^\s*Error:|error:", tb, re.M) else "error output"
            problems.append(f"{label}: {tb}")
        elif kind == "stream" and o.get("name") == "stderr":
            t = text_of(o)
            if PANIC.search(t):
                problems.append("panic: " + strip_ansi(t))
            elif COMPILE_ERROR.search(t):
                problems.append("compile error: " + strip_ansi(t))
    for kind, t in cell_texts(cell):
        for m in CROSSCHECK_ROW.finditer(t):
            if m.group(1) == "FAIL":
                problems.append("cross-check failed: " + m.group(0).strip())
    return problems


def strip_ansi(s: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s)


def crosscheck_counts(nb) -> tuple[int, int]:
    passed = failed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for _, t in cell_texts(cell):
            for m in CROSSCHECK_ROW.finditer(t):
                if m.group(1) == "pass":
                    passed += 1
                else:
                    failed += 1
    return passed, failed


def numbers_close(a: str, b: str) -> bool:
    fa, fb = float(a.replace("NaN", "nan")), float(b.replace("NaN", "nan"))
    if fa != fa or fb != fb:
        return fa != fa and fb != fb
    if fa in (float("inf"), float("-inf")) or fb in (float("inf"), float("-inf")):
        return fa == fb
    return abs(fa - fb) <= ATOL + RTOL * max(abs(fa), abs(fb))


def mask_diff_column(text: str) -> str:
    """The max-abs-diff column of a cross-check table is rounding noise that may change with
    libtorch's CPU kernels; its bound is what the pass/FAIL column checks, so it is not compared."""
    def fix(m):
        cells = m.group(0).split("|")
        if len(cells) == 8:  # | quantity | ours | ref | diff | tol | result |
            cells[4] = " ~ "
        return "|".join(cells)
    return CROSSCHECK_ROW.sub(fix, text)


def texts_match(old: str, new: str) -> bool:
    old, new = mask_diff_column(old), mask_diff_column(new)
    if old == new:
        return True
    old_parts, new_parts = NUMBER.split(old), NUMBER.split(new)
    old_nums, new_nums = NUMBER.findall(old), NUMBER.findall(new)
    if old_parts != new_parts or len(old_nums) != len(new_nums):
        return False
    return all(numbers_close(a, b) for a, b in zip(old_nums, new_nums))


def outputs_match(old_cell, new_cell) -> bool:
    old, new = cell_texts(old_cell), cell_texts(new_cell)
    return len(old) == len(new) and all(k1 == k2 and texts_match(t1, t2) for (k1, t1), (k2, t2) in zip(old, new))


def diff_text(old_cell, new_cell) -> str:
    old = "".join(f"[{k}]\n{t}" for k, t in cell_texts(old_cell)).splitlines()
    new = "".join(f"[{k}]\n{t}" for k, t in cell_texts(new_cell)).splitlines()
    lines = list(difflib.unified_diff(old, new, "committed", "re-executed", lineterm="", n=1))
    return "\n".join(lines[:40]) + ("\n  ..." if len(lines) > 40 else "")


def clean_outputs(cell) -> None:
    """Drop cargo's compile progress from stderr and per-run metadata, and join the
    line-by-line stream messages evcxr sends into one output per stream."""
    kept = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            text = text_of(o)
            if o.get("name") == "stderr":
                text = "".join(l for l in text.splitlines(keepends=True) if not CARGO_PROGRESS.match(strip_ansi(l)))
                if not text.strip():
                    continue
            if kept and kept[-1].get("output_type") == "stream" and kept[-1].get("name") == o.get("name"):
                kept[-1]["text"] += text
                continue
            o["text"] = text
        elif o.get("output_type") in ("execute_result", "display_data") and plain_of(o) == "()" and set(o.get("data", {})) == {"text/plain"}:
            continue  # evcxr shows the unit value of a cell ending in a loop: noise
        o.pop("transient", None)
        kept.append(o)
    cell["outputs"] = kept
    cell.get("metadata", {}).pop("execution", None)
    cell.get("metadata", {}).pop("collapsed", None)


def is_volatile(cell) -> bool:
    return "volatile" in cell.get("metadata", {}).get("tags", [])


def execute(path: Path):
    """Execute a copy of the notebook at `path`; return (committed, executed, seconds)."""
    committed = nbformat.read(path, as_version=4)
    nb = copy.deepcopy(committed)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        startup_timeout=180,
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.monotonic()
    client.execute()
    seconds = time.monotonic() - t0
    for cell in nb.cells:
        if cell.cell_type == "code":
            clean_outputs(cell)
    return committed, nb, seconds


def code_cells(nb):
    return [(i, c) for i, c in enumerate(c for c in nb.cells if c.cell_type == "code")]


def failures_of(path: Path, committed, executed, compare: bool) -> list[str]:
    msgs = []
    old_cells = [c for c in committed.cells if c.cell_type == "code"]
    for i, cell in code_cells(executed):
        problems = cell_problems(cell)
        if problems:
            more = f"\n    (+{len(problems) - 1} more in this cell)" if len(problems) > 1 else ""
            msgs.append(f"{path.name}: code cell {i + 1}: {first_lines(problems[0])}{more}")
        if compare and not is_volatile(cell) and i < len(old_cells) and not cell_problems(cell):
            if not outputs_match(old_cells[i], cell):
                msgs.append(f"{path.name}: code cell {i + 1}: output differs from the committed one "
                            f"(run `make notebooks NB={path.name[:2]}` if the change is intended):\n{diff_text(old_cells[i], cell)}")
    return msgs


def first_lines(s: str, n: int = 8) -> str:
    lines = [l for l in s.strip().splitlines() if l.strip()]
    return "\n    ".join(lines[:n]) + ("\n    ..." if len(lines) > n else "")


def keep_stable_outputs(committed, executed) -> None:
    """Where re-executed text matches the committed text within tolerance, keep the
    committed outputs byte for byte, so an unchanged tree stays clean under git."""
    old_cells = [c for c in committed.cells if c.cell_type == "code"]
    for i, cell in code_cells(executed):
        if i < len(old_cells) and old_cells[i].get("source") == cell.get("source"):
            if not cell_problems(cell) and outputs_match(old_cells[i], cell) and same_rich(old_cells[i], cell):
                cell["outputs"] = old_cells[i]["outputs"]
                cell["execution_count"] = old_cells[i].get("execution_count")


def same_rich(a, b) -> bool:
    """Images and HTML equal (they are not compared for the check, but rewriting them churns git)."""
    def rich(c):
        return [json.dumps(o.get("data", {}), sort_keys=True) for o in c.get("outputs", []) if o.get("output_type") in ("execute_result", "display_data")]
    return rich(a) == rich(b)


def title_of(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def render_html(executed_paths: list[Path]) -> None:
    from nbconvert import HTMLExporter

    BOOK_DIR.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    entries = []
    for path in sorted(NB_DIR.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        target = BOOK_DIR / (path.stem + ".html")
        if path in executed_paths or not target.exists():
            body, _ = exporter.from_notebook_node(nb)
            target.write_text(body, encoding="utf-8")
        entries.append((path.stem, title_of(nb, path)))
    items = "\n".join(f'<li><a href="{html.escape(stem)}.html">{html.escape(title)}</a></li>' for stem, title in entries)
    (BOOK_DIR / "index.html").write_text(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>shousi 手撕</title></head>\n"
        f"<body><h1>shousi 手撕 — the notebooks</h1>\n<ol>\n{items}\n</ol>\n</body></html>\n",
        encoding="utf-8",
    )


def select(names: list[str]) -> list[Path]:
    all_nbs = sorted(NB_DIR.glob("*.ipynb"))
    if not names:
        return all_nbs
    chosen = []
    for name in names:
        p = Path(name)
        if p.suffix == ".ipynb" and p.exists():
            chosen.append(p.resolve())
            continue
        hits = [q for q in all_nbs if q.name.startswith(name)]
        if not hits:
            sys.exit(f"nbrun: no notebook matches `{name}` under {NB_DIR}")
        chosen.extend(hits)
    return chosen


def run(paths: list[Path], write: bool) -> int:
    rows, failures = [], []
    for path in paths:
        print(f"nbrun: executing {path.name} ...", flush=True)
        try:
            committed, executed, seconds = execute(path)
        except Exception as e:  # kernel died, timeout, unreadable notebook: report and go on
            failures.append(f"{path.name}: could not execute: {first_lines(str(e))}")
            rows.append((path.name, "-", "-", "-", "-"))
            continue
        msgs = failures_of(path, committed, executed, compare=not write)
        failures.extend(msgs)
        if write:
            keep_stable_outputs(committed, executed)
            nbformat.write(executed, path)
        passed, failed = crosscheck_counts(executed)
        rows.append((path.name, str(len(code_cells(executed))), f"{seconds:.0f}", str(passed), str(failed)))
        print(f"nbrun: {path.name}: {'FAILED' if msgs else 'ok'} ({seconds:.0f} s)", flush=True)
    if write:
        render_html(paths)
    header = ("notebook", "code cells", "seconds", "cross-checks passed", "failed")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if write:
        print(f"\nHTML: {BOOK_DIR / 'index.html'}")
    if failures:
        print(f"\n{len(failures)} problem(s):", file=sys.stderr)
        for f in failures:
            print("- " + f, file=sys.stderr)
    bad = {f.split(":")[0] for f in failures}
    print(f"\nnotebooks: {len(paths) - len(bad)} passed, {len(bad)} failed")
    return 1 if failures else 0


SELFTEST_CASES = {
    "panic": (['let v: Vec<i32> = vec![1, 2, 3];\nprintln!("{}", v.len());', 'let i: usize = 7;\nprintln!("{}", v[i]);'], "panic"),
    "compile_error": (['let x: i32 = "not a number";'], "compile error"),
    "stale_output": (['println!("{}", 6 * 7);'], "output differs"),
    "failed_assert": (['let a: f64 = 0.1 + 0.2;\nassert!((a - 0.3).abs() < 1e-20, "not equal");'], "panic"),
}


def selftest() -> int:
    """Each broken notebook must fail `check` for the expected reason; a good one must pass."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = dict(SELFTEST_CASES)
        cases["good"] = (['let a: i64 = 40 + 2;\nprintln!("a = {a}, pi ~ {:.6}", std::f64::consts::PI);'], None)
        for name, (sources, expected) in cases.items():
            nb = nbformat.v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Rust (shousi)", "language": "rust"}
            nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
            path = Path(tmp) / f"{name}.ipynb"
            nbformat.write(nb, path)
            # Commit-like step: execute once and store the outputs, as `run` would.
            _, executed, _ = execute(path)
            if name == "stale_output":
                for o in executed.cells[0].outputs:
                    if o.get("name") == "stdout":
                        o["text"] = "41\n"  # what a stale notebook would still show
            nbformat.write(executed, path)
            committed, rerun, _ = execute(path)
            msgs = failures_of(path, committed, rerun, compare=True)
            if expected is None:
                good = not msgs and any("a = 42" in t for _, t in cell_texts(rerun.cells[0]))
            else:
                good = any(expected in m for m in msgs)
            print(f"selftest: {name:14} -> {'ok' if good else 'WRONG'}: " + (first_lines(msgs[0], 2) if msgs else "no failure reported"))
            results.append(good)
    print(f"\nselftest: {sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run", "check", "selftest"])
    ap.add_argument("notebooks", nargs="*")
    args = ap.parse_args()
    if args.mode == "selftest":
        return selftest()
    return run(select(args.notebooks), write=args.mode == "run")


if __name__ == "__main__":
    sys.exit(main())
