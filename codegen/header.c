/* The C header written beside a generated library: the fixed ABI with the model's names, types and shapes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_infra.h"

/* Growing text buffer. */
typedef struct Text {
    char *s;
    size_t len, cap;
} Text;

__attribute__((format(printf, 2, 3)))
static void put(Text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->s ? t->s + t->len : NULL, room, fmt, ap);
        va_end(ap);
        IR_ASSERT(n >= 0);
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->s = srt_realloc(t->s, t->cap);
        IR_ASSERT(t->s);
    }
}

static const char *const reserved[] = {
    /* C11 */
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    /* C++ (the header is usable from C++) */
    "alignas", "alignof", "and", "asm", "bool", "catch", "class", "compl", "constexpr", "delete", "explicit",
    "export", "false", "friend", "mutable", "namespace", "new", "noexcept", "not", "nullptr", "operator", "or",
    "private", "protected", "public", "template", "this", "throw", "true", "try", "typeid", "typename", "using",
    "virtual", "xor",
    /* names the prototypes use: a parameter with one of them would shadow the type */
    "int8_t", "int32_t", "int64_t", "uint8_t", "size_t", "NULL", "m", "n", NULL};

void cg_c_ident(const char *name, char *buf, size_t len)
{
    IR_ASSERT(len >= 8);
    /* Other characters as '_' first; then a leading digit, "__" or "_X" (reserved in C), or
     * nothing at all, gets the prefix "t_" (so "*" + "/x" -> "t___x", not "__x"). */
    size_t o = 0;
    for (const char *c = name; *c && o + 4 < len; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_';
        buf[o++] = ok ? *c : '_';
    }
    buf[o] = '\0';
    if (!o || (buf[0] >= '0' && buf[0] <= '9') || (buf[0] == '_' && (buf[1] == '_' || (buf[1] >= 'A' && buf[1] <= 'Z')))) {
        memmove(buf + 2, buf, o + 1);
        buf[0] = 't';
        buf[1] = '_';
        o += 2;
    }
    for (const char *const *r = reserved; *r; r++)
        if (!strcmp(buf, *r)) {
            buf[o++] = '_';
            buf[o] = '\0';
            break;
        }
}

static const char *c_type(IrDtype t)
{
    switch (t) {
    case SRT_F32: return "float";
    case SRT_F64: return "double";
    case SRT_I64: return "int64_t";
    case SRT_I32: return "int32_t";
    case SRT_I8: return "int8_t";
    case SRT_U8: return "uint8_t";
    case SRT_BOOL: return "uint8_t";
    default: return NULL;
    }
}

/* Text safe inside a C comment: no "*" followed by "/" (nor "/" followed by "*"), no control characters (a newline or a
 * backslash-newline could end a line comment), no bytes outside ASCII (invalid UTF-8 draws
 * warnings), no "??" (trigraphs in ISO C modes: "??/" is a backslash); such bytes become '_'. */
static void put_comment_text(Text *t, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            put(t, "_");
        else if ((s[0] == '*' && s[1] == '/') || (s[0] == '/' && s[1] == '*'))   /* end, or -Wcomment */
            put(t, "%c ", s[0]);
        else if (s[0] == '?' && s[1] == '?')
            put(t, "? ");
        else
            put(t, "%c", *s);
    }
}

/* "float32[N, 784]" */
static void put_type(Text *t, const IrValue *v)
{
    put(t, "%s[", srt_dtype_name(v->dtype));
    for (int i = 0; i < v->shape.rank; i++) {
        char b[48];
        ir_dim_format(v->shape.d[i], b, sizeof b);
        put(t, "%s%s", i ? ", " : "", b);
    }
    put(t, "]");
}

/* Argument i of the entry points: graph inputs, graph outputs, then training inputs. */
static const IrValue *arg_value(const IrGraph *g, int i)
{
    if (i < g->ninputs)
        return g->values[g->inputs[i]];
    i -= g->ninputs;
    if (i < g->noutputs)
        return g->values[g->outputs[i]];
    return g->values[g->training->inputs[i - g->noutputs]];
}

/* The training entry points (models with a training section). ids: the arguments' C names. */
static void put_training(Text *t, const IrGraph *g, char (*ids)[128])
{
    const char *nm = g->name;
    int nin = g->ninputs, ntr = g->training->ninputs, first_tr = g->ninputs + g->noutputs;
    const char *loss = "loss";
    for (int i = 0; i < nin + ntr; i++)
        if (!strcmp(ids[i < nin ? i : first_tr + i - nin], "loss"))
            loss = "loss_value";
    put(t, "/* Training (the model's training section). train_step = forward + loss + backward + optimizer\n");
    put(t, " * update on a batch of n samples; grad = the first three only, leaving every trained param's\n");
    put(t, " * gradient in one flat float buffer (%s_grads) that may be changed (e.g. summed across\n", nm);
    put(t, " * processes) before apply runs the optimizer update from it. grad followed by apply equals\n");
    put(t, " * train_step bit for bit. *%s (if not NULL) receives the loss before the update.\n", loss);
    for (int i = 0; i < nin + ntr; i++) {
        int a = i < nin ? i : first_tr + i - nin;
        const IrValue *v = arg_value(g, a);
        put(t, " *   %-12s %s ", ids[a], i < nin ? "in " : "in (training)");
        put_type(t, v);
        if (strcmp(ids[a], v->name)) {
            put(t, "  \"");
            put_comment_text(t, v->name);
            put(t, "\"");
        }
        put(t, "\n");
    }
    put(t, " * Params, optimizer state and the step counter live in the context: %s_save writes\n", nm);
    put(t, " * them all, %s_load restores them (a file with params only restarts the optimizer). */\n", nm);
    for (int k = 0; k < 2; k++) {
        put(t, "int %s_%s(%s *m, int64_t n", nm, k ? "grad" : "train_step", nm);
        for (int i = 0; i < nin + ntr; i++) {
            int a = i < nin ? i : first_tr + i - nin;
            put(t, ", const %s *%s", c_type(arg_value(g, a)->dtype), ids[a]);
        }
        put(t, ", float *%s);\n", loss);
    }
    put(t, "int %s_apply(%s *m);\n", nm, nm);
    put(t, "/* The gradient buffer: *count floats, each trained param's gradient in declaration order. */\n");
    put(t, "float *%s_grads(%s *m, size_t *count);\n", nm, nm);
    put(t, "/* The learning rate of the following steps (finite, >= 0). */\n");
    put(t, "int %s_set_lr(%s *m, float lr);\n", nm, nm);
    put(t, "/* Optimizer steps taken (saved and loaded with the weights); -1 for a bad context. */\n");
    put(t, "int64_t %s_get_step(const %s *m);\n\n", nm, nm);
}

char *cg_header_text(const IrGraph *g, bool training, IrDiag *d)
{
    int nargs = g->ninputs + g->noutputs + (g->training ? g->training->ninputs : 0);
    char(*ids)[128] = srt_calloc((size_t)nargs + 1, sizeof *ids);
    IR_ASSERT(ids);
    for (int i = 0; i < nargs; i++) {
        const IrValue *v = arg_value(g, i);
        if (!c_type(v->dtype)) {
            ir_diag_error(d, v->name, "%s tensors cannot be passed through the C interface", srt_dtype_name(v->dtype));
            free(ids);
            return NULL;
        }
        char base[100];
        cg_c_ident(v->name, base, sizeof base);
        if (!strcmp(base, g->name))
            strcat(base, "_");
        snprintf(ids[i], sizeof ids[i], "%s", base);
        /* Unique among the entry's parameters: base, base_2, base_3, ... */
        for (int k = 2;; k++) {
            bool clash = false;
            for (int j = 0; j < i && !clash; j++)
                clash = !strcmp(ids[j], ids[i]);
            if (!clash)
                break;
            snprintf(ids[i], sizeof ids[i], "%s_%d", base, k);
        }
    }

    const char *nm = g->name;
    char guard[160];
    snprintf(guard, sizeof guard, "SINTER_MODEL_%s_H", nm);
    for (char *c = guard; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');

    Text t = {NULL, 0, 0};
    put(&t, "/* %s.h: C interface of the library sinter generated from model \"%s\".\n", nm, nm);
    put(&t, " * Link with the library (e.g. cc app.c -L. -l%s -Wl,-rpath,'$ORIGIN'); at run time it\n", nm);
    put(&t, " * needs only libc, libm and the OpenMP runtime (libgomp). */\n");
    put(&t, "#ifndef %s\n#define %s\n\n#include <stddef.h>\n#include <stdint.h>\n\n", guard, guard);
    put(&t, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    put(&t, "#ifndef SINTER_STATUS_DEFINED\n#define SINTER_STATUS_DEFINED\n");
    put(&t, "/* Status codes: every int function returns SINTER_OK or one of the errors. */\nenum {\n");
    put(&t, "    SINTER_OK = %d,\n", SINTER_OK);
    put(&t, "    SINTER_EINVAL = %d,   /* bad argument (NULL pointer, n <= 0, n too large, ...) */\n", SINTER_EINVAL);
    put(&t, "    SINTER_ENOMEM = %d,   /* out of memory */\n", SINTER_ENOMEM);
    put(&t, "    SINTER_EIO = %d,      /* a file could not be opened, read or written */\n", SINTER_EIO);
    put(&t, "    SINTER_EFORMAT = %d,  /* a file is malformed or does not match the model */\n", SINTER_EFORMAT);
    put(&t, "    SINTER_ESTATE = %d,   /* call not valid in the current state */\n", SINTER_ESTATE);
    put(&t, "    SINTER_EINTERNAL = %d, /* a bug in sinter */\n", SINTER_EINTERNAL);
    put(&t, "    SINTER_EDATA = %d      /* the data cannot be computed with (an index out of range, an integer\n"
            "                             division by zero, a non-finite result with --check-finite):\n"
            "                             NAME_error names the node */\n};\n#endif\n\n", SINTER_EDATA);

    put(&t, "/* A context: the params and the scratch memory of inference. A context serves one thread\n");
    put(&t, " * at a time; independent contexts may be used concurrently from different threads. */\n");
    put(&t, "typedef struct %s %s;\n\n", nm, nm);

    int nparams = 0;
    for (int id = 0; id < g->nvalues; id++)
        nparams += g->values[id]->role == IR_ROLE_PARAM;
    put(&t, "/* A new context, params initialized from the weights embedded in the library (or zero when\n");
    put(&t, " * it was built with external weights: call %s_load before inference). NULL when out of\n", nm);
    put(&t, " * memory (%s_error(NULL) says why). */\n%s *%s_create(void);\n", nm, nm, nm);
    put(&t, "void %s_destroy(%s *m);\n\n", nm, nm);
    put(&t, "/* Params as .safetensors, by name (%d tensor%s):\n", nparams, nparams == 1 ? "" : "s");
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (v->role != IR_ROLE_PARAM)
            continue;
        put(&t, " *   \"");
        put_comment_text(&t, v->name);
        put(&t, "\" ");
        put_type(&t, v);
        put(&t, "\n");
    }
    put(&t, " * load checks every name, dtype and shape and changes nothing on error; save replaces the\n");
    put(&t, " * file atomically. */\n");
    put(&t, "int %s_load(%s *m, const char *safetensors_path);\n", nm, nm);
    put(&t, "int %s_save(const %s *m, const char *safetensors_path);\n\n", nm, nm);

    put(&t, "/* Inference on a batch of n >= 1 samples (N = n below). Tensors are dense and row-major;\n");
    put(&t, " * inputs and outputs must not overlap.\n");
    int nio = g->ninputs + g->noutputs;
    for (int i = 0; i < nio; i++) {
        const IrValue *v = arg_value(g, i);
        put(&t, " *   %-12s %s ", ids[i], i < g->ninputs ? "in " : "out");
        put_type(&t, v);
        if (strcmp(ids[i], v->name)) {
            put(&t, "  \"");
            put_comment_text(&t, v->name);
            put(&t, "\"");
        }
        put(&t, "\n");
    }
    put(&t, " * Returns SINTER_OK, or an error code with a message from %s_error. */\n", nm);
    put(&t, "int %s_infer(%s *m, int64_t n", nm, nm);
    for (int i = 0; i < nio; i++) {
        const IrValue *v = arg_value(g, i);
        put(&t, ", %s%s *%s", i < g->ninputs ? "const " : "", c_type(v->dtype), ids[i]);
    }
    put(&t, ");\n\n");
    if (g->training && training)
        put_training(&t, g, ids);
    put(&t, "/* Threads used by this context's calls. Default: SINTER_NUM_THREADS, else OMP_NUM_THREADS,\n");
    put(&t, " * else the CPUs the process may run on (its affinity mask: 1 under `taskset -c 0`). */\n");
    put(&t, "int %s_set_num_threads(%s *m, int threads);\n\n", nm, nm);
    put(&t, "/* The message of the context's last failure (\"\" if none); with NULL, of the calling\n");
    put(&t, " * thread's last failure that had no context (NULL context, failed create). */\n");
    put(&t, "const char *%s_error(const %s *m);\n\n", nm, nm);
    put(&t, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    free(ids);
    return t.s;
}
