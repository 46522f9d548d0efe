# CLI test: the Python module (python/): its unit tests from the source tree, `pip install ./python` offline into a venv, use from outside the tree.
. "$(dirname "$0")/common.bash"

# Debian's interpreter, where python3-numpy lives (a python3 earlier on PATH may lack it)
PY=${SINTER_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    skip "$PY with NumPy is not installed (Debian: python3-numpy; or set SINTER_PYTHON)"
fi
BUILD=$(cd "$(dirname "$SINTER")" && pwd)
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the source tree

# ---- from the source tree ---------------------------------------------------------------------
run env -C "$TMP" PYTHONPATH="$SRC/python" "$PY" -c 'import sinter; print(sinter.__version__, sinter.version())'
expect_rc "import sinter from the tree" 0
expect_eq "module and libsinter versions" "$OUT" "0.1.0 $("$SINTER" --version | awk '{print $2}')"
run env SINTER="$SINTER" SINTER_LIBRARY="$BUILD/libsinter.so" PYTHONPATH="$SRC/python" \
    "$PY" -m unittest discover -s "$SRC/python/tests"
expect_rc "the module's unit tests" 0
expect_contains "the unit tests ran" "$ERR" "OK"

# ---- pip install ./python, offline, into a venv; used from elsewhere -----------------------------
if ! "$PY" -m venv --help >/dev/null 2>&1; then
    echo "python.sh: $PY has no venv module (Debian: python3-venv): pip install not tried" >&2
    finish
fi
run "$PY" -m venv --system-site-packages "$TMP/venv"
expect_rc "make a venv" 0
before=$(find "$SRC/python" | sort)
run "$TMP/venv/bin/pip" install --no-index --no-cache-dir "$SRC/python"
expect_rc "pip install ./python (offline)" 0
expect_eq "pip install leaves no files in python/" "$(find "$SRC/python" | sort)" "$before"
# libsinter is found beside the sinter command on PATH
cat >"$TMP/use.py" <<PYEOF
import os, sys, numpy as np, sinter
print(os.path.dirname(sinter.__file__).startswith(sys.prefix))
sinter.compile("$EX/fmnist_mlp.json", "$TMP/libfmnist_mlp.so", opt_level=1)
lib = sinter.Library("$TMP/libfmnist_mlp.so")
print(lib.info.inputs, lib.infer(x=np.zeros((2, 784), np.float32))["logits"].shape)
PYEOF
run env -C "$TMP" -u SINTER_LIBRARY PATH="$BUILD:$PATH" "$TMP/venv/bin/python" "$TMP/use.py"
expect_rc "the installed module compiles and runs a model" 0
expect_eq "the installed module" "$OUT" "True
[Tensor('x', float32, ['N', 784])] (2, 10)"
finish
