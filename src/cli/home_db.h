/* Opening the data directory's database for a CLI command, with errors printed for the user. */
#ifndef AFTM_HOME_DB_H
#define AFTM_HOME_DB_H

#include <sqlite3.h>
#include <stdbool.h>

#include "core/config.h"
#include "store/condition_store.h"

typedef struct {
    char home[AFTM_PATH_MAX];
    sqlite3 *db;
    condition_store *cs;
} home_db;

/* home_flag may be NULL. Prints the reason and returns false on failure. */
bool home_db_open(home_db *h, const char *home_flag);
void home_db_close(home_db *h);

/* For the commands that only read (list, show, status, positions, orders): true when the data
 * directory holds aftm's database; else says so (naming the directory) and returns false, so
 * the command exits 1 without making an empty database where there was none. */
bool home_has_data(const char *home_flag, const char *who);

#endif
