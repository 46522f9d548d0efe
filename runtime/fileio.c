/* Whole-file reads and atomic writes (temporary file in the same folder, fsync, rename). */
#include "runtime/sinter_rt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest single read()/write() request; Linux transfers at most ~2 GB per call anyway. */
#define IO_CHUNK ((size_t)1 << 30)

/* The process umask without changing it (umask() would race with other threads):
 * Linux reports it in /proc/self/status; elsewhere assume the common 022. */
static mode_t current_umask(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return mask;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Umask:", 6) == 0) {
            mask = (mode_t)(strtoul(line + 6, NULL, 8) & 0777);
            break;
        }
    }
    fclose(f);
    return mask;
}

/* Permission bits for the file that will replace path. */
static mode_t target_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 0777;
    return 0666 & ~current_umask();
}

/* Best effort: make the rename itself durable by syncing the containing folder. Allocates
 * nothing: the file is in place already, and an allocation failing now would report an error
 * for a file that was written. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len < IO_CHUNK ? len : IO_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int srt_write_parts_atomic(const char *path, const SrtSlice *parts, int nparts, char *err, size_t errlen)
{
    if (!path || !*path || nparts < 0 || (nparts > 0 && !parts))
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_write_parts_atomic");
    for (int i = 0; i < nparts; i++) {
        if (parts[i].len > 0 && !parts[i].data)
            return srt_errorf(err, errlen, SINTER_EINVAL, "part %d has %zu bytes but no data", i, parts[i].len);
    }

    static const char suffix[] = ".tmp.XXXXXX";
    size_t plen = strlen(path);
    char *tmp = srt_malloc(plen + sizeof suffix);
    if (!tmp)
        return srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);

    mode_t mode = target_mode(path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return srt_errorf(err, errlen, SINTER_EIO, "cannot create temporary file: %s", strerror(e));
    }

    const char *what = NULL;   /* the step that failed, for the message */
    for (int i = 0; i < nparts && !what; i++) {
        if (write_all(fd, parts[i].data, parts[i].len) != 0)
            what = "cannot write temporary file";
    }
    if (!what)
        (void)fchmod(fd, mode);   /* mkstemp made it 0600; a failure here is harmless */
    if (!what && fsync(fd) != 0)
        what = "cannot sync temporary file";
    int e = errno;
    if (close(fd) != 0 && !what) {
        what = "cannot close temporary file";
        e = errno;
    }
    if (!what && rename(tmp, path) != 0) {
        what = "cannot rename temporary file over the target";
        e = errno;
    }
    if (what) {
        unlink(tmp);
        free(tmp);
        return srt_errorf(err, errlen, SINTER_EIO, "%s: %s", what, strerror(e));
    }
    free(tmp);
    sync_parent_dir(path);
    return SINTER_OK;
}

int srt_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    SrtSlice part = {data, len};
    return srt_write_parts_atomic(path, &part, 1, err, errlen);
}

int srt_read_file(const char *path, size_t max_len, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    if (!path || !out || !len)
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_read_file");
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return srt_errorf(err, errlen, SINTER_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return srt_errorf(err, errlen, SINTER_EIO, "cannot stat: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return srt_errorf(err, errlen, SINTER_EIO, "is a directory, not a file");
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_len) {
        close(fd);
        return srt_errorf(err, errlen, SINTER_EIO, "file has %lld bytes, more than the limit of %zu",
                          (long long)st.st_size, max_len);
    }

    /* Read up to max_len + 1 bytes (one more tells that the file is too large), plus a NUL. */
    size_t limit = max_len < SIZE_MAX - 1 ? max_len + 1 : SIZE_MAX - 1;
    size_t cap = 65536;
    if (S_ISREG(st.st_mode))
        cap = (size_t)st.st_size + 1;   /* the extra byte makes the EOF read hit */
    if (cap > limit)
        cap = limit;
    uint8_t *buf = srt_malloc(cap + 1);
    if (!buf) {
        close(fd);
        return srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory for %zu bytes", cap);
    }
    size_t used = 0;
    for (;;) {
        if (used == cap) {
            if (cap >= limit)
                break;
            size_t ncap = cap > limit / 2 ? limit : cap * 2;
            uint8_t *nbuf = srt_realloc(buf, ncap + 1);
            if (!nbuf) {
                free(buf);
                close(fd);
                return srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory for %zu bytes", ncap);
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t want = cap - used < IO_CHUNK ? cap - used : IO_CHUNK;
        ssize_t n = read(fd, buf + used, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return srt_errorf(err, errlen, SINTER_EIO, "cannot read: %s", strerror(e));
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (used > max_len) {
        free(buf);
        return srt_errorf(err, errlen, SINTER_EIO, "file is larger than the limit of %zu bytes", max_len);
    }
    buf[used] = 0;
    *out = buf;
    *len = used;
    return SINTER_OK;
}
