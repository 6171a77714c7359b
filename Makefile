# The workbook's commands. README: `make notebooks` and `make test`.
SHOUSI_CACHE ?= $(HOME)/.cache/shousi
export SHOUSI_CACHE
VENV   := $(SHOUSI_CACHE)/venv
PY     := $(VENV)/bin/python
NB     ?=
# Built against the venv's torch (tch 0.26 needs libtorch 2.13.0 exactly); the target
# folder lives in the cache so a fresh clone on this machine builds warm.
CARGO_ENV = PATH="$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(VENV)" LIBTORCH_USE_PYTORCH=1 \
	CARGO_TARGET_DIR="$(SHOUSI_CACHE)/target" \
	LD_LIBRARY_PATH="$$($(PY) tools/torch_lib.py)"
# evcxr keeps its own build folder (EVCXR_TMPDIR, set by the kernelspec).
NBRUN = env -u CARGO_TARGET_DIR $(PY) tools/nbrun.py

.PHONY: setup test cargo-test notebooks check-notebooks selftest lab doc bench

setup:
	@tools/setup.sh

## make test: unit, property and libtorch cross-check tests, the runner's self-test,
## and the notebook check (re-executes every notebook, compares with the committed outputs).
test: setup cargo-test selftest check-notebooks

cargo-test: setup
	$(CARGO_ENV) cargo test --features torch

selftest: setup
	$(NBRUN) selftest

check-notebooks: setup
	$(NBRUN) check $(NB)

## make notebooks [NB=07]: execute, write outputs back in place, render target/book/.
notebooks: setup
	$(NBRUN) run $(NB)

## make lab: JupyterLab with the "Rust (shousi)" kernel.
lab: setup
	cd notebooks && $(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root)

## make doc: API docs with the formulas rendered (KaTeX).
doc: setup
	$(CARGO_ENV) cargo doc --no-deps --features torch

## make bench: attention forward, ours vs libtorch, side by side (release build).
bench: setup
	$(CARGO_ENV) cargo run --release --features torch --example attention_bench
