"""sinter: compile neural-network models ahead of time and run the libraries from Python.

    import sinter
    sinter.compile("examples/fmnist_mlp.json", "out/libfmnist_mlp.so", opt_level=3)
    lib = sinter.Library("out/libfmnist_mlp.so")
    lib.info.inputs                      # [Tensor('x', float32, ['N', 784])]
    logits = lib.infer(x=images)["logits"]
    loss = lib.train_step(x=images, y=labels)
    lib.save("trained.safetensors")

ctypes and NumPy only: Library drives any library made by `sinter compile` through its
sinter_model_info descriptor; compile() calls libsinter, the compiler as a C library (found
through SINTER_LIBRARY, the source tree's build folder, or the sinter command on PATH).
See docs/deployment.md.
"""
from ._compiler import CompileError, compile, version
from ._library import Error, Info, Library, Tensor
from ._tensors import load_tensors, save_tensors

__version__ = "0.1.0"
__all__ = ["CompileError", "Error", "Info", "Library", "Tensor", "compile", "load_tensors", "save_tensors",
           "version"]
