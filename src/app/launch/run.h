/* aftm run: the all-in-one system in the foreground (exchange, gateway, executor, strategy). */
#ifndef AFTM_RUN_H
#define AFTM_RUN_H

int cmd_run(int argc, char **argv);

#endif
