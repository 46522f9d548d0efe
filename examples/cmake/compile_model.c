/* compile_model: compiles a model to a shared library (or .o/.ll/.bc/.s) through libsinter, the compiler's C API. */
/*
 * usage: compile_model MODEL.json OUT [KEY=VALUE ...]
 * KEY=VALUE pairs are sinter_options_set options: opt_level=3, target=aarch64-linux-gnu,
 * cpu=x86-64-v3, strip=1, soname=libm.so.1, external_weights=1, emit=o. A "weights=FILE" pair
 * takes the params from a .safetensors file. Diagnostics come back from the library as a list;
 * this program prints them, one per line, and exits with 1.
 */
#include <stdio.h>
#include <string.h>

#include <sinter.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: compile_model MODEL.json OUT [KEY=VALUE ...]   (libsinter %s)\n", sinter_version());
        return 2;
    }
    SinterDiagnostics *diag = sinter_diagnostics_new();
    SinterOptions *opt = sinter_options_new();
    SinterModel *m = sinter_model_load(argv[1], diag);
    int ok = m != NULL && diag && opt;
    for (int i = 3; ok && i < argc; i++) {
        char key[64];
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof key) {
            fprintf(stderr, "compile_model: expected KEY=VALUE, got \"%s\"\n", argv[i]);
            ok = 0;
            break;
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
        if (!strcmp(key, "weights"))
            ok = sinter_model_load_weights(m, eq + 1, diag) == 0;
        else
            ok = sinter_options_set(opt, key, eq + 1, diag) == 0;
    }
    ok = ok && sinter_model_run_pipeline(m, NULL, diag) == 0 && sinter_compile(m, opt, argv[2], diag) == 0;
    if (ok)
        printf("compile_model: %s -> %s (model %s)\n", argv[1], argv[2], sinter_model_name(m));
    for (size_t i = 0; i < sinter_diagnostics_count(diag); i++)
        fprintf(stderr, "%s\n", sinter_diagnostics_message(diag, i));
    sinter_model_free(m);
    sinter_options_free(opt);
    sinter_diagnostics_free(diag);
    return ok ? 0 : 1;
}
