/* Model state of generated libraries: contexts, params, scratch, threads, load/save and error messages. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sinter_model.h"
#include "runtime/sinter_parallel.h"

#define MODEL_MAGIC 0x73696e7465724d31ull   /* "sinterM1" */
#define MODEL_ALIGN 64
#define MAX_THREADS SRT_MAX_THREADS

/* codegen/module.c builds these structs as LLVM constants from 8-byte fields. */
_Static_assert(sizeof(SinterTensorInfo) == 22 * 8, "SinterTensorInfo layout changed: update codegen/module.c");
_Static_assert(sizeof(SinterModelInfo) == 45 * 8, "SinterModelInfo layout changed: update codegen/module.c");

typedef struct SrtModel {
    uint64_t magic;                 /* MODEL_MAGIC while alive */
    const SinterModelInfo *info;    /* the library's descriptor */
    uint8_t *params;                /* info->param_bytes + info->state_bytes, 64-aligned */
    float *grads;                   /* info->grad_count floats (training libraries), 64-aligned */
    uint8_t *scratch;               /* scratch_cap bytes, 64-aligned; grown on demand */
    size_t scratch_cap;
    int threads;                    /* >= 1 */
    bool params_ready;              /* false until NAME_load with external weights */
    char err[512];                  /* last failure, "" if none */
} SrtModel;

/* Messages of calls without a usable context (NULL, foreign, failed create). */
static _Thread_local char tls_err[512];

static void *aligned_bytes(size_t n)
{
    size_t r = (n + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN;
    if (r < n)
        return NULL;
    return srt_aligned_alloc(MODEL_ALIGN, r ? r : MODEL_ALIGN);
}

__attribute__((format(printf, 3, 4)))
static int fail(SrtModel *m, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m ? m->err : tls_err, m ? sizeof m->err : sizeof tls_err, fmt, ap);
    va_end(ap);
    return status;
}

/* The context behind m if it belongs to info; else NULL with the per-thread message set. */
static SrtModel *context(const SinterModelInfo *info, const void *m, const char *fn)
{
    SrtModel *c = (SrtModel *)(uintptr_t)m;
    if (!c) {
        fail(NULL, SINTER_EINVAL, "%s_%s: the context is NULL", info->name, fn);
        return NULL;
    }
    if (c->magic != MODEL_MAGIC || c->info != info) {
        fail(NULL, SINTER_EINVAL, "%s_%s: not a context of model %s (created by another library, or destroyed)",
             info->name, fn, info->name);
        return NULL;
    }
    return c;
}

void *srt_model_create(const SinterModelInfo *info)
{
    SrtModel *m = srt_calloc(1, sizeof *m);
    if (!m) {
        fail(NULL, SINTER_ENOMEM, "%s_create: out of memory", info->name);
        return NULL;
    }
    bool training = (info->flags & SINTER_MODEL_TRAINING) != 0;
    size_t block = (size_t)info->param_bytes + (training ? (size_t)info->state_bytes : 0);
    m->params = aligned_bytes(block);
    m->grads = training ? aligned_bytes((size_t)info->grad_count * sizeof(float)) : NULL;
    if (!m->params || (training && !m->grads)) {
        free(m->params);
        free(m->grads);
        free(m);
        fail(NULL, SINTER_ENOMEM, "%s_create: out of memory (params of %zu bytes, or their gradients)", info->name, block);
        return NULL;
    }
    if (info->weights)
        memcpy(m->params, info->weights, (size_t)info->param_bytes);
    else
        memset(m->params, 0, (size_t)info->param_bytes);
    if (training) {
        memset(m->params + info->param_bytes, 0, (size_t)info->state_bytes);
        if (info->init_state)
            info->init_state(m->params);
        memset(m->grads, 0, (size_t)info->grad_count * sizeof(float));
    }
    m->magic = MODEL_MAGIC;
    m->info = info;
    m->threads = srt_default_threads();
    m->params_ready = info->weights != NULL || info->nparams == 0;
    return m;
}

void srt_model_destroy(const SinterModelInfo *info, void *ptr)
{
    (void)info;
    SrtModel *m = ptr;
    if (!m || m->magic != MODEL_MAGIC)
        return;
    m->magic = 0;
    free(m->params);
    free(m->grads);
    free(m->scratch);
    free(m);
}

/* "[256, 784]" */
static const char *format_dims(char *buf, size_t len, int64_t rank, const int64_t *dims)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (int64_t i = 0; i < rank && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
    return buf;
}

static void param_dims(const SinterTensorInfo *t, int64_t *dims)
{
    for (int64_t i = 0; i < t->rank; i++)
        dims[i] = t->dims[i].b;   /* params have constant shapes */
}

/* Checks that file tensor t matches the descriptor's tensor p (NULL t: missing). */
static int check_tensor(SrtModel *m, const char *path, const SinterTensorInfo *p, const SrtTensor *t,
                        const char *what)
{
    const SinterModelInfo *info = m->info;
    int64_t want[SRT_MAX_RANK];
    char a[160], b[160];
    param_dims(p, want);
    if (!t)
        return fail(m, SINTER_EFORMAT, "%s_load: %s: tensor \"%s\" is missing (the model needs %s%s%s)", info->name,
                    path, p->name, srt_dtype_name((SrtDtype)p->dtype), format_dims(a, sizeof a, p->rank, want), what);
    if ((int64_t)t->dtype != p->dtype)
        return fail(m, SINTER_EFORMAT, "%s_load: %s: tensor \"%s\" is %s, the model needs %s", info->name, path,
                    p->name, srt_dtype_name(t->dtype), srt_dtype_name((SrtDtype)p->dtype));
    bool same = t->rank == p->rank;
    for (int64_t k = 0; same && k < p->rank; k++)
        same = t->dims[k] == want[k];
    if (!same || (int64_t)t->nbytes != p->bytes.b)
        return fail(m, SINTER_EFORMAT, "%s_load: %s: tensor \"%s\" has shape %s, the model needs %s", info->name,
                    path, p->name, format_dims(a, sizeof a, t->rank, t->dims), format_dims(b, sizeof b, p->rank, want));
    return SINTER_OK;
}

static int64_t state_count(const SinterModelInfo *info)
{
    return (info->flags & SINTER_MODEL_TRAINING) ? info->nstate : 0;
}

int srt_model_load(const SinterModelInfo *info, void *ptr, const char *path)
{
    SrtModel *m = context(info, ptr, "load");
    if (!m)
        return SINTER_EINVAL;
    if (!path)
        return fail(m, SINTER_EINVAL, "%s_load: the path is NULL", info->name);
    SrtTensorFile f;
    char err[400];
    int rc = srt_safetensors_read(path, &f, err, sizeof err);
    if (rc != SINTER_OK)
        return fail(m, rc, "%s_load: %s: %s", info->name, path, err);
    /* Validate everything before touching the params: every param; the optimizer state when
     * the file holds any of it (then all of it). */
    for (int64_t i = 0; i < info->nparams && rc == SINTER_OK; i++)
        rc = check_tensor(m, path, &info->params[i], srt_tensorfile_find(&f, info->params[i].name), "");
    int64_t nstate = state_count(info), present = 0;
    for (int64_t i = 0; i < nstate; i++)
        present += srt_tensorfile_find(&f, info->state[i].name) != NULL;
    for (int64_t i = 0; present > 0 && i < nstate && rc == SINTER_OK; i++)
        rc = check_tensor(m, path, &info->state[i], srt_tensorfile_find(&f, info->state[i].name),
                          ": the file has optimizer state, so it needs all of it");
    for (int64_t i = 0; present > 0 && i < nstate && rc == SINTER_OK; i++) {
        const SinterTensorInfo *p = &info->state[i];
        const SrtTensor *t = srt_tensorfile_find(&f, p->name);
        int64_t step;
        if (p->offset != info->step_offset || t->nbytes != sizeof step)
            continue;
        memcpy(&step, t->data, sizeof step);
        if (step < 0)
            rc = fail(m, SINTER_EFORMAT, "%s_load: %s: tensor \"%s\" is %lld; the step counter cannot be negative",
                      info->name, path, p->name, (long long)step);
    }
    if (rc == SINTER_OK) {
        for (int64_t i = 0; i < info->nparams; i++) {
            const SinterTensorInfo *p = &info->params[i];
            const SrtTensor *t = srt_tensorfile_find(&f, p->name);
            if (t->nbytes)
                memcpy(m->params + p->offset, t->data, t->nbytes);
        }
        if (present > 0) {
            for (int64_t i = 0; i < nstate; i++) {
                const SinterTensorInfo *p = &info->state[i];
                const SrtTensor *t = srt_tensorfile_find(&f, p->name);
                if (t->nbytes)
                    memcpy(m->params + p->offset, t->data, t->nbytes);
            }
        } else if (nstate > 0) {
            /* params only: the optimizer starts over */
            memset(m->params + info->param_bytes, 0, (size_t)info->state_bytes);
            if (info->init_state)
                info->init_state(m->params);
        }
        m->params_ready = true;
    }
    srt_tensorfile_free(&f);
    return rc;
}

int srt_model_save(const SinterModelInfo *info, const void *ptr, const char *path)
{
    SrtModel *m = context(info, ptr, "save");
    if (!m)
        return SINTER_EINVAL;
    if (!path)
        return fail(m, SINTER_EINVAL, "%s_save: the path is NULL", info->name);
    int64_t nstate = state_count(info), total = info->nparams + nstate;
    SrtTensor *ts = srt_calloc((size_t)(total > 0 ? total : 1), sizeof *ts);
    if (!ts)
        return fail(m, SINTER_ENOMEM, "%s_save: out of memory", info->name);
    for (int64_t i = 0; i < total; i++) {
        const SinterTensorInfo *p = i < info->nparams ? &info->params[i] : &info->state[i - info->nparams];
        ts[i].name = (char *)(uintptr_t)p->name;
        ts[i].dtype = (SrtDtype)p->dtype;
        ts[i].rank = (int)p->rank;
        param_dims(p, ts[i].dims);
        ts[i].nbytes = (size_t)p->bytes.b;
        ts[i].data = m->params + p->offset;
    }
    char err[400];
    int rc = srt_safetensors_write(path, ts, (int)total, err, sizeof err);
    free(ts);
    if (rc != SINTER_OK)
        return fail(m, rc, "%s_save: %s: %s", info->name, path, err);
    return SINTER_OK;
}

int srt_model_set_num_threads(const SinterModelInfo *info, void *ptr, int threads)
{
    SrtModel *m = context(info, ptr, "set_num_threads");
    if (!m)
        return SINTER_EINVAL;
    if (threads < 1 || threads > MAX_THREADS)
        return fail(m, SINTER_EINVAL, "%s_set_num_threads: %d threads: must be in 1..%d", info->name, threads,
                    MAX_THREADS);
    m->threads = threads;
    return SINTER_OK;
}

const char *srt_model_error(const SinterModelInfo *info, const void *ptr)
{
    const SrtModel *m = ptr;
    if (!m || m->magic != MODEL_MAGIC || m->info != info)
        return tls_err;
    return m->err;
}

/* a*n+b for 1 <= n <= max_n (the code generator guarantees it fits). */
static int64_t at_n(SinterDim d, int64_t n)
{
    return d.a * n + d.b;
}

static int check_args(SrtModel *m, const char *fn, const SinterTensorInfo *ts, int64_t count, const char *what,
                      int64_t n, void *const *args)
{
    for (int64_t i = 0; i < count; i++)
        if (!args[i] && at_n(ts[i].bytes, n) != 0)
            return fail(m, SINTER_EINVAL, "%s_%s: %s \"%s\" is NULL", m->info->name, fn, what, ts[i].name);
    return SINTER_OK;
}

/* Scratch of at least need bytes. */
static int grow_scratch(SrtModel *m, const char *fn, size_t need, int64_t n)
{
    if (need <= m->scratch_cap)
        return SINTER_OK;
    void *s = aligned_bytes(need);
    if (!s)
        return fail(m, SINTER_ENOMEM, "%s_%s: out of memory (%zu bytes of scratch for n = %lld)", m->info->name, fn,
                    need, (long long)n);
    free(m->scratch);
    m->scratch = s;
    m->scratch_cap = need;
    return SINTER_OK;
}

static int check_n(SrtModel *m, const char *fn, int64_t n, int64_t max_n)
{
    const char *nm = m->info->name;
    if (n < 1)
        return fail(m, SINTER_EINVAL, "%s_%s: n = %lld: the batch size must be at least 1", nm, fn, (long long)n);
    if (n > max_n)
        return fail(m, SINTER_EINVAL, "%s_%s: n = %lld is too large (this model accepts at most %lld)", nm, fn,
                    (long long)n, (long long)max_n);
    return SINTER_OK;
}

static int check_ready(SrtModel *m, const char *fn)
{
    const char *nm = m->info->name;
    if (!m->params_ready)
        return fail(m, SINTER_ESTATE, "%s_%s: no weights loaded (the library was built with external weights: "
                    "call %s_load first)", nm, fn, nm);
    return SINTER_OK;
}

int srt_model_begin(const SinterModelInfo *info, void *ptr, int64_t n, void *const *args, void **bufs)
{
    SrtModel *m = context(info, ptr, "infer");
    if (!m)
        return SINTER_EINVAL;
    int rc = check_n(m, "infer", n, info->max_n);
    if (rc != SINTER_OK)
        return rc;
    if (!args && info->ninputs + info->noutputs > 0)
        return fail(m, SINTER_EINVAL, "%s_infer: the argument array is NULL", info->name);
    rc = check_args(m, "infer", info->inputs, info->ninputs, "input", n, args);
    if (rc == SINTER_OK)
        rc = check_args(m, "infer", info->outputs, info->noutputs, "output", n, args + info->ninputs);
    if (rc == SINTER_OK)
        rc = check_ready(m, "infer");
    if (rc == SINTER_OK)
        rc = grow_scratch(m, "infer", (size_t)at_n(info->scratch_bytes, n), n);
    if (rc != SINTER_OK)
        return rc;
    srt_set_current_threads(m->threads);
    bufs[0] = m->params;
    bufs[1] = m->scratch;
    return SINTER_OK;
}

/* The context behind m if it belongs to info and info has training entry points; else NULL
 * with the message set and *status the error code. */
static SrtModel *train_context(const SinterModelInfo *info, const void *ptr, const char *fn, int *status)
{
    SrtModel *m = context(info, ptr, fn);
    *status = SINTER_EINVAL;
    if (m && !(info->flags & SINTER_MODEL_TRAINING)) {
        *status = fail(m, SINTER_ESTATE, "%s_%s: the model has no training section", info->name, fn);
        return NULL;
    }
    return m;
}

int srt_model_begin_train(const SinterModelInfo *info, void *ptr, int64_t n, void *const *args, void **bufs,
                          const char *fn)
{
    int rc;
    SrtModel *m = train_context(info, ptr, fn, &rc);
    if (!m)
        return rc;
    rc = check_n(m, fn, n, info->train_max_n);
    if (rc != SINTER_OK)
        return rc;
    if (!args && info->ninputs + info->ntraining_inputs > 0)
        return fail(m, SINTER_EINVAL, "%s_%s: the argument array is NULL", info->name, fn);
    rc = check_args(m, fn, info->inputs, info->ninputs, "input", n, args);
    if (rc == SINTER_OK)
        rc = check_args(m, fn, info->training_inputs, info->ntraining_inputs, "training input", n,
                        args + info->ninputs);
    if (rc == SINTER_OK)
        rc = check_ready(m, fn);
    if (rc == SINTER_OK)
        rc = grow_scratch(m, fn, (size_t)at_n(info->train_scratch_bytes, n), n);
    if (rc != SINTER_OK)
        return rc;
    srt_set_current_threads(m->threads);
    bufs[0] = m->params;
    bufs[1] = m->scratch;
    bufs[2] = m->grads;
    return SINTER_OK;
}

int srt_model_begin_apply(const SinterModelInfo *info, void *ptr, void **bufs, const char *fn)
{
    int rc;
    SrtModel *m = train_context(info, ptr, fn, &rc);
    if (!m)
        return rc;
    rc = check_ready(m, fn);
    if (rc == SINTER_OK)
        rc = grow_scratch(m, fn, (size_t)info->apply_scratch_bytes, 1);
    if (rc != SINTER_OK)
        return rc;
    srt_set_current_threads(m->threads);
    bufs[0] = m->params;
    bufs[1] = m->scratch;
    bufs[2] = m->grads;
    return SINTER_OK;
}

int srt_model_check_labels(const SinterModelInfo *info, void *ptr, const char *fn, int64_t arg, const void *labels,
                           int64_t n, int64_t classes, int64_t ignore_index, int64_t has_ignore)
{
    SrtModel *m = (SrtModel *)ptr;   /* the entry has checked the context */
    const SinterTensorInfo *t = arg < info->ninputs ? &info->inputs[arg] : &info->training_inputs[arg - info->ninputs];
    int64_t count = at_n(t->bytes, n) / (int64_t)srt_dtype_size((SrtDtype)t->dtype);
    for (int64_t i = 0; i < count; i++) {
        int64_t v = t->dtype == SRT_I32 ? ((const int32_t *)labels)[i] : ((const int64_t *)labels)[i];
        if ((v < 0 || v >= classes) && !(has_ignore && v == ignore_index))
            return fail(m, SINTER_EINVAL, "%s_%s: %s \"%s\" holds %lld at index %lld; labels must be in [0, %lld)%s",
                        info->name, fn, arg < info->ninputs ? "input" : "training input", t->name, (long long)v,
                        (long long)i, (long long)classes, has_ignore ? " or equal ignore_index" : "");
    }
    return SINTER_OK;
}

float *srt_model_grads(const SinterModelInfo *info, void *ptr, size_t *count)
{
    if (count)
        *count = 0;
    int rc;
    SrtModel *m = train_context(info, ptr, "grads", &rc);
    if (!m)
        return NULL;
    if (count)
        *count = (size_t)info->grad_count;
    return m->grads;
}

int srt_model_set_lr(const SinterModelInfo *info, void *ptr, float lr)
{
    int rc;
    SrtModel *m = train_context(info, ptr, "set_lr", &rc);
    if (!m)
        return rc;
    if (!(lr >= 0) || lr > 3.4e38f)
        return fail(m, SINTER_EINVAL, "%s_set_lr: lr = %g: the learning rate must be a finite number >= 0",
                    info->name, (double)lr);
    if (info->lr_offset < 0)
        return SINTER_OK;   /* no param is trained: nothing uses a learning rate */
    if (info->lr_dtype == SRT_F64) {
        double v = lr;
        memcpy(m->params + info->lr_offset, &v, sizeof v);
    } else {
        memcpy(m->params + info->lr_offset, &lr, sizeof lr);
    }
    return SINTER_OK;
}

int64_t srt_model_get_step(const SinterModelInfo *info, const void *ptr)
{
    int rc;
    SrtModel *m = train_context(info, ptr, "get_step", &rc);
    if (!m || info->step_offset < 0)
        return -1;
    int64_t step;
    memcpy(&step, m->params + info->step_offset, sizeof step);
    return step;
}

void *srt_model_params(const SinterModelInfo *info, void *ptr)
{
    SrtModel *m = ptr;
    if (!m || m->magic != MODEL_MAGIC || m->info != info)
        return NULL;
    return m->params;
}

int srt_model_fault(const SinterModelInfo *info, void *ptr, const char *fn, const char *msg)
{
    return fail((SrtModel *)ptr, SINTER_EDATA, "%s_%s: %s", info->name, fn, msg);   /* the entry checked m */
}

int srt_model_check_finite(const SinterModelInfo *info, void *ptr, const char *fn, const void *data, int64_t count,
                           int64_t dtype, const char *what)
{
    for (int64_t i = 0; i < count; i++) {
        double v = dtype == SRT_F64 ? ((const double *)data)[i] : (double)((const float *)data)[i];
        if (!isfinite(v))
            return fail((SrtModel *)ptr, SINTER_EDATA, "%s_%s: %s holds %s at element %lld (--check-finite)",
                        info->name, fn, what, isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf", (long long)i);
    }
    return SINTER_OK;
}
