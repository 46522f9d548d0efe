/* A param's or constant's "quant" and "sparse" objects (format extension) -> IrQuant / IrSparse. */
#include <string.h>

#include "frontend/fe_impl.h"

static const char *const QUANT_KEYS[] = {"bits", "axis", "group_axis", "group", "scale", "zero_point"};
static const char *const SPARSE_KEYS[] = {"format", "block", "nnz"};

/* obj[key] as an integer in [lo, hi]; def when absent. False after an error. */
static bool int_field(Fe *c, const cJSON *obj, const char *path, const char *key, int64_t lo, int64_t hi,
                      int64_t def, bool required, int64_t *out)
{
    char fp[FE_PATH_MAX], q[FE_QBUF];
    const cJSON *it = required ? fe_require(c, obj, path, key) : fe_member(obj, key);
    *out = def;
    if (!it)
        return !required;
    if (!fe_json_int(it, out) || *out < lo || *out > hi) {
        fe_error(c, fe_path_key(fp, path, key), "expected an integer from %lld to %lld, got %s", (long long)lo,
                 (long long)hi, fe_describe(q, it));
        return false;
    }
    return true;
}

/* A list of numbers of dtype into arena memory; *count its length. */
static void *list_field(Fe *c, const cJSON *it, const char *path, IrDtype dtype, int64_t *count)
{
    char q[FE_QBUF];
    if (!cJSON_IsArray(it)) {
        fe_error(c, path, "expected an array of numbers, got %s", fe_describe(q, it));
        return NULL;
    }
    *count = fe_count(it);
    IrShape s = {.rank = 1, .d = {{0, *count}}};
    size_t bytes;
    if (!fe_charge_bytes(c, path, dtype, &s, &bytes))
        return NULL;
    return fe_parse_data(c, it, path, dtype, *count, bytes);
}

static IrQuant *parse_quant(Fe *c, const cJSON *obj, const char *path)
{
    char q[FE_QBUF], fp[FE_PATH_MAX];
    if (!cJSON_IsObject(obj)) {
        fe_error(c, path, "expected an object {\"bits\", \"axis\", \"scale\", ...}, got %s", fe_describe(q, obj));
        return NULL;
    }
    fe_check_keys(c, obj, path, QUANT_KEYS, FE_NKEYS(QUANT_KEYS));
    int64_t bits, axis, gaxis, group;
    bool ok = int_field(c, obj, path, "bits", INT32_MIN, INT32_MAX, 8, true, &bits);
    if (ok && bits != 4 && bits != 8) {
        fe_error(c, fe_path_key(fp, path, "bits"), "expected 8 or 4, got %lld", (long long)bits);
        ok = false;
    }
    ok &= int_field(c, obj, path, "axis", -1, IR_MAX_RANK - 1, -1, false, &axis);
    ok &= int_field(c, obj, path, "group", 0, INT64_MAX, 0, false, &group);
    ok &= int_field(c, obj, path, "group_axis", 0, IR_MAX_RANK - 1, 0, group > 0, &gaxis);
    IrQuant *r = ir_arena_alloc(c->g->arena, sizeof *r);
    r->bits = (int)bits;
    r->axis = (int)axis;
    r->group_axis = (int)gaxis;
    r->group = group;
    const cJSON *sc = fe_require(c, obj, path, "scale"), *zp = fe_member(obj, "zero_point");
    if (sc && !(r->scale = list_field(c, sc, fe_path_key(fp, path, "scale"), SRT_F32, &r->nscales)))
        ok = false;
    int64_t nzp = 0;
    if (zp && !(r->zero_point = list_field(c, zp, fe_path_key(fp, path, "zero_point"), SRT_I32, &nzp)))
        ok = false;
    if (ok && zp && nzp != r->nscales) {
        fe_error(c, fe_path_key(fp, path, "zero_point"), "has %lld values but \"scale\" has %lld", (long long)nzp,
                 (long long)r->nscales);
        ok = false;
    }
    return ok && sc ? r : NULL;
}

static IrSparse *parse_sparse(Fe *c, const cJSON *obj, const char *path)
{
    char q[FE_QBUF], fp[FE_PATH_MAX];
    if (!cJSON_IsObject(obj)) {
        fe_error(c, path, "expected an object {\"format\", \"block\", \"nnz\"}, got %s", fe_describe(q, obj));
        return NULL;
    }
    fe_check_keys(c, obj, path, SPARSE_KEYS, FE_NKEYS(SPARSE_KEYS));
    IrSparse *r = ir_arena_alloc(c->g->arena, sizeof *r);
    const cJSON *fmt = fe_require(c, obj, path, "format"), *blk = fe_member(obj, "block");
    const char *name;
    bool ok = fmt && fe_get_string(c, fmt, fe_path_key(fp, path, "format"), &name);
    if (ok && !ir_sparse_format_from_name(name, &r->format)) {
        fe_error(c, fp, "unknown sparse format %s (csr, block or n:m)", fe_quote(q, name));
        ok = false;
    }
    r->block[0] = r->block[1] = 1;
    if (blk) {
        int64_t n = 0;
        int64_t *b = list_field(c, blk, fe_path_key(fp, path, "block"), SRT_I64, &n);
        if (b && n != 2) {
            fe_error(c, fp, "expected 2 numbers, got %lld", (long long)n);
            b = NULL;
        }
        if (b) {
            r->block[0] = b[0];
            r->block[1] = b[1];
        }
        ok &= b != NULL;
    } else if (ok && r->format != IR_SPARSE_CSR) {
        fe_error(c, path, "missing key \"block\" (%s needs it)", ir_sparse_format_name(r->format));
        ok = false;
    }
    ok &= int_field(c, obj, path, "nnz", 0, INT64_MAX, 0, true, &r->nnz);
    return ok ? r : NULL;
}

bool fe_parse_records(Fe *c, const cJSON *obj, const char *path, IrValue *v)
{
    char fp[FE_PATH_MAX];
    const cJSON *q = fe_member(obj, "quant"), *s = fe_member(obj, "sparse");
    bool ok = true;
    if (q && !(v->quant = parse_quant(c, q, fe_path_key(fp, path, "quant"))))
        ok = false;
    if (s && !(v->sparse = parse_sparse(c, s, fe_path_key(fp, path, "sparse"))))
        ok = false;
    return ok;
}
