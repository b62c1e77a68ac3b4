#ifndef AVAULT_CLINUX_SHIM_H
#define AVAULT_CLINUX_SHIM_H
// Linux calls that Swift cannot reach through Glibc: prctl(2) is variadic, so it is wrapped
// here, for VaultCrypto (secret memory and the process that holds it); syncfs(2) and
// fstatfs(2) are not in Swift's Glibc module, for ArticleVault (a large batch's durability), nor
// is renameat2(2) (moving a file aside without replacing one), nor memmem(3).
#include <sys/prctl.h>
#include <stddef.h>
#include <sys/vfs.h>

/// syncfs(2) (glibc declares it only under _GNU_SOURCE).
extern int syncfs(int fd);

/// renameat2(2) with RENAME_NOREPLACE (glibc declares both only under _GNU_SOURCE): EEXIST
/// when `to` exists. Unlike link(2) and unlink(2), it moves a directory too.
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
static inline int avault_rename_noreplace(int fromdir, const char *from, int todir, const char *to) {
    return renameat2(fromdir, from, todir, to, 1 /* RENAME_NOREPLACE */);
}

/// memmem(3) (glibc declares it only under _GNU_SOURCE), for ArticleVault's look for
/// `include_relative` in each file a publishing gate verifies.
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);

/// The f_type of the file system holding `fd` (fstatfs(2)), or -1 on error.
static inline long avault_file_system_type(int fd) {
    struct statfs s;
    return fstatfs(fd, &s) == 0 ? (long)s.f_type : -1;
}

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
