#ifndef MUSTER_CNCURSES_SHIM_H
#define MUSTER_CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
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

/// Key codes (macros with octal values).
static inline int muster_key_up(void) { return KEY_UP; }
static inline int muster_key_down(void) { return KEY_DOWN; }
static inline int muster_key_left(void) { return KEY_LEFT; }
static inline int muster_key_right(void) { return KEY_RIGHT; }
static inline int muster_key_npage(void) { return KEY_NPAGE; }
static inline int muster_key_ppage(void) { return KEY_PPAGE; }
static inline int muster_key_home(void) { return KEY_HOME; }
static inline int muster_key_end(void) { return KEY_END; }
static inline int muster_key_backspace(void) { return KEY_BACKSPACE; }
static inline int muster_key_enter(void) { return KEY_ENTER; }
static inline int muster_key_dc(void) { return KEY_DC; }
static inline int muster_key_btab(void) { return KEY_BTAB; }
static inline int muster_key_f0(void) { return KEY_F0; }
static inline int muster_key_code_yes(void) { return KEY_CODE_YES; }
static inline mmask_t muster_button1_any(void) { return BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED; }
static inline mmask_t muster_wheel_mask(void) { return BUTTON4_PRESSED | BUTTON5_PRESSED; }

/// Restores the terminal if curses is active: for fatal signals and exit paths, where Swift code cannot run.
static inline void muster_restore_terminal(void) {
    if (!isendwin()) { endwin(); }
}

static void muster_fatal_signal(int signal_number) {
    muster_restore_terminal();
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

/// Installs handlers that restore the terminal on a crash (then crash as before) and at exit.
static inline void muster_install_terminal_guards(void) {
    static int installed = 0;
    if (installed) { return; }
    installed = 1;
    int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    for (unsigned index = 0; index < sizeof(fatal) / sizeof(fatal[0]); index++) {
        signal(fatal[index], muster_fatal_signal);
    }
    atexit(muster_restore_terminal);
}

/// Wakes the console loop on a terminal resize, whichever thread receives SIGWINCH: the handler calls the one
/// ncurses installed (which notes the new size for KEY_RESIZE) and writes a byte to the loop's wake-up pipe.
/// (State lives in function-local statics: a header's file-scope statics are not emitted for Swift.)
static inline struct sigaction *muster_previous_winch(void) {
    static struct sigaction previous;
    return &previous;
}

static inline int *muster_resize_fd(void) {
    static int descriptor = -1;
    return &descriptor;
}

static void muster_on_winch(int signal_number) {
    struct sigaction *previous = muster_previous_winch();
    if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN && previous->sa_handler != NULL) {
        previous->sa_handler(signal_number);
    }
    int descriptor = *muster_resize_fd();
    if (descriptor >= 0) {
        char byte = 1;
        ssize_t ignored = write(descriptor, &byte, 1);
        (void)ignored;
    }
}

static inline void muster_watch_resize(int wake_fd) {
    int *descriptor = muster_resize_fd();
    if (*descriptor == wake_fd) { return; }
    int first = *descriptor < 0;
    *descriptor = wake_fd;
    if (!first) { return; }
    struct sigaction action;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    action.sa_handler = muster_on_winch;
    sigaction(SIGWINCH, &action, muster_previous_winch());
}

#endif
