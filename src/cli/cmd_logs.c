/* aftm logs [-f] [PROCESS]: the processes' log files under DIR/logs (written by aftm run's and
 * the menu's processes, and by the background session), printed, or followed as they grow.
 * Reads files only: no database, no process is asked anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/config.h"
#include "core/exit_codes.h"
#include "core/log_file.h"

#define MAX_LOGS 32
#define FOLLOW_POLL_MS 200

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm logs [-f] [PROCESS] [--home DIR]\n\n"
            "Prints the log of PROCESS (exchange, gateway, executor, strategy, session), or of every\n"
            "process, from DIR/logs: the rotated files (PROCESS.log.3 .. .1) first, oldest first, then\n"
            "PROCESS.log. aftm run, the menu and aftm login write them; aftm run rotates each past\n"
            "AFTM_LOG_MAX_BYTES (default 10 MiB), keeping AFTM_LOG_KEEP (default 3) old files.\n\n"
            "  -f, --follow  after printing, print new lines as they are written, across rotations,\n"
            "                until Ctrl+C (all processes: each line as it comes, tagged by its process)\n"
            "  --home        data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "Exit: 0, 1 when there is no such log (or no logs at all), 2 on bad usage.\n");
}

/* A process name: letters, digits, '-' and '_' only (it names a file). */
static bool name_ok(const char *s) {
    if (!*s || strlen(s) > 64) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

/* Copies what fd has from its position on to stdout; returns the bytes copied. */
static long drain(int fd) {
    char buf[8192];
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        total += n;
    }
    return total;
}

static void print_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    drain(fd);
    close(fd);
}

/* The names of DIR/logs/<name>.log, sorted. */
static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static int list_logs(const char *dir, char names[][72]) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_LOGS) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || len - 4 >= 72 || strcmp(e->d_name + len - 4, ".log") != 0) continue;
        memcpy(names[n], e->d_name, len - 4);
        names[n][len - 4] = '\0';
        if (name_ok(names[n])) n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    return n;
}

typedef struct {
    char path[2400];
    int fd;
    ino_t ino;
} followed;

/* Opens the file now at the path (after a rotation, or once it exists), to follow it from its
 * start. */
static void reopen(followed *f) {
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return;
    }
    if (f->fd >= 0) close(f->fd);
    f->fd = fd;
    f->ino = st.st_ino;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* Prints new lines of every file until a signal: what is appended, and after a rotation the
 * rest of the old file, then the new one from its start. */
static void follow(followed *fs, int n) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fflush(stdout);
    while (!g_stop) {
        for (int i = 0; i < n; i++) {
            followed *f = &fs[i];
            if (f->fd >= 0) drain(f->fd);
            struct stat st;
            if (stat(f->path, &st) == 0 && (f->fd < 0 || st.st_ino != f->ino)) {
                reopen(f); /* rotated, or made since we started */
                if (f->fd >= 0) drain(f->fd);
            }
        }
        fflush(stdout);
        struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n; i++) /* what came since the last look, then done */
        if (fs[i].fd >= 0) {
            drain(fs[i].fd);
            close(fs[i].fd);
        }
}

int cmd_logs(int argc, char **argv) {
    static const struct option opts[] = {
        {"follow", 0, 0, 'f'}, {"home", 1, 0, 'h'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home_flag = NULL;
    bool fol = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        switch (o) {
        case 'f': fol = true; break;
        case 'h': home_flag = optarg; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "aftm logs: unexpected argument '%s' (aftm logs --help)\n", argv[optind + 1]);
        return EXIT_USAGE;
    }
    const char *proc = optind < argc ? argv[optind] : NULL;
    if (proc && !name_ok(proc)) {
        fprintf(stderr, "aftm logs: '%s' is not a process name (exchange, gateway, executor, strategy, session)\n",
                proc);
        return EXIT_USAGE;
    }
    char home[AFTM_PATH_MAX], err[256], dir[AFTM_PATH_MAX + 8];
    if (!home_locate(home_flag, home, sizeof home, err, sizeof err)) {
        fprintf(stderr, "aftm logs: %s\n", err);
        return EXIT_USAGE;
    }
    snprintf(dir, sizeof dir, "%s/logs", home);
    static char names[MAX_LOGS][72];
    int n = list_logs(dir, names);
    if (n <= 0) {
        fprintf(stderr, "aftm logs: no logs in %s (aftm run, the menu and aftm login write them there)\n", dir);
        return EXIT_RUNTIME;
    }
    if (proc) {
        bool found = false;
        for (int i = 0; i < n && !found; i++) found = !strcmp(names[i], proc);
        if (!found) {
            fprintf(stderr, "aftm logs: no log of '%s' in %s; there are:", proc, dir);
            for (int i = 0; i < n; i++) fprintf(stderr, " %s", names[i]);
            fprintf(stderr, "\n");
            return EXIT_RUNTIME;
        }
        snprintf(names[0], sizeof names[0], "%s", proc);
        n = 1;
    }
    static followed fs[MAX_LOGS];
    for (int i = 0; i < n; i++) {
        if (n > 1) printf("==> %s/%s.log <==\n", dir, names[i]);
        char path[sizeof fs[0].path];
        for (int k = LOG_FILE_KEEP_MAX; k >= 1; k--) {
            snprintf(path, sizeof path, "%.1100s/%.71s.log.%d", dir, names[i], k);
            print_file(path);
        }
        snprintf(fs[i].path, sizeof fs[i].path, "%.1100s/%.71s.log", dir, names[i]);
        fs[i].fd = -1;
        /* printed up to here; following goes on from this very offset */
        int fd = open(fs[i].path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            drain(fd);
            struct stat st;
            if (fol && fstat(fd, &st) == 0) {
                fs[i].fd = fd;
                fs[i].ino = st.st_ino;
            } else {
                close(fd);
            }
        }
    }
    if (fol) follow(fs, n);
    fflush(stdout);
    return EXIT_OK;
}
