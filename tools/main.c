/* sinter command entry point: dispatches to the verbs and answers --help and --version. */
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runtime/sinter_rt.h"
#include "tools/cli.h"

#ifndef SINTER_VERSION
#define SINTER_VERSION "0.0.0"   /* CMakeLists.txt sets the project version */
#endif

/* ORDER: the order `sinter --help` lists the verbs in. */
static const CliVerb *const verbs[] = {
    &cli_verb_check, &cli_verb_dump, &cli_verb_opt, &cli_verb_run,
    &cli_verb_compile, &cli_verb_train, &cli_verb_eval, &cli_verb_bench, &cli_verb_import,
};
#define NVERBS ((int)(sizeof verbs / sizeof verbs[0]))

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: sinter VERB [OPTIONS] MODEL.json|MODEL.onnx ...\n"
            "sinter compiles neural-network models described in JSON (or ONNX) ahead of time.\n"
            "\n"
            "verbs:\n");
    for (int i = 0; i < NVERBS; i++)
        fprintf(f, "  %-8s %s\n", verbs[i]->name, verbs[i]->summary);
    fprintf(f,
            "\n"
            "'sinter VERB --help' describes a verb's options. Tensors on the command line are\n"
            ".npy files; weights are .safetensors. Exit status: 0 success, 1 bad input (the\n"
            "diagnostics name the file and the place in it), 2 bad usage.\n");
}

static const char *running_verb = "";

/* Any allocation of sinter's own code (and cJSON's) that fails ends the command here: one
 * line, the temporary files of the work in progress removed, exit status 1. Nothing is left
 * half-written: outputs are built in memory or in temporary files renamed at the end. */
static void out_of_memory(size_t bytes)
{
    srt_temp_cleanup();
    __fpurge(stdout);   /* no half-printed result before the message */
    fprintf(stderr, "sinter%s%s: out of memory (allocating %zu bytes)\n", *running_verb ? " " : "", running_verb,
            bytes);
    exit(CLI_EINPUT);
}

static const CliVerb *find_verb(const char *name)
{
    for (int i = 0; i < NVERBS; i++)
        if (!strcmp(verbs[i]->name, name))
            return verbs[i];
    return NULL;
}

/* --help or -h anywhere before "--". */
static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return false;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    srt_set_oom_handler(out_of_memory);
    cJSON_InitHooks(&(cJSON_Hooks){.malloc_fn = srt_malloc, .free_fn = free});
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EUSAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
        if (argc > 2 && strcmp(verb, "help") == 0) {
            const CliVerb *v = find_verb(argv[2]);
            if (!v)
                return cli_usage_error(NULL, "unknown verb \"%s\"", argv[2]);
            fputs(v->help, stdout);
            return CLI_OK;
        }
        print_usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(verb, "--version")) {
        printf("sinter " SINTER_VERSION " (check, dump, opt, compile, run, train, bench, import)\n");
        return CLI_OK;
    }
    const CliVerb *v = find_verb(verb);
    if (!v) {
        if (verb[0] == '-')
            return cli_usage_error(NULL, "unknown option %s (options follow the verb: sinter VERB [OPTIONS])", verb);
        const char *best = NULL;
        int best_d = 3;
        for (int i = 0; i < NVERBS; i++) {
            int d = cli_edit_distance(verb, verbs[i]->name);
            if (d < best_d) {
                best_d = d;
                best = verbs[i]->name;
            }
        }
        if (best)
            return cli_usage_error(NULL, "unknown verb \"%s\" (did you mean \"%s\"?)", verb, best);
        char list[128] = "";
        for (int i = 0; i < NVERBS; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", verbs[i]->name);
        return cli_usage_error(NULL, "unknown verb \"%s\"; verbs: %s", verb, list);
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(v->help, stdout);
        return CLI_OK;
    }
    running_verb = v->name;
    return v->run(argc - 1, argv + 1);
}
