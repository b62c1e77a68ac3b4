#ifndef AVAULT_COPENSSL_SHIM_H
#define AVAULT_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/* HKDF-SHA-256 (RFC 5869, extract then expand) through OpenSSL's EVP_KDF "HKDF". An empty
   salt is left out, which OpenSSL (like RFC 5869) treats as HashLen zero bytes. Returns 1 on
   success. (OSSL_PARAM arrays are awkward from Swift; this only fills one in.) */
static inline int avault_hkdf_sha256(unsigned char *out, size_t out_len,
                                     const unsigned char *ikm, size_t ikm_len,
                                     const unsigned char *salt, size_t salt_len,
                                     const unsigned char *info, size_t info_len) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL) return 0;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == NULL) return 0;
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len > 0) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[n] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok;
}

/* HMAC-SHA-256 through OpenSSL's EVP_MAC "HMAC"; `out` holds 32 bytes. Returns 1 on success. */
static inline int avault_hmac_sha256(unsigned char *out,
                                     const unsigned char *key, size_t key_len,
                                     const unsigned char *msg, size_t msg_len) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (ctx == NULL) return 0;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    size_t written = 0;
    int ok = EVP_MAC_init(ctx, key, key_len, params) == 1
        && EVP_MAC_update(ctx, msg, msg_len) == 1
        && EVP_MAC_final(ctx, out, &written, 32) == 1
        && written == 32;
    EVP_MAC_CTX_free(ctx);
    return ok;
}
#endif
