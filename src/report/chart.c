/* The equity chart with cairo. Sizes follow the original's matplotlib figure (12 x 5 in at
 * 150 dpi): one point is 150/72 px, so its 2 pt line is ~4 px, 11 pt title ~23 px. */
#include "report/chart.h"

#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT (150.0 / 72.0)
#define FONT "DejaVu Sans"

static void rgb(cairo_t *cr, uint32_t c, double alpha) {
    cairo_set_source_rgba(cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0, alpha);
}

/* The geometry of n points with x in days; first/last equity decide the line colour. */
static bool geom_points(const chart_point *p, size_t n, int width, int height, chart_geom *g) {
    memset(g, 0, sizeof *g);
    if (!p || !n) return false;
    g->width = width > 0 ? width : CHART_WIDTH;
    g->height = height > 0 ? height : CHART_HEIGHT;
    /* margins scale with the image; at 1800 x 750: 190 left, 50 right, 110 top, 130 bottom */
    g->left = g->width * 0.1055;
    g->right = g->width - g->width * 0.028;
    g->top = g->height * 0.147;
    g->bottom = g->height - g->height * 0.173;

    double lo = p[0].equity, hi = lo;
    for (size_t i = 1; i < n; i++) {
        if (p[i].equity < lo) lo = p[i].equity;
        if (p[i].equity > hi) hi = p[i].equity;
    }
    g->floor = lo * 0.995;
    if (g->floor > lo) g->floor = lo; /* negative equity: keep the floor below the line */
    double span = hi - g->floor;
    if (span <= 0) span = fabs(hi) * 0.01 > 1 ? fabs(hi) * 0.01 : 1;
    g->y0 = g->floor - 0.05 * span;
    g->y1 = hi + 0.12 * span; /* room for the peak label */

    double d0 = p[0].x, d1 = p[n - 1].x;
    if (d1 <= d0) d0 -= 1, d1 += 1;
    double pad = (d1 - d0) * 0.03;
    g->x0 = d0 - pad;
    g->x1 = d1 + pad;
    g->line_rgb = p[n - 1].equity >= p[0].equity ? CHART_UP : CHART_DOWN;
    return true;
}

/* The daily series as chart points (x = the day); NULL when empty or out of memory. */
static chart_point *series_points(const equity_series *s) {
    if (!s || !s->n) return NULL;
    chart_point *p = malloc(s->n * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < s->n; i++) p[i] = (chart_point){(double)s->pts[i].day, s->pts[i].equity};
    return p;
}

bool chart_geometry(const equity_series *s, int width, int height, chart_geom *g) {
    chart_point *p = series_points(s);
    bool ok = p && geom_points(p, s->n, width, height, g);
    if (!p) memset(g, 0, sizeof *g);
    free(p);
    return ok;
}

void chart_map(const chart_geom *g, double day, double equity, double *px, double *py) {
    *px = g->left + (day - g->x0) / (g->x1 - g->x0) * (g->right - g->left);
    *py = g->bottom - (equity - g->y0) / (g->y1 - g->y0) * (g->bottom - g->top);
}

void chart_title(const equity_stats *st, char *out, size_t cap) {
    char a[32], b[32];
    equity_format_money(st->initial, a, sizeof a);
    equity_format_money(st->final, b, sizeof b);
    snprintf(out, cap, "Equity Curve  \u2022  Return: %+.1f%%  \u2022  Max DD: %.1f%%  \u2022  %s \u2192 %s",
             st->return_pct, st->max_dd_pct, a, b);
}

void chart_subtitle(const equity_stats *st, char *out, size_t cap) {
    char a[11], b[11];
    equity_format_date(st->first_day, a);
    equity_format_date(st->last_day, b);
    snprintf(out, cap, "%s to %s (%zu day%s)", a, b, st->rows, st->rows == 1 ? "" : "s");
}

static double nice_step(double span, int target) {
    double raw = span / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nf * mag;
}

/* Text anchored by (ax, ay) in [0,1] of its extents: 0,0 = left/top, 1,1 = right/bottom. */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - te.x_bearing - te.width * ax, y - te.y_bearing - te.height * ay);
    cairo_show_text(cr, s);
}

static void x_tick(cairo_t *cr, const chart_geom *g, double xv, const char *lab) {
    double x, y;
    chart_map(g, xv, g->y0, &x, &y);
    if (x < g->left || x > g->right) return;
    rgb(cr, CHART_GRID, 0.1);
    cairo_set_line_width(cr, 0.8 * PT);
    cairo_move_to(cr, x, g->top);
    cairo_line_to(cr, x, g->bottom);
    cairo_stroke(cr);
    rgb(cr, CHART_MUTED, 1);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, x, g->bottom);
    cairo_line_to(cr, x, g->bottom + 7);
    cairo_stroke(cr);
    cairo_text_extents_t te;
    cairo_text_extents(cr, lab, &te);
    cairo_save(cr);
    cairo_translate(cr, x, g->bottom + 12);
    cairo_rotate(cr, -M_PI / 4);
    cairo_move_to(cr, -te.x_advance, te.height * 0.5);
    cairo_show_text(cr, lab);
    cairo_restore(cr);
}

/* Time-of-day ticks for a curve of a few days: a round step giving at most ~12 ticks; the
 * first tick and each midnight also show the date. */
static void time_ticks(cairo_t *cr, const chart_geom *g) {
    static const int steps[] = {5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440};
    double span_min = (g->x1 - g->x0) * 1440.0;
    int step = 1440;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span_min / steps[i] <= 12) {
            step = steps[i];
            break;
        }
    double m0 = ceil(g->x0 * 1440.0 / step) * step;
    bool first = true;
    for (double m = m0; m <= g->x1 * 1440.0 + 1e-6; m += step) {
        int64_t mi = (int64_t)llround(m);
        int64_t day = mi >= 0 ? mi / 1440 : -((-mi + 1439) / 1440);
        int mod = (int)(mi - day * 1440);
        char lab[32];
        if (first || mod == 0) {
            int yy, mm, dd;
            equity_civil(day, &yy, &mm, &dd);
            snprintf(lab, sizeof lab, "%02d/%02d %02d:%02d", mm % 100, dd % 100, mod / 60, mod % 60);
        } else {
            snprintf(lab, sizeof lab, "%02d:%02d", mod / 60, mod % 60);
        }
        x_tick(cr, g, m / 1440.0, lab);
        first = false;
    }
}

static void draw_axes(cairo_t *cr, const chart_geom *g, int64_t first_day, bool intraday) {
    /* y grid + labels */
    double step = nice_step(g->y1 - g->y0, 8);
    if (step < 1) step = 1;
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 9 * PT);
    for (double v = ceil(g->y0 / step) * step; v <= g->y1 + 1e-9; v += step) {
        double x, y;
        chart_map(g, g->x0, v, &x, &y);
        rgb(cr, CHART_GRID, 0.1);
        cairo_set_line_width(cr, 0.8 * PT);
        cairo_move_to(cr, g->left, y);
        cairo_line_to(cr, g->right, y);
        cairo_stroke(cr);
        rgb(cr, CHART_MUTED, 1);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, g->left - 7, y);
        cairo_line_to(cr, g->left, y);
        cairo_stroke(cr);
        char lab[48];
        equity_format_money(v, lab, sizeof lab);
        text_at(cr, g->left - 12, y, lab, 1, 0.5);
    }
    /* x grid + labels: weekly (daily for short ranges), %m/%d rotated 45°; times of day for
     * an intraday curve of up to 3 days */
    double days = g->x1 - g->x0;
    if (intraday && days <= 3.5) {
        time_ticks(cr, g);
        goto spines;
    }
    int every = days <= 10 ? 1 : 7 * (int)ceil(days / 7 / 12);
    int64_t d0 = first_day; /* ticks fall on the first day and every `every` days from it */
    while ((double)(d0 - every) >= g->x0) d0 -= every;
    for (int64_t d = d0; (double)d <= g->x1; d += every) {
        int yy, mm, dd;
        equity_civil(d, &yy, &mm, &dd);
        char lab[8];
        snprintf(lab, sizeof lab, "%02d/%02d", mm % 100, dd % 100);
        x_tick(cr, g, (double)d, lab);
    }
spines:
    /* left and bottom spines; top and right hidden */
    rgb(cr, CHART_GRID, 1);
    cairo_set_line_width(cr, 1.5);
    cairo_move_to(cr, g->left, g->top);
    cairo_line_to(cr, g->left, g->bottom);
    cairo_line_to(cr, g->right, g->bottom);
    cairo_stroke(cr);
}

static void draw_series(cairo_t *cr, const chart_point *p, size_t n, const chart_geom *g, const equity_stats *st) {
    double x, y, fx, fy;
    /* area */
    chart_map(g, p[0].x, g->floor, &fx, &fy);
    cairo_move_to(cr, fx, fy);
    for (size_t i = 0; i < n; i++) {
        chart_map(g, p[i].x, p[i].equity, &x, &y);
        cairo_line_to(cr, x, y);
    }
    chart_map(g, p[n - 1].x, g->floor, &x, &y);
    cairo_line_to(cr, x, y);
    cairo_close_path(cr);
    rgb(cr, g->line_rgb, 0.15);
    cairo_fill(cr);
    /* line */
    for (size_t i = 0; i < n; i++) {
        chart_map(g, p[i].x, p[i].equity, &x, &y);
        if (i == 0) cairo_move_to(cr, x, y);
        else cairo_line_to(cr, x, y);
    }
    if (n == 1) cairo_rel_line_to(cr, 0, 0);
    rgb(cr, g->line_rgb, 1);
    cairo_set_line_width(cr, 2 * PT);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
    /* markers: start (grey), end (line colour), peak (green triangle + label) */
    chart_map(g, p[0].x, p[0].equity, &x, &y);
    rgb(cr, CHART_MUTED, 1);
    cairo_arc(cr, x, y, 4 * PT, 0, 2 * M_PI);
    cairo_fill(cr);
    chart_map(g, p[n - 1].x, p[n - 1].equity, &x, &y);
    rgb(cr, g->line_rgb, 1);
    cairo_arc(cr, x, y, 4 * PT, 0, 2 * M_PI);
    cairo_fill(cr);
    chart_map(g, p[st->peak_index].x, st->peak, &x, &y);
    double r = 6 * PT;
    rgb(cr, CHART_PEAK, 1);
    cairo_move_to(cr, x, y - r);
    cairo_line_to(cr, x + r * 0.866, y + r * 0.5);
    cairo_line_to(cr, x - r * 0.866, y + r * 0.5);
    cairo_close_path(cr);
    cairo_fill(cr);
}

static void draw_peak_label(cairo_t *cr, const chart_point *p, const chart_geom *g, const equity_stats *st) {
    double x, y;
    chart_map(g, p[st->peak_index].x, st->peak, &x, &y);
    char lab[64], money[32];
    equity_format_money(st->peak, money, sizeof money);
    snprintf(lab, sizeof lab, "Peak: %s", money);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 9 * PT);
    rgb(cr, CHART_PEAK, 1);
    cairo_text_extents_t te;
    cairo_text_extents(cr, lab, &te);
    double lx = x - te.width / 2;
    if (lx + te.width > g->width - 8) lx = g->width - 8 - te.width; /* keep it on the image */
    if (lx < 8) lx = 8;
    cairo_move_to(cr, lx - te.x_bearing, y - 12 * PT);
    cairo_show_text(cr, lab);
}

/* Draws n points (x in days) with the stats st (title) and the subtitle to png_path. */
static bool render(const chart_point *p, size_t n, const equity_stats *st, const char *sub, bool intraday,
                   const char *png_path, int width, int height, char *err, size_t errlen) {
    chart_geom g;
    if (!geom_points(p, n, width, height, &g)) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g.width, g.height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_surface_status(surf)));
        cairo_surface_destroy(surf);
        return false;
    }
    cairo_t *cr = cairo_create(surf);
    rgb(cr, CHART_BG, 1);
    cairo_paint(cr);

    draw_axes(cr, &g, (int64_t)floor(p[0].x), intraday);
    /* clip the series to the axes area, with room for markers at the edges */
    cairo_save(cr);
    cairo_rectangle(cr, g.left - 16, 0, g.right - g.left + 32, g.bottom);
    cairo_clip(cr);
    draw_series(cr, p, n, &g, st);
    cairo_restore(cr);
    draw_peak_label(cr, p, &g, st);

    char title[256];
    chart_title(st, title, sizeof title);
    double cx = (g.left + g.right) / 2;
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 11 * PT);
    rgb(cr, CHART_TEXT, 1);
    text_at(cr, cx, g.top * 0.18, title, 0.5, 0);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 9 * PT);
    rgb(cr, CHART_MUTED, 1);
    text_at(cr, cx, g.top * 0.56, sub, 0.5, 0);

    cairo_destroy(cr);
    cairo_surface_flush(surf);
    cairo_status_t rc = cairo_surface_write_to_png(surf, png_path);
    cairo_surface_destroy(surf);
    if (rc != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cannot write %s: %s", png_path, cairo_status_to_string(rc));
        return false;
    }
    return true;
}

bool chart_render_png(const equity_series *s, const char *png_path, int width, int height, char *err,
                      size_t errlen) {
    equity_stats st;
    if (!s || !s->n || !equity_compute_stats(s, &st)) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    chart_point *p = series_points(s);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    char sub[128];
    chart_subtitle(&st, sub, sizeof sub);
    bool ok = render(p, s->n, &st, sub, false, png_path, width, height, err, errlen);
    free(p);
    return ok;
}

bool chart_curve_stats(const chart_point *pts, size_t n, equity_stats *st) {
    memset(st, 0, sizeof *st);
    if (!pts || !n) return false;
    st->rows = n;
    st->initial = st->peak = st->trough = pts[0].equity;
    st->final = pts[n - 1].equity;
    st->first_day = (int64_t)floor(pts[0].x);
    st->last_day = (int64_t)floor(pts[n - 1].x);
    double running = st->initial;
    for (size_t i = 0; i < n; i++) {
        double e = pts[i].equity;
        if (e > st->peak) st->peak = e, st->peak_index = i;
        if (e < st->trough) st->trough = e;
        if (e > running) running = e;
        if (running > 0) {
            double dd = (e - running) / running * 100.0;
            if (dd < st->max_dd_pct) st->max_dd_pct = dd;
        }
    }
    st->return_pct = st->initial > 0 ? (st->final - st->initial) / st->initial * 100.0 : 0.0;
    return true;
}

bool chart_render_curve_png(const chart_point *pts, size_t n, const char *subtitle, const char *png_path, int width,
                            int height, char *err, size_t errlen) {
    equity_stats st;
    if (!chart_curve_stats(pts, n, &st)) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    char sub[256];
    if (subtitle) {
        snprintf(sub, sizeof sub, "%s", subtitle);
    } else {
        char a[11], b[11];
        equity_format_date(st.first_day, a);
        equity_format_date(st.last_day, b);
        snprintf(sub, sizeof sub, "%s to %s", a, b);
    }
    return render(pts, n, &st, sub, true, png_path, width, height, err, errlen);
}

void chart_release_caches(void) {
    cairo_debug_reset_static_data();
    /* fontconfig is loaded by cairo, not linked by us: find FcFini in the process's scope */
    void *self = dlopen(NULL, RTLD_LAZY);
    if (!self) return;
    void *sym = dlsym(self, "FcFini");
    if (sym) {
        void (*fini)(void);
        memcpy(&fini, &sym, sizeof fini);
        fini();
    }
    dlclose(self);
}
