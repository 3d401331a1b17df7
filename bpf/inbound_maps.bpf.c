// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one definition of every inbound-authorization map (include/inbound.h). */
#define KMESH_INBOUND_MAPS_DEFINE
#include "inbound.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
