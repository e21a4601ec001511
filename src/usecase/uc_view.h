/* Presenting the use cases' results as readable tables and lines (and JSON for --json): one
 * presentation for the menu and the subcommands. */
#ifndef AFTM_UC_VIEW_H
#define AFTM_UC_VIEW_H

#include <stdio.h>

#include "usecase/uc.h"

void uc_view_futures(FILE *out, json_t *list);
void uc_view_accounts(FILE *out, json_t *accounts, const char *selected);
void uc_view_order(FILE *out, const uc_order *o);
void uc_view_positions(FILE *out, json_t *positions, const char *account);
void uc_view_condition_created(FILE *out, const condition_record *r);
void uc_view_conditions_header(FILE *out);
void uc_view_condition_row(FILE *out, const condition_record *r);
json_t *uc_view_condition_json(const condition_record *r);
void uc_view_prereqs(FILE *out, const uc_prereqs *p, const uc_ctx *c);
void uc_view_start(FILE *out, const uc_start_report *rep);
void uc_view_status(FILE *out, const uc_system_status *s);
json_t *uc_view_status_json(const uc_system_status *s);
/* "1h02m03s" */
void uc_view_duration(double seconds, char *out, size_t cap);

#endif
