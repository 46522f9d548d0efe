/* Linking a shared library: the C compiler driver and the runtime archive of the target, SONAME and stripping. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* dladdr1, RTLD_DL_LINKMAP: where this code was loaded from */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/cg_infra.h"

/* The build tree's runtime archive and the folder of the cross runtimes (CMakeLists.txt sets
 * both); used when this code does not sit in an installed tree. */
#ifndef SINTER_RT_ARCHIVE
#define SINTER_RT_ARCHIVE "libsinter_rt.a"
#endif
#ifndef SINTER_RT_CROSS_DIR
#define SINTER_RT_CROSS_DIR "sinter-rt"
#endif
/* From the installed bin folder to the installed lib folder. */
#ifndef SINTER_BIN_TO_LIB
#define SINTER_BIN_TO_LIB "../lib"
#endif

extern char **environ;

static bool readable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* The folder of the file this code was loaded from: the sinter executable, libsinter.so or a
 * test binary. False if it cannot be told. */
static bool self_dir(char *buf, size_t len)
{
    Dl_info info;
    struct link_map *lm = NULL;
    char path[PATH_MAX];
    if (dladdr1((void *)(uintptr_t)self_dir, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm && lm->l_name &&
        lm->l_name[0]) {
        if (!realpath(lm->l_name, path))
            return false;
    } else {
        /* the main program (its link map has no name) */
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            return false;
        path[n] = '\0';
    }
    char *slash = strrchr(path, '/');
    if (!slash)
        return false;
    *slash = '\0';
    snprintf(buf, len, "%s", path);
    return strlen(path) < len;
}

/* The runtime archive: rel ("libsinter_rt.a", "sinter-rt/TOOL/libsinter_rt.a") beside this code
 * (a build tree, or the lib folder of an installed libsinter.so), else in the lib folder of an
 * installed sinter command, else fallback. */
static bool find_runtime(const char *rel, const char *fallback, char *out, size_t len)
{
    char dir[PATH_MAX];
    if (self_dir(dir, sizeof dir)) {
        snprintf(out, len, "%s/%s", dir, rel);
        if (readable(out))
            return true;
        snprintf(out, len, "%s/" SINTER_BIN_TO_LIB "/%s", dir, rel);
        if (readable(out))
            return true;
    }
    snprintf(out, len, "%s", fallback);
    return readable(out);
}

bool cg_find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(out, len, "%.*s/%s", (int)n, n ? p : ".", name);
        if (access(out, X_OK) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* The GNU toolchain prefix of a normalized LLVM triple: the vendor dropped when it is
 * "unknown" or "pc" (aarch64-unknown-linux-gnu -> aarch64-linux-gnu, Debian's cross gcc). */
static void gnu_triple(const char *triple, char *out, size_t len)
{
    const char *v = strchr(triple, '-');
    const char *os = v ? strchr(v + 1, '-') : NULL;
    size_t vlen = os ? (size_t)(os - v - 1) : 0;
    bool drop = (vlen == 7 && !strncmp(v + 1, "unknown", 7)) || (vlen == 2 && !strncmp(v + 1, "pc", 2));
    if (drop)
        snprintf(out, len, "%.*s%s", (int)(v - triple), triple, os);
    else
        snprintf(out, len, "%s", triple);
}

int cg_find_linker(const CgMachine *m, CgLinker *l, const char *where, IrDiag *d)
{
    memset(l, 0, sizeof *l);
    if (m->host) {
        const char *cc = getenv("SINTER_CC");
        const char *rt = getenv("SINTER_RT_ARCHIVE");
        snprintf(l->cc, sizeof l->cc, "%s", cc && *cc ? cc : "cc");
        l->host = true;
        if (rt && *rt) {
            snprintf(l->rt, sizeof l->rt, "%s", rt);
            if (readable(l->rt))
                return 0;
        } else if (find_runtime("libsinter_rt.a", SINTER_RT_ARCHIVE, l->rt, sizeof l->rt)) {
            return 0;
        }
        ir_diag_error(d, where, "cannot link: the runtime library %s is missing (set SINTER_RT_ARCHIVE)", l->rt);
        return -1;
    }
    if (!strstr(m->triple, "-linux")) {
        ir_diag_error(d, where, "cannot link a shared library for %s: only Linux targets are linked; use --emit o "
                      "and link it with the target's toolchain together with the runtime", m->triple);
        return -1;
    }
    char tool[200], gcc[240], rel[300];
    gnu_triple(m->triple, tool, sizeof tool);
    snprintf(gcc, sizeof gcc, "%s-gcc", tool);
    if (!cg_find_program(gcc, l->cc, sizeof l->cc)) {
        ir_diag_error(d, where, "cannot link a shared library for %s: the cross compiler %s is not on PATH (Debian: "
                      "apt-get install gcc-%s); or use --emit o and link it with the target's toolchain together "
                      "with the runtime", m->triple, gcc, tool);
        return -1;
    }
    snprintf(rel, sizeof rel, "sinter-rt/%s/libsinter_rt.a", tool);
    char fallback[PATH_MAX];
    snprintf(fallback, sizeof fallback, "%s/%s/libsinter_rt.a", SINTER_RT_CROSS_DIR, tool);
    if (!find_runtime(rel, fallback, l->rt, sizeof l->rt)) {
        ir_diag_error(d, where, "cannot link a shared library for %s: this sinter has no runtime built for it "
                      "(%s/libsinter_rt.a): build sinter again now that %s is installed", m->triple, tool, gcc);
        return -1;
    }
    return 0;
}

/* First line of a (small) text file, for diagnostics. */
static void first_line(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* CC -shared -fopenmp -o out obj RUNTIME -lm -soname SONAME [-s], run without a shell; the
 * compiler's messages go to log; diagnostics name shown. */
int cg_link_shared(const CgLinker *l, const CgLinkOptions *lo, const char *obj, const char *out, const char *shown,
                   const char *log, IrDiag *d)
{
#ifdef SINTER_RT_LINK_FLAGS
    const char *extra = l->host ? SINTER_RT_LINK_FLAGS : "-Wl,-z,relro";
#else
    const char *extra = "-Wl,-z,relro";
#endif
    const char *slash = strrchr(shown, '/');
    const char *soname = lo->soname && *lo->soname ? lo->soname : slash ? slash + 1 : shown;
    char *argv[] = {(char *)l->cc, "-shared", "-fopenmp", "-o", (char *)out, (char *)obj, (char *)l->rt, "-lm",
                    "-Wl,-z,defs", "-Wl,-z,noexecstack", (char *)extra,
                    /* -Xlinker passes the name as one argument, commas included */
                    "-Xlinker", "-soname", "-Xlinker", (char *)soname, lo->strip ? "-s" : NULL, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, l->cc, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        ir_diag_error(d, shown, "cannot run the linker \"%s\": %s%s", l->cc, strerror(rc),
                      l->host ? " (set SINTER_CC)" : "");
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            ir_diag_error(d, shown, "waiting for the linker: %s", strerror(errno));
            return -1;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[512];
        first_line(log, msg, sizeof msg);
        ir_diag_error(d, shown, "linking failed (%s): %s", l->cc, *msg ? msg : "no message");
        return -1;
    }
    return 0;
}
