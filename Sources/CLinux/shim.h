#ifndef AVAULT_CLINUX_SHIM_H
#define AVAULT_CLINUX_SHIM_H
// Linux calls that Swift cannot reach through Glibc: prctl(2) is variadic, so it is wrapped
// here. Only VaultCrypto imports this module (secret memory and the process that holds it).
#include <sys/prctl.h>

/// prctl(PR_SET_DUMPABLE, on): 0 means no core file, and /proc/PID/mem and ptrace(2) refused
/// to processes of the same user that lack CAP_SYS_PTRACE.
static inline int avault_set_dumpable(int on) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)on, 0UL, 0UL, 0UL);
}

/// prctl(PR_GET_DUMPABLE): 1 when the process is dumpable, 0 when not, -1 on error.
static inline int avault_get_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
}
#endif
