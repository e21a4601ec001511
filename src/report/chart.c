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

static double base_of(const chart_input *in) {
    return in->base > 0 && isfinite(in->base) ? in->base : in->pts[0].equity;
}

void chart_geom_free(chart_geom *g) {
    free(g->gap_end);
    free(g->gap_cut);
    g->gap_end = g->gap_cut = NULL;
    g->ngaps = 0;
}

double chart_axis_x(const chart_geom *g, double t) {
    /* the last gap ending at or before t: binary search */
    size_t lo = 0, hi = g->ngaps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->gap_end[mid] <= t) lo = mid + 1;
        else hi = mid;
    }
    return lo ? t - g->gap_cut[lo - 1] : t;
}

bool chart_geometry(const chart_input *in, chart_geom *g) {
    memset(g, 0, sizeof *g);
    if (!in || !in->pts || !in->n) return false;
    const fig_point *p = in->pts;
    size_t n = in->n;
    g->width = in->width > 0 ? in->width : CHART_WIDTH;
    g->height = in->height > 0 ? in->height : CHART_HEIGHT;
    /* margins scale with the image; at 1800 x 750: 190 left, 50 right, 110 top, 130 bottom;
     * the equity takes 70 % of the height between, the drawdown panel the last 25 % */
    g->left = g->width * 0.1055;
    g->right = g->width - g->width * 0.028;
    double top = g->height * 0.147, bottom = g->height - g->height * (in->intraday ? 0.215 : 0.173), h = bottom - top;
    g->top = top;
    g->bottom = top + 0.70 * h;
    g->dd_top = top + 0.75 * h;
    g->dd_bottom = bottom;

    /* closed time: intraday, pauses over half an hour vanish; daily, every trading day is a step */
    g->gap_max = in->intraday ? FIG_INTRADAY_GAP_MAX : 1.0;
    g->gap_shown = in->intraday ? 0.0 : 1.0;
    size_t gaps = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i].t - p[i - 1].t > g->gap_max) gaps++;
    if (gaps) {
        g->gap_end = malloc(gaps * sizeof *g->gap_end);
        g->gap_cut = malloc(gaps * sizeof *g->gap_cut);
        if (!g->gap_end || !g->gap_cut) {
            chart_geom_free(g);
            return false;
        }
        double cut = 0;
        for (size_t i = 1; i < n; i++) {
            double d = p[i].t - p[i - 1].t;
            if (d <= g->gap_max) continue;
            cut += d - g->gap_shown;
            g->gap_end[g->ngaps] = p[i].t;
            g->gap_cut[g->ngaps++] = cut;
        }
    }

    double base = base_of(in);
    double lo = p[0].equity, hi = lo, running = base, dd_lo = 0;
    for (size_t i = 0; i < n; i++) {
        double e = p[i].equity;
        if (e < lo) lo = e;
        if (e > hi) hi = e;
        if (e > running) running = e;
        double dd = running > 0 ? (e - running) / running * 100.0 : 0;
        if (dd < dd_lo) dd_lo = dd;
    }
    g->floor = lo * 0.995;
    if (g->floor > lo) g->floor = lo; /* negative equity: keep the floor below the line */
    double span = hi - g->floor;
    if (span <= 0) span = fabs(hi) * 0.01 > 1 ? fabs(hi) * 0.01 : 1;
    g->y0 = g->floor - 0.05 * span;
    g->y1 = hi + 0.12 * span; /* room for the peak label */
    g->dd0 = dd_lo < 0 ? dd_lo * 1.15 : -0.1;

    double d0 = chart_axis_x(g, p[0].t), d1 = chart_axis_x(g, p[n - 1].t);
    if (d1 <= d0) d0 -= in->intraday ? 1.0 / 24 : 1, d1 += in->intraday ? 1.0 / 24 : 1;
    double pad = (d1 - d0) * 0.03;
    g->x0 = d0 - pad;
    g->x1 = d1 + pad;
    g->line_rgb = p[n - 1].equity >= base ? CHART_UP : CHART_DOWN;
    return true;
}

void chart_map(const chart_geom *g, double t, double equity, double *px, double *py) {
    *px = g->left + (chart_axis_x(g, t) - g->x0) / (g->x1 - g->x0) * (g->right - g->left);
    *py = g->bottom - (equity - g->y0) / (g->y1 - g->y0) * (g->bottom - g->top);
}

void chart_map_dd(const chart_geom *g, double t, double dd_pct, double *px, double *py) {
    *px = g->left + (chart_axis_x(g, t) - g->x0) / (g->x1 - g->x0) * (g->right - g->left);
    *py = g->dd_top + dd_pct / g->dd0 * (g->dd_bottom - g->dd_top);
}

void chart_title(const fig_curve *headline, const fig_curve *intraday, char *out, size_t cap) {
    char a[32], b[32], dd[96];
    equity_format_money(headline->base, a, sizeof a);
    equity_format_money(headline->final, b, sizeof b);
    if (intraday)
        snprintf(dd, sizeof dd, "%.2f%% (daily closes), %.2f%% intraday", headline->max_dd_pct, intraday->max_dd_pct);
    else snprintf(dd, sizeof dd, "%.2f%%", headline->max_dd_pct);
    snprintf(out, cap, "Equity Curve  \u2022  Return: %+.2f%%  \u2022  Max DD: %s  \u2022  %s \u2192 %s",
             headline->return_pct, dd, a, b);
}

void chart_subtitle(const fig_curve *c, char *out, size_t cap) {
    char a[11], b[11];
    equity_format_date((int64_t)floor(c->first_t), a);
    equity_format_date((int64_t)floor(c->last_t), b);
    snprintf(out, cap, "%s to %s (%zu day%s)", a, b, c->n, c->n == 1 ? "" : "s");
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

static void hline(cairo_t *cr, const chart_geom *g, double y, const char *lab) {
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
    text_at(cr, g->left - 12, y, lab, 1, 0.5);
}

/* A vertical grid line through both panels, a tick and a label rotated 45° under the
 * drawdown panel; strong marks a session start. Returns the x used. */
static double x_tick(cairo_t *cr, const chart_geom *g, double x, const char *lab, bool strong) {
    rgb(cr, strong ? CHART_MUTED : CHART_GRID, strong ? 0.35 : 0.1);
    cairo_set_line_width(cr, 0.8 * PT);
    if (strong) cairo_set_dash(cr, (const double[]){6, 4}, 2, 0);
    cairo_move_to(cr, x, g->top);
    cairo_line_to(cr, x, g->dd_bottom);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    rgb(cr, CHART_MUTED, 1);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, x, g->dd_bottom);
    cairo_line_to(cr, x, g->dd_bottom + 7);
    cairo_stroke(cr);
    cairo_text_extents_t te;
    cairo_text_extents(cr, lab, &te);
    cairo_save(cr);
    cairo_translate(cr, x, g->dd_bottom + 12);
    cairo_rotate(cr, -M_PI / 4);
    cairo_move_to(cr, -te.x_advance, te.height * 0.5);
    cairo_show_text(cr, lab);
    cairo_restore(cr);
    return x;
}

static void fmt_day_time(double t, bool with_date, char *out, size_t cap) {
    int64_t mi = (int64_t)llround(t * 1440.0);
    int64_t day = mi >= 0 ? mi / 1440 : -((-mi + 1439) / 1440);
    int mod = (int)(mi - day * 1440);
    if (with_date) {
        char d[11];
        equity_format_date(day, d);
        snprintf(out, cap, "%s %02d:%02d", d, mod / 60, mod % 60);
    } else {
        snprintf(out, cap, "%02d:%02d", mod / 60, mod % 60);
    }
}

/* Time labels of an intraday curve: each session's start with its date and year, then round
 * times inside it, a step giving ~10 labels over the open time; none closer than 28 px. */
static void time_ticks(cairo_t *cr, const chart_geom *g, const fig_point *p, size_t n) {
    static const int steps[] = {5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440};
    double open_min = (g->x1 - g->x0) * 1440.0;
    int step = 1440;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (open_min / steps[i] <= 10) {
            step = steps[i];
            break;
        }
    double last_x = -1e9;
    size_t s0 = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && p[i].t - p[i - 1].t <= g->gap_max) continue;
        /* a session: points s0 .. i-1 */
        double x, y;
        char lab[40];
        chart_map(g, p[s0].t, g->y0, &x, &y);
        fmt_day_time(p[s0].t, true, lab, sizeof lab);
        last_x = x_tick(cr, g, x, lab, s0 > 0);
        for (double m = ceil(p[s0].t * 1440.0 / step + 1e-9) * step; m <= p[i - 1].t * 1440.0 + 1e-6; m += step) {
            chart_map(g, m / 1440.0, g->y0, &x, &y);
            if (x - last_x < 28) continue;
            fmt_day_time(m / 1440.0, fmod(m, 1440.0) == 0, lab, sizeof lab);
            last_x = x_tick(cr, g, x, lab, false);
        }
        s0 = i;
    }
}

/* Date labels of a daily curve: every k-th trading day, ~12 in all, YYYY-MM-DD. */
static void day_ticks(cairo_t *cr, const chart_geom *g, const fig_point *p, size_t n) {
    size_t every = n <= 12 ? 1 : (n + 11) / 12;
    for (size_t i = 0; i < n; i += every) {
        double x, y;
        char lab[11];
        chart_map(g, p[i].t, g->y0, &x, &y);
        equity_format_date((int64_t)floor(p[i].t), lab);
        x_tick(cr, g, x, lab, false);
    }
}

static void draw_axes(cairo_t *cr, const chart_geom *g, const chart_input *in) {
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 9 * PT);
    /* equity: NT$ grid */
    double step = nice_step(g->y1 - g->y0, 6);
    if (step < 1) step = 1;
    for (double v = ceil(g->y0 / step) * step; v <= g->y1 + 1e-9; v += step) {
        double x, y;
        chart_map(g, in->pts[0].t, v, &x, &y);
        char lab[48];
        equity_format_money(v, lab, sizeof lab);
        hline(cr, g, y, lab);
    }
    /* drawdown: % grid, 0 at the top */
    double ds = nice_step(-g->dd0, 3);
    for (double v = 0; v >= g->dd0 - 1e-12; v -= ds) {
        double x, y;
        chart_map_dd(g, in->pts[0].t, v, &x, &y);
        char lab[32];
        int dec = ds >= 1 ? 0 : ds >= 0.1 ? 1 : ds >= 0.01 ? 2 : 3;
        snprintf(lab, sizeof lab, "%.*f%%", dec, v == 0 ? 0.0 : v);
        hline(cr, g, y, lab);
    }
    if (in->intraday) time_ticks(cr, g, in->pts, in->n);
    else day_ticks(cr, g, in->pts, in->n);
    /* left and bottom spines of each panel; top and right hidden */
    rgb(cr, CHART_GRID, 1);
    cairo_set_line_width(cr, 1.5);
    cairo_move_to(cr, g->left, g->top);
    cairo_line_to(cr, g->left, g->bottom);
    cairo_line_to(cr, g->right, g->bottom);
    cairo_move_to(cr, g->left, g->dd_top);
    cairo_line_to(cr, g->left, g->dd_bottom);
    cairo_line_to(cr, g->right, g->dd_bottom);
    cairo_stroke(cr);
    rgb(cr, CHART_MUTED, 1);
    text_at(cr, g->left + 8, g->dd_top + 4, "Drawdown", 0, 0);
}

static void draw_series(cairo_t *cr, const chart_input *in, const chart_geom *g, const fig_curve *c) {
    const fig_point *p = in->pts;
    size_t n = in->n;
    double x, y, fx, fy;
    /* area */
    chart_map(g, p[0].t, g->floor, &fx, &fy);
    cairo_move_to(cr, fx, fy);
    for (size_t i = 0; i < n; i++) {
        chart_map(g, p[i].t, p[i].equity, &x, &y);
        cairo_line_to(cr, x, y);
    }
    chart_map(g, p[n - 1].t, g->floor, &x, &y);
    cairo_line_to(cr, x, y);
    cairo_close_path(cr);
    rgb(cr, g->line_rgb, 0.15);
    cairo_fill(cr);
    /* line */
    for (size_t i = 0; i < n; i++) {
        chart_map(g, p[i].t, p[i].equity, &x, &y);
        if (i == 0) cairo_move_to(cr, x, y);
        else cairo_line_to(cr, x, y);
    }
    if (n == 1) cairo_rel_line_to(cr, 0, 0);
    rgb(cr, g->line_rgb, 1);
    cairo_set_line_width(cr, 2 * PT);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
    /* markers: start (grey), end (line colour), peak (green triangle) */
    chart_map(g, p[0].t, p[0].equity, &x, &y);
    rgb(cr, CHART_MUTED, 1);
    cairo_arc(cr, x, y, 4 * PT, 0, 2 * M_PI);
    cairo_fill(cr);
    chart_map(g, p[n - 1].t, p[n - 1].equity, &x, &y);
    rgb(cr, g->line_rgb, 1);
    cairo_arc(cr, x, y, 4 * PT, 0, 2 * M_PI);
    cairo_fill(cr);
    chart_map(g, p[c->peak_index].t, c->peak, &x, &y);
    double r = 6 * PT;
    rgb(cr, CHART_PEAK, 1);
    cairo_move_to(cr, x, y - r);
    cairo_line_to(cr, x + r * 0.866, y + r * 0.5);
    cairo_line_to(cr, x - r * 0.866, y + r * 0.5);
    cairo_close_path(cr);
    cairo_fill(cr);
}

/* The equity at time t on the curve: the last point at or before it. */
static double equity_at(const fig_point *p, size_t n, double t) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p[mid].t <= t) lo = mid + 1;
        else hi = mid;
    }
    return p[lo ? lo - 1 : 0].equity;
}

/* Entries: a triangle pointing the trade's way (up buy, down sell) under or over the line;
 * exits: a dot, green for a win, red for a loss. */
static void draw_marks(cairo_t *cr, const chart_input *in, const chart_geom *g) {
    double r = 4.5 * PT;
    for (size_t i = 0; i < in->nmarks; i++) {
        const chart_mark *m = &in->marks[i];
        double x, y;
        chart_map(g, m->t, equity_at(in->pts, in->n, m->t), &x, &y);
        if (m->kind == CHART_MARK_BUY || m->kind == CHART_MARK_SELL) {
            double dir = m->kind == CHART_MARK_BUY ? 1 : -1, cy = y + dir * 2.2 * r;
            cairo_move_to(cr, x, cy - dir * r);
            cairo_line_to(cr, x + r, cy + dir * r * 0.8);
            cairo_line_to(cr, x - r, cy + dir * r * 0.8);
            cairo_close_path(cr);
            rgb(cr, CHART_ENTRY, 1);
        } else {
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, y, r * 0.8, 0, 2 * M_PI);
            rgb(cr, m->kind == CHART_MARK_EXIT_WIN ? CHART_PEAK : CHART_DD, 1);
        }
        cairo_fill_preserve(cr);
        rgb(cr, CHART_BG, 1);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
    }
}

static void draw_drawdown(cairo_t *cr, const chart_input *in, const chart_geom *g, const double *dd) {
    double x, y, x0, y0;
    chart_map_dd(g, in->pts[0].t, 0, &x0, &y0);
    cairo_move_to(cr, x0, y0);
    for (size_t i = 0; i < in->n; i++) {
        chart_map_dd(g, in->pts[i].t, dd[i], &x, &y);
        cairo_line_to(cr, x, y);
    }
    chart_map_dd(g, in->pts[in->n - 1].t, 0, &x, &y);
    cairo_line_to(cr, x, y);
    cairo_close_path(cr);
    rgb(cr, CHART_DD, 0.35);
    cairo_fill_preserve(cr);
    rgb(cr, CHART_DD, 0.9);
    cairo_set_line_width(cr, 1.0 * PT);
    cairo_stroke(cr);
}

static void draw_peak_label(cairo_t *cr, const chart_input *in, const chart_geom *g, const fig_curve *c) {
    double x, y;
    chart_map(g, in->pts[c->peak_index].t, c->peak, &x, &y);
    char lab[64], money[32];
    equity_format_money(c->peak, money, sizeof money);
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

static bool figures_of(const chart_input *in, chart_figures *f) {
    memset(f, 0, sizeof *f);
    if (!in || !in->pts || !in->n) return false;
    double base = base_of(in);
    if (!fig_curve_compute(in->pts, in->n, base, &f->curve)) return false;
    if (in->daily && in->daily->n) return fig_curve_daily(in->daily, base, &f->headline);
    f->headline = f->curve;
    return true;
}

bool chart_render(const chart_input *in, const char *png_path, chart_figures *drawn, char *err, size_t errlen) {
    chart_figures f;
    chart_geom g;
    if (!figures_of(in, &f)) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    double *dd = malloc(in->n * sizeof *dd);
    if (!dd || !chart_geometry(in, &g)) {
        free(dd);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    fig_drawdown_series(in->pts, in->n, base_of(in), dd);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g.width, g.height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_surface_status(surf)));
        cairo_surface_destroy(surf);
        chart_geom_free(&g);
        free(dd);
        return false;
    }
    cairo_t *cr = cairo_create(surf);
    rgb(cr, CHART_BG, 1);
    cairo_paint(cr);

    draw_axes(cr, &g, in);
    /* clip each series to its panel, with room for markers at the edges */
    cairo_save(cr);
    cairo_rectangle(cr, g.left - 16, 0, g.right - g.left + 32, g.bottom);
    cairo_clip(cr);
    draw_series(cr, in, &g, &f.curve);
    draw_marks(cr, in, &g);
    cairo_restore(cr);
    cairo_save(cr);
    cairo_rectangle(cr, g.left, g.dd_top, g.right - g.left + 16, g.dd_bottom - g.dd_top);
    cairo_clip(cr);
    draw_drawdown(cr, in, &g, dd);
    cairo_restore(cr);
    draw_peak_label(cr, in, &g, &f.curve);

    char title[256], sub[512];
    chart_title(&f.headline, in->daily ? &f.curve : NULL, title, sizeof title);
    if (in->subtitle) snprintf(sub, sizeof sub, "%s", in->subtitle);
    else chart_subtitle(&f.curve, sub, sizeof sub);
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
    chart_geom_free(&g);
    free(dd);
    if (rc != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cannot write %s: %s", png_path, cairo_status_to_string(rc));
        return false;
    }
    if (drawn) *drawn = f;
    return true;
}

bool chart_render_daily(const equity_series *s, double base, const char *png_path, int width, int height,
                        chart_figures *drawn, char *err, size_t errlen) {
    if (!s || !s->n) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    fig_point *p = malloc(s->n * sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < s->n; i++) p[i] = (fig_point){(double)s->pts[i].day, s->pts[i].equity};
    chart_input in = {.pts = p, .n = s->n, .base = base, .width = width, .height = height};
    bool ok = chart_render(&in, png_path, drawn, err, errlen);
    free(p);
    return ok;
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
