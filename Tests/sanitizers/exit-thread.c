/* Run by .ci/run under AddressSanitizer: LeakSanitizer must find nothing.
   A thread that used OpenSSL and ends while the process exits, after the handlers registered
   with atexit by then have run (as a pool thread of the test process may), must not lose its
   error queue: OpenSSL is loaded through avault_libcrypto_open (Sources/COpenSSL/shim.h), as
   VaultCrypto loads it. With OpenSSL's default atexit clean-up, the 904 bytes of the thread's
   queue leak (LeakSanitizer's report in CI on 99308e2). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "shim.h"

static const avault_libcrypto *api;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int used = 0, may_end = 0;
static pthread_t thread;

static void *uses_openssl(void *unused) {
    (void)unused;
    api->ERR_clear_error(); /* this thread's error queue is made */
    pthread_mutex_lock(&lock);
    used = 1;
    pthread_cond_broadcast(&changed);
    while (!may_end) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* Registered before OpenSSL loads, so it runs after any handler OpenSSL registers (LIFO). */
static void end_the_thread(void) {
    pthread_mutex_lock(&lock);
    may_end = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
}

int main(void) {
    atexit(end_the_thread);
    const char *problem = NULL;
    api = avault_libcrypto_open("libcrypto.so.3", &problem);
    if (api == NULL) { fprintf(stderr, "exit-thread: %s\n", problem); return 1; }
    if (pthread_create(&thread, NULL, uses_openssl, NULL) != 0) { perror("exit-thread"); return 1; }
    pthread_mutex_lock(&lock);
    while (!used) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    return 0;
}
