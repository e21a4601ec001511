/* Ordered schema migrations: migration v brings the database from v-1 to v. */
#ifndef AFTM_SCHEMA_H
#define AFTM_SCHEMA_H

int schema_version_latest(void);
const char *schema_migration(int version); /* 1-based; NULL if out of range */

#endif
