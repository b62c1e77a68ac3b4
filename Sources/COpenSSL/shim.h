#ifndef AVAULT_COPENSSL_SHIM_H
#define AVAULT_COPENSSL_SHIM_H
// OpenSSL's headers for their types only: nothing here is linked. VaultCrypto's LibCrypto
// dlopen()s libcrypto.so.3 the first time a legacy (AES-CBC) blob, an age header key or an
// index-entry key needs it, so that a command that never does (--version, --help, most of the
// CLI) starts without it: libcrypto is built with BIND_NOW, and resolving its ~3,400 symbol
// bindings at start-up cost ~4.5M instructions, a quarter of `avault --version`
// (docs/architecture.md). Every function VaultCrypto calls is a pointer in avault_libcrypto.
#include <dlfcn.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/* The functions used, each once: AVAULT_LIBCRYPTO_FN(name) for each. */
#define AVAULT_LIBCRYPTO_FUNCTIONS \
    AVAULT_LIBCRYPTO_FN(OPENSSL_init_crypto) \
    AVAULT_LIBCRYPTO_FN(ERR_clear_error) \
    AVAULT_LIBCRYPTO_FN(EVP_CIPHER_fetch) \
    AVAULT_LIBCRYPTO_FN(EVP_CIPHER_CTX_new) \
    AVAULT_LIBCRYPTO_FN(EVP_CIPHER_CTX_free) \
    AVAULT_LIBCRYPTO_FN(EVP_CIPHER_CTX_set_padding) \
    AVAULT_LIBCRYPTO_FN(EVP_EncryptInit_ex2) \
    AVAULT_LIBCRYPTO_FN(EVP_EncryptUpdate) \
    AVAULT_LIBCRYPTO_FN(EVP_EncryptFinal_ex) \
    AVAULT_LIBCRYPTO_FN(EVP_DecryptInit_ex2) \
    AVAULT_LIBCRYPTO_FN(EVP_DecryptUpdate) \
    AVAULT_LIBCRYPTO_FN(EVP_DecryptFinal_ex) \
    AVAULT_LIBCRYPTO_FN(EVP_KDF_fetch) \
    AVAULT_LIBCRYPTO_FN(EVP_KDF_free) \
    AVAULT_LIBCRYPTO_FN(EVP_KDF_CTX_new) \
    AVAULT_LIBCRYPTO_FN(EVP_KDF_CTX_free) \
    AVAULT_LIBCRYPTO_FN(EVP_KDF_derive) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_fetch) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_free) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_CTX_new) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_CTX_free) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_init) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_update) \
    AVAULT_LIBCRYPTO_FN(EVP_MAC_final) \
    AVAULT_LIBCRYPTO_FN(EVP_sha256) \
    AVAULT_LIBCRYPTO_FN(EVP_MD_CTX_new) \
    AVAULT_LIBCRYPTO_FN(EVP_MD_CTX_free) \
    AVAULT_LIBCRYPTO_FN(EVP_DigestInit_ex) \
    AVAULT_LIBCRYPTO_FN(EVP_DigestUpdate) \
    AVAULT_LIBCRYPTO_FN(EVP_DigestFinal_ex)

/* One pointer per function, of exactly the type OpenSSL's header declares, named after it. */
typedef struct avault_libcrypto {
#define AVAULT_LIBCRYPTO_FN(name) __typeof__(&name) _Nonnull name;
    AVAULT_LIBCRYPTO_FUNCTIONS
#undef AVAULT_LIBCRYPTO_FN
} avault_libcrypto;

/* Loads `library` (RTLD_NOW | RTLD_LOCAL; never unloaded) and looks up every function.
   Returns the table (allocated once by the caller's once-only initialiser, never freed), or
   NULL with `*problem` saying why (dlerror's text, or the function that is missing). */
static inline avault_libcrypto *_Nullable avault_libcrypto_open(const char *_Nonnull library,
                                                                const char *_Nullable *_Nonnull problem) {
    *problem = NULL;
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) { *problem = dlerror(); return NULL; }
    avault_libcrypto *api = malloc(sizeof *api);
    if (api == NULL) { *problem = "out of memory"; return NULL; }
#define AVAULT_LIBCRYPTO_FN(name) \
    if ((*(void **)&api->name = dlsym(handle, #name)) == NULL) { *problem = "it has no function " #name; free(api); return NULL; }
    AVAULT_LIBCRYPTO_FUNCTIONS
#undef AVAULT_LIBCRYPTO_FN
    /* OpenSSL 3.0 keeps a queue of errors per thread (904 bytes), freed as the thread exits by
       a destructor of its own thread-specific key. Two ways for it to leak, both seen once under
       LeakSanitizer in CI:
       - By default OpenSSL registers OPENSSL_cleanup with atexit, which deletes that key: a
         thread that exits after it (a pool thread ending while the process exits) loses its
         queue. OPENSSL_INIT_NO_ATEXIT, in the first call, registers nothing (the first call
         decides); the process's memory goes with the process. (Tests/sanitizers/exit-thread.c)
       - The destructor frees the queue only if its key is older than the queue's key (glibc
         clears each key's value in turn before running later destructors: openssl/openssl#5899,
         #29077); a key another library deleted between the two would give the second a lower
         index. ERR_clear_error creates both, one after the other, as the library loads.
       The caller loads this before libpq, which loads the same libcrypto. */
    if (api->OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1) { *problem = "OPENSSL_init_crypto failed"; free(api); return NULL; }
    api->ERR_clear_error();
    return api;
}

/* HKDF-SHA-256 (RFC 5869, extract then expand) through OpenSSL's EVP_KDF "HKDF". An empty
   salt is left out, which OpenSSL (like RFC 5869) treats as HashLen zero bytes. Returns 1 on
   success. (OSSL_PARAM arrays are awkward from Swift; this only fills one in.) */
static inline int avault_hkdf_sha256(const avault_libcrypto *_Nonnull api,
                                     unsigned char *_Nonnull out, size_t out_len,
                                     const unsigned char *_Nonnull ikm, size_t ikm_len,
                                     const unsigned char *_Nonnull salt, size_t salt_len,
                                     const unsigned char *_Nonnull info, size_t info_len) {
    EVP_KDF *kdf = api->EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL) return 0;
    EVP_KDF_CTX *ctx = api->EVP_KDF_CTX_new(kdf);
    api->EVP_KDF_free(kdf);
    if (ctx == NULL) return 0;
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = (OSSL_PARAM)OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 6);
    params[n++] = (OSSL_PARAM)OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len > 0) params[n++] = (OSSL_PARAM)OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    params[n++] = (OSSL_PARAM)OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[n] = (OSSL_PARAM)OSSL_PARAM_END;
    int ok = api->EVP_KDF_derive(ctx, out, out_len, params) == 1;
    api->EVP_KDF_CTX_free(ctx);
    return ok;
}

/* HMAC-SHA-256 through OpenSSL's EVP_MAC "HMAC"; `out` holds 32 bytes. Returns 1 on success. */
static inline int avault_hmac_sha256(const avault_libcrypto *_Nonnull api,
                                     unsigned char *_Nonnull out,
                                     const unsigned char *_Nonnull key, size_t key_len,
                                     const unsigned char *_Nonnull msg, size_t msg_len) {
    EVP_MAC *mac = api->EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return 0;
    EVP_MAC_CTX *ctx = api->EVP_MAC_CTX_new(mac);
    api->EVP_MAC_free(mac);
    if (ctx == NULL) return 0;
    OSSL_PARAM params[2];
    params[0] = (OSSL_PARAM)OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 6);
    params[1] = (OSSL_PARAM)OSSL_PARAM_END;
    size_t written = 0;
    int ok = api->EVP_MAC_init(ctx, key, key_len, params) == 1
        && api->EVP_MAC_update(ctx, msg, msg_len) == 1
        && api->EVP_MAC_final(ctx, out, &written, 32) == 1
        && written == 32;
    api->EVP_MAC_CTX_free(ctx);
    return ok;
}
#endif
