// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Every struct and enum of the three ABI headers, as the BPF compiler lays
 * them out: built with clang -target bpf -g, its BTF is what test_abi reads
 * member offsets and enumerators from. abi_list.h is generated from the
 * headers themselves (selftests/unit/Makefile), so nothing is left out.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kmesh_dev.h"
#include "kmesh_kfunc.h"
#include "kmesh_maps.h"

#define ABI_STRUCT(boundary, name)	struct name abi_##name;
#define ABI_ENUM(boundary, name)	enum name abi_##name;
#define ABI_CONST(boundary, name)
#include "abi_list.h"
