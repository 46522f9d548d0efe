"""sinter.Library: a shared library made by `sinter compile`, driven through its sinter_model_info descriptor."""
import ctypes
import os

import numpy as np

from . import _abi

# Descriptor counts beyond this are taken as a corrupt or foreign library (as tools/native.c).
_MAX_TENSORS = 1 << 20


class Error(RuntimeError):
    """A failure reported by sinter: the message is the library's (or compiler's) error text.

    status is the SINTER_E* name for a failed call of a library ("SINTER_EFORMAT", ...), or
    None for errors found before any call.
    """

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class Tensor:
    """One input, output, param or training input of a model.

    name: as in the model; dtype: a NumPy dtype; dims: per axis (a, b) meaning a*N + b;
    shape: per axis an int, or "N" / "2*N+1" for axes that depend on the batch size.
    """

    __slots__ = ("name", "dtype", "dims")

    def __init__(self, name, dtype, dims):
        self.name = name
        self.dtype = dtype
        self.dims = dims

    @property
    def shape(self):
        out = []
        for a, b in self.dims:
            if a == 0:
                out.append(b)
            else:
                text = "N" if a == 1 else "%d*N" % a
                out.append(text + ("+%d" % b if b > 0 else ""))
        return tuple(out)

    @property
    def batched(self):
        """Does the shape depend on the batch size?"""
        return any(a for a, _ in self.dims)

    def shape_at(self, n):
        """The shape at batch size n."""
        return tuple(a * n + b for a, b in self.dims)

    def __repr__(self):
        return "Tensor(%r, %s, %s)" % (self.name, self.dtype.name, list(self.shape))


class Info:
    """What a library's descriptor says: name, target triple, the tensors and what it can do."""

    def __init__(self, c):
        self.name = c.name.decode()
        self.target = c.target.decode() if c.target else ""
        self.inputs = _tensors(c.inputs, c.ninputs, "inputs")
        self.outputs = _tensors(c.outputs, c.noutputs, "outputs")
        self.params = _tensors(c.params, c.nparams, "params")
        self.training = bool(c.flags & _abi.FLAG_TRAINING)
        self.external_weights = bool(c.flags & _abi.FLAG_EXTERNAL_WEIGHTS)
        self.max_n = c.max_n
        if self.training:
            self.training_inputs = _tensors(c.training_inputs, c.ntraining_inputs, "training_inputs")
            self.grad_params = _tensors(c.grad_params, c.ngrad_params, "grad_params")
            self.grad_count = c.grad_count
            self.train_max_n = c.train_max_n
        else:
            self.training_inputs, self.grad_params, self.grad_count, self.train_max_n = [], [], 0, 0

    def __repr__(self):
        return "Info(%r, inputs=%r, outputs=%r, %d params%s)" % (
            self.name, self.inputs, self.outputs, len(self.params), ", training" if self.training else "")


def _tensors(ptr, count, what):
    if count < 0 or count > _MAX_TENSORS or (count > 0 and not ptr):
        raise Error("the library's descriptor has a bad %s table" % what)
    out = []
    for i in range(count):
        t = ptr[i]
        if not t.name or t.dtype < 0 or t.dtype >= len(_abi.DTYPES) or t.rank < 0 or t.rank > _abi.MAX_RANK:
            raise Error("the library's descriptor has a bad entry %s[%d]" % (what, i))
        dims = tuple((t.dims[k].a, t.dims[k].b) for k in range(t.rank))
        out.append(Tensor(t.name.decode("utf-8", "replace"), _abi.DTYPES[t.dtype][0], dims))
    return out


def _batch_size(tensors, arrays, what):
    """n from the arrays' shapes (checked against every tensor); 1 if no shape depends on it."""
    n = None
    for t, arr in zip(tensors, arrays):
        if arr.ndim != len(t.dims):
            raise ValueError("%s %r: expected %d dimensions %s, got shape %s" % (
                what, t.name, len(t.dims), list(t.shape), arr.shape))
        for k, (a, b) in enumerate(t.dims):
            size = arr.shape[k]
            if a == 0:
                ok = size == b
            else:
                ok = size >= b and (size - b) % a == 0 and (n is None or (size - b) // a == n)
                if ok and n is None:
                    n = (size - b) // a
            if not ok:
                want = list(t.shape_at(n)) if n is not None else list(t.shape)
                raise ValueError("%s %r: expected shape %s, got %s" % (what, t.name, want, arr.shape))
    return 1 if n is None else n


class Library:
    """A library made by `sinter compile -o LIB.so` (any model), with one context of its own.

        lib = sinter.Library("libfmnist_mlp.so")
        out = lib.infer(x=images)            # {"logits": array}
        loss = lib.train_step(x=images, y=labels)

    Arrays are checked against the descriptor before every call: the dtype must be the
    declared one (a list or scalar is converted to it; an array of another dtype is a
    TypeError), shapes must agree with each other on the batch size N (ValueError). Failed
    calls raise sinter.Error with the library's message. Calls release the GIL; one Library
    is used by one thread at a time (make one per thread: they share nothing).
    """

    def __init__(self, path, threads=None):
        path = os.fspath(path)
        self.path = path
        self._ctx = None
        try:
            # RTLD_LOCAL: several libraries each export sinter_model_info.
            self._dll = ctypes.CDLL(os.path.abspath(path), mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            raise Error("%s: cannot load the library: %s" % (path, e)) from None
        try:
            c = _abi.ModelInfo.in_dll(self._dll, "sinter_model_info")
        except ValueError:
            raise Error("%s: not a library made by sinter (no sinter_model_info)" % path) from None
        if c.version != _abi.MODEL_INFO_VERSION or c.size != ctypes.sizeof(_abi.ModelInfo):
            raise Error("%s: the library's descriptor has version %d, this module reads version %d; recompile "
                        "the model with this sinter" % (path, c.version, _abi.MODEL_INFO_VERSION))
        self._c = c
        self.info = Info(c)
        ctx = c.create()
        if not ctx:
            raise Error("%s: %s" % (path, (c.error(None) or b"cannot create a context").decode()))
        self._ctx = ctx
        if threads is not None:
            self.set_num_threads(threads)

    # ---- lifetime ----------------------------------------------------------------------
    def close(self):
        """Frees the context (the library stays loaded); further calls raise Error."""
        if self._ctx:
            self._c.destroy(self._ctx)
            self._ctx = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_ctx", None):
            self.close()

    def __repr__(self):
        return "Library(%r, model %r)" % (self.path, self.info.name)

    def _context(self):
        if not self._ctx:
            raise Error("%s: the library was closed" % self.path)
        return self._ctx

    def _check(self, rc, fn):
        if rc != 0:
            msg = self._c.error(self._ctx)
            text = msg.decode("utf-8", "replace") if msg else "failed"
            # the library's text names its function: "fmnist_mlp_load: FILE: cannot open: ..."
            raise Error(text, _abi.STATUS_NAMES.get(rc, str(rc)))

    def _training(self, fn):
        if not self.info.training:
            raise Error("%s: %s: the model was compiled without a training section" % (self.info.name, fn))

    # ---- calls -------------------------------------------------------------------------
    def _arrays(self, tensors, given, fn):
        """The caller's arrays in the order of tensors, checked and made contiguous."""
        given = dict(given)
        out = []
        for t in tensors:
            if t.name not in given:
                raise TypeError("%s: missing array %r (expected %s)" % (
                    fn, t.name, ", ".join(repr(x.name) for x in tensors)))
            v = given.pop(t.name)
            if isinstance(v, np.ndarray):
                if v.dtype != t.dtype:
                    raise TypeError("%s: %r is %s, the model declares %s (convert it with .astype)" % (
                        fn, t.name, v.dtype.name, t.dtype.name))
                v = np.ascontiguousarray(v)
            else:
                v = np.ascontiguousarray(np.asarray(v, dtype=t.dtype))
            out.append(v)
        if given:
            raise TypeError("%s: unknown array %r (expected %s)" % (
                fn, sorted(given)[0], ", ".join(repr(x.name) for x in tensors)))
        return out

    @staticmethod
    def _merge(arrays, kw):
        merged = dict(arrays or {})
        merged.update(kw)
        return merged

    @staticmethod
    def _pointers(arrays):
        ptrs = (ctypes.c_void_p * max(1, len(arrays)))()
        for i, a in enumerate(arrays):
            ptrs[i] = a.ctypes.data if a.size else None
        return ptrs

    def infer(self, arrays=None, /, **kw):
        """Runs inference: the graph inputs by name (keywords, or a dict for names that are not
        Python identifiers) -> {output name: new array}."""
        ctx = self._context()
        ins = self._arrays(self.info.inputs, self._merge(arrays, kw), "infer")
        n = _batch_size(self.info.inputs, ins, "infer: input")
        outs = [np.empty(t.shape_at(n), dtype=t.dtype) for t in self.info.outputs]
        ptrs = self._pointers(ins + outs)
        self._check(self._c.infer(ctx, n, ptrs), "infer")
        return {t.name: a for t, a in zip(self.info.outputs, outs)}

    def _train_call(self, fn, arrays, kw):
        self._training(fn)
        ctx = self._context()
        tensors = self.info.inputs + self.info.training_inputs
        args = self._arrays(tensors, self._merge(arrays, kw), fn)
        n = _batch_size(tensors, args, fn + ": input")
        loss = ctypes.c_float()
        ptrs = self._pointers(args)
        self._check(getattr(self._c, fn)(ctx, n, ptrs, ctypes.byref(loss)), fn)
        return float(loss.value)

    def train_step(self, arrays=None, /, **kw):
        """One optimizer step on a batch: graph inputs and training inputs (labels) by name.
        Returns the loss before the update."""
        return self._train_call("train_step", arrays, kw)

    def grad(self, arrays=None, /, **kw):
        """The gradients of a batch into the gradient buffer (grads), no update. Returns the loss."""
        return self._train_call("grad", arrays, kw)

    def apply(self):
        """The optimizer update from the gradient buffer (after grad, e.g. averaged across processes)."""
        self._training("apply")
        self._check(self._c.apply(self._context()), "apply")

    @property
    def grads(self):
        """The gradient buffer as a float32 array (a view: writing it changes what apply uses;
        valid while the library is open). Its layout: info.grad_params."""
        self._training("grads")
        count = ctypes.c_size_t()
        ptr = self._c.grads(self._context(), ctypes.byref(count))
        if not ptr:
            raise Error("%s: grads: %s" % (self.info.name, (self._c.error(self._ctx) or b"failed").decode()))
        return np.ctypeslib.as_array(ptr, shape=(count.value,)) if count.value else np.empty(0, np.float32)

    def set_lr(self, lr):
        """The learning rate of the following steps."""
        self._training("set_lr")
        self._check(self._c.set_lr(self._context(), float(lr)), "set_lr")

    @property
    def step(self):
        """Optimizer steps taken (saved with the params)."""
        self._training("step")
        return int(self._c.get_step(self._context()))

    def load(self, path):
        """Params (and optimizer state, if the file has it) from a .safetensors file; on error the
        params are unchanged."""
        self._check(self._c.load(self._context(), os.fsencode(path)), "load")

    def save(self, path):
        """Params and optimizer state to a .safetensors file (atomic replace)."""
        self._check(self._c.save(self._context(), os.fsencode(path)), "save")

    def set_num_threads(self, n):
        """Threads of the following calls (default: SINTER_NUM_THREADS, else OMP_NUM_THREADS,
        else the CPUs the process may run on)."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("set_num_threads: expected an int, got %r" % (n,))
        self._check(self._c.set_num_threads(self._context(), n), "set_num_threads")
