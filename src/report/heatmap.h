/* A heatmap PNG (cairo) of one figure over two parameters: a grid of cells coloured from red
 * (worst) through grey to green (best), each with its value, the axes named. Used by
 * aftm optimize; knows nothing of backtests. */
#ifndef AFTM_HEATMAP_H
#define AFTM_HEATMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *title;
    const char *x_name, *y_name;
    const int64_t *xs, *ys;  /* nx / ny axis values */
    size_t nx, ny;
    const double *values;    /* ny rows of nx; NAN = no value */
} heatmap;

/* False with err when there is nothing to draw or the file cannot be written. */
bool heatmap_render_png(const heatmap *h, const char *png_path, char *err, size_t errlen);

#endif
