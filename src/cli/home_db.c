#include "cli/home_db.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net/secure.h"
#include "store/db.h"

bool home_db_open(home_db *h, const char *home_flag) {
    memset(h, 0, sizeof *h);
    char err[512];
    if (!home_resolve(home_flag, h->home, sizeof h->home, err, sizeof err) ||
        !net_secure_init(h->home, ROLE_CLI, false, err, sizeof err) ||
        !(h->db = db_open(h->home, err, sizeof err))) {
        fprintf(stderr, "aftm: %s\n", err);
        return false;
    }
    if (!(h->cs = cstore_open(h->db))) {
        fprintf(stderr, "aftm: cannot prepare the condition store: %s\n", sqlite3_errmsg(h->db));
        db_close(h->db);
        return false;
    }
    return true;
}

void home_db_close(home_db *h) {
    cstore_close(h->cs);
    db_close(h->db);
    h->cs = NULL;
    h->db = NULL;
}

bool home_has_data(const char *home_flag, const char *who) {
    char home[AFTM_PATH_MAX], err[512], path[AFTM_PATH_MAX + 16];
    if (!home_locate(home_flag, home, sizeof home, err, sizeof err)) {
        fprintf(stderr, "aftm %s: %s\n", who, err);
        return false;
    }
    snprintf(path, sizeof path, "%.1023s/aftm.db", home);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return true;
    fprintf(stderr,
            "aftm %s: no aftm data in %s (no aftm.db there): nothing to show. 'aftm run', 'aftm login' or\n"
            "'aftm condition add' start one; or give the data directory with --home DIR or AFTM_HOME.\n",
            who, home);
    return false;
}
