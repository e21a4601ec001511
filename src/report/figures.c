/* Figures of equity curves and trades (see figures.h). */
#include "report/figures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool fig_curve_compute(const fig_point *p, size_t n, double base, fig_curve *out) {
    memset(out, 0, sizeof *out);
    if (!p || !n) return false;
    if (!(base > 0) || !isfinite(base)) base = p[0].equity;
    out->n = n;
    out->base = base;
    out->final = p[n - 1].equity;
    out->peak = out->trough = p[0].equity;
    out->first_t = p[0].t;
    out->last_t = p[n - 1].t;
    double running = base, running_t = p[0].t;
    bool under = false;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        double e = p[i].equity;
        if (e > out->peak) out->peak = e, out->peak_index = i;
        if (e < out->trough) out->trough = e;
        if (e >= running) {
            if (under && p[i].t - running_t > out->dd_duration) out->dd_duration = p[i].t - running_t;
            under = false;
            run = 0;
            running = e;
            running_t = p[i].t;
            continue;
        }
        under = true;
        if (++run > out->dd_points) out->dd_points = run;
        double dd = e - running;
        if (dd < out->max_dd) out->max_dd = dd;
        if (running > 0) {
            double pct = dd / running * 100.0;
            if (pct < out->max_dd_pct) out->max_dd_pct = pct, out->dd_trough_index = i;
        }
    }
    if (under && p[n - 1].t - running_t > out->dd_duration) out->dd_duration = p[n - 1].t - running_t;
    out->return_pct = base > 0 ? (out->final - base) / base * 100.0 : 0.0;
    return true;
}

bool fig_curve_daily(const equity_series *s, double base, fig_curve *out) {
    memset(out, 0, sizeof *out);
    if (!s || !s->n) return false;
    fig_point *p = malloc(s->n * sizeof *p);
    if (!p) return false;
    for (size_t i = 0; i < s->n; i++) p[i] = (fig_point){(double)s->pts[i].day, s->pts[i].equity};
    bool ok = fig_curve_compute(p, s->n, base, out);
    free(p);
    return ok;
}

void fig_collapse_closed(fig_point *p, size_t n, double gap_max) {
    double cut = 0;
    for (size_t i = 1; i < n; i++) {
        double gap = p[i].t + cut - p[i - 1].t; /* p[i - 1] is already shifted */
        if (gap > gap_max) cut -= gap;
        p[i].t += cut;
    }
}

void fig_drawdown_series(const fig_point *p, size_t n, double base, double *dd) {
    if (!p || !n) return;
    double running = !(base > 0) || !isfinite(base) ? p[0].equity : base;
    for (size_t i = 0; i < n; i++) {
        if (p[i].equity > running) running = p[i].equity;
        dd[i] = running > 0 ? (p[i].equity - running) / running * 100.0 : 0.0;
        if (dd[i] > 0) dd[i] = 0;
    }
}

void fig_ratios_compute(const equity_series *daily, double base, fig_ratios *out) {
    memset(out, 0, sizeof *out);
    if (!daily || !daily->n) return;
    if (!(base > 0) || !isfinite(base)) base = daily->pts[0].equity;
    double prev = base, sum = 0, sq = 0, down = 0;
    size_t m = 0, losing = 0;
    for (size_t i = 0; i < daily->n; i++) {
        double e = daily->pts[i].equity;
        if (prev > 0) {
            double r = e / prev - 1;
            sum += r;
            sq += r * r;
            if (r < 0) down += r * r, losing++;
            m++;
        }
        prev = e;
    }
    out->days = m;
    double final = daily->pts[daily->n - 1].equity;
    if (m && base > 0 && final > 0)
        out->annual_return_pct = (pow(final / base, FIG_TRADING_DAYS / (double)m) - 1) * 100.0;
    if (m < 2) return;
    double mean = sum / (double)m;
    double var = (sq - (double)m * mean * mean) / (double)(m - 1);
    if (var > 1e-30) {
        out->sharpe = mean / sqrt(var) * sqrt(FIG_TRADING_DAYS);
        out->sharpe_valid = true;
    }
    if (losing && down > 1e-30) {
        out->sortino = mean / sqrt(down / (double)m) * sqrt(FIG_TRADING_DAYS);
        out->sortino_valid = true;
    }
    fig_curve c;
    if (fig_curve_daily(daily, base, &c) && c.max_dd_pct < 0 && final > 0) {
        out->calmar = out->annual_return_pct / -c.max_dd_pct;
        out->calmar_valid = isfinite(out->calmar);
    }
}

void fig_trades_compute(const double *net, size_t n, size_t days, fig_trades *out) {
    memset(out, 0, sizeof *out);
    size_t run_w = 0, run_l = 0;
    for (size_t i = 0; i < n; i++) {
        double v = net[i];
        out->trades++;
        out->net += v;
        if (v > 0) {
            out->wins++, out->gross_profit += v;
            run_l = 0;
            if (++run_w > out->win_streak) out->win_streak = run_w;
        } else if (v < 0) {
            out->losses++, out->gross_loss += v;
            run_w = 0;
            if (++run_l > out->loss_streak) out->loss_streak = run_l;
        } else {
            run_w = run_l = 0;
        }
    }
    if (!n) return;
    out->win_rate = (double)out->wins / (double)n;
    out->expectancy = out->net / (double)n;
    if (out->wins) out->avg_win = out->gross_profit / (double)out->wins;
    if (out->losses) out->avg_loss = out->gross_loss / (double)out->losses;
    if (out->gross_loss < 0) out->profit_factor = out->gross_profit / -out->gross_loss;
    else out->profit_factor = out->gross_profit > 0 ? INFINITY : 0;
    out->trades_per_day = days ? (double)n / (double)days : 0;
}
