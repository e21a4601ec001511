#include "report/heatmap.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>

#include "report/chart.h"

static void rgb(cairo_t *cr, uint32_t c) {
    cairo_set_source_rgb(cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0);
}

static void centered(cairo_t *cr, double x, double y, const char *s) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - te.width / 2 - te.x_bearing, y - te.height / 2 - te.y_bearing);
    cairo_show_text(cr, s);
}

bool heatmap_render_png(const heatmap *h, const char *png_path, char *err, size_t errlen) {
    if (!h || !h->nx || !h->ny) {
        snprintf(err, errlen, "nothing to draw in the heatmap");
        return false;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < h->nx * h->ny; i++)
        if (isfinite(h->values[i])) {
            if (h->values[i] < lo) lo = h->values[i];
            if (h->values[i] > hi) hi = h->values[i];
        }
    const int cell_w = 110, cell_h = 56, left = 130, top = 90, right = 40, bottom = 90;
    int w = left + right + cell_w * (int)h->nx, hgt = top + bottom + cell_h * (int)h->ny;
    if (w < 640) w = 640;
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, hgt);
    cairo_t *cr = cairo_create(sf);
    rgb(cr, CHART_BG);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 20);
    rgb(cr, CHART_TEXT);
    centered(cr, w / 2.0, 35, h->title ? h->title : "");
    cairo_set_font_size(cr, 15);
    for (size_t y = 0; y < h->ny; y++)
        for (size_t x = 0; x < h->nx; x++) {
            double v = h->values[y * h->nx + x];
            double cx = left + (double)x * cell_w, cy = top + (double)(h->ny - 1 - y) * cell_h;
            if (isfinite(v)) {
                /* red below zero, green above, scaled to the largest magnitude either way */
                double span = fmax(fabs(lo), fabs(hi));
                double t = span > 0 ? v / span : 0;
                double r = 0.19, g = 0.21, b = 0.24;
                if (t > 0) r = r * (1 - t) + 0.25 * t, g = g * (1 - t) + 0.73 * t, b = b * (1 - t) + 0.31 * t;
                else r = r * (1 + t) + 0.97 * -t, g = g * (1 + t) + 0.32 * -t, b = b * (1 + t) + 0.29 * -t;
                cairo_set_source_rgb(cr, r, g, b);
            } else {
                rgb(cr, CHART_GRID);
            }
            cairo_rectangle(cr, cx + 1, cy + 1, cell_w - 2, cell_h - 2);
            cairo_fill(cr);
            char buf[48];
            if (isfinite(v)) snprintf(buf, sizeof buf, "%.0f", v);
            else snprintf(buf, sizeof buf, "-");
            rgb(cr, 0xffffffu);
            centered(cr, cx + cell_w / 2.0, cy + cell_h / 2.0, buf);
        }
    rgb(cr, CHART_MUTED);
    for (size_t x = 0; x < h->nx; x++) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)h->xs[x]);
        centered(cr, left + ((double)x + 0.5) * cell_w, top + (double)h->ny * cell_h + 20, b);
    }
    for (size_t y = 0; y < h->ny; y++) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)h->ys[y]);
        centered(cr, left - 30, top + ((double)(h->ny - 1 - y) + 0.5) * cell_h, b);
    }
    rgb(cr, CHART_TEXT);
    centered(cr, left + (double)h->nx * cell_w / 2.0, top + (double)h->ny * cell_h + 55, h->x_name ? h->x_name : "");
    cairo_save(cr);
    cairo_translate(cr, 35, top + (double)h->ny * cell_h / 2.0);
    cairo_rotate(cr, -M_PI / 2);
    centered(cr, 0, 0, h->y_name ? h->y_name : "");
    cairo_restore(cr);
    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png(sf, png_path);
    cairo_surface_destroy(sf);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cannot write %s: %s", png_path, cairo_status_to_string(st));
        return false;
    }
    return true;
}
