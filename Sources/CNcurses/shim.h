#ifndef MUSTER_CNCURSES_SHIM_H
#define MUSTER_CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <ncursesw/curses.h>

/// Macros and globals that Swift cannot see directly.
static inline WINDOW *muster_stdscr(void) { return stdscr; }
static inline int muster_lines(void) { return LINES; }
static inline int muster_cols(void) { return COLS; }
static inline int muster_color_pair(int n) { return COLOR_PAIR(n); }
static inline int muster_colors(void) { return COLORS; }
static inline int muster_key_resize(void) { return KEY_RESIZE; }
static inline int muster_key_mouse(void) { return KEY_MOUSE; }
static inline chtype muster_a_bold(void) { return A_BOLD; }
static inline chtype muster_a_reverse(void) { return A_REVERSE; }
static inline chtype muster_a_underline(void) { return A_UNDERLINE; }
static inline chtype muster_a_dim(void) { return A_DIM; }
static inline mmask_t muster_all_mouse_events(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
static inline mmask_t muster_button1_clicked(void) { return BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED; }
static inline mmask_t muster_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t muster_button5_pressed(void) { return BUTTON5_PRESSED; }

#endif
