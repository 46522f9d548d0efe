/* The verbs that need native code generation (compile, train, bench): help texts and an honest refusal. */
#include "tools/cli.h"

/* Every native verb answers the same way until codegen lands: exit 2, say what works now. */
static int not_in_this_build(const char *verb, const char *instead)
{
    fprintf(stderr, "sinter %s: native code generation is not in this build yet; %s\n", verb, instead);
    return CLI_EUSAGE;
}

static int run_compile(int argc, char **argv)
{
    return not_in_this_build("compile", "'sinter check' validates a model and 'sinter dump' shows its IR");
}

static int run_train(int argc, char **argv)
{
    return not_in_this_build("train", "'sinter run --interp' runs inference (and reports the loss when given labels)");
}

static int run_bench(int argc, char **argv)
{
    return not_in_this_build("bench", "'sinter check' estimates the FLOPs per sample");
}

const CliVerb cli_verb_compile = {
    "compile", run_compile,
    "usage: sinter compile MODEL.json -o OUT [--emit so|o|ll|bc|s] [--target TRIPLE] [--cpu NAME] [-O0..3]\n"
    "\n"
    "Compiles a model ahead of time with LLVM into a self-contained shared library plus a C\n"
    "header (OUT's folder gets NAME.h): NAME_create, NAME_infer, and for models with a\n"
    "training section NAME_train_step, NAME_grad, NAME_apply, NAME_save/NAME_load.\n"
    "\n"
    "  -o OUT            output file; its extension picks the kind unless --emit says it:\n"
    "                    .so (shared library), .o (object), .ll / .bc (LLVM IR), .s (assembly)\n"
    "  --emit KIND       so, o, ll, bc or s\n"
    "  --target TRIPLE   cross-compile for another target (default: this machine)\n"
    "  --cpu NAME        CPU to tune and select instructions for (default: this machine's)\n"
    "  -O0 .. -O3        optimization level (default -O2)\n"
    "\n"
    "Not in this build yet: native code generation is still being written, so this verb\n"
    "exits with status 2. Until then 'sinter check', 'sinter dump' and\n"
    "'sinter run --interp' work on the same models.\n",
    "compile a model to a shared library and C header (not in this build yet)",
};

const CliVerb cli_verb_train = {
    "train", run_train,
    "usage: sinter train MODEL.json|LIB.so --data NAME=FILE.npy ... --epochs E --batch B [--lr X]\n"
    "                    [--save FILE.safetensors]\n"
    "\n"
    "Trains a model with its compiled training step (the model's \"training\" section gives\n"
    "the loss and the optimizer), printing progress and an evaluation after every epoch.\n"
    "\n"
    "  --data ...        training inputs and labels as .npy files (NAME=FILE.npy)\n"
    "  --epochs E        passes over the data\n"
    "  --batch B         batch size (the model's N)\n"
    "  --lr X            learning rate (default: the optimizer's lr)\n"
    "  --save FILE       write params, optimizer state and step counter (.safetensors)\n"
    "\n"
    "Not in this build yet: training runs compiled code, and native code generation is\n"
    "still being written, so this verb exits with status 2. 'sinter run --interp' with\n"
    "--input for the labels already reports the model's loss.\n",
    "train a model with the compiled training step (not in this build yet)",
};

const CliVerb cli_verb_bench = {
    "bench", run_bench,
    "usage: sinter bench MODEL.json|LIB.so [--batch B] [--threads T]\n"
    "\n"
    "Measures the latency and throughput of a compiled model's inference (and training\n"
    "step) on random inputs.\n"
    "\n"
    "  --batch B         batch size (the model's N; default 1)\n"
    "  --threads T       worker threads (default: SINTER_NUM_THREADS or all cores)\n"
    "\n"
    "Not in this build yet: it measures compiled code, and native code generation is still\n"
    "being written, so this verb exits with status 2. 'sinter check' prints the estimated\n"
    "FLOPs per sample.\n",
    "measure latency and throughput of a compiled model (not in this build yet)",
};
