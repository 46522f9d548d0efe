#!/usr/bin/python3
"""Turns the results bench/run.sh collects (tab-separated lines) into docs/benchmarks.md (stdout)."""
import json
import sys

MODEL_ORDER = ["fmnist_mlp", "lenet5", "resnet_small", "transformer_encoder"]


def fmt_ms(ms):
    if ms is None:
        return "n/a"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.1f} µs"


def main():
    info, checks, errors = {}, {}, {}
    sinter, torch = {}, {}
    for line in open(sys.argv[1], encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        kind = f[0]
        if kind in ("sinter", "torch"):
            key = (f[1], int(f[2]), int(f[3]))
            (sinter if kind == "sinter" else torch)[key] = json.loads(f[4])
        elif kind == "bench_error":
            errors.setdefault(f[1], []).append(f"batch {f[2]}, {f[3]} threads: {f[4]}")
        elif kind == "compile_error":
            errors.setdefault(f[1], []).append(f"sinter compile: {f[2]}")
        elif kind == "check":
            checks[f[1]] = json.loads(f[2])
        elif kind == "check_error":
            checks[f[1]] = {"error": f[2]}
        else:
            info[kind] = f[1] if len(f) > 1 else ""

    keys = sorted(set(sinter) | set(torch),
                  key=lambda k: (MODEL_ORDER.index(k[0]) if k[0] in MODEL_ORDER else 99, k[0], k[1], k[2]))
    out = []
    w = out.append
    w("# Benchmarks: sinter vs PyTorch eager")
    w("")
    w("Written by `bench/run.sh` (do not edit by hand; rerun it). Inference latency of the four example")
    w("models, compiled by `sinter compile -O3` for this machine, against the same architectures as")
    w("PyTorch `nn.Module`s run eagerly (`bench/torch_ref.py`), same batch, same thread count, measured")
    w("one after the other in the same run. Weights do not change the timings; each PyTorch module is")
    w("checked against sinter's reference interpreter with sinter's weights loaded (last table).")
    w("Training (accuracy, time per epoch and per step against PyTorch): [training-results.md](training-results.md).")
    w("")
    w(f"- machine: {info.get('cpu', '?')}, {info.get('cores', '?')} cores "
      f"(ISA: {info.get('isa', '?').strip() or '?'}); load average {info.get('load_start', '?')} at the start, "
      f"{info.get('load_end', '?')} at the end")
    w(f"- date: {info.get('date', '?')}; commit: {info.get('commit', '?')}")
    w(f"- sinter: `{info.get('sinter_version', '?')}`, libraries from `sinter compile -O3` (host CPU), timed by "
      f"`sinter bench LIB.so --json --seconds {info.get('seconds', '?')}`")
    w(f"- PyTorch: {info.get('torch_version', '?')} (Debian python3-torch), BLAS_INFO={info.get('torch_blas', '?')}, "
      f"libblas.so.3 -> `{info.get('libblas', '?')}`; `torch.set_num_threads(T)`, `torch.inference_mode()`, "
      f"{info.get('seconds', '?')} s per configuration")
    w("")
    w("Latency is the median of per-call times (each call timed with the monotonic clock, after warm-up);")
    w("**torch/sinter** is the ratio of the medians: above 1 means sinter is faster.")
    w("")
    w("| model | batch | threads | sinter median | sinter p90 | torch median | torch p90 | torch/sinter |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for k in keys:
        s, t = sinter.get(k), torch.get(k)
        sm = s["median_ms"] if s else None
        tm = t["median_ms"] if t else None
        ratio = f"**{tm / sm:.2f}**" if sm and tm else "n/a"
        w(f"| {k[0]} | {k[1]} | {k[2]} | {fmt_ms(sm)} | {fmt_ms(s['p90_ms'] if s else None)} | {fmt_ms(tm)} | "
          f"{fmt_ms(t['p90_ms'] if t else None)} | {ratio} |")
    w("")
    if errors:
        w("Not measured on the sinter side:")
        w("")
        for m in sorted(errors):
            for e in errors[m]:
                w(f"- {m}: {e}")
        w("")
    slow = [k for k in keys if k in sinter and k in torch and k[1] == 1
            and torch[k]["median_ms"] < sinter[k]["median_ms"]]
    if slow:
        w("Slower than PyTorch at batch 1: " + ", ".join(f"{k[0]} ({k[2]} threads)" for k in slow)
          + ". See bench/README.md, \"Reading the results\".")
        w("")
    w("## Is the PyTorch module the same model?")
    w("")
    w("`bench/torch_ref.py MODEL --check` exports every param and the logits of `sinter run --interp` on")
    w("3 random images, loads the params into the module and compares the logits.")
    w("")
    w("| model | params | max abs diff of the logits | largest logit |")
    w("|---|---:|---:|---:|")
    for m in sorted(checks, key=lambda m: MODEL_ORDER.index(m) if m in MODEL_ORDER else 99):
        c = checks[m]
        if "error" in c:
            w(f"| {m} | n/a | check failed: {c['error']} | |")
        else:
            w(f"| {m} | {c['params']:,} | {c['max_abs_diff']:.2g} | {c['max_abs_logit']:.3g} |")
    w("")
    w("## Caveats")
    w("")
    w("- The machine may be shared: the load average above shows how busy it was. Medians resist")
    w("  outliers, p90 shows the spread; with more threads than idle cores, parallel regions wait for")
    w("  descheduled threads (both frameworks use OpenMP), so the 2-thread rows are the noisiest.")
    w("- Debian's python3-torch is built with BLAS_INFO=generic: its Linear/MatMul layers call whatever")
    w("  `libblas.so.3` the alternatives system selects. With the reference BLAS (`libblas3`) they are far")
    w("  slower than with OpenBLAS (`libopenblas0-pthread`); convolutions can take oneDNN's path instead.")
    w("  The ratios are against PyTorch as installed here.")
    w("- sinter's time is one call of the library's inference entry point (what `NAME_infer` does); PyTorch's")
    w("  includes the Python-level dispatch of eager mode, which is part of what eager execution costs.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
