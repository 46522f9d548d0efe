/* ONNX protobuf reading: the nesting guard, unpacking with protobuf-c, and tensor data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_onnx_impl.h"

/* ---- data types ------------------------------------------------------------------------- */

/* ORDER: ONNX TensorProto.DataType codes 0..16. */
static const char *const ONNX_TYPES[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
                                         "int64", "string", "bool", "float16", "double", "uint32", "uint64",
                                         "complex64", "complex128", "bfloat16"};

const char *ox_dtype_onnx_name(int32_t code)
{
    if (code >= 0 && code < (int32_t)(sizeof ONNX_TYPES / sizeof ONNX_TYPES[0]))
        return ONNX_TYPES[code];
    return "an unknown type";
}

bool ox_dtype(int32_t code, IrDtype *out)
{
    switch (code) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *out = SRT_F32; return true;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *out = SRT_F64; return true;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *out = SRT_I64; return true;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *out = SRT_I32; return true;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *out = SRT_I8; return true;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *out = SRT_U8; return true;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *out = SRT_BOOL; return true;
    default: return false;
    }
}

/* ---- nesting guard ------------------------------------------------------------------------
 * protobuf-c unpacks nested messages recursively without a depth limit, so a small file of
 * deeply nested subgraphs would overflow the stack. This walk follows the wire format with the
 * generated descriptors (only fields the schema declares as messages are entered) and refuses
 * nesting deeper than OX_MAX_DEPTH; malformed bytes are left to protobuf-c's own checks. */

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* False when the nesting is too deep; true otherwise (also for bytes protobuf-c will reject). */
static bool depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end, int depth)
{
    if (depth > OX_MAX_DEPTH)
        return false;
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key))
            return true;
        unsigned wire = (unsigned)(key & 7);
        uint64_t num = key >> 3;
        switch (wire) {
        case 0:
            if (!varint(&p, end, &v))
                return true;
            break;
        case 1:
            if (end - p < 8)
                return true;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return true;
            p += 4;
            break;
        case 2: {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
                return true;
            const ProtobufCFieldDescriptor *f =
                num <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)num) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !depth_ok((const ProtobufCMessageDescriptor *)f->descriptor, p, p + v, depth + 1))
                return false;
            p += v;
            break;
        }
        default:
            return true; /* groups (3, 4) or junk: protobuf-c decides */
        }
    }
    return true;
}

Onnx__ModelProto *ox_unpack_model(Ox *x, const uint8_t *buf, size_t len)
{
    if (len == 0) {
        ox_error(x, NULL, "empty file: not an ONNX model");
        return NULL;
    }
    if (!depth_ok(&onnx__model_proto__descriptor, buf, buf + len, 0)) {
        ox_error(x, NULL, "messages nested deeper than %d levels: not an ONNX model sinter can read", OX_MAX_DEPTH);
        return NULL;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m) {
        ox_error(x, NULL, "not an ONNX model (the protobuf ModelProto does not parse: truncated or another format)");
        return NULL;
    }
    if (!m->graph) {
        ox_error(x, NULL, "the ModelProto has no graph: not an ONNX model");
        onnx__model_proto__free_unpacked(m, NULL);
        return NULL;
    }
    return m;
}

/* ---- tensors ------------------------------------------------------------------------------ */

/* An external-data path must stay inside the model's folder: relative, without "..". */
static bool safe_relative(const char *p)
{
    if (!*p || p[0] == '/')
        return false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return false;
        s += n;
        while (*s == '/')
            s++;
    }
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* Reads `need` bytes of an external-data tensor into dst. */
static bool read_external(Ox *x, const Onnx__TensorProto *t, const char *what, void *dst, size_t need)
{
    const char *loc = NULL;
    uint64_t off = 0, length = need;
    bool has_length = false;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = t->external_data[i];
        if (!e->key || !e->value)
            continue;
        if (!strcmp(e->key, "location")) {
            loc = e->value;
        } else if (!strcmp(e->key, "offset")) {
            if (!parse_u64(e->value, &off)) {
                ox_error(x, what, "external data offset \"%.40s\" is not a number", e->value);
                return false;
            }
        } else if (!strcmp(e->key, "length")) {
            if (!parse_u64(e->value, &length)) {
                ox_error(x, what, "external data length \"%.40s\" is not a number", e->value);
                return false;
            }
            has_length = true;
        }
    }
    if (!loc) {
        ox_error(x, what, "external data without a \"location\"");
        return false;
    }
    if (!safe_relative(loc)) {
        ox_error(x, what, "external data location \"%.80s\" must be a path inside the model's folder", loc);
        return false;
    }
    if (has_length && length != need) {
        ox_error(x, what, "external data length is %llu bytes but the shape needs %zu", (unsigned long long)length,
                 need);
        return false;
    }
    size_t plen = strlen(x->dir) + strlen(loc) + 2;
    char *path = srt_malloc(plen);
    IR_ASSERT(path);
    snprintf(path, plen, "%s/%s", x->dir, loc);
    FILE *f = fopen(path, "rb");
    bool ok = false;
    if (!f) {
        ox_error(x, what, "external data file %s: cannot open", path);
    } else if (off > (uint64_t)INT64_MAX || fseeko(f, (off_t)off, SEEK_SET) != 0) {
        ox_error(x, what, "external data file %s: cannot seek to offset %llu", path, (unsigned long long)off);
    } else if (need && fread(dst, 1, need, f) != need) {
        ox_error(x, what, "external data file %s: fewer than %zu bytes at offset %llu", path, need,
                 (unsigned long long)off);
    } else {
        ok = true;
    }
    if (f)
        fclose(f);
    free(path);
    return ok;
}

/* Copies n typed-field values into dst as elements of dtype; false if the counts differ. */
static bool typed_fields(const Onnx__TensorProto *t, IrDtype dt, int64_t numel, void *dst, size_t *have)
{
    switch (dt) {
    case SRT_F32:
        *have = t->n_float_data;
        if ((int64_t)t->n_float_data != numel)
            return false;
        if (numel)
            memcpy(dst, t->float_data, (size_t)numel * 4);
        return true;
    case SRT_F64:
        *have = t->n_double_data;
        if ((int64_t)t->n_double_data != numel)
            return false;
        if (numel)
            memcpy(dst, t->double_data, (size_t)numel * 8);
        return true;
    case SRT_I64:
        *have = t->n_int64_data;
        if ((int64_t)t->n_int64_data != numel)
            return false;
        if (numel)
            memcpy(dst, t->int64_data, (size_t)numel * 8);
        return true;
    default: /* int32, int8, uint8, bool: int32_data holds one element per entry */
        *have = t->n_int32_data;
        if ((int64_t)t->n_int32_data != numel)
            return false;
        for (int64_t i = 0; i < numel; i++) {
            int32_t v = t->int32_data[i];
            if (dt == SRT_I32)
                ((int32_t *)dst)[i] = v;
            else if (dt == SRT_I8)
                ((int8_t *)dst)[i] = (int8_t)v;
            else if (dt == SRT_U8)
                ((uint8_t *)dst)[i] = (uint8_t)v;
            else
                ((uint8_t *)dst)[i] = v != 0;
        }
        return true;
    }
}

bool ox_read_tensor(Ox *x, const Onnx__TensorProto *t, const char *what, SrtTensor *out)
{
    memset(out, 0, sizeof *out);
    if (!t) {
        ox_error(x, what, "the tensor is missing");
        return false;
    }
    IrDtype dt;
    int32_t code = t->has_data_type ? t->data_type : 0;
    if (!ox_dtype(code, &dt)) {
        ox_error(x, what, "data type %s (%d) is not supported (sinter has float, double, int64, int32, int8, uint8, "
                 "bool)", ox_dtype_onnx_name(code), (int)code);
        return false;
    }
    if (t->segment) {
        ox_error(x, what, "segmented tensors are not supported");
        return false;
    }
    if (t->n_dims > SRT_MAX_RANK) {
        ox_error(x, what, "rank %zu is more than sinter's %d", t->n_dims, SRT_MAX_RANK);
        return false;
    }
    int64_t dims[SRT_MAX_RANK];
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0) {
            ox_error(x, what, "dim %zu is negative (%lld)", i, (long long)t->dims[i]);
            return false;
        }
        dims[i] = t->dims[i];
    }
    size_t need;
    if (srt_tensor_nbytes(dt, (int)t->n_dims, dims, &need) != SINTER_OK || need > x->max_bytes - x->bytes) {
        ox_error(x, what, "the tensor is too large (data limit %zu bytes)", x->max_bytes);
        return false;
    }
    int64_t numel = (int64_t)(need / srt_dtype_size(dt));
    void *data = srt_malloc(need ? need : 1);
    IR_ASSERT(data);
    bool external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    bool ok;
    if (external) {
        ok = read_external(x, t, what, data, need);
    } else if (t->has_raw_data) {
        ok = t->raw_data.len == need;
        if (ok && need)
            memcpy(data, t->raw_data.data, need); /* little-endian, as this host */
        else if (!ok)
            ox_error(x, what, "raw_data has %zu bytes but %s%s needs %zu", t->raw_data.len,
                     ox_dtype_onnx_name(code), t->n_dims ? " of this shape" : " (a scalar)", need);
    } else {
        size_t have = 0;
        ok = typed_fields(t, dt, numel, data, &have);
        if (!ok)
            ox_error(x, what, "has %zu values but its shape has %lld elements", have, (long long)numel);
    }
    if (!ok) {
        free(data);
        return false;
    }
    x->bytes += need;
    out->name = srt_strdup(t->name ? t->name : "");
    IR_ASSERT(out->name);
    out->dtype = dt;
    out->rank = (int)t->n_dims;
    memcpy(out->dims, dims, sizeof(int64_t) * t->n_dims);
    out->nbytes = need;
    out->data = data;
    return true;
}

int fe_onnx_read_tensor(const uint8_t *buf, size_t len, const char *label, SrtTensor *out, IrDiag *d)
{
    Ox x;
    memset(&x, 0, sizeof x);
    memset(out, 0, sizeof *out);
    x.d = d;
    x.dir = ".";
    x.max_bytes = (size_t)1 << 32;
    const char *saved = d ? d->file : NULL;
    if (d && label)
        d->file = label;
    int rc = -1;
    if (!depth_ok(&onnx__tensor_proto__descriptor, buf, buf + len, 0)) {
        ox_error(&x, NULL, "messages nested too deeply: not a TensorProto");
    } else {
        Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
        if (!t) {
            ox_error(&x, NULL, "not an ONNX TensorProto");
        } else {
            bool external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
            if (external)
                ox_error(&x, NULL, "a tensor file with external data is not supported");
            else if (ox_read_tensor(&x, t, "tensor", out))
                rc = 0;
            onnx__tensor_proto__free_unpacked(t, NULL);
        }
    }
    if (d)
        d->file = saved;
    return rc;
}
