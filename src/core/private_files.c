/* Private files of the data directory (see private_files.h). */
#include "core/private_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int check(const char *path, void (*found)(void *, const char *, unsigned), void *ctx) {
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode)) return 0;
    if (!(st.st_mode & 077)) return 0;
    if (found) found(ctx, path, (unsigned)st.st_mode);
    return 1;
}

static int scan(const char *dir, void (*found)(void *, const char *, unsigned), void *ctx) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[2048];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        n += check(path, found, ctx);
    }
    closedir(d);
    return n;
}

int private_files_exposed(const char *home, void (*found)(void *ctx, const char *path, unsigned mode), void *ctx) {
    int n = check(home, found, ctx) + scan(home, found, ctx);
    static const char *const subdirs[] = {"keys", "keys/allowed", "logs"};
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", home, subdirs[i]);
        n += scan(path, found, ctx);
    }
    return n;
}

bool private_home(const char *home, char *err, size_t errlen) {
    if (chmod(home, 0700) == 0) return true;
    snprintf(err, errlen, "cannot make the data directory %s private (0700): %s", home, strerror(errno));
    return false;
}
