/* libFuzzer target: the dataset readers' parsers (NPY, CSV) on arbitrary
 * bytes must return a status, never crash, read out of bounds or leak.
 * The first byte picks the parser and the CSV options, so that one corpus
 * reaches both; the rest is the file. An NPY seed starts with its magic,
 * which picks NPY. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "io/csv.h"
#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* small enough that no input makes the fuzzer allocate gigabytes */
#define MAX_BYTES ((size_t)64 << 20)

static void touch(const float *v, size_t n)
{
    volatile float sink = 0.0f;
    if (n)
        sink += v[0] + v[n - 1];   /* both ends must lie inside what was allocated */
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 6 && !memcmp(data, "\x93NUMPY", 6)) {
        gm_npy a;
        if (gm_npy_parse("fuzz", "input", data, size, MAX_BYTES, &a) == GM_OK) {
            if (a.values)
                touch(a.values, a.count);
            else
                touch(&(float){ a.bytes[0] + a.bytes[a.count - 1] }, 1);
            gm_npy_release(&a);
        }
        return 0;
    }
    if (size < 1)
        return 0;
    static const char delimiters[4] = { ',', ';', '\t', ' ' };
    static const char *const columns[4] = { NULL, "0", "1", "label" };
    const gm_csv_options o = { delimiters[data[0] & 3], (int)((data[0] >> 2) % 3) - 1, columns[(data[0] >> 4) & 3] };
    gm_csv t;
    if (gm_csv_parse("fuzz", "input", data + 1, size - 1, &o, 65535, MAX_BYTES, &t) == GM_OK) {
        touch(t.values, (size_t)t.rows * (size_t)t.cols);
        if (t.labels)
            touch(&(float){ (float)(t.labels[0] + t.labels[t.rows - 1]) }, 1);
        gm_csv_release(&t);
    }
    return 0;
}
