#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make install` / `make uninstall` into a scratch DESTDIR: every file in
# its place, the unit files pass `systemd-analyze verify`, the man page
# renders without warnings and documents every command, the completion
# sources cleanly and completes every command; /etc files are the
# operator's (never overwritten, kept by uninstall). Nothing outside the
# scratch directory is written.
#
#   selftests/host/install.sh        (after make)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/tap.sh"

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
d=$t/root

if [ ! -x "$top/build/kmeshctl" ]; then
	skip "install: make install" "build first (make)"
	tap_done
	exit
fi

check "install: make install DESTDIR=... succeeds" \
	make -s -C "$top" install DESTDIR="$d"
check "install: kmeshctl in /usr/sbin, executable, runs" \
	sh -c "test -x '$d/usr/sbin/kmeshctl' && '$d/usr/sbin/kmeshctl' version | grep -q '^kmeshctl [0-9]'"
check "install: man page in /usr/share/man/man8" test -f "$d/usr/share/man/man8/kmeshctl.8"
check "install: bash completion in /usr/share/bash-completion/completions" \
	test -f "$d/usr/share/bash-completion/completions/kmeshctl"
check "install: kmesh.service, kmesh-metrics.service and kmesh-agent.service in /lib/systemd/system" \
	test -f "$d/lib/systemd/system/kmesh.service" -a -f "$d/lib/systemd/system/kmesh-metrics.service" \
		-a -f "$d/lib/systemd/system/kmesh-agent.service"
check "install: /etc/kmesh/mesh.yaml, /etc/default/kmesh, /etc/modprobe.d/kmesh.conf" \
	test -f "$d/etc/kmesh/mesh.yaml" -a -f "$d/etc/default/kmesh" -a -f "$d/etc/modprobe.d/kmesh.conf"
check "install: nothing else is installed" \
	sh -c "[ \"\$(cd '$d' && find . -type f | sort | tr '\n' ' ')\" = './etc/default/kmesh ./etc/kmesh/mesh.yaml ./etc/modprobe.d/kmesh.conf ./lib/systemd/system/kmesh-agent.service ./lib/systemd/system/kmesh-metrics.service ./lib/systemd/system/kmesh.service ./usr/sbin/kmesh-agent ./usr/sbin/kmeshctl ./usr/share/bash-completion/completions/kmeshctl ./usr/share/man/man8/kmeshctl.8 ' ]"

unit=$d/lib/systemd/system/kmesh.service
check "install: kmesh.service is oneshot + RemainAfterExit and runs kmeshctl up -f /etc/kmesh/mesh.yaml" \
	sh -c "grep -qx 'Type=oneshot' '$unit' && grep -qx 'RemainAfterExit=yes' '$unit' && grep -qx 'ExecStart=/usr/sbin/kmeshctl up \$KMESH_UP_OPTS -f \${KMESH_CONFIG}' '$unit' && grep -qx 'Environment=KMESH_CONFIG=/etc/kmesh/mesh.yaml' '$unit'"
check "install: stopping kmesh.service tears nothing down unless KMESH_DOWN_ON_STOP=yes" \
	sh -c "grep '^ExecStop=' '$unit' | grep -q 'KMESH_DOWN_ON_STOP\" = yes ]; then exec /usr/sbin/kmeshctl down'"
check "install: the mesh file shipped meshes nothing (services: [])" \
	sh -c "grep -qx 'services: \[\]' '$d/etc/kmesh/mesh.yaml'"

# Units with real paths (PREFIX into the scratch dir), so that
# systemd-analyze can check the commands exist.
if command -v systemd-analyze >/dev/null; then
	make -s -C "$top" install PREFIX="$t/p/usr" SYSCONFDIR="$t/p/etc" UNITDIR="$t/p/units" >/dev/null 2>&1
	check "install: PREFIX moves the binary and the units follow it" \
		grep -qx "ExecStart=$t/p/usr/sbin/kmeshctl up \$KMESH_UP_OPTS -f \${KMESH_CONFIG}" "$t/p/units/kmesh.service"
	check "install: systemd-analyze verify passes the units" \
		systemd-analyze verify --man=no "$t/p/units/kmesh.service" "$t/p/units/kmesh-metrics.service" \
			"$t/p/units/kmesh-agent.service"
else
	skip "install: systemd-analyze verify passes the units" "no systemd-analyze"
fi

man_page=$d/usr/share/man/man8/kmeshctl.8
if command -v man >/dev/null; then
	check "install: the man page renders without warnings (man -l)" \
		sh -c "out=\$(MANWIDTH=80 man --warnings -l '$man_page' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
	MANWIDTH=80 man -l "$man_page" 2>/dev/null | col -b >"$t/man.txt"
	check "install: the rendered man page has NAME, SYNOPSIS, COMMANDS, FILES" \
		sh -c "grep -q '^NAME' '$t/man.txt' && grep -q '^SYNOPSIS' '$t/man.txt' && grep -q '^COMMANDS' '$t/man.txt' && grep -q '^FILES' '$t/man.txt'"
else
	skip "install: the man page renders without warnings (man -l)" "no man"
fi

# Every command of `kmeshctl --help` is documented and completed.
cmds=$("$top/build/kmeshctl" --help | awk '/^commands:/ { on = 1; next } on && NF { print $1 }')
check "install: kmeshctl --help lists commands" test -n "$cmds"
missing_man= missing_comp=
for c in $cmds; do
	grep -q "^\.B kmeshctl $c" "$man_page" || missing_man="$missing_man $c"
done
check "install: the man page documents every command" \
	sh -c "[ -z '$missing_man' ] || { echo 'undocumented:$missing_man'; false; }"

comp=$d/usr/share/bash-completion/completions/kmeshctl
check "install: the completion sources cleanly in bash and registers kmeshctl" \
	bash -c "set -eu; out=\$(. '$comp' 2>&1); [ -z \"\$out\" ]; . '$comp'; complete -p kmeshctl | grep -q _kmeshctl"
complete_words() {	# words... -> completions of the last one
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kmeshctl; echo "${COMPREPLY[*]}"' "$comp" "$@"
}
for c in $cmds; do
	case " $(complete_words kmeshctl "") " in
	*" $c "*) ;;
	*) missing_comp="$missing_comp $c" ;;
	esac
done
check "install: the completion offers every command" \
	sh -c "[ -z '$missing_comp' ] || { echo 'not completed:$missing_comp'; false; }"
check "install: the completion completes options (kmeshctl metrics --l -> --listen)" \
	test "$(complete_words kmeshctl metrics --l)" = "--listen"
check "install: ...and 'kmeshctl st' -> status stats" \
	test "$(complete_words kmeshctl st)" = "status stats"

# /etc files belong to the operator.
echo "# mine" >>"$d/etc/kmesh/mesh.yaml"
check "install: a second make install keeps an edited /etc/kmesh/mesh.yaml" \
	sh -c "make -s -C '$top' install DESTDIR='$d' | grep -q 'kept $d/etc/kmesh/mesh.yaml' && tail -n1 '$d/etc/kmesh/mesh.yaml' | grep -qx '# mine'"
check "install: make uninstall succeeds" make -s -C "$top" uninstall DESTDIR="$d"
check "install: ...removes the binary, man page, completion and units" \
	sh -c "[ -z \"\$(find '$d/usr' '$d/lib' -type f)\" ]"
check "install: ...and keeps the operator's /etc files" \
	test -f "$d/etc/kmesh/mesh.yaml" -a -f "$d/etc/default/kmesh" -a -f "$d/etc/modprobe.d/kmesh.conf"
tap_done
