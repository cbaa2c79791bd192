/* File I/O under the checkpoint code: whole-file reads, and writes that
 * replace a file atomically and durably (a temporary file in the same
 * directory, fsync, rename over the target, fsync of the directory). The
 * system calls go through a table that tests swap to inject failures.
 * Messages give the file and the system's reason ("cannot open 'x': No
 * such file or directory"); the public call puts its own name in front. */
#ifndef GM_IO_FILEIO_H
#define GM_IO_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "genmodel/common.h"

/* Same contracts as the POSIX calls (return value and errno). */
typedef struct gm_io_ops {
    int (*open)(const char *path, int flags, mode_t mode);
    ssize_t (*read)(int fd, void *buf, size_t n);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*close)(int fd);
    int (*rename)(const char *from, const char *to);
} gm_io_ops;

/* For tests only: route the calls through ops (copied; every member must be
 * set), or back to the system with NULL. Process-wide and not thread-safe. */
void gm_io_set_ops(const gm_io_ops *ops);

/* Read all of the regular file at path into a gm_malloc'd block (*data; the
 * caller gm_frees it) of *len bytes. A file larger than max_size is
 * GM_ERR_FORMAT, before anything is allocated; system errors are GM_ERR_IO
 * with strerror's text. On failure *data is NULL and *len 0. */
gm_status gm_io_read_file(const char *path, size_t max_size, uint8_t **data, size_t *len);

/* Replacing a file: open, write any number of times, commit. Until commit
 * succeeds the file at path is untouched; the data lives in a temporary
 * file path.tmp.<pid>.<n>, created with mode 0666 less the umask. Every
 * failing call removes the temporary file itself, so the caller just stops;
 * gm_io_atomic_abort is for a caller that gives up for its own reasons and
 * is a no-op on a finished writer. */
typedef struct gm_io_atomic {
    int fd;                 /* -1 once closed */
    char *tmp;              /* the temporary path (gm_malloc'd), NULL when done */
    const char *path;       /* the caller's, used until commit returns */
} gm_io_atomic;

gm_status gm_io_atomic_open(gm_io_atomic *w, const char *path);
/* All n bytes, through short writes and EINTR. */
gm_status gm_io_atomic_write(gm_io_atomic *w, const void *data, size_t n);
/* fsync, close, rename over path, fsync the directory. If only that last
 * fsync fails, GM_ERR_IO is returned although path already holds the new
 * file: it may not survive a power cut. */
gm_status gm_io_atomic_commit(gm_io_atomic *w);
void gm_io_atomic_abort(gm_io_atomic *w);

#endif
