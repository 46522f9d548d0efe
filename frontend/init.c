/* Param initializers: "init" specs (PyTorch's torch.nn.init semantics) and a counter-based RNG. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frontend/fe_impl.h"

/* ORDER: the spec kinds a user can write; their keys follow in KIND_KEYS. */
enum {
    K_ZEROS,
    K_ONES,
    K_CONSTANT,
    K_UNIFORM,
    K_NORMAL,
    K_KAIMING_UNIFORM,
    K_KAIMING_NORMAL,
    K_XAVIER_UNIFORM,
    K_XAVIER_NORMAL,
    K_COUNT
};
static const char *const KIND_NAMES[K_COUNT] = {
    "zeros", "ones", "constant", "uniform", "normal", "kaiming_uniform", "kaiming_normal", "xavier_uniform",
    "xavier_normal",
};
static const char *const KIND_KEYS[K_COUNT][4] = {
    {"kind"},
    {"kind"},
    {"kind", "value"},
    {"kind", "low", "high"},
    {"kind", "mean", "std"},
    {"kind", "a", "mode", "nonlinearity"},
    {"kind", "a", "mode", "nonlinearity"},
    {"kind", "gain"},
    {"kind", "gain"},
};
static const char *const NONLINEARITIES[] = {"leaky_relu", "relu", "linear", "tanh", "sigmoid"};

static int nkeys(int kind)
{
    int n = 0;
    while (n < 4 && KIND_KEYS[kind][n])
        n++;
    return n;
}

/* obj[key] as a finite number, or def when absent. */
static bool opt_num(Fe *c, const cJSON *obj, const char *path, const char *key, double def, double *out)
{
    char p[FE_PATH_MAX];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = def;
    return !it || fe_get_number(c, it, fe_path_key(p, path, key), out);
}

/* obj[key] as one of choices (index into *out), or def when absent. */
static bool opt_choice(Fe *c, const cJSON *obj, const char *path, const char *key, const char *const *choices,
                       int nchoices, int def, int *out)
{
    char p[FE_PATH_MAX], q[FE_QBUF], sb[FE_SBUF];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *s;
    *out = def;
    if (!it)
        return true;
    if (!fe_get_string(c, it, fe_path_key(p, path, key), &s))
        return false;
    for (int i = 0; i < nchoices; i++)
        if (!strcmp(s, choices[i])) {
            *out = i;
            return true;
        }
    FeSuggest sg;
    fe_suggest_init(&sg, s);
    for (int i = 0; i < nchoices; i++)
        fe_suggest_try(&sg, choices[i]);
    char list[160] = "";
    for (int i = 0; i < nchoices; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s\"%s\"", i ? ", " : "", choices[i]);
    }
    fe_error(c, p, "unknown %s %s%s (one of %s)", key, fe_quote(q, s), fe_suggest_text(&sg, sb), list);
    return false;
}

/* Can v be stored exactly in dtype (a constant init)? */
static bool fits(IrDtype dtype, double v)
{
    switch (dtype) {
    case SRT_F32: return !isfinite(v) || isfinite((float)v);
    case SRT_F64: return true;
    case SRT_I64: return v == floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0;
    case SRT_I32: return v == floor(v) && v >= INT32_MIN && v <= INT32_MAX;
    case SRT_I8: return v == floor(v) && v >= INT8_MIN && v <= INT8_MAX;
    case SRT_U8: return v == floor(v) && v >= 0 && v <= UINT8_MAX;
    case SRT_BOOL: return v == 0 || v == 1;
    default: return false;
    }
}

bool fe_init_parse(Fe *c, const cJSON *init, const char *path, IrDtype dtype, const IrShape *shape, FeInit *out)
{
    char p[FE_PATH_MAX], q[FE_QBUF], sb[FE_SBUF];
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(init)) {
        fe_error(c, path, "expected an object such as {\"kind\": \"zeros\"}, got %s", fe_describe(q, init));
        return false;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(init, "kind");
    const char *ks;
    if (!k) {
        fe_error(c, path, "missing key \"kind\"");
        return false;
    }
    if (!fe_get_string(c, k, fe_path_key(p, path, "kind"), &ks))
        return false;
    int kind = 0;
    while (kind < K_COUNT && strcmp(ks, KIND_NAMES[kind]))
        kind++;
    if (kind == K_COUNT) {
        FeSuggest s;
        fe_suggest_init(&s, ks);
        for (int i = 0; i < K_COUNT; i++)
            fe_suggest_try(&s, KIND_NAMES[i]);
        if (s.best)
            fe_error(c, p, "unknown init kind %s%s", fe_quote(q, ks), fe_suggest_text(&s, sb));
        else
            fe_error(c, p, "unknown init kind %s (kinds: zeros, ones, constant, uniform, normal, kaiming_uniform, "
                           "kaiming_normal, xavier_uniform, xavier_normal)", fe_quote(q, ks));
        return false;
    }
    int errs = c->nerr;
    bool ok;
    fe_check_keys_of(c, init, path, KIND_KEYS[kind], nkeys(kind), ks);
    if (kind >= K_UNIFORM && !ir_dtype_is_float(dtype)) {
        fe_error(c, path, "%s needs a float param; this one is %s (use zeros, ones or constant)", ks,
                 fe_dtype_name(dtype));
        return false;
    }
    /* PyTorch's fans: dim 1 (in) and dim 0 (out) times the receptive field (dims 2..) */
    double fan_in = 0, fan_out = 0;
    if (kind >= K_KAIMING_UNIFORM) {
        if (shape->rank < 2) {
            fe_error(c, path, "%s needs a param of rank 2 or more to compute fans; this one has rank %d", ks,
                     shape->rank);
            return false;
        }
        double rf = 1;
        for (int i = 2; i < shape->rank; i++)
            rf *= (double)shape->d[i].b;
        fan_in = (double)shape->d[1].b * rf;
        fan_out = (double)shape->d[0].b * rf;
    }
    switch (kind) {
    case K_ZEROS:
        out->kind = FE_INIT_ZEROS;
        break;
    case K_ONES:
        out->kind = FE_INIT_ONES;
        break;
    case K_CONSTANT: {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, "value");
        out->kind = FE_INIT_CONSTANT;
        if (!v) {
            fe_error(c, path, "missing key \"value\"");
            return false;
        }
        if (!fe_get_number(c, v, fe_path_key(p, path, "value"), &out->value))
            return false;
        if (!fits(dtype, out->value)) {
            fe_error(c, p, "%s is not a valid %s value", fe_describe(q, v), fe_dtype_name(dtype));
            return false;
        }
        break;
    }
    case K_UNIFORM:
        out->kind = FE_INIT_UNIFORM;
        ok = opt_num(c, init, path, "low", 0, &out->lo);
        ok &= opt_num(c, init, path, "high", 1, &out->hi);
        if (!ok)
            return false;
        if (out->lo > out->hi) {
            fe_error(c, path, "low (%g) must not exceed high (%g)", out->lo, out->hi);
            return false;
        }
        break;
    case K_NORMAL:
        out->kind = FE_INIT_NORMAL;
        ok = opt_num(c, init, path, "mean", 0, &out->mean);
        ok &= opt_num(c, init, path, "std", 1, &out->sd);
        if (!ok)
            return false;
        if (out->sd < 0) {
            fe_error(c, fe_path_key(p, path, "std"), "must be >= 0, got %g", out->sd);
            return false;
        }
        break;
    case K_KAIMING_UNIFORM:
    case K_KAIMING_NORMAL: {
        static const char *const modes[] = {"fan_in", "fan_out"};
        double a;
        int mode, nl;
        ok = opt_num(c, init, path, "a", 0, &a);
        ok &= opt_choice(c, init, path, "mode", modes, 2, 0, &mode);
        ok &= opt_choice(c, init, path, "nonlinearity", NONLINEARITIES, FE_NKEYS(NONLINEARITIES), 0, &nl);
        if (!ok)
            return false;
        /* torch.nn.init.calculate_gain */
        static const double gains[] = {0, 1.4142135623730951, 1, 5.0 / 3, 1};
        double gain = nl == 0 ? sqrt(2.0 / (1 + a * a)) : gains[nl];
        double fan = mode ? fan_out : fan_in;
        double sd = fan > 0 ? gain / sqrt(fan) : 0;
        if (kind == K_KAIMING_UNIFORM) {
            out->kind = FE_INIT_UNIFORM;
            out->hi = sqrt(3.0) * sd;
            out->lo = -out->hi;
        } else {
            out->kind = FE_INIT_NORMAL;
            out->sd = sd;
        }
        break;
    }
    case K_XAVIER_UNIFORM:
    case K_XAVIER_NORMAL: {
        double gain;
        if (!opt_num(c, init, path, "gain", 1, &gain))
            return false;
        double sd = fan_in + fan_out > 0 ? gain * sqrt(2.0 / (fan_in + fan_out)) : 0;
        if (kind == K_XAVIER_UNIFORM) {
            out->kind = FE_INIT_UNIFORM;
            out->hi = sqrt(3.0) * fabs(sd);
            out->lo = -out->hi;
        } else {
            out->kind = FE_INIT_NORMAL;
            out->sd = fabs(sd);
        }
        break;
    }
    }
    return c->nerr == errs;
}

/* ---- counter-based random numbers ------------------------------------------------------------
 * Element i of a param draws from mix(key + (i + 1) * golden), where key mixes the model seed
 * with a hash of the param's name: any element is computable on its own, and adding, removing
 * or reordering other params changes nothing. */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t stream_key(int64_t seed, const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return mix64(mix64((uint64_t)seed) ^ h);
}

static uint64_t draw(uint64_t key, uint64_t counter)
{
    return mix64(key + (counter + 1) * 0x9e3779b97f4a7c15ull);
}

/* Uniform in [0, 1) with 53 random bits. */
static double unit(uint64_t key, uint64_t counter)
{
    return (double)(draw(key, counter) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller on draws 2i and 2i+1. */
static double gauss(uint64_t key, uint64_t i)
{
    double u1 = 1.0 - unit(key, 2 * i); /* (0, 1]: log is finite */
    double u2 = unit(key, 2 * i + 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void fe_init_fill(const FeInit *init, int64_t seed, const char *name, IrDtype dtype, int64_t numel, void *data)
{
    uint64_t key = stream_key(seed, name);
    for (int64_t i = 0; i < numel; i++) {
        double v = 0;
        switch (init->kind) {
        case FE_INIT_ONES: v = 1; break;
        case FE_INIT_CONSTANT: v = init->value; break;
        case FE_INIT_UNIFORM: v = init->lo + (init->hi - init->lo) * unit(key, (uint64_t)i); break;
        case FE_INIT_NORMAL: v = init->mean + init->sd * gauss(key, (uint64_t)i); break;
        default: break;
        }
        switch (dtype) {
        case SRT_F32: {
            float f = (float)v;
            /* rounding to float may reach the open upper end of [lo, hi) */
            if (init->kind == FE_INIT_UNIFORM && init->lo < init->hi && f >= (float)init->hi)
                f = nextafterf((float)init->hi, -INFINITY);
            ((float *)data)[i] = f;
            break;
        }
        case SRT_F64: ((double *)data)[i] = v; break;
        case SRT_I64: ((int64_t *)data)[i] = (int64_t)v; break;
        case SRT_I32: ((int32_t *)data)[i] = (int32_t)v; break;
        case SRT_I8: ((int8_t *)data)[i] = (int8_t)v; break;
        default: ((uint8_t *)data)[i] = (uint8_t)v; break;
        }
    }
}
