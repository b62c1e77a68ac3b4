/* The raw rate at which libsodium checks Ed25519 signatures on all cores: the baseline
 * `bench/verify` compares `avault verify` against. A record carries two signatures
 * (minisign's signature and its global signature), so records/s = verifications/s / 2. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MESSAGES 64

static unsigned char pk[crypto_sign_PUBLICKEYBYTES];
static unsigned char msgs[MESSAGES][64];
static unsigned char sigs[MESSAGES][crypto_sign_BYTES];
static long per_thread;

static void *worker(void *arg) {
    long *ok = arg;
    for (long i = 0; i < per_thread; i++) {
        int m = (int) (i % MESSAGES);
        if (crypto_sign_verify_detached(sigs[m], msgs[m], sizeof msgs[m], pk) == 0) (*ok)++;
    }
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) return 2;
    long threads = argc > 1 ? atol(argv[1]) : sysconf(_SC_NPROCESSORS_ONLN);
    per_thread = argc > 2 ? atol(argv[2]) : 40000;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    for (int i = 0; i < MESSAGES; i++) {
        randombytes_buf(msgs[i], sizeof msgs[i]);
        crypto_sign_detached(sigs[i], NULL, msgs[i], sizeof msgs[i], sk);
    }
    pthread_t t[256];
    long ok[256] = {0};
    if (threads > 256) threads = 256;
    double start = now();
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, &ok[i]);
    long total = 0;
    for (long i = 0; i < threads; i++) { pthread_join(t[i], NULL); total += ok[i]; }
    double seconds = now() - start;
    if (total != threads * per_thread) { fprintf(stderr, "verification failed\n"); return 1; }
    printf("%.0f\n", total / seconds);
    return 0;
}
