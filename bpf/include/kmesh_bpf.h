/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Common includes for every kmesh BPF program. */
#ifndef KMESH_BPF_H
#define KMESH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "kmesh_kfunc.h"
#include "kmesh_maps.h"

#endif /* KMESH_BPF_H */
