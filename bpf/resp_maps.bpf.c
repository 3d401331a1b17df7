// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one definition of the client-side response maps (include/resp.h). */
#define KMESH_RESP_MAPS_DEFINE
#include "resp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
