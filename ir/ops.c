/* The op table built from ops.def, and parsing of its attribute specs. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

#define OP(id, name, min_in, max_in, min_out, max_out, flags, attrs) \
    {#name, min_in, max_in, min_out, max_out, flags, attrs, shape_##name, ref_##name, -1, {{0}}},
static IrOpInfo op_table[] = {
#include "ir/ops.def"
};
#undef OP

_Static_assert(sizeof op_table / sizeof op_table[0] == IR_OP_COUNT, "op table size");

/* Parse "name:kind[=default][!],..." once per op. Specs are ours, so malformed ones assert. */
static void parse_spec(IrOpInfo *info)
{
    info->nattrs = 0;
    const char *p = info->attr_spec;
    while (*p) {
        IR_ASSERT(info->nattrs < IR_MAX_ATTRS);
        IrAttrSpec *s = &info->attrs[info->nattrs++];
        memset(s, 0, sizeof *s);
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        size_t len = (size_t)(end - p);
        char item[96];
        IR_ASSERT(len < sizeof item);
        memcpy(item, p, len);
        item[len] = 0;
        if (len > 0 && item[len - 1] == '!') {
            s->required = true;
            item[--len] = 0;
        }
        char *colon = strchr(item, ':');
        IR_ASSERT(colon);
        *colon = 0;
        char *kind = colon + 1;
        char *eq = strchr(kind, '=');
        if (eq)
            *eq = 0;
        /* names and defaults live as long as the table: intern them */
        size_t nlen = strlen(item);
        char *name = srt_malloc(nlen + 1);
        IR_ASSERT(name);
        memcpy(name, item, nlen + 1);
        s->name = name;
        if (!strcmp(kind, "i"))
            s->kind = IR_ATTR_INT;
        else if (!strcmp(kind, "f"))
            s->kind = IR_ATTR_FLOAT;
        else if (!strcmp(kind, "s"))
            s->kind = IR_ATTR_STRING;
        else if (!strcmp(kind, "ints"))
            s->kind = IR_ATTR_INTS;
        else if (!strcmp(kind, "floats"))
            s->kind = IR_ATTR_FLOATS;
        else if (!strcmp(kind, "t"))
            s->kind = IR_ATTR_TENSOR;
        else
            IR_ASSERT(!"unknown attr kind in ops.def");
        if (eq) {
            const char *def = eq + 1;
            s->has_default = true;
            if (s->kind == IR_ATTR_INT)
                s->def_i = strtoll(def, NULL, 10);
            else if (s->kind == IR_ATTR_FLOAT)
                s->def_f = strtod(def, NULL);
            else if (s->kind == IR_ATTR_STRING) {
                size_t dl = strlen(def);
                char *ds = srt_malloc(dl + 1);
                IR_ASSERT(ds);
                memcpy(ds, def, dl + 1);
                s->def_s = ds;
            } else
                IR_ASSERT(!"defaults only for i/f/s");
        }
        p = *end ? end + 1 : end;
    }
}

static void parse_all_specs(void)
{
    for (int i = 0; i < IR_OP_COUNT; i++)
        parse_spec(&op_table[i]);
}

const IrOpInfo *ir_op_info(IrOp op)
{
    /* specs are parsed once for all ops; pthread_once keeps concurrent compiles safe */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    IR_ASSERT((unsigned)op < IR_OP_COUNT);
    pthread_once(&once, parse_all_specs);
    return &op_table[op];
}

bool ir_op_from_name(const char *name, IrOp *out)
{
    for (int i = 0; i < IR_OP_COUNT; i++)
        if (!strcmp(op_table[i].name, name)) {
            *out = (IrOp)i;
            return true;
        }
    return false;
}

const char *ir_op_name(IrOp op)
{
    return ir_op_info(op)->name;
}

const IrAttrSpec *ir_op_attr_spec(IrOp op, const char *attr)
{
    const IrOpInfo *info = ir_op_info(op);
    for (int i = 0; i < info->nattrs; i++)
        if (!strcmp(info->attrs[i].name, attr))
            return &info->attrs[i];
    return NULL;
}
