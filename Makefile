# SPDX-License-Identifier: GPL-2.0-only
#
# kmesh top-level build. Everything lands in $(O) (default build/), except
# what kbuild writes next to the module sources, which we keep out of the
# tree by building from a mirror of symlinks under $(O)/kmod/.
#
#   make                 module (against KDIR) + BPF objects + kmeshctl + selftests
#   make KDIR=/path      build the module against another kernel tree
#   make unit            host unit tests (no VM)
#   make abi-layout      record the ABI layout after a version bump (test_abi)
#   make vmtest          selftests in QEMU on the stock Debian 6.1 kernel
#   make vmtest-debug    the selftests on the debug test kernel (KASAN, kmemleak,
#                        lockdep); slow, not part of check
#   make vmtest-load     the load test at full size (10,000 connections, 1,000,000
#                        requests per path; LANE=kfunc by default); not part of check
#   make demo            the demo: module + kmeshctl up in a VM
#   make check           everything CI runs: deps, build, unit, host tests, VM lanes
#   make dkms-install    register, build and install the module with DKMS
#   make bench           benchmarks: kmesh vs no mesh vs HAProxy (bench/; its
#                        BENCH_SMOKE=1 run is check's bench-smoke suite)
#   make bench-l4        same-node sk_msg redirect vs plain loopback, 1 KB stream
#                        and request/response, host only (BENCH_QUICK=1: < 1 min)
#   make bench-inbound   inbound authorization alone, protected vs unprotected
#                        workload, host only, with ns per program (bench/inbound.sh)
#   make bench-xds       xDS push to switched generation, 1,000 services / 10,000
#                        routes through kmesh-agent, host only (bench/xds.sh)
#   make bench-parser    host micro-benchmark of the parser (vs http-parser) and
#                        the route matcher; writes bench/parser/results.md + PNG
#   make bench-h2        host micro-benchmark of the HTTP/2 core (HPACK, frames)
#                        vs nghttp2; writes bench/h2/results.md + PNG
#   make bench-h2-load   h2load and gRPC load: kmesh vs direct vs HAProxy (h2),
#                        host lane; writes bench/h2/load-results.md + load.png
#   make fuzz            the libFuzzer targets, long and time-bounded (see
#                        selftests/fuzz/Makefile; CI runs the short `run`)
#   make install         kmeshctl, man page, systemd units, completion, /etc examples
#                        (DESTDIR=, PREFIX=/usr; make uninstall undoes it)

SHELL := /bin/bash
.DEFAULT_GOAL := all

O ?= build
override O := $(abspath $(O))

KMESH_KABI := $(shell . scripts/env.sh && echo $$KMESH_KABI)
KMESH_CACHE := $(shell . scripts/env.sh && echo $$KMESH_CACHE)
STOCK_OBJTREE := $(KMESH_CACHE)/$(KMESH_KABI)/objtree
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

# The module is built for the running kernel when its headers are there,
# otherwise for the stock Debian kernel the VM lane boots.
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(STOCK_OBJTREE))
override KDIR := $(abspath $(KDIR))
KMOD_O := $(O)/kmod/$(shell echo '$(KDIR)' | md5sum | cut -c1-12)

# BPF objects are CO-RE; their vmlinux.h comes from the oldest kernel we
# support, so nothing newer can sneak in.
VMLINUX_BTF ?= $(STOCK_OBJTREE)/vmlinux
BPF_O := $(O)/bpf
CLANG ?= clang
BPFTOOL ?= bpftool
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	-I$(BPF_O) -Ibpf/include -Ikmod -I/usr/include/x86_64-linux-gnu

CC ?= cc
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(BPF_O) -Ikmod \
	-Iuserspace/lib -Iselftests/lib -Iselftests/conformance -Ibpf/include
USER_LDLIBS := -static -lbpf -lelf -lz -lyaml
# kmeshctl links dynamically: its metrics server uses libmicrohttpd, whose
# static archive needs gnutls and p11-kit, and Debian ships no static
# p11-kit. The VM harness copies its shared libraries (ldd) into the guest.
KMESHCTL_LDLIBS := -lbpf -lelf -lz -lyaml -lmicrohttpd -lcrypto

# The ABI headers, one per boundary: kfuncs (module and BPF), /dev/kmesh and
# route tables (module and userspace), maps (BPF and userspace).
ABI_H := kmod/kmesh_kfunc.h kmod/kmesh_dev.h bpf/include/kmesh_maps.h
BPF_HDRS := $(sort $(wildcard bpf/include/*.h) $(ABI_H))
# The plain-C cores (parser, matcher) link into userspace too: one source.
LIB_SRCS := $(wildcard userspace/lib/*.c) $(wildcard kmod/core/*.c)
KMESHCTL_SRCS := $(wildcard userspace/kmeshctl/*.c) $(LIB_SRCS)
SELFTEST_SRCS := selftests/runner.c $(wildcard selftests/prog_tests/*.c) \
	$(wildcard selftests/conformance/*.c) $(wildcard selftests/lib/*.c) \
	$(LIB_SRCS)

.PHONY: demo all module bpf userspace selftests agent print-module unit abi-layout vmtest vmtest-cluster check \
	dkms-install dkms-uninstall clean stock-kernel bench install uninstall \
	bench-parser fuzz bench-l4 bench-inbound vmtest-debug vmtest-load bench-xds bench-h2 bench-h2-load

all: module userspace selftests agent

# Keep the BPF objects: they are what the skeletons embed, handy to inspect.
.SECONDARY:

# ---- kernel module ----

$(STOCK_OBJTREE)/.kmesh-ready:
	scripts/prepare-kernel.sh >/dev/null

stock-kernel: $(STOCK_OBJTREE)/.kmesh-ready

module: $(if $(filter $(STOCK_OBJTREE),$(KDIR)),stock-kernel)
	@test -f '$(KDIR)/Makefile' || { echo "no kernel build tree at $(KDIR): install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	@mkdir -p $(KMOD_O)
	@cp -rsf $(CURDIR)/Kbuild $(CURDIR)/kmod $(KMOD_O)/
	$(MAKE) -C $(KDIR) M=$(KMOD_O) modules

print-module:
	@echo $(KMOD_O)/kmesh.ko

# ---- BPF ----

$(BPF_O)/vmlinux.h: | stock-kernel
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	@mv $@.tmp $@

$(BPF_O)/%.bpf.o: bpf/%.bpf.c $(BPF_O)/vmlinux.h $(BPF_HDRS)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	@rm -f $@.tmp

$(BPF_O)/%.bpf.o: selftests/progs/%.bpf.c $(BPF_O)/vmlinux.h $(BPF_HDRS)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	@rm -f $@.tmp

$(BPF_O)/%.skel.h: $(BPF_O)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp
	@mv $@.tmp $@

# The data plane: one entry file per hook (connect, getpeername, sockops,
# sk_msg; the inbound sk_skb and cgroup_skb programs live in sk_msg.bpf.c,
# whose global parser subprograms they call) plus the files defining the
# maps the others declare extern (l4_maps, l7_maps, inbound_maps), linked
# into one object, kmesh.bpf.o.
# -mcpu=v3 for atomic fetch-and-add (round robin, circuit breaker).
KMESH_BPF_OBJS := $(BPF_O)/l4_maps.bpf.o $(BPF_O)/l7_maps.bpf.o \
	$(patsubst bpf/%.bpf.c,$(BPF_O)/%.bpf.o,$(filter-out \
	bpf/kfunc_probe.bpf.c bpf/l4_maps.bpf.c bpf/l7_maps.bpf.c,$(wildcard bpf/*.bpf.c)))
$(KMESH_BPF_OBJS): BPF_CFLAGS += -mcpu=v3

$(BPF_O)/kmesh.bpf.o: $(KMESH_BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

bpf: $(BPF_O)/kfunc_probe.skel.h $(BPF_O)/kmesh.skel.h

# ---- userspace ----

$(O)/kmeshctl: $(KMESHCTL_SRCS) $(wildcard userspace/*/*.h) $(ABI_H) \
		$(BPF_O)/kfunc_probe.skel.h $(BPF_O)/kmesh.skel.h
	$(CC) $(USER_CFLAGS) -o $@ $(KMESHCTL_SRCS) $(KMESHCTL_LDLIBS)

userspace: $(O)/kmeshctl

# ---- node agent (xDS) ----
# The Envoy API protos come from an npm package and become protobuf-c code
# at build time (scripts/gen-xds-protos.sh; nothing generated is committed).
# The agent links gRPC's C core from Debian (libgrpc-dev); docs/xds.md says why.
# Its error messages name nested fields and may be cut at their buffer's
# end on purpose, hence -Wno-format-truncation.
XDS_O := $(O)/xds
AGENT_SRCS := $(wildcard userspace/agent/*.c)
AGENT_LDLIBS := -lbpf -lelf -lz -lyaml $(shell pkg-config --libs grpc libprotobuf-c 2>/dev/null)

$(XDS_O)/c/files.list: scripts/gen-xds-protos.sh
	scripts/gen-xds-protos.sh $(XDS_O)

# Generated code: compiled as is, warnings not ours to fix.
$(XDS_O)/libxds.a: $(XDS_O)/c/files.list
	@rm -rf $(XDS_O)/obj && mkdir -p $(XDS_O)/obj
	cd $(XDS_O)/c && find . -name '*.pb-c.c' | sed 's|^\./||' | \
		xargs -P2 -I{} sh -c '$(CC) -std=gnu11 -O2 -g -I. -c {} -o ../obj/$$(echo {} | tr / _ | sed "s/\.c$$/.o/")'
	rm -f $@ && ar rcs $@ $(XDS_O)/obj/*.o

$(O)/kmesh-agent: $(AGENT_SRCS) $(wildcard userspace/agent/*.h) $(LIB_SRCS) \
		$(wildcard userspace/lib/*.h) $(ABI_H) $(XDS_O)/libxds.a \
		$(BPF_O)/kfunc_probe.skel.h $(BPF_O)/kmesh.skel.h
	$(CC) $(USER_CFLAGS) -Wno-format-truncation -I$(XDS_O)/c -o $@ $(AGENT_SRCS) $(LIB_SRCS) \
		$(XDS_O)/libxds.a $(AGENT_LDLIBS)

agent: $(O)/kmesh-agent

$(O)/kmesh_selftests: $(SELFTEST_SRCS) $(wildcard selftests/*/*.h) \
		$(wildcard userspace/lib/*.h) $(ABI_H) \
		$(BPF_O)/kfunc_probe.skel.h $(BPF_O)/kfunc_caps.skel.h \
		$(BPF_O)/http_parse.skel.h $(BPF_O)/route_match.skel.h \
		$(BPF_O)/conformance_fb.skel.h $(BPF_O)/conformance_kf.skel.h \
		$(BPF_O)/kfunc_sizes.skel.h $(BPF_O)/route_eval.skel.h \
		$(BPF_O)/h2_parse.skel.h $(BPF_O)/kmesh.skel.h
	$(CC) $(USER_CFLAGS) -Iselftests/prog_tests -o $@ $(SELFTEST_SRCS) $(USER_LDLIBS)

# The h2l4 selftests' gRPC client and server (Debian's gRPC core, built
# by bench/Makefile), found next to kmesh_selftests in bench/.
SELFTEST_TOOLS := $(O)/bench/grpc_server $(O)/bench/grpc_client
selftests: $(O)/kmesh_selftests $(SELFTEST_TOOLS)

$(SELFTEST_TOOLS): $(O)/bench/%: bench/src/%.c
	$(MAKE) -s -C bench O=$(abspath $(O))/bench $(abspath $@)

# ---- tests ----

# test_abi also reads the BTF of what `make all` built, when it is there:
# the objects of today's sources only (a renamed program's old object may
# linger in build/ with an old layout).
ABI_BTF_OBJS = $(wildcard $(BPF_O)/kmesh.bpf.o $(KMOD_O)/kmesh.ko \
	$(patsubst bpf/%.bpf.c,$(BPF_O)/%.bpf.o,$(wildcard bpf/*.bpf.c)) \
	$(patsubst selftests/progs/%.bpf.c,$(BPF_O)/%.bpf.o,$(wildcard selftests/progs/*.bpf.c)))
unit:
	$(MAKE) -C selftests/unit O=$(O) run \
		ABI_BTF_OBJS="$(ABI_BTF_OBJS)" \
		ABI_BTF_BASE="$(wildcard $(KDIR)/vmlinux)"

# After an ABI version bump (or an addition): record the layout test_abi checks.
abi-layout:
	$(MAKE) -C selftests/unit O=$(O) abi-layout

LANE ?= stock
vmtest:
	scripts/vmtest.sh --lane $(LANE)

vmtest-debug:
	scripts/vmtest.sh --lane debug

# Three nodes, each its own VM, kmesh and kmesh-agent, fed by one xDS
# server (make check runs two of them)
CLUSTER_NODES ?= 3
vmtest-cluster:
	scripts/vmtest-cluster.sh --lane $(LANE) --nodes $(CLUSTER_NODES)

# The load area at full size; `make check` runs it scaled down in each lane.
LOAD_LANE ?= kfunc
vmtest-load:
	KMESH_VM_ENV="KMESH_LOAD_SIZE=full" scripts/vmtest.sh --lane $(LOAD_LANE) \
		--timeout 7200 -- load

# demo: the kfunc lane when its kernel is built, unless LANE is given
demo:
	scripts/demo.sh $(if $(filter file,$(origin LANE)),,--lane $(LANE))

check:
	scripts/check.sh

bench:
	scripts/install-bench-deps.sh
	bench/run.sh
	O=$(O) bench/h2/load.sh

bench-l4:
	bench/l4.sh

bench-inbound:
	bench/inbound.sh

bench-parser:
	O=$(O) bench/parser/run.sh

bench-h2:
	O=$(O) bench/h2/run.sh

bench-h2-load:
	O=$(O) bench/h2/load.sh

bench-xds: agent userspace
	bench/xds.sh

fuzz:
	$(MAKE) -C selftests/fuzz O=$(O) long

# ---- node install (DESTDIR and PREFIX aware; the module goes through DKMS) ----

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
UNITS := kmesh.service kmesh-metrics.service kmesh-agent.service
# Config files are the operator's: installed when absent, never overwritten
# and left in place by uninstall.
ETC_FILES := packaging/etc/mesh.yaml:kmesh/mesh.yaml \
	packaging/etc/default-kmesh:default/kmesh \
	packaging/modprobe.d/kmesh.conf:modprobe.d/kmesh.conf

install: $(O)/kmeshctl $(O)/kmesh-agent
	install -D -m 0755 $(O)/kmeshctl $(DESTDIR)$(SBINDIR)/kmeshctl
	install -D -m 0755 $(O)/kmesh-agent $(DESTDIR)$(SBINDIR)/kmesh-agent
	install -D -m 0644 docs/kmeshctl.8 $(DESTDIR)$(MANDIR)/man8/kmeshctl.8
	install -D -m 0644 packaging/completion/kmeshctl.bash $(DESTDIR)$(BASHCOMPDIR)/kmeshctl
	@for u in $(UNITS); do \
		mkdir -p $(DESTDIR)$(UNITDIR); \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			packaging/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
		echo "installed $(DESTDIR)$(UNITDIR)/$$u"; \
	done
	@for f in $(ETC_FILES); do \
		dst=$(DESTDIR)$(SYSCONFDIR)/$${f#*:}; \
		if [ -e $$dst ]; then echo "kept $$dst (yours)"; \
		else install -D -m 0644 $${f%%:*} $$dst && echo "installed $$dst"; fi; \
	done
	@echo "kmesh installed. Next: make dkms-install (the module), then systemctl daemon-reload && systemctl enable --now kmesh"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/kmeshctl $(DESTDIR)$(SBINDIR)/kmesh-agent \
		$(DESTDIR)$(MANDIR)/man8/kmeshctl.8 \
		$(DESTDIR)$(BASHCOMPDIR)/kmeshctl $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/kmesh, default/kmesh and modprobe.d/kmesh.conf (remove them by hand); the running data plane, if any, is untouched (kmeshctl down)"

# ---- DKMS ----

dkms-install:
	scripts/dkms.sh install

dkms-uninstall:
	scripts/dkms.sh uninstall

clean:
	rm -rf $(O)
