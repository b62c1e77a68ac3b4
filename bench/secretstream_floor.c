/* The floor for a large `vault put` and `vault get -o`: libsodium's secretstream
 * (crypto_secretstream_xchacha20poly1305) file to file, as plainly as C does it, with the
 * vault's chunk size (65,536 bytes of plaintext, 17 bytes added per chunk), an envelope-sized
 * header, and associated data as long as the vault's on every chunk. One reusable buffer each
 * way, one read(2) and one write(2) per chunk, no digest, no rename.
 *
 *   secretstream_floor put PLAIN CIPHER        encrypt PLAIN into CIPHER, fsync CIPHER
 *   secretstream_floor get CIPHER PLAIN [sync] decrypt CIPHER into PLAIN, fsync PLAIN with "sync"
 *
 * Prints the seconds taken (open to close, fsync included). The key is random and kept in a
 * file next to CIPHER (CIPHER.key) so that `get` can read what `put` wrote. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
/* "avault-envelope v1\n" and an 8-byte kid, before the secretstream header. */
#define PREFIX (19 + 8)

static void die(const char *what) { perror(what); exit(1); }

static size_t read_full(int fd, unsigned char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0) die("read");
        if (r == 0) break;
        got += (size_t)r;
    }
    return got;
}

static void write_full(int fd, const unsigned char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) die("write");
        buf += w;
        n -= (size_t)w;
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4 || sodium_init() < 0) { fprintf(stderr, "usage: secretstream_floor put|get IN OUT [sync]\n"); return 2; }
    int put = strcmp(argv[1], "put") == 0;
    int sync_out = put || (argc > 4 && strcmp(argv[4], "sync") == 0);
    const char *cipher = put ? argv[3] : argv[2];
    char keypath[4096];
    snprintf(keypath, sizeof keypath, "%s.key", cipher);
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    /* The associated data of a vault envelope: "avault/vault/v1;envelope;" vault id ";" name
     * ";" version ";" kid — 25 + 32 + 1 + 32 + 1 + 1 + 1 + 16 bytes. */
    unsigned char ad[109];
    memset(ad, 'a', sizeof ad);
    static unsigned char in[CHUNK + ABYTES], out[CHUNK + ABYTES];
    crypto_secretstream_xchacha20poly1305_state st;

    double start = now();
    int src = open(argv[2], O_RDONLY);
    int dst = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (src < 0 || dst < 0) die("open");
    if (put) {
        crypto_secretstream_xchacha20poly1305_keygen(key);
        int k = open(keypath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (k < 0) die("open key");
        write_full(k, key, sizeof key);
        close(k);
        unsigned char head[PREFIX + HEADER];
        memcpy(head, "avault-envelope v1\n01234567", PREFIX);
        crypto_secretstream_xchacha20poly1305_init_push(&st, head + PREFIX, key);
        write_full(dst, head, sizeof head);
        /* Read one chunk ahead so that the last one carries TAG_FINAL (possibly empty). */
        static unsigned char a[CHUNK], b[CHUNK];
        unsigned char *cur = a, *next = b;
        size_t n = read_full(src, cur, CHUNK);
        for (;;) {
            size_t m = n == CHUNK ? read_full(src, next, CHUNK) : 0;
            int last = n < CHUNK || m == 0;
            unsigned long long clen;
            crypto_secretstream_xchacha20poly1305_push(&st, out, &clen, cur, n, ad, sizeof ad,
                last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
            write_full(dst, out, (size_t)clen);
            if (last) break;
            unsigned char *t = cur; cur = next; next = t;
            n = m;
        }
    } else {
        int k = open(keypath, O_RDONLY);
        if (k < 0 || read_full(k, key, sizeof key) != sizeof key) die("key");
        close(k);
        unsigned char head[PREFIX + HEADER];
        if (read_full(src, head, sizeof head) != sizeof head) die("short header");
        if (crypto_secretstream_xchacha20poly1305_init_pull(&st, head + PREFIX, key) != 0) die("header");
        for (;;) {
            size_t n = read_full(src, in, CHUNK + ABYTES);
            unsigned long long mlen;
            unsigned char tag;
            if (crypto_secretstream_xchacha20poly1305_pull(&st, out, &mlen, &tag, in, n, ad, sizeof ad) != 0) {
                fprintf(stderr, "secretstream_floor: a chunk does not authenticate\n");
                return 1;
            }
            write_full(dst, out, (size_t)mlen);
            if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) break;
        }
    }
    if (sync_out && fsync(dst) != 0) die("fsync");
    close(src);
    if (close(dst) != 0) die("close");
    printf("%.3f\n", now() - start);
    return 0;
}
