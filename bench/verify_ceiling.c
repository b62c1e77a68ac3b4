/* The ceiling `bench/verify` compares `avault verify` against: what libsodium alone does for
 * one minisign-signed record, on all cores. Per record, exactly the checks a minisign `ED`
 * signature needs:
 *   1. BLAKE2b-512 over the signed bytes (the record's canonical bytes, CANON_BYTES long);
 *   2. Ed25519 verification of the signature over that 64-byte hash;
 *   3. Ed25519 verification of the global signature over signature || trusted comment.
 * Nothing else: no file reading, parsing or canonicalising, which is avault's overhead.
 *   verify_ceiling THREADS RECORDS_PER_THREAD CANON_BYTES   → prints records per second */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MESSAGES 64
#define COMMENT "timestamp:1795780800\tcanon:avault-record-v1\tfile:00042.md"

static unsigned char pk[crypto_sign_PUBLICKEYBYTES];
static unsigned char *messages[MESSAGES];
static size_t message_bytes;
static unsigned char signatures[MESSAGES][crypto_sign_BYTES];
static unsigned char globals[MESSAGES][crypto_sign_BYTES];
static long per_thread;

static int check(int m) {
    unsigned char hash[crypto_generichash_BYTES_MAX];
    crypto_generichash(hash, sizeof hash, messages[m], message_bytes, NULL, 0);
    if (crypto_sign_verify_detached(signatures[m], hash, sizeof hash, pk) != 0) return 0;
    unsigned char signed_comment[crypto_sign_BYTES + sizeof COMMENT - 1];
    memcpy(signed_comment, signatures[m], crypto_sign_BYTES);
    memcpy(signed_comment + crypto_sign_BYTES, COMMENT, sizeof COMMENT - 1);
    return crypto_sign_verify_detached(globals[m], signed_comment, sizeof signed_comment, pk) == 0;
}

static void *worker(void *arg) {
    long *ok = arg;
    for (long i = 0; i < per_thread; i++) *ok += check((int) (i % MESSAGES));
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0 || argc != 4) return 2;
    long threads = atol(argv[1]);
    per_thread = atol(argv[2]);
    message_bytes = (size_t) atol(argv[3]);
    if (threads < 1 || threads > 256 || per_thread < 1 || message_bytes < 1) return 2;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    for (int i = 0; i < MESSAGES; i++) {
        unsigned char hash[crypto_generichash_BYTES_MAX];
        unsigned char signed_comment[crypto_sign_BYTES + sizeof COMMENT - 1];
        messages[i] = malloc(message_bytes);
        if (messages[i] == NULL) return 2;
        randombytes_buf(messages[i], message_bytes);
        crypto_generichash(hash, sizeof hash, messages[i], message_bytes, NULL, 0);
        crypto_sign_detached(signatures[i], NULL, hash, sizeof hash, sk);
        memcpy(signed_comment, signatures[i], crypto_sign_BYTES);
        memcpy(signed_comment + crypto_sign_BYTES, COMMENT, sizeof COMMENT - 1);
        crypto_sign_detached(globals[i], NULL, signed_comment, sizeof signed_comment, sk);
    }
    pthread_t t[256];
    long ok[256] = {0};
    double start = now();
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, &ok[i]);
    long total = 0;
    for (long i = 0; i < threads; i++) { pthread_join(t[i], NULL); total += ok[i]; }
    double seconds = now() - start;
    if (total != threads * per_thread) { fprintf(stderr, "verification failed\n"); return 1; }
    printf("%.0f\n", total / seconds);
    return 0;
}
