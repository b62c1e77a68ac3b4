#ifndef AVAULT_CYAML_SHIM_H
#define AVAULT_CYAML_SHIM_H
#include <yaml.h>
#endif
