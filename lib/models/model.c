#include <float.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "core/error.h"
#include "core/simd.h"

const gm_domain gm_domain_finite = { -FLT_MAX, FLT_MAX, "the finite numbers" };

/* Every call checks all its data, so the common answer comes from one
 * branch-free pass; only a bad array is walked again to find the culprit. */
GM_VECTOR_CLONES static int all_within(const float *x, size_t count, float lo, float hi)
{
    int ok = 1;
    for (size_t i = 0; i < count; i++)
        ok &= x[i] >= lo && x[i] <= hi;
    return ok;
}

gm_status gm_model_check_values(const char *name, const float *x, int32_t n, int32_t dim, const gm_domain *domain,
                                const char *who)
{
    const size_t count = (size_t)n * (size_t)dim;
    if (all_within(x, count, domain->lo, domain->hi))
        return GM_OK;
    size_t i = 0;
    while (x[i] >= domain->lo && x[i] <= domain->hi)
        i++;
    /* %.9g: every float prints as a number that reads back as itself, so
     * 1.0000001 is not shown as a "1" outside [0, 1] */
    return gm_fail(GM_ERR_INVALID_ARG, "%s: %s[%zu][%zu] = %.9g is outside %s", who, name, i / (size_t)dim,
                   i % (size_t)dim, (double)x[i], domain->text);
}

gm_status gm_model_check_labels(const int32_t *labels, int32_t n, int32_t n_classes, const char *who)
{
    if ((n_classes > 0) != (labels != NULL))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: labels must be %s for a%s model", who, labels ? "NULL" : "given",
                       n_classes ? " conditional" : "n unconditional");
    for (int32_t i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: labels[%d] = %d is not in [0, %d)", who, (int)i,
                           (int)labels[i], (int)n_classes);
    return GM_OK;
}

gm_status gm_model_check_size(int32_t value, int32_t lo, int32_t hi, const char *field, int index, const char *who)
{
    if (value >= lo && value <= hi)
        return GM_OK;
    char name[48];
    snprintf(name, sizeof name, index < 0 ? "%s" : "%s[%d]", field, index);
    return gm_fail(GM_ERR_INVALID_ARG, "%s: %s must be in [%d, %d] (got %d)", who, name, (int)lo, (int)hi,
                   (int)value);
}

gm_status gm_model_check_hidden(int32_t count, const int32_t *widths, int max, const char *count_field,
                                const char *field, const char *who)
{
    gm_status s = gm_model_check_size(count, 0, max, count_field, -1, who);
    for (int i = 0; s == GM_OK && i < count; i++)
        s = gm_model_check_size(widths[i], 1, GM_MAX_DIM, field, i, who);
    return s;
}

void gm_model_net_init(gm_model_net *net, int in, const char *in_field, int n_hidden, const int32_t *hidden,
                       const char *hidden_field, int out, const char *out_field)
{
    net->n_layers = n_hidden + 1;
    net->width[0] = in;
    snprintf(net->field[0], sizeof net->field[0], "%s", in_field);
    for (int i = 0; i < n_hidden; i++) {
        net->width[i + 1] = hidden[i];
        snprintf(net->field[i + 1], sizeof net->field[i + 1], "%s[%d]", hidden_field, i);
    }
    net->width[n_hidden + 1] = out;
    snprintf(net->field[n_hidden + 1], sizeof net->field[n_hidden + 1], "%s", out_field);
}

gm_status gm_model_check_params(const gm_model_net *nets, int n, const char *who)
{
    /* widths are at most 2^25, so a layer's count is below 2^51 and the
     * sum of a dozen layers fits an int64 */
    int64_t total = 0, largest = -1;
    const gm_model_net *at = NULL;
    int layer = 0;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < nets[k].n_layers; i++) {
            int64_t count = ((int64_t)nets[k].width[i] + 1) * nets[k].width[i + 1];
            total += count;
            if (count > largest) {
                largest = count;
                at = &nets[k];
                layer = i;
            }
        }
    if (total <= GM_MAX_PARAMS)
        return GM_OK;
    return gm_fail(GM_ERR_INVALID_ARG,
                   "%s: %lld weights and biases are more than GM_MAX_PARAMS (%d); the largest layer maps %s = %d "
                   "to %s = %d",
                   who, (long long)total, GM_MAX_PARAMS, at->field[layer], at->width[layer], at->field[layer + 1],
                   at->width[layer + 1]);
}

gm_status gm_model_build_mlp(gm_net *mlp, gm_param_table *t, const char *prefix, const gm_model_net *net, int act,
                             int out_act, float slope, const char *who)
{
    int acts[GM_MODEL_MAX_LAYERS];
    for (int i = 0; i < net->n_layers; i++)
        acts[i] = i < net->n_layers - 1 ? act : out_act;
    return gm_net_init_mlp(mlp, t, prefix, net->n_layers, net->width, acts, slope, who);
}

void gm_model_onehot(float *rows, int ld, int at, const int32_t *labels, int N, int C)
{
    for (int n = 0; n < N; n++) {
        float *r = rows + (size_t)n * ld + at;
        memset(r, 0, (size_t)C * sizeof *r);
        r[labels[n]] = 1.0f;
    }
}
