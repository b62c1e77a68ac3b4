/* Per-blob cost of raw OpenSSL EVP AES-256-CBC decryption of a small blob, for bench/legacy:
 *   evp_cbc_blob SIZE COUNT
 * prints nanoseconds per blob, best of 5: for each blob a context is made, initialised with
 * the key and IV (the cipher fetched once per process), fed the ciphertext, finalised (the
 * padding checked) and freed, as a one-shot decryption must. As bench/LegacyBench does, it
 * goes round 256 blobs of the same plaintext under different IVs. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

int main(int argc, char **argv) {
    int size = argc > 1 ? atoi(argv[1]) : 400, count = argc > 2 ? atoi(argv[2]) : 100000;
    unsigned char key[32], ivs[256][16], *plain = calloc(size + 1, 1), *out = malloc(size + 32);
    unsigned char *cts = malloc((size_t)256 * (size + 32));
    int ctlen = 0, n, f;
    memset(key, 0x2A, 32);
    memset(plain, 0x61, size);
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    for (int b = 0; b < 256; b++) {
        for (int i = 0; i < 16; i++) ivs[b][i] = (unsigned char)(b * 16 + i);
        EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
        EVP_EncryptInit_ex2(e, cipher, key, ivs[b], NULL);
        EVP_EncryptUpdate(e, cts + (size_t)b * (size + 32), &n, plain, size);
        EVP_EncryptFinal_ex(e, cts + (size_t)b * (size + 32) + n, &f);
        ctlen = n + f;
        EVP_CIPHER_CTX_free(e);
    }
    double best = 1e30; long sink = 0;
    for (int r = 0; r < 5; r++) {
        double start = now();
        for (int i = 0; i < count; i++) {
            EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
            int b = i & 255;
            if (EVP_DecryptInit_ex2(c, cipher, key, ivs[b], NULL) != 1 || EVP_DecryptUpdate(c, out, &n, cts + (size_t)b * (size + 32), ctlen) != 1
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
