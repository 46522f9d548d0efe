"""sinter.compile: the compiler through libsinter (lib/sinter.h), found beside the sinter command or in the build tree."""
import ctypes
import ctypes.util
import os
import shutil
import threading

from ._library import Error


class CompileError(Error):
    """Compilation failed; diagnostics is the list of one-line messages ("model.json: nodes[3]: ...")."""

    def __init__(self, diagnostics):
        super().__init__("\n".join(diagnostics) if diagnostics else "compilation failed")
        self.diagnostics = list(diagnostics)


_lock = threading.Lock()
_lib = None

# compile()'s keyword options -> sinter_options_set keys; True/False become "1"/"0".
_OPTIONS = ("opt_level", "target", "cpu", "features", "emit", "external_weights", "soname", "strip")


def _candidates():
    """Where libsinter may be, most specific first."""
    env = os.environ.get("SINTER_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    # used from the source tree: python/sinter -> the repository's build folder
    yield os.path.join(here, "..", "..", "build", "libsinter.so")
    cmd = shutil.which(os.environ.get("SINTER", "sinter"))
    if cmd:
        bindir = os.path.dirname(os.path.realpath(cmd))
        yield os.path.join(bindir, "libsinter.so")                   # a build tree
        for lib in ("lib", "lib64", os.path.join("lib", "x86_64-linux-gnu")):
            yield os.path.join(bindir, "..", lib, "libsinter.so.0")  # an installed prefix
    found = ctypes.util.find_library("sinter")
    if found:
        yield found


def _load():
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for path in _candidates():
            if os.sep in path and not os.path.exists(path):
                tried.append(path)
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                tried.append("%s (%s)" % (path, e))
                continue
            _declare(lib)
            _lib = lib
            return lib
        raise Error("cannot find libsinter (the compiler as a library): set SINTER_LIBRARY to its path, or put "
                    "an installed sinter on PATH; tried %s" % (", ".join(tried) or "nothing"))


def _declare(lib):
    p, i, s, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    for name, res, args in [
        ("sinter_version", s, []),
        ("sinter_diagnostics_new", p, []),
        ("sinter_diagnostics_count", sz, [p]),
        ("sinter_diagnostics_message", s, [p, sz]),
        ("sinter_diagnostics_free", None, [p]),
        ("sinter_model_load", p, [s, p]),
        ("sinter_model_load_weights", i, [p, s, p]),
        ("sinter_model_run_pipeline", i, [p, s, p]),
        ("sinter_model_free", None, [p]),
        ("sinter_options_new", p, []),
        ("sinter_options_set", i, [p, s, s, p]),
        ("sinter_options_free", None, [p]),
        ("sinter_compile", i, [p, p, s, p]),
    ]:
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args


def version():
    """The version of libsinter."""
    return _load().sinter_version().decode()


def _text(key, value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if key == "opt_level" and not isinstance(value, int):
        raise TypeError("compile: opt_level expects an int 0..3, got %r" % (value,))
    return str(value)


def compile(model, out, *, weights=None, passes=None, **options):
    """Compiles MODEL.json into out, as `sinter compile MODEL.json -o OUT` does.

    out's extension picks the kind (.so: shared library + NAME.h beside it, .o: object +
    NAME.h, .ll, .bc, .s) unless emit= says it. Options (the compile flags of the same
    name): opt_level=0..3, target="aarch64-linux-gnu", cpu="x86-64-v3", features="+avx2",
    emit="so", external_weights=True, soname="libNAME.so.1", strip=True; weights=FILE takes
    the params from a .safetensors file; passes="shape_infer,const_fold" (or a list) runs
    those passes instead of the default pipeline. Returns out. Raises CompileError with the
    compiler's diagnostics; nothing is written then.
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError("compile: unknown option %r (expected weights, passes, %s)" % (unknown[0], ", ".join(_OPTIONS)))
    lib = _load()
    model, out = os.fsencode(model), os.fsencode(out)
    if passes is not None and not isinstance(passes, str):
        passes = ",".join(passes)
    diag = lib.sinter_diagnostics_new()
    opt = lib.sinter_options_new()
    m = None
    try:
        if not diag or not opt:
            raise MemoryError("compile: out of memory")
        ok = True
        for key in _OPTIONS:
            if ok and options.get(key) is not None:
                ok = lib.sinter_options_set(opt, key.encode(), _text(key, options[key]).encode(), diag) == 0
        if ok:
            m = lib.sinter_model_load(model, diag)
            ok = bool(m)
        if ok and weights is not None:
            ok = lib.sinter_model_load_weights(m, os.fsencode(weights), diag) == 0
        if ok:
            ok = lib.sinter_model_run_pipeline(m, passes.encode() if passes is not None else None, diag) == 0
        if ok:
            ok = lib.sinter_compile(m, opt, out, diag) == 0
        if not ok:
            msgs = [lib.sinter_diagnostics_message(diag, k).decode("utf-8", "replace")
                    for k in range(lib.sinter_diagnostics_count(diag))]
            raise CompileError(msgs)
        return os.fsdecode(out)
    finally:
        if m:
            lib.sinter_model_free(m)
        lib.sinter_options_free(opt)
        lib.sinter_diagnostics_free(diag)
