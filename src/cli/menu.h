/* The interactive menu: 'aftm' with no arguments (or 'aftm menu'). */
#ifndef AFTM_MENU_H
#define AFTM_MENU_H

int cmd_menu(int argc, char **argv);

#endif
