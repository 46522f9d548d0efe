/* The verb that needs native code generation still being written (train): help text and an honest refusal. */
#include "tools/cli.h"

/* Every native verb answers the same way until codegen lands: exit 2, say what works now. */
static int not_in_this_build(const char *verb, const char *instead)
{
    fprintf(stderr, "sinter %s: native code generation is not in this build yet; %s\n", verb, instead);
    return CLI_EUSAGE;
}

static int run_train(int argc, char **argv)
{
    return not_in_this_build("train", "'sinter run --interp' runs inference (and reports the loss when given labels)");
}

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
