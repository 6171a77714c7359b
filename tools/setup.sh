#!/usr/bin/env bash
# Installs what the workbook needs, each piece only when it is missing:
#   1. a Python venv with torch 2.13.0 (libtorch for tch), JupyterLab, nbclient, nbconvert
#   2. evcxr_jupyter 0.22.0, the Rust kernel
#   3. the "Rust (shousi)" kernelspec, whose env makes libtorch loadable and keeps
#      evcxr's build folder in the cache so dependencies compile once
# Everything lives under $SHOUSI_CACHE (default ~/.cache/shousi), outside the checkout,
# so a fresh clone on the same machine starts warm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SHOUSI_CACHE:-$HOME/.cache/shousi}
venv=$cache/venv
mkdir -p "$cache"

stamp=$venv/.requirements.sha256
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating the Python venv in $venv (torch is ~5 GB; ~2-4 min)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi

evcxr=$cache/tools/bin/evcxr_jupyter
# evcxr_jupyter has no --version; cargo's install record says which version is there.
if [ ! -x "$evcxr" ] || ! grep -q '"evcxr_jupyter 0\.22\.0 ' "$cache/tools/.crates.toml" 2>/dev/null; then
    echo "setup: building evcxr_jupyter 0.22.0 into $cache/tools (11-16 min on 2 cores, once)" >&2
    cargo install --locked evcxr_jupyter --version 0.22.0 --root "$cache/tools"
fi

torch_lib=$("$venv/bin/python" "$here/torch_lib.py")
kdir=$venv/share/jupyter/kernels/shousi-rust
mkdir -p "$kdir" "$cache/evcxr"
cargo_bin=$(dirname "$(command -v cargo)")
# evcxr links cells against the toolchain's libstd-*.so with a relative RUNPATH that is
# computed from target/*/deps but used from target/*/debug: outside /tmp it points one
# folder too high and dlopen fails. Putting the sysroot's lib on the path fixes that.
rust_lib=$(rustc --print target-libdir)
"$venv/bin/python" - "$kdir/kernel.json" <<PY
import json, sys
spec = {
    "argv": ["$evcxr", "--control_file", "{connection_file}"],
    "display_name": "Rust (shousi)",
    "language": "rust",
    "interrupt_mode": "message",
    "env": {
        # libtorch_cpu.so and friends: without them the first tch call fails with "dlopen failed".
        "LD_LIBRARY_PATH": "$torch_lib:$rust_lib",
        # torch-sys builds against the venv's torch.
        "LIBTORCH_USE_PYTORCH": "1",
        "VIRTUAL_ENV": "$venv",
        "PATH": "$venv/bin:$cargo_bin:/usr/local/bin:/usr/bin:/bin",
        # One persistent build folder: the first notebook compiles the dependencies, the rest reuse them.
        "EVCXR_TMPDIR": "$cache/evcxr",
    },
}
json.dump(spec, open(sys.argv[1], "w"), indent=1)
PY
echo "setup: ready (cache: $cache)" >&2
