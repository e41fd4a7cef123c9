/* report_plot.c -- the report's figures: gnuplot scripts and data files, and running gnuplot. */
#include "report_internal.h"

#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* One picture size for every figure; the SVG is the same drawing, resizable. */
#define RP_TERM_SIZE "1000,620"
#define RP_FONT "sans,12"

const char *rp_dataset_color(int dataset)
{
    static const char *const colors[PF_DS_COUNT] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
    return (dataset >= 0 && dataset < PF_DS_COUNT) ? colors[dataset] : "#7f7f7f";
}

static FILE *open_in(const char *dir, const char *name, const char *ext, char *path, size_t size,
                     pf_error *err)
{
    if (pf_snprintf(path, size, "%s/%s.%s", dir, name, ext) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s/%s.%s: path too long", dir, name, ext);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) pf_error_set(err, PF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_in(FILE *f, const char *path, pf_error *err)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return pf_error_set(err, PF_ERR_IO, "%s: write failed", path);
    return 0;
}

/* The lines every script starts and ends with: a rerun from the directory draws both pictures. */
static void script_head(FILE *f, const char *name, const char *what)
{
    fprintf(f,
            "# %s.gp -- %s\n"
            "# Written by `poisonfarm report`; restyle and rerun with: gnuplot %s.gp\n"
            "# Data: %s.dat (accuracies as fractions; this script shows them in %%).\n"
            "reset\n"
            "set encoding utf8\n"
            "set terminal pngcairo size " RP_TERM_SIZE " noenhanced font \"" RP_FONT "\"\n"
            "set output \"%s.png\"\n"
            "set grid lc rgb \"#dddddd\"\n"
            "set key outside right top noenhanced\n"
            "set style fill transparent solid 0.18 noborder\n",
            name, what, name, name, name);
}

static void script_tail(FILE *f, const char *name)
{
    fprintf(f,
            "set terminal svg size " RP_TERM_SIZE " dynamic noenhanced font \"" RP_FONT "\"\n"
            "set output \"%s.svg\"\n"
            "replot\n"
            "set output\n",
            name);
}

static int blockcount(const rp_figure *fig)
{
    int n = 0;
    for (int s = 0; s < fig->nseries; s++) n += fig->series[s].curve.npoints > 0;
    return n;
}

int rp_mode_dash(int mode) { return mode >= 0 ? mode + 1 : 1; }

int rp_mode_point(int mode)
{
    static const int points[PF_MODE_COUNT] = {7, 5, 9, 11, 13, 15};
    return mode >= 0 && mode < PF_MODE_COUNT ? points[mode] : 7;
}

/* The series of fig as data blocks (gnuplot's `index`), numbered from *block on. */
static void write_blocks(FILE *f, const rp_figure *fig, int *block)
{
    for (int s = 0; s < fig->nseries; s++) {
        const rp_curve *c = &fig->series[s].curve;
        if (c->npoints == 0) continue;
        fprintf(f, "%s# %s\n# percent median min max repeats collapsed\n", *block ? "\n\n" : "",
                fig->series[s].title);
        for (int j = 0; j < c->npoints; j++) {
            const rp_point *p = &c->points[j];
            fprintf(f, "%.10g %.10g %.10g %.10g %d %d\n", p->percent, p->median, p->min, p->max, p->n,
                    p->ncollapsed);
        }
        (*block)++;
    }
}

/* One plot of fig from data file dat, its series in blocks block0 on; titles in the legend unless
 * key is 0. */
static void write_plot(FILE *f, const rp_figure *fig, const char *dat, int block0, int key)
{
    const char *sc = fig->fraction ? "" : "*100"; /* fractions drawn as is, or in percent */
    fprintf(f,
            "set title \"%s\"\n"
            "set xlabel \"%s\"\n"
            "set ylabel \"%s\"\n"
            "set xrange [0:100]\n"
            "set xtics 10\n",
            fig->title, fig->xlabel, fig->ylabel);
    if (fig->fraction)
        fputs("set yrange [0:1]\nset ytics 0.1\n", f);
    else if (fig->normalised)
        fputs("set yrange [0:*]\nset ytics autofreq\n", f);
    else
        fputs("set yrange [0:100]\nset ytics 10\n", f);
    fputs(key ? "set key outside right top noenhanced\n" : "unset key\n", f);
    /* Bands first (min-max over repeats, invisible when there is one repeat), then the lines. */
    fputs("plot \\\n", f);
    int block = block0;
    for (int s = 0; s < fig->nseries; s++) {
        if (fig->series[s].curve.npoints == 0) continue;
        fprintf(f, "  \"%s\" index %d using 1:($3%s):($4%s) with filledcurves lc rgb \"%s\" notitle, \\\n",
                dat, block, sc, sc, fig->series[s].color);
        block++;
    }
    if (fig->fraction)
        fputs("  0.5 with lines lc rgb \"#888888\" dt 3 title \"chance (0.5)\", \\\n", f);
    /* Then rings around the points where a repeat collapsed (one class answered), with one
       legend entry for them all. */
    int any_collapsed = 0;
    for (int s = 0; s < fig->nseries; s++) {
        const rp_curve *c = &fig->series[s].curve;
        for (int j = 0; j < c->npoints; j++) any_collapsed |= c->points[j].ncollapsed > 0;
    }
    if (any_collapsed)
        fprintf(f, "  keyentry with points pt 6 ps 2 lc rgb \"#000000\" title \"collapsed (one class >= %.0f %%)\", "
                   "\\\n",
                100.0 * PF_COLLAPSE_SHARE);
    block = block0;
    int nblocks = blockcount(fig);
    for (int s = 0; s < fig->nseries; s++) {
        const rp_series *se = &fig->series[s];
        if (se->curve.npoints == 0) continue;
        int last = block - block0 + 1 == nblocks;
        fprintf(f, "  \"%s\" index %d using 1:($2%s) with linespoints lc rgb \"%s\" dt %d "
                   "lw 2 pt %d ps 0.7 title \"%s\"%s\n",
                dat, block, sc, se->color, se->dash, se->point > 0 ? se->point : 7, se->title,
                last && !any_collapsed ? "" : ", \\");
        if (any_collapsed)
            fprintf(f, "  \"%s\" index %d using 1:($6>0 ? $2%s : NaN) with points pt 6 ps 2 "
                       "lc rgb \"%s\" notitle%s\n",
                    dat, block, sc, se->color, last ? "" : ", \\");
        block++;
    }
}

int rp_figure_write(const char *dir, const rp_figure *fig, pf_error *err)
{
    char path[PF_PATH_MAX], dat[sizeof fig->name + 8];
    FILE *f = open_in(dir, fig->name, "dat", path, sizeof path, err);
    if (f == NULL) return -1;
    int block = 0;
    write_blocks(f, fig, &block);
    if (close_in(f, path, err) != 0) return -1;

    f = open_in(dir, fig->name, "gp", path, sizeof path, err);
    if (f == NULL) return -1;
    snprintf(dat, sizeof dat, "%s.dat", fig->name);
    script_head(f, fig->name, fig->title);
    write_plot(f, fig, dat, 0, 1);
    script_tail(f, fig->name);
    return close_in(f, path, err);
}

int rp_figure_pair_write(const char *dir, const char *name, const char *title, const rp_figure *left,
                         const rp_figure *right, pf_error *err)
{
    char path[PF_PATH_MAX], dat[PF_PATH_MAX];
    FILE *f = open_in(dir, name, "dat", path, sizeof path, err);
    if (f == NULL) return -1;
    int block = 0;
    write_blocks(f, left, &block);
    const int nleft = block;
    write_blocks(f, right, &block);
    if (close_in(f, path, err) != 0) return -1;

    f = open_in(dir, name, "gp", path, sizeof path, err);
    if (f == NULL) return -1;
    snprintf(dat, sizeof dat, "%s.dat", name);
    fprintf(f,
            "# %s.gp -- %s\n"
            "# Written by `poisonfarm report`; restyle and rerun with: gnuplot %s.gp\n"
            "# Data: %s.dat (the left panel's blocks first, then the right one's; fractions).\n"
            "reset\n"
            "set encoding utf8\n"
            "set grid lc rgb \"#dddddd\"\n"
            "set style fill transparent solid 0.18 noborder\n",
            name, title, name, name);
    /* Multiplot cannot be replotted: the panels are drawn once per picture. */
    for (int pic = 0; pic < 2; pic++) {
        if (pic == 0)
            fprintf(f, "set terminal pngcairo size 1600,620 noenhanced font \"" RP_FONT "\"\nset output \"%s.png\"\n",
                    name);
        else
            fprintf(f, "set terminal svg size 1600,620 dynamic noenhanced font \"" RP_FONT "\"\nset output \"%s.svg\"\n",
                    name);
        fprintf(f, "set multiplot layout 1,2 title \"%s\"\n", title);
        fputs("set lmargin at screen 0.05\nset rmargin at screen 0.35\n", f);
        write_plot(f, left, dat, 0, 0);
        fputs("set lmargin at screen 0.42\nset rmargin at screen 0.70\n", f);
        write_plot(f, right, dat, nleft, 1);
        fputs("unset multiplot\nset output\n", f);
    }
    return close_in(f, path, err);
}

/* Blue at 0 % poisoned to red at 100 %: the eye reads the order of the lines from their colour. */
static void gradient(double percent, char out[8])
{
    double t = percent / 100.0;
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    int rr = (int)lround(31 + t * (214 - 31)), gg = (int)lround(119 + t * (39 - 119)),
        bb = (int)lround(180 + t * (40 - 180));
    snprintf(out, 8, "#%02x%02x%02x", rr, gg, bb);
}

int rp_curves_write(const pf_results *r, const char *dir, const char *name, const char *title,
                    const int64_t *ids, int nids, pf_error *err)
{
    const int h_val_acc = 3; /* pf_results.history order: train_loss, train_acc, val_loss, val_acc */
    char path[PF_PATH_MAX];
    FILE *f = open_in(dir, name, "dat", path, sizeof path, err);
    if (f == NULL) return -1;
    int nblocks = 0;
    int32_t maxep = 1;
    for (int i = 0; i < nids; i++) {
        const double *h = r->history[h_val_acc] + ids[i] * r->max_epochs;
        fprintf(f, "%s# id %lld, %g %% poisoned\n# epoch val_acc\n", nblocks ? "\n\n" : "",
                (long long)ids[i], r->configs[ids[i]].cfg.percent);
        for (int32_t e = 0; e < r->max_epochs; e++) {
            if (isnan(h[e])) continue;
            fprintf(f, "%ld %.10g\n", (long)(e + 1), h[e]);
            if (e + 1 > maxep) maxep = e + 1;
        }
        nblocks++;
    }
    if (close_in(f, path, err) != 0) return -1;

    f = open_in(dir, name, "gp", path, sizeof path, err);
    if (f == NULL) return -1;
    script_head(f, name, title);
    fprintf(f,
            "set title \"%s\"\n"
            "set xlabel \"epoch\"\n"
            "set ylabel \"validation accuracy (%%)\"\n"
            "set xrange [1:%ld]\n"
            "set xtics %ld\n"
            "set yrange [0:100]\n"
            "set ytics 10\n"
            "set key title \"poisoned\"\n"
            "plot \\\n",
            title, (long)(maxep > 1 ? maxep : 2), (long)(maxep > 10 ? (maxep + 9) / 10 : 1));
    for (int i = 0; i < nids; i++) {
        char color[8];
        double pct = r->configs[ids[i]].cfg.percent;
        gradient(pct, color);
        fprintf(f, "  \"%s.dat\" index %d using 1:($2*100) with linespoints lc rgb \"%s\" lw 2 pt 7 "
                   "ps 0.5 title \"%g %%\"%s\n",
                name, i, color, pct, i + 1 < nids ? ", \\" : "");
    }
    script_tail(f, name);
    return close_in(f, path, err);
}

static int executable(const char *path) { return fs_is_regular_file(path) && access(path, X_OK) == 0; }

int report_find_gnuplot(char *out, size_t size)
{
    const char *want = getenv("POISONFARM_GNUPLOT");
    if (want == NULL || want[0] == '\0') want = "gnuplot";
    if (strchr(want, '/') != NULL) {
        if (!executable(want) || pf_snprintf(out, size, "%s", want) != 0) return 0;
        return 1;
    }
    const char *path = getenv("PATH");
    if (path == NULL) return 0;
    const char *p = path;
    while (1) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char cand[PF_PATH_MAX];
        /* An empty PATH entry means the working directory. */
        int rc = len == 0 ? pf_snprintf(cand, sizeof cand, "./%s", want)
                          : pf_snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, want);
        if (rc == 0 && executable(cand)) return pf_snprintf(out, size, "%s", cand) == 0;
        if (end == NULL) break;
        p = end + 1;
    }
    return 0;
}

int rp_gnuplot_run(const char *gnuplot, const char *dir, char **scripts, int nscripts,
                   pf_error *err)
{
    if (nscripts == 0) return 0;
    char **argv = pf_calloc((size_t)nscripts + 2, sizeof *argv);
    argv[0] = (char *)gnuplot;
    for (int i = 0; i < nscripts; i++) argv[i + 1] = scripts[i];
    fflush(stdout);
    fflush(stderr);
    /* fork + chdir + exec rather than a shell: no quoting of user paths, and the scripts use
     * relative names so that `cd DIR && gnuplot x.gp` reruns them. */
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        return pf_error_set(err, PF_ERR_NONE, "cannot start %s: %s", gnuplot, strerror(errno));
    }
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        execv(gnuplot, argv);
        _exit(127);
    }
    free(argv);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return pf_error_set(err, PF_ERR_NONE, "waiting for %s: %s", gnuplot, strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return pf_error_set(err, PF_ERR_NONE, "%s failed (status %d) on the scripts in %s", gnuplot,
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1, dir);
    return 0;
}
