#ifndef AVAULT_CSODIUM_SHIM_H
#define AVAULT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
