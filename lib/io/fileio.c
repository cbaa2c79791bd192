/* Whole-file reads and atomic, durable replacement of a file. The order in
 * commit is what makes a crash safe: the data is on disk (fsync) before the
 * name points at it (rename), and the name is on disk (directory fsync)
 * before we report success. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "core/alloc.h"
#include "core/error.h"

#define TMP_TRIES 64

static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static const gm_io_ops sys_ops = { sys_open, read, write, fsync, close, rename };
static gm_io_ops ops = { sys_open, read, write, fsync, close, rename };
static atomic_uint tmp_counter;

void gm_io_set_ops(const gm_io_ops *o)
{
    ops = o ? *o : sys_ops;
}

gm_status gm_io_read_file(const char *path, size_t max_size, uint8_t **data, size_t *len)
{
    if (!data || !len)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_io_read_file: data and len must not be NULL");
    *data = NULL;
    *len = 0;
    if (!path)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_io_read_file: path is NULL");
    int fd = ops.open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return gm_fail(GM_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    gm_status st = GM_OK;
    uint8_t *buf = NULL;
    size_t size = 0, got = 0;
    if (fstat(fd, &sb) != 0) {
        st = gm_fail(GM_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        st = gm_fail(GM_ERR_IO, "cannot read '%s': %s", path,
                     S_ISDIR(sb.st_mode) ? strerror(EISDIR) : "not a regular file");
    } else if (sb.st_size < 0 || (uintmax_t)sb.st_size > max_size) {
        st = gm_fail(GM_ERR_FORMAT, "'%s' is %jd bytes, over the limit of %zu", path,
                     (intmax_t)sb.st_size, max_size);
    } else {
        size = (size_t)sb.st_size;
        if (!(buf = gm_malloc(size ? size : 1)))
            st = gm_fail(GM_ERR_NO_MEMORY, "out of memory reading %zu bytes of '%s'", size, path);
    }
    while (!st && got < size) {
        ssize_t r = ops.read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = gm_fail(GM_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        else if (r == 0)
            st = gm_fail(GM_ERR_IO, "cannot read '%s': it shrank from %zu to %zu bytes while being read",
                         path, size, got);
        else
            got += (size_t)r;
    }
    ops.close(fd);   /* nothing was written, so its errors cannot lose data */
    if (st) {
        gm_free(buf);
        return st;
    }
    *data = buf;
    *len = size;
    return GM_OK;
}

/* Close and remove the temporary file; errno is left as it was. */
static void discard(gm_io_atomic *w)
{
    int saved = errno;
    if (w->fd >= 0)
        ops.close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    gm_free(w->tmp);
    w->fd = -1;
    w->tmp = NULL;
    errno = saved;
}

/* after a failed write, fsync or close of the open temporary file */
static gm_status io_fail(gm_io_atomic *w, const char *what)
{
    gm_status st = gm_fail(GM_ERR_IO, "cannot %s '%s': %s", what, w->tmp, strerror(errno));
    discard(w);
    return st;
}

gm_status gm_io_atomic_open(gm_io_atomic *w, const char *path)
{
    if (!w)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_io_atomic_open: w is NULL");
    w->fd = -1;
    w->tmp = NULL;
    w->path = path;
    if (!path || !*path)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_io_atomic_open: path is NULL or empty");
    /* rename replaces whatever the name holds: never a directory, and never
     * a device or a pipe (as root, saving to /dev/null would replace it) */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return gm_fail(GM_ERR_IO, "cannot replace '%s': %s", path,
                       S_ISDIR(sb.st_mode) ? strerror(EISDIR) : "not a regular file");
    size_t size = strlen(path) + 48;   /* ".tmp." and two decimal numbers */
    if (!(w->tmp = gm_malloc(size)))
        return gm_fail(GM_ERR_NO_MEMORY, "out of memory for a temporary name next to '%s'", path);
    /* mkstemp would give mode 0600; we want what any new file gets. O_EXCL
     * makes the name ours, and a stale one left by a crash is skipped. */
    for (int i = 0; i < TMP_TRIES; i++) {
        snprintf(w->tmp, size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
        w->fd = ops.open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd >= 0 || errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        gm_status st = gm_fail(GM_ERR_IO, "cannot create '%s': %s", w->tmp, strerror(errno));
        gm_free(w->tmp);   /* not created, so nothing to unlink */
        w->tmp = NULL;
        return st;
    }
    return GM_OK;
}

gm_status gm_io_atomic_write(gm_io_atomic *w, const void *data, size_t n)
{
    if (!w || w->fd < 0)
        return gm_fail(GM_ERR_STATE, "gm_io_atomic_write: the writer is not open");
    const unsigned char *p = data;
    while (n) {
        ssize_t r = ops.write(w->fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            errno = ENOSPC;   /* no progress and no error: treat as a full disk */
        if (r <= 0)
            return io_fail(w, "write");
        p += r;
        n -= (size_t)r;
    }
    return GM_OK;
}

gm_status gm_io_atomic_commit(gm_io_atomic *w)
{
    if (!w || w->fd < 0)
        return gm_fail(GM_ERR_STATE, "gm_io_atomic_commit: the writer is not open");
    int r;
    while ((r = ops.fsync(w->fd)) != 0 && errno == EINTR)
        ;
    if (r != 0)
        return io_fail(w, "fsync");
    r = ops.close(w->fd);
    w->fd = -1;
    if (r != 0)   /* a deferred write error (NFS): the data is not safe */
        return io_fail(w, "close");
    if (ops.rename(w->tmp, w->path) != 0) {
        gm_status st = gm_fail(GM_ERR_IO, "cannot rename '%s' to '%s': %s", w->tmp, w->path,
                               strerror(errno));
        discard(w);
        return st;
    }
    /* The temporary name is gone; reuse its buffer for the directory name. */
    char *dir = w->tmp;
    w->tmp = NULL;
    strcpy(dir, w->path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else
        slash[slash == dir] = '\0';   /* keep the root's own slash */
    gm_status st = GM_OK;
    int fd = ops.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
        st = gm_fail(GM_ERR_IO, "cannot open directory '%s' to fsync it: %s", dir, strerror(errno));
    } else {
        while ((r = ops.fsync(fd)) != 0 && errno == EINTR)
            ;
        if (r != 0)
            st = gm_fail(GM_ERR_IO, "cannot fsync directory '%s': %s", dir, strerror(errno));
        ops.close(fd);
    }
    gm_free(dir);
    return st;
}

void gm_io_atomic_abort(gm_io_atomic *w)
{
    if (w)
        discard(w);
}
