"""The descriptor every library made by sinter exports (sinter_model_info), as ctypes structures.

Mirrors runtime/sinter_model.h (SINTER_MODEL_INFO_VERSION 2); keep the two in sync.
"""
import ctypes

import numpy as np

MODEL_INFO_VERSION = 2
MAX_RANK = 8

# SinterModelInfo.flags
FLAG_EXTERNAL_WEIGHTS = 1
FLAG_TRAINING = 2

# SrtDtype (runtime/sinter_rt.h) -> NumPy dtype and the model format's dtype name. ORDER: the
# enum's order; bf16 and f16 are storage-only (tensor files) and never appear in a descriptor.
DTYPES = [
    (np.dtype(np.float32), "float32"),
    (np.dtype(np.float64), "float64"),
    (np.dtype(np.int64), "int64"),
    (np.dtype(np.int32), "int32"),
    (np.dtype(np.int8), "int8"),
    (np.dtype(np.uint8), "uint8"),
    (np.dtype(np.bool_), "bool"),
]

# SINTER_E* status codes (runtime/sinter_rt.h), for messages.
STATUS_NAMES = {
    1: "SINTER_EINVAL",
    2: "SINTER_ENOMEM",
    3: "SINTER_EIO",
    4: "SINTER_EFORMAT",
    5: "SINTER_ESTATE",
    6: "SINTER_EINTERNAL",
    7: "SINTER_EDATA",
}


class Dim(ctypes.Structure):
    """a*N + b, N being the batch size."""
    _fields_ = [("a", ctypes.c_int64), ("b", ctypes.c_int64)]


class TensorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int64),
        ("rank", ctypes.c_int64),
        ("dims", Dim * MAX_RANK),
        ("bytes", Dim),
        ("offset", ctypes.c_int64),
    ]


_ctx = ctypes.c_void_p
_args = ctypes.POINTER(ctypes.c_void_p)
_loss = ctypes.POINTER(ctypes.c_float)

CREATE = ctypes.CFUNCTYPE(_ctx)
DESTROY = ctypes.CFUNCTYPE(None, _ctx)
LOAD = ctypes.CFUNCTYPE(ctypes.c_int, _ctx, ctypes.c_char_p)
SAVE = ctypes.CFUNCTYPE(ctypes.c_int, _ctx, ctypes.c_char_p)
INFER = ctypes.CFUNCTYPE(ctypes.c_int, _ctx, ctypes.c_int64, _args)
SET_NUM_THREADS = ctypes.CFUNCTYPE(ctypes.c_int, _ctx, ctypes.c_int)
ERROR = ctypes.CFUNCTYPE(ctypes.c_char_p, _ctx)
INIT_STATE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
TRAIN = ctypes.CFUNCTYPE(ctypes.c_int, _ctx, ctypes.c_int64, _args, _loss)
APPLY = ctypes.CFUNCTYPE(ctypes.c_int, _ctx)
GRADS = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_float), _ctx, ctypes.POINTER(ctypes.c_size_t))
SET_LR = ctypes.CFUNCTYPE(ctypes.c_int, _ctx, ctypes.c_float)
GET_STEP = ctypes.CFUNCTYPE(ctypes.c_int64, _ctx)

_tensors = ctypes.POINTER(TensorInfo)


class ModelInfo(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_int64),
        ("size", ctypes.c_int64),
        ("name", ctypes.c_char_p),
        ("target", ctypes.c_char_p),
        ("flags", ctypes.c_int64),
        ("ninputs", ctypes.c_int64),
        ("noutputs", ctypes.c_int64),
        ("nparams", ctypes.c_int64),
        ("inputs", _tensors),
        ("outputs", _tensors),
        ("params", _tensors),
        ("param_bytes", ctypes.c_int64),
        ("weights", ctypes.c_void_p),
        ("scratch_bytes", Dim),
        ("max_n", ctypes.c_int64),
        ("create", CREATE),
        ("destroy", DESTROY),
        ("load", LOAD),
        ("save", SAVE),
        ("infer", INFER),
        ("set_num_threads", SET_NUM_THREADS),
        ("error", ERROR),
        # version 2: training
        ("ntraining_inputs", ctypes.c_int64),
        ("training_inputs", _tensors),
        ("nstate", ctypes.c_int64),
        ("state", _tensors),
        ("state_bytes", ctypes.c_int64),
        ("ngrad_params", ctypes.c_int64),
        ("grad_params", _tensors),
        ("grad_count", ctypes.c_int64),
        ("train_scratch_bytes", Dim),
        ("apply_scratch_bytes", ctypes.c_int64),
        ("train_max_n", ctypes.c_int64),
        ("step_offset", ctypes.c_int64),
        ("lr_offset", ctypes.c_int64),
        ("lr_dtype", ctypes.c_int64),
        ("init_state", INIT_STATE),
        ("train_step", TRAIN),
        ("grad", TRAIN),
        ("apply", APPLY),
        ("grads", GRADS),
        ("set_lr", SET_LR),
        ("get_step", GET_STEP),
    ]
