/* The floor for storing N files durably on this disk, one file at a time: for each, write it
 * to a temporary file, fsync it, rename it into place, and (mode "each", the default: the
 * per-file durable floor of issue 12) fsync the directory, so that every file is durable before
 * the next one starts. Mode "end" syncs the directory once at the end instead (a batch that
 * syncs its renames together, but still one file's fsync at a time). `bench/vault` compares
 * `avault vault import` against both. Mode "syncfs" is what avault does for a batch of 64 files
 * or more: write every temporary file, one syncfs(2) of the file system, rename them all, one
 * fsync of the directory (bench/vault prints it for information).
 *
 *   write_floor DIR N SIZE [each|end|syncfs]    prints the seconds taken */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: write_floor DIR N SIZE [each|end|syncfs]\n"); return 2; }
    const char *dir = argv[1];
    long n = atol(argv[2]), size = atol(argv[3]);
    const char *mode = argc < 5 ? "each" : argv[4];
    int each = strcmp(mode, "each") == 0, batch = strcmp(mode, "syncfs") == 0;
    char *buf = malloc(size);
    memset(buf, 'x', size);
    char tmp[4096], dst[4096];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    if (d < 0) { perror("write_floor"); return 1; }
    for (long i = 0; i < n; i++) {
        snprintf(tmp, sizeof tmp, "%s/.tmp-%ld", dir, i);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || write(fd, buf, size) != size || (!batch && fsync(fd) != 0) || close(fd) != 0) { perror("write_floor"); return 1; }
        if (batch) continue;
        snprintf(dst, sizeof dst, "%s/file-%ld", dir, i);
        if (rename(tmp, dst) != 0 || (each && fsync(d) != 0)) { perror("write_floor"); return 1; }
    }
    if (batch) {
        if (syncfs(d) != 0) { perror("write_floor: syncfs"); return 1; }
        for (long i = 0; i < n; i++) {
            snprintf(tmp, sizeof tmp, "%s/.tmp-%ld", dir, i);
            snprintf(dst, sizeof dst, "%s/file-%ld", dir, i);
            if (rename(tmp, dst) != 0) { perror("write_floor"); return 1; }
        }
    }
    if (!each && fsync(d) != 0) { perror("write_floor"); return 1; }
    close(d);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.3f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
