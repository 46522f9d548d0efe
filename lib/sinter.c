/* libsinter: the public C API (sinter.h), a thin layer over the frontend, the pass pipeline and codegen. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "lib/sinter.h"
#include "passes/passes.h"

#ifndef SINTER_VERSION
#define SINTER_VERSION "0.0.0"
#endif

struct SinterDiagnostics {
    IrDiag d;                 /* file NULL: messages are complete as recorded */
};

struct SinterModel {
    IrGraph *g;               /* the model; after sinter_model_run_pipeline, the inference graph */
    IrGraph *tg;              /* its training graph (models with a training section), made by
                                 sinter_model_run_pipeline or by sinter_compile; else NULL */
    bool prepared;            /* sinter_model_run_pipeline ran */
    char *label;              /* the file name messages start with */
};

/* Option texts are copied: the caller's strings need not outlive sinter_options_set. */
struct SinterOptions {
    CgOptions cg;
    CgLinkOptions link;
    char *target, *cpu, *features, *emit, *soname;
};

const char *sinter_version(void)
{
    return SINTER_VERSION;
}

/* ---- diagnostics ---------------------------------------------------------------------- */

SinterDiagnostics *sinter_diagnostics_new(void)
{
    SinterDiagnostics *d = srt_calloc(1, sizeof *d);
    if (d)
        ir_diag_init(&d->d, NULL);
    return d;
}

size_t sinter_diagnostics_count(const SinterDiagnostics *d)
{
    return d ? (size_t)d->d.count : 0;
}

const char *sinter_diagnostics_message(const SinterDiagnostics *d, size_t i)
{
    return d && i < (size_t)d->d.count ? d->d.msgs[i] : NULL;
}

void sinter_diagnostics_clear(SinterDiagnostics *d)
{
    if (d)
        ir_diag_free(&d->d);
}

void sinter_diagnostics_free(SinterDiagnostics *d)
{
    if (!d)
        return;
    ir_diag_free(&d->d);
    free(d);
}

/* Messages of one call go to a local list (file prefix set), then to the caller's, if any. */
static void hand_over(IrDiag *local, SinterDiagnostics *d)
{
    for (int i = 0; i < local->count; i++)
        if (d)
            ir_diag_error(&d->d, NULL, "%s", local->msgs[i]);
    ir_diag_free(local);
}

/* A message for a call without any other: e.g. a NULL argument. */
static int fail(SinterDiagnostics *d, const char *fn, const char *what)
{
    if (d)
        ir_diag_error(&d->d, fn, "%s", what);
    return -1;
}

/* ---- models ------------------------------------------------------------------------------ */

static SinterModel *wrap(IrGraph *g, const char *label, SinterDiagnostics *d)
{
    SinterModel *m = srt_calloc(1, sizeof *m);
    char *l = srt_strdup(label ? label : "");
    if (!m || !l) {
        free(m);
        free(l);
        ir_graph_free(g);
        fail(d, "sinter_model_load", "out of memory");
        return NULL;
    }
    m->g = g;
    m->label = l;
    return m;
}

SinterModel *sinter_model_load(const char *path, SinterDiagnostics *d)
{
    if (!path) {
        fail(d, "sinter_model_load", "the path is NULL");
        return NULL;
    }
    IrDiag local;
    ir_diag_init(&local, NULL);   /* the frontend prefixes its messages with the path */
    IrGraph *g = fe_load_model(path, &local);
    if (!g && local.count == 0)
        ir_diag_error(&local, path, "cannot load the model");
    hand_over(&local, d);
    return g ? wrap(g, path, d) : NULL;
}

SinterModel *sinter_model_parse(const char *json, size_t len, const char *label, const char *dir,
                                SinterDiagnostics *d)
{
    if (!json) {
        fail(d, "sinter_model_parse", "the text is NULL");
        return NULL;
    }
    IrDiag local;
    ir_diag_init(&local, NULL);
    IrGraph *g = fe_parse_model(json, len, label ? label : "<memory>", dir, &local);
    if (!g && local.count == 0)
        ir_diag_error(&local, label ? label : "<memory>", "cannot parse the model");
    hand_over(&local, d);
    return g ? wrap(g, label ? label : "<memory>", d) : NULL;
}

int sinter_model_load_weights(SinterModel *m, const char *path, SinterDiagnostics *d)
{
    if (!m || !path)
        return fail(d, "sinter_model_load_weights", m ? "the path is NULL" : "the model is NULL");
    if (m->prepared)
        return fail(d, "sinter_model_load_weights", "the pipeline ran already: load the weights before it");
    IrDiag local;
    ir_diag_init(&local, NULL);
    int rc = fe_apply_weights(m->g, path, &local);
    hand_over(&local, d);
    return rc;
}

const char *sinter_model_name(const SinterModel *m)
{
    return m ? m->g->name : NULL;
}

/* "a,b,c" -> names[] (pointers into the malloc'ed copy *buf). Returns the count, or -1. */
static int split_passes(const char *list, char **buf, const char ***names)
{
    *buf = srt_strdup(list);
    int cap = 1;
    for (const char *c = list; *c; c++)
        cap += *c == ',';
    *names = srt_calloc((size_t)cap, sizeof **names);
    if (!*buf || !*names)
        return -1;
    int n = 0;
    for (char *tok = *buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        (*names)[n++] = tok;
    }
    return n;
}

int sinter_model_run_pipeline(SinterModel *m, const char *passes, SinterDiagnostics *d)
{
    if (!m)
        return fail(d, "sinter_model_run_pipeline", "the model is NULL");
    if (m->prepared || m->tg)
        return fail(d, "sinter_model_run_pipeline", "runs once per model (load it again)");
    IrDiag local;
    ir_diag_init(&local, m->label);
    PassContext ctx;
    pass_context_init(&ctx, &local);
    ctx.verify = true;
    char *buf = NULL;
    const char **names = NULL;
    int rc = 0;
    if (passes) {
        int n = split_passes(passes, &buf, &names);
        if (n < 0) {
            ir_diag_error(&local, NULL, "out of memory");
            rc = -1;
        }
        ctx.pipeline = names;
        ctx.npipeline = n;
    }
    /* the training graph from the model as it is, then the pipeline on the model */
    if (rc == 0 && pass_prepare(m->g, &ctx, &m->tg) != 0) {
        if (local.count == 0)
            ir_diag_error(&local, NULL, "the pass pipeline failed without a diagnostic (a bug in sinter)");
        rc = -1;
    }
    m->prepared = true;
    free(names);
    free(buf);
    hand_over(&local, d);
    return rc;
}

void sinter_model_free(SinterModel *m)
{
    if (!m)
        return;
    ir_graph_free(m->g);
    if (m->tg)
        ir_graph_free(m->tg);
    free(m->label);
    free(m);
}

/* ---- options ---------------------------------------------------------------------------- */

SinterOptions *sinter_options_new(void)
{
    SinterOptions *o = srt_calloc(1, sizeof *o);
    if (o)
        o->cg.opt_level = 2;
    return o;
}

void sinter_options_free(SinterOptions *o)
{
    if (!o)
        return;
    free(o->target);
    free(o->cpu);
    free(o->features);
    free(o->emit);
    free(o->soname);
    free(o);
}

static int set_flag(bool *flag, const char *key, const char *value, SinterDiagnostics *d)
{
    if (!value || !strcmp(value, "0")) {
        *flag = false;
    } else if (!strcmp(value, "1")) {
        *flag = true;
    } else {
        if (d)
            ir_diag_error(&d->d, "sinter_options_set", "%s expects \"0\" or \"1\", got \"%s\"", key, value);
        return -1;
    }
    return 0;
}

/* Replaces *slot by a copy of value (NULL: none). */
static int set_text(char **slot, const char *value, SinterDiagnostics *d)
{
    char *copy = value ? srt_strdup(value) : NULL;
    if (value && !copy)
        return fail(d, "sinter_options_set", "out of memory");
    free(*slot);
    *slot = copy;
    return 0;
}

int sinter_options_set(SinterOptions *o, const char *key, const char *value, SinterDiagnostics *d)
{
    if (!o || !key)
        return fail(d, "sinter_options_set", o ? "the key is NULL" : "the options are NULL");
    if (!strcmp(key, "opt_level")) {
        if (!value) {
            o->cg.opt_level = 2;
        } else if (value[0] >= '0' && value[0] <= '3' && !value[1]) {
            o->cg.opt_level = value[0] - '0';
        } else {
            if (d)
                ir_diag_error(&d->d, "sinter_options_set", "opt_level expects 0, 1, 2 or 3, got \"%s\"", value);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "external_weights"))
        return set_flag(&o->cg.external_weights, key, value, d);
    if (!strcmp(key, "strip"))
        return set_flag(&o->link.strip, key, value, d);
    static const char *const texts[] = {"target", "cpu", "features", "emit", "soname"};
    char **slots[] = {&o->target, &o->cpu, &o->features, &o->emit, &o->soname};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (!strcmp(key, texts[i]))
            return set_text(slots[i], value, d);
    if (d)
        ir_diag_error(&d->d, "sinter_options_set", "unknown option \"%s\" (expected opt_level, target, cpu, features, "
                      "emit, external_weights, soname or strip)", key);
    return -1;
}

/* ---- compiling -------------------------------------------------------------------------------- */

int sinter_compile(SinterModel *m, const SinterOptions *o, const char *out_path, SinterDiagnostics *d)
{
    if (!m || !out_path)
        return fail(d, "sinter_compile", m ? "the output path is NULL" : "the model is NULL");
    SinterOptions defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.cg.opt_level = 2;
    if (!o)
        o = &defaults;
    CgOptions cg = o->cg;
    cg.triple = o->target;
    cg.cpu = o->cpu;
    cg.features = o->features;
    CgLinkOptions link = o->link;
    link.soname = o->soname;
    IrDiag local;
    ir_diag_init(&local, NULL);
    int rc = cg_target_check(&cg, out_path, o->emit, &local) == 0 && cg_link_check(&link, out_path, o->emit, &local) == 0
                 ? 0 : -1;
    local.file = m->label;
    if (rc == 0 && m->g->training && !m->tg) {
        /* no pipeline ran: the training graph of the model as it is */
        PassContext ctx;
        pass_context_init(&ctx, &local);
        ctx.verify = true;
        if (!(m->tg = pass_training_graph(m->g, &ctx)))
            rc = -1;
    }
    if (rc == 0)
        rc = cg_compile_with(m->g, m->tg, &cg, &link, out_path, o->emit, &local);
    hand_over(&local, d);
    return rc;
}
