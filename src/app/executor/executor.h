/* The executor process: `aftm executor` (signals in, orders out to the gateway, books kept from
 * its execution reports). The logic is executor_core.h; this is the command's entry point. */
#ifndef AFTM_EXECUTOR_H
#define AFTM_EXECUTOR_H

/* Runs the executor until it is asked to stop; returns an exit code (core/exit_codes.h). */
int cmd_executor(int argc, char **argv);

#endif
