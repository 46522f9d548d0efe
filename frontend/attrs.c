/* Node attributes, checked against the op table's specs (with Cast's ONNX type codes). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frontend/fe_impl.h"

static const char *const TENSOR_ATTR_KEYS[] = {"dtype", "shape", "data"};

/* ONNX TensorProto.DataType codes accepted by Cast's "to". */
static const struct {
    int code;
    IrDtype dtype;
} ONNX_CODES[] = {{1, SRT_F32}, {11, SRT_F64}, {7, SRT_I64}, {6, SRT_I32}, {3, SRT_I8}, {2, SRT_U8}, {9, SRT_BOOL}};

/* ---- attributes ------------------------------------------------------------------------------- */

static bool parse_cast_to(Fe *c, const cJSON *it, const char *path, IrAttr *a)
{
    char q[FE_QBUF];
    IrDtype t;
    int64_t code;
    if (cJSON_IsString(it)) {
        if (!fe_parse_dtype(c, it, path, &t))
            return false;
    } else if (fe_json_int(it, &code)) {
        int i = 0;
        while (i < FE_NKEYS(ONNX_CODES) && ONNX_CODES[i].code != code)
            i++;
        if (i == FE_NKEYS(ONNX_CODES)) {
            fe_error(c, path, "ONNX type code %lld is not a sinter dtype (codes: 1 float32, 11 float64, 7 int64, "
                              "6 int32, 3 int8, 2 uint8, 9 bool)", (long long)code);
            return false;
        }
        t = ONNX_CODES[i].dtype;
    } else {
        fe_error(c, path, "expected a dtype name or an ONNX type code, got %s", fe_describe(q, it));
        return false;
    }
    a->s = fe_dtype_name(t);
    return true;
}

/* A tensor attribute: {"dtype", "data", "shape"?} or a plain number (float32 [1]). */
static bool parse_tensor_attr(Fe *c, const cJSON *it, const char *path, IrAttr *a)
{
    char p[FE_PATH_MAX], q[FE_QBUF];
    double f;
    if (cJSON_IsNumber(it) && fe_json_float(it, &f)) {
        if (isinf((float)f) && !isinf(f)) {
            fe_error(c, path, "%s is out of range for float32", fe_describe(q, it));
            return false;
        }
        float v = (float)f;
        a->tdtype = SRT_F32;
        a->tshape.rank = 1;
        a->tshape.d[0] = ir_dim_const(1);
        a->n = 1;
        a->tdata = ir_arena_memdup(c->g->arena, &v, sizeof v);
        return true;
    }
    if (!cJSON_IsObject(it)) {
        fe_error(c, path, "expected a tensor {\"dtype\": ..., \"data\": [...]} or a number, got %s", fe_describe(q, it));
        return false;
    }
    fe_check_keys(c, it, path, TENSOR_ATTR_KEYS, FE_NKEYS(TENSOR_ATTR_KEYS));
    IrDtype dtype;
    bool ok = fe_field_dtype(c, it, path, &dtype);
    const cJSON *data = fe_require(c, it, path, "data"), *shape = fe_member(it, "shape");
    if (!ok || !data)
        return false;
    fe_path_key(p, path, "data");
    if (!cJSON_IsArray(data)) {
        fe_error(c, p, "expected a flat array of values, got %s", fe_describe(q, data));
        return false;
    }
    IrShape sh;
    if (shape) {
        char sp[FE_PATH_MAX];
        if (!fe_parse_shape(c, shape, fe_path_key(sp, path, "shape"), false, &sh))
            return false;
    } else {
        int64_t d0 = fe_count(data);
        sh = ir_shape_make(1, &d0);
    }
    size_t bytes;
    IrDim numel;
    if (!fe_charge_bytes(c, path, dtype, &sh, &bytes))
        return false;
    ir_shape_numel(&sh, &numel);
    if (numel.b > INT_MAX) {
        fe_error(c, path, "a tensor attribute holds at most %d elements", INT_MAX);
        return false;
    }
    void *buf = fe_parse_data(c, data, p, dtype, numel.b, bytes);
    if (!buf)
        return false;
    a->tdtype = dtype;
    a->tshape = sh;
    a->n = (int)numel.b;
    a->tdata = buf;
    return true;
}

/* One attribute value of kind spec->kind into a (name/kind already set). */
static bool parse_attr_value(Fe *c, const cJSON *it, const char *path, IrOp op, IrAttr *a)
{
    char p[FE_PATH_MAX], q[FE_QBUF];
    switch (a->kind) {
    case IR_ATTR_INT:
        if (!fe_json_int(it, &a->i)) {
            fe_error(c, path, "expected an integer, got %s", fe_describe(q, it));
            return false;
        }
        return true;
    case IR_ATTR_FLOAT:
        if (!fe_json_float(it, &a->f)) {
            fe_error(c, path, "expected a number, got %s", fe_describe(q, it));
            return false;
        }
        return true;
    case IR_ATTR_STRING:
        if (op == IR_OP_CAST && !strcmp(a->name, "to"))
            return parse_cast_to(c, it, path, a);
        if (!cJSON_IsString(it)) {
            fe_error(c, path, "expected a string, got %s", fe_describe(q, it));
            return false;
        }
        a->s = it->valuestring;
        return true;
    case IR_ATTR_INTS:
    case IR_ATTR_FLOATS: {
        bool ints = a->kind == IR_ATTR_INTS;
        if (!cJSON_IsArray(it)) {
            fe_error(c, path, "expected an array of %s, got %s", ints ? "integers" : "numbers", fe_describe(q, it));
            return false;
        }
        int64_t n = fe_count(it);
        if (n > INT_MAX / 16) {
            fe_error(c, path, "too many elements (%lld)", (long long)n);
            return false;
        }
        a->n = (int)n;
        if (ints)
            a->ints = ir_arena_alloc(c->g->arena, (size_t)(n ? n : 1) * sizeof(int64_t));
        else
            a->floats = ir_arena_alloc(c->g->arena, (size_t)(n ? n : 1) * sizeof(double));
        int k = 0;
        for (const cJSON *e = it->child; e; e = e->next, k++) {
            bool good = ints ? fe_json_int(e, &a->ints[k]) : fe_json_float(e, &a->floats[k]);
            if (!good) {
                fe_error(c, fe_path_idx(p, path, k), "expected %s, got %s", ints ? "an integer" : "a number",
                         fe_describe(q, e));
                return false;
            }
        }
        return true;
    }
    case IR_ATTR_TENSOR:
        return parse_tensor_attr(c, it, path, a);
    }
    return false;
}

/* "attrs" of a node (obj may be NULL) checked against the op's spec; written order is kept. */
bool fe_parse_attrs(Fe *c, const cJSON *obj, const char *path, IrOp op, IrAttr *out, int *nattrs)
{
    char ap[FE_PATH_MAX], p[FE_PATH_MAX], q[FE_QBUF], sb[FE_SBUF];
    const IrOpInfo *info = ir_op_info(op);
    bool ok = true;
    uint32_t seen = 0;
    int n = 0;
    *nattrs = 0;
    fe_path_key(ap, path, "attrs");
    if (obj && !cJSON_IsObject(obj)) {
        fe_error(c, ap, "expected an object of attributes, got %s", fe_describe(q, obj));
        return false;
    }
    for (const cJSON *it = obj ? obj->child : NULL; it && !c->stop; it = it->next) {
        const char *k = it->string ? it->string : "";
        int si = -1;
        for (int s = 0; s < info->nattrs && si < 0; s++)
            if (!strcmp(info->attrs[s].name, k))
                si = s;
        if (si < 0) {
            if (info->nattrs == 0) {
                fe_error(c, ap, "unknown attribute %s (%s takes no attributes)", fe_quote(q, k), info->name);
            } else {
                FeSuggest s;
                fe_suggest_init(&s, k);
                for (int j = 0; j < info->nattrs; j++)
                    fe_suggest_try(&s, info->attrs[j].name);
                fe_error(c, ap, "unknown attribute %s for %s%s", fe_quote(q, k), info->name, fe_suggest_text(&s, sb));
            }
            ok = false;
            continue;
        }
        if (seen & (1u << si)) {
            fe_error(c, ap, "duplicate attribute %s", fe_quote(q, k));
            ok = false;
            continue;
        }
        seen |= 1u << si;
        IrAttr *a = &out[n];
        memset(a, 0, sizeof *a);
        a->name = info->attrs[si].name;
        a->kind = info->attrs[si].kind;
        if (!parse_attr_value(c, it, fe_path_key(p, ap, a->name), op, a)) {
            ok = false;
            continue;
        }
        n++;
    }
    for (int s = 0; s < info->nattrs; s++)
        if (info->attrs[s].required && !(seen & (1u << s))) {
            fe_error(c, path, "missing required attribute \"%s\" of %s", info->attrs[s].name, info->name);
            ok = false;
        }
    *nattrs = n;
    return ok;
}
