/* Who else can read the data directory: the directory and what aftm keeps in it (databases,
 * keys, logs) must be its owner's only. Files are made private by the process umask (main.c);
 * this finds those that are not (made before, or opened up by hand) and closes the directory. */
#ifndef AFTM_PRIVATE_FILES_H
#define AFTM_PRIVATE_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Calls found(ctx, path, mode) for the data directory and each file or directory in it, in
 * keys/, keys/allowed/ and logs/ that its group or others may read, write or enter. Returns how
 * many were found. mode: the whole st_mode (type and permissions). */
int private_files_exposed(const char *home, void (*found)(void *ctx, const char *path, unsigned mode), void *ctx);

/* The data directory 0700, whoever made it. false with err when it cannot be changed. */
bool private_home(const char *home, char *err, size_t errlen);

#endif
