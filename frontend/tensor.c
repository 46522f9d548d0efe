/* Dtypes, shapes and flat row-major data lists of the model format. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frontend/fe_impl.h"

static const char *const MODEL_DTYPES[] = {"float32", "float64", "int64", "int32", "int8", "uint8", "bool"};

/* ---- names, dtypes, shapes -------------------------------------------------------------- */

bool fe_parse_dtype(Fe *c, const cJSON *it, const char *path, IrDtype *out)
{
    char q[FE_QBUF], sb[FE_SBUF];
    if (!cJSON_IsString(it)) {
        fe_error(c, path, "expected a dtype such as \"float32\", got %s", fe_describe(q, it));
        return false;
    }
    if (fe_dtype_from_name(it->valuestring, out))
        return true;
    FeSuggest s;
    fe_suggest_init(&s, it->valuestring);
    for (int i = 0; i < FE_NKEYS(MODEL_DTYPES); i++)
        fe_suggest_try(&s, MODEL_DTYPES[i]);
    if (s.best)
        fe_error(c, path, "unknown dtype %s%s", fe_quote(q, it->valuestring), fe_suggest_text(&s, sb));
    else
        fe_error(c, path, "unknown dtype %s (dtypes: float32, float64, int64, int32, int8, uint8, bool)",
                 fe_quote(q, it->valuestring));
    return false;
}

/* A shape: dims are non-negative integers, or "N" (at most once) where allow_n. */
bool fe_parse_shape(Fe *c, const cJSON *it, const char *path, bool allow_n, IrShape *out)
{
    char q[FE_QBUF];
    memset(out, 0, sizeof *out);
    if (!cJSON_IsArray(it)) {
        fe_error(c, path, "expected an array of dims such as %s, got %s", allow_n ? "[\"N\", 784]" : "[256, 784]",
                 fe_describe(q, it));
        return false;
    }
    int64_t rank = fe_count(it);
    if (rank > IR_MAX_RANK) {
        fe_error(c, path, "rank %lld exceeds the maximum of %d", (long long)rank, IR_MAX_RANK);
        return false;
    }
    bool ok = true, seen_n = false;
    int i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        char p[FE_PATH_MAX];
        int64_t v;
        fe_path_idx(p, path, i);
        if (cJSON_IsString(e) && !strcmp(e->valuestring, "N")) {
            if (!allow_n) {
                fe_error(c, p, "expected a non-negative integer, got \"N\" (only inputs may use the batch symbol)");
                ok = false;
            } else if (seen_n) {
                fe_error(c, p, "\"N\" may appear only once in a shape");
                ok = false;
            } else {
                seen_n = true;
                out->d[i] = ir_dim_n();
            }
        } else if (fe_json_int(e, &v) && v >= 0) {
            out->d[i] = ir_dim_const(v);
        } else {
            fe_error(c, p, allow_n ? "expected a non-negative integer or \"N\", got %s"
                                   : "expected a non-negative integer, got %s",
                     fe_describe(q, e));
            ok = false;
        }
    }
    out->rank = (int)rank;
    IrDim numel;
    if (ok && !ir_shape_numel(out, &numel)) {
        fe_error(c, path, "the element count overflows int64");
        ok = false;
    }
    return ok;
}

bool fe_field_dtype(Fe *c, const cJSON *obj, const char *path, IrDtype *out)
{
    char p[FE_PATH_MAX];
    const cJSON *it = fe_require(c, obj, path, "dtype");
    return it && fe_parse_dtype(c, it, fe_path_key(p, path, "dtype"), out);
}

bool fe_field_shape(Fe *c, const cJSON *obj, const char *path, bool allow_n, IrShape *out)
{
    char p[FE_PATH_MAX];
    memset(out, 0, sizeof *out);
    const cJSON *it = fe_require(c, obj, path, "shape");
    return it && fe_parse_shape(c, it, fe_path_key(p, path, "shape"), allow_n, out);
}

/* Bytes of a constant-shaped tensor, charged to the model's data budget. */
bool fe_charge_bytes(Fe *c, const char *path, IrDtype dtype, const IrShape *shape, size_t *bytes)
{
    IrDim numel;
    size_t b;
    if (!ir_shape_numel(shape, &numel) || numel.a != 0 || numel.b < 0 ||
        __builtin_mul_overflow((uint64_t)numel.b, (uint64_t)srt_dtype_size(dtype), &b)) {
        fe_error(c, path, "the tensor is too large to hold in memory");
        return false;
    }
    if (b > c->max_data_bytes) {
        fe_error(c, path, "the tensor needs %zu bytes, more than the limit of %zu bytes for model data", b,
                 c->max_data_bytes);
        return false;
    }
    if (c->data_bytes + b > c->max_data_bytes) {
        fe_error(c, path, "the tensor needs %zu bytes; with the model's other data (%zu bytes) that exceeds the "
                          "limit of %zu bytes", b, c->data_bytes, c->max_data_bytes);
        return false;
    }
    c->data_bytes += b;
    *bytes = b;
    return true;
}

/* ---- tensor data ------------------------------------------------------------------------------ */

/* Stores item as element i of a dtype buffer; path is the list's path. */
static bool store_elem(Fe *c, const cJSON *it, IrDtype dtype, void *buf, int64_t i, const char *path)
{
    char p[FE_PATH_MAX], q[FE_QBUF];
    double f;
    int64_t v;
    switch (dtype) {
    case SRT_F32:
    case SRT_F64:
        if (!fe_json_float(it, &f)) {
            snprintf(p, sizeof p, "%s[%lld]", path, (long long)i);
            fe_error(c, p, "expected a number (or \"nan\", \"inf\", \"-inf\"), got %s", fe_describe(q, it));
            return false;
        }
        if (dtype == SRT_F64) {
            ((double *)buf)[i] = f;
            return true;
        }
        if (isinf((float)f) && !isinf(f)) {
            snprintf(p, sizeof p, "%s[%lld]", path, (long long)i);
            fe_error(c, p, "%s is out of range for float32", fe_describe(q, it));
            return false;
        }
        ((float *)buf)[i] = (float)f;
        return true;
    case SRT_BOOL:
        if (cJSON_IsBool(it)) {
            ((uint8_t *)buf)[i] = cJSON_IsTrue(it) ? 1 : 0;
            return true;
        }
        if (fe_json_int(it, &v) && (v == 0 || v == 1)) {
            ((uint8_t *)buf)[i] = (uint8_t)v;
            return true;
        }
        snprintf(p, sizeof p, "%s[%lld]", path, (long long)i);
        fe_error(c, p, "expected true, false, 0 or 1, got %s", fe_describe(q, it));
        return false;
    default:
        break;
    }
    if (!fe_json_int(it, &v)) {
        snprintf(p, sizeof p, "%s[%lld]", path, (long long)i);
        fe_error(c, p, "expected an integer, got %s", fe_describe(q, it));
        return false;
    }
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if (dtype == SRT_I32)
        lo = INT32_MIN, hi = INT32_MAX;
    else if (dtype == SRT_I8)
        lo = INT8_MIN, hi = INT8_MAX;
    else if (dtype == SRT_U8)
        lo = 0, hi = UINT8_MAX;
    if (v < lo || v > hi) {
        snprintf(p, sizeof p, "%s[%lld]", path, (long long)i);
        fe_error(c, p, "%lld is out of range for %s", (long long)v, fe_dtype_name(dtype));
        return false;
    }
    switch (dtype) {
    case SRT_I64: ((int64_t *)buf)[i] = v; break;
    case SRT_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
    case SRT_I8: ((int8_t *)buf)[i] = (int8_t)v; break;
    default: ((uint8_t *)buf)[i] = (uint8_t)v; break;
    }
    return true;
}

/* A flat row-major list of exactly numel items (bytes = numel * size, already charged).
 * Returns arena memory, or NULL after an error (only the first bad item is reported). */
void *fe_parse_data(Fe *c, const cJSON *arr, const char *path, IrDtype dtype, int64_t numel, size_t bytes)
{
    char q[FE_QBUF];
    if (!cJSON_IsArray(arr)) {
        fe_error(c, path, "expected a flat array of %lld values, got %s", (long long)numel, fe_describe(q, arr));
        return NULL;
    }
    int64_t count = fe_count(arr);
    if (count != numel) {
        fe_error(c, path, "has %lld values but the shape holds %lld", (long long)count, (long long)numel);
        return NULL;
    }
    void *buf = ir_arena_alloc(c->g->arena, bytes ? bytes : 1);
    int64_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++)
        if (!store_elem(c, e, dtype, buf, i, path))
            return NULL;
    return buf;
}
