#ifndef AVAULT_COPENSSL_SHIM_H
#define AVAULT_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/err.h>
#endif
