/* Per-blob cost of raw OpenSSL EVP AES-256-CBC decryption of a small blob, for bench/legacy:
 *   evp_cbc_blob SIZE COUNT
 * prints nanoseconds per blob, best of 5: for each blob a context is made, initialised with
 * the key and IV (the cipher fetched once per process), fed the ciphertext, finalised (the
 * padding checked) and freed, as a one-shot decryption must. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

int main(int argc, char **argv) {
    int size = argc > 1 ? atoi(argv[1]) : 400, count = argc > 2 ? atoi(argv[2]) : 100000;
    unsigned char key[32], iv[16] = {0}, *plain = calloc(size + 1, 1), *ct = malloc(size + 32), *out = malloc(size + 32);
    memset(key, 0x2A, 32);
    memset(plain, 0x61, size);
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
    int n, f, ctlen;
    EVP_EncryptInit_ex2(e, cipher, key, iv, NULL);
    EVP_EncryptUpdate(e, ct, &n, plain, size);
    EVP_EncryptFinal_ex(e, ct + n, &f);
    ctlen = n + f;
    EVP_CIPHER_CTX_free(e);
    double best = 1e30; long sink = 0;
    for (int r = 0; r < 5; r++) {
        double start = now();
        for (int i = 0; i < count; i++) {
            EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
            if (EVP_DecryptInit_ex2(c, cipher, key, iv, NULL) != 1 || EVP_DecryptUpdate(c, out, &n, ct, ctlen) != 1
                || EVP_DecryptFinal_ex(c, out + n, &f) != 1) { fprintf(stderr, "decryption failed\n"); return 1; }
            sink += n + f;
            EVP_CIPHER_CTX_free(c);
        }
        double t = (now() - start) / count;
        if (t < best) best = t;
    }
    if (sink != (long)5 * count * size) { fprintf(stderr, "wrong length\n"); return 1; }
    printf("%.1f\n", best);
    return 0;
}
