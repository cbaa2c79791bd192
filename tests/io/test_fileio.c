/* File I/O: whole-file reads (limits, short reads, EINTR, errors) and the
 * atomic writer (replace, abort, temporary names, misuse), with system
 * calls swapped for ones that fail on demand. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "io/fileio.h"
#include "gm_test.h"

static int setup(void **state)
{
    (void)state;
    if (gm_test_dir_make())
        return -1;
    gm_test_alloc_install();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gm_io_set_ops(NULL);
    int r = gm_test_dir_remove();
    gm_test_alloc_uninstall();   /* last: it fails the test when blocks leaked */
    return r;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void assert_file_text(const char *path, const char *want)
{
    char got[256];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    assert_string_equal(got, want);
}

/* System calls that misbehave on demand. */
static struct {
    int opens, reads, writes, fsyncs;
    int open_err, open_from, open_to;   /* fail opens open_from..open_to (0: on and on) */
    int open_stale;            /* hand back a descriptor already closed */
    int read_mode;             /* 1: one byte at a time with EINTR between; 2: EIO; 3: early EOF */
    int write_mode;            /* 1: one byte at a time with EINTR between; 2: return 0 */
    int fsync_eintr;           /* EINTR this many times, after fsync_skip calls that work */
    int fsync_skip;
} io;

static int t_open(const char *p, int flags, mode_t mode)
{
    ++io.opens;
    if (io.open_from && io.opens >= io.open_from && (!io.open_to || io.opens <= io.open_to)) {
        errno = io.open_err;
        return -1;
    }
    int fd = open(p, flags, mode);
    if (io.open_stale && fd >= 0)
        close(fd);
    return fd;
}

static ssize_t t_read(int fd, void *b, size_t n)
{
    io.reads++;
    if (io.read_mode == 1 && io.reads % 2) {
        errno = EINTR;
        return -1;
    }
    if (io.read_mode == 2) {
        errno = EIO;
        return -1;
    }
    if (io.read_mode == 3 && io.reads > 1)
        return 0;
    return read(fd, b, io.read_mode ? 1 : n);
}

static ssize_t t_write(int fd, const void *b, size_t n)
{
    io.writes++;
    if (io.write_mode == 1 && io.writes % 2) {
        errno = EINTR;
        return -1;
    }
    if (io.write_mode == 2)
        return 0;
    return write(fd, b, io.write_mode ? 1 : n);
}

static int t_fsync(int fd)
{
    int k = io.fsyncs++;
    if (k >= io.fsync_skip && k < io.fsync_skip + io.fsync_eintr) {
        errno = EINTR;
        return -1;
    }
    return fsync(fd);
}

static const gm_io_ops test_ops = { t_open, t_read, t_write, t_fsync, close, rename };

static void use_test_ops(void)
{
    memset(&io, 0, sizeof io);
    gm_io_set_ops(&test_ops);
}

static void test_read_file(void **state)
{
    (void)state;
    uint8_t *data = (uint8_t *)&data;
    size_t len = 99;
    put_file(gm_test_path("hello"), "hello, world");
    assert_int_equal(gm_io_read_file(gm_test_path("hello"), 12, &data, &len), GM_OK);
    assert_int_equal(len, 12);
    assert_memory_equal(data, "hello, world", 12);
    gm_free(data);

    put_file(gm_test_path("empty"), "");
    assert_int_equal(gm_io_read_file(gm_test_path("empty"), 0, &data, &len), GM_OK);
    assert_int_equal(len, 0);
    assert_non_null(data);   /* a block to free, like any other result */
    gm_free(data);

    assert_int_equal(gm_io_read_file(gm_test_path("hello"), 11, &data, &len), GM_ERR_FORMAT);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_non_null(strstr(gm_last_error(), "is 12 bytes, over the limit of 11"));
    assert_int_equal(gm_io_read_file(gm_test_path("missing"), 100, &data, &len), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(ENOENT)));
    assert_int_equal(gm_io_read_file(gm_test_path(""), 100, &data, &len), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(EISDIR)));
    assert_null(data);
    /* a device is refused, not read until it ends (this one never does) */
    assert_int_equal(gm_io_read_file("/dev/zero", 100, &data, &len), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), "cannot read '/dev/zero': not a regular file"));
    assert_null(data);
    assert_int_equal(gm_io_read_file(NULL, 100, &data, &len), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_io_read_file(gm_test_path("hello"), 100, NULL, &len), GM_ERR_INVALID_ARG);
    data = (uint8_t *)&data;
    assert_int_equal(gm_io_read_file(gm_test_path("hello"), 100, &data, NULL), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_io_read_file: data and len must not be NULL"));
    assert_ptr_equal(data, &data);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);

    gm_test_alloc_reset(1);
    assert_int_equal(gm_io_read_file(gm_test_path("hello"), 100, &data, &len), GM_ERR_NO_MEMORY);
    assert_null(data);
    gm_test_alloc_reset(0);
}

static void test_read_file_misbehaving_calls(void **state)
{
    (void)state;
    uint8_t *data;
    size_t len;
    put_file(gm_test_path("f"), "0123456789");
    use_test_ops();
    io.read_mode = 1;   /* every byte on its own, an EINTR before each */
    assert_int_equal(gm_io_read_file(gm_test_path("f"), 100, &data, &len), GM_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(data, "0123456789", 10);
    assert_int_equal(io.reads, 20);
    gm_free(data);

    use_test_ops();
    io.read_mode = 2;
    assert_int_equal(gm_io_read_file(gm_test_path("f"), 100, &data, &len), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(EIO)));
    assert_null(data);

    use_test_ops();
    io.read_mode = 3;   /* the file seems to shrink after one byte */
    assert_int_equal(gm_io_read_file(gm_test_path("f"), 100, &data, &len), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), "shrank from 10 to 1 bytes"));
    assert_null(data);

    use_test_ops();
    io.open_stale = 1;   /* a descriptor the system cannot stat */
    len = 99;
    assert_int_equal(gm_io_read_file(gm_test_path("f"), 100, &data, &len), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), "cannot stat"));
    assert_non_null(strstr(gm_last_error(), strerror(EBADF)));
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(io.reads, 0);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static void test_atomic_replace_and_abort(void **state)
{
    (void)state;
    const char *path = gm_test_path("out");
    put_file(path, "old");
    gm_io_atomic w;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_OK);
    assert_int_equal(gm_test_dir_entries(), 2);   /* the old file and ours */
    assert_non_null(strstr(w.tmp, "/out.tmp."));
    assert_int_equal(gm_io_atomic_write(&w, "new ", 4), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, NULL, 0), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "data", 4), GM_OK);
    assert_file_text(path, "old");   /* nothing visible before commit */
    assert_int_equal(gm_io_atomic_commit(&w), GM_OK);
    assert_file_text(path, "new data");
    assert_int_equal(gm_test_dir_entries(), 1);
    assert_null(w.tmp);
    /* a finished writer refuses more work, and abort is a no-op */
    assert_int_equal(gm_io_atomic_write(&w, "x", 1), GM_ERR_STATE);
    assert_int_equal(gm_io_atomic_commit(&w), GM_ERR_STATE);
    gm_io_atomic_abort(&w);

    assert_int_equal(gm_io_atomic_open(&w, path), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "discarded", 9), GM_OK);
    gm_io_atomic_abort(&w);
    gm_io_atomic_abort(&w);
    assert_file_text(path, "new data");
    assert_int_equal(gm_test_dir_entries(), 1);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);

    /* a relative name: the directory to fsync is "." */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(gm_test_path("")), 0);
    assert_int_equal(gm_io_atomic_open(&w, "rel"), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "r", 1), GM_OK);
    assert_int_equal(gm_io_atomic_commit(&w), GM_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_file_text(gm_test_path("rel"), "r");

    assert_int_equal(gm_io_atomic_open(&w, ""), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_io_atomic_open(&w, NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_io_atomic_open(NULL, path), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_io_atomic_write(NULL, "x", 1), GM_ERR_STATE);
    assert_int_equal(gm_io_atomic_commit(NULL), GM_ERR_STATE);
    assert_non_null(strstr(gm_last_error(), "gm_io_atomic_commit: the writer is not open"));
    gm_io_atomic_abort(NULL);
}

/* Only a regular file is replaced: a directory, a pipe or a device at the
 * name stays what it was (as root, a save to /dev/null once replaced it). */
static void test_atomic_replaces_only_files(void **state)
{
    (void)state;
    gm_io_atomic w;
    char dir[512], fifo[512];   /* gm_test_path's buffer is shared */
    snprintf(dir, sizeof dir, "%s", gm_test_path("dir"));
    snprintf(fifo, sizeof fifo, "%s", gm_test_path("fifo"));
    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(gm_io_atomic_open(&w, dir), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(EISDIR)));
    assert_int_equal(mkfifo(fifo, 0666), 0);
    assert_int_equal(gm_io_atomic_open(&w, fifo), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), "not a regular file"));
    struct stat sb;
    assert_int_equal(stat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(gm_test_dir_entries(), 2);   /* no temporary file left */
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static void test_atomic_misbehaving_calls(void **state)
{
    (void)state;
    const char *path = gm_test_path("out");
    gm_io_atomic w;
    put_file(path, "old");

    /* one byte per write, an EINTR before each, and a slow fsync */
    use_test_ops();
    io.write_mode = 1;
    io.fsync_eintr = 3;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "patience", 8), GM_OK);
    assert_int_equal(gm_io_atomic_commit(&w), GM_OK);
    assert_int_equal(io.writes, 16);
    assert_int_equal(io.fsyncs, 3 + 2);
    assert_file_text(path, "patience");

    /* a write that makes no progress is a full disk, not a hang */
    use_test_ops();
    io.write_mode = 2;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "x", 1), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(ENOSPC)));
    assert_int_equal(w.fd, -1);
    assert_null(w.tmp);
    assert_int_equal(gm_test_dir_entries(), 1);
    assert_file_text(path, "patience");

    /* names already taken (a crash's leftovers): the next ones are tried */
    use_test_ops();
    io.open_err = EEXIST;
    io.open_from = 1;
    io.open_to = 3;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "4th", 3), GM_OK);
    assert_int_equal(gm_io_atomic_commit(&w), GM_OK);
    assert_int_equal(io.opens, 5);   /* three taken, ours, the directory */
    assert_file_text(path, "4th");
    use_test_ops();
    io.open_err = EEXIST;
    io.open_from = 1;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_ERR_IO);   /* every name taken */
    assert_int_equal(io.opens, 64);
    assert_non_null(strstr(gm_last_error(), strerror(EEXIST)));
    assert_null(w.tmp);
    use_test_ops();
    io.open_err = EACCES;
    io.open_from = 1;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_ERR_IO);   /* other errors: no retry */
    assert_int_equal(io.opens, 1);
    assert_non_null(strstr(gm_last_error(), strerror(EACCES)));
    assert_int_equal(gm_test_dir_entries(), 1);

    /* the directory's fsync interrupted too: retried, not reported */
    use_test_ops();
    io.fsync_skip = 1;
    io.fsync_eintr = 2;
    assert_int_equal(gm_io_atomic_open(&w, path), GM_OK);
    assert_int_equal(gm_io_atomic_write(&w, "calm", 4), GM_OK);
    assert_int_equal(gm_io_atomic_commit(&w), GM_OK);
    assert_int_equal(io.fsyncs, 1 + 2 + 1);
    assert_file_text(path, "calm");
    assert_int_equal(gm_test_dir_entries(), 1);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_file_misbehaving_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_replace_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_replaces_only_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_misbehaving_calls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
