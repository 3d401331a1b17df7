# SPDX-License-Identifier: GPL-2.0-only
# bash completion for kmeshctl(8). Installed by `make install` into
# /usr/share/bash-completion/completions/kmeshctl.

_kmeshctl()
{
	local cur prev cmd opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "status up down apply validate dump stats log metrics version help" -- "$cur"))
		return 0
	fi
	cmd=${COMP_WORDS[1]}

	case "$prev" in
	-f|--file)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	-c|--cgroup)
		COMPREPLY=($(compgen -d -- "${cur:-/sys/fs/cgroup/}"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	-l|--listen)
		COMPREPLY=($(compgen -W "127.0.0.1:15020 :15020 [::1]:15020" -- "$cur"))
		return 0
		;;
	-n|--count|-w|--wait)
		return 0
		;;
	--mode)
		COMPREPLY=($(compgen -W "kfunc fallback" -- "$cur"))
		return 0
		;;
	esac

	case "$cmd" in
	up) opts="--cgroup --file --locality --domain --help" ;;
	apply) opts="--file --dry-run --explain --strict --locality --domain --help" ;;
	validate) opts="--file --explain --mode --strict --locality --domain --help" ;;
	stats) opts="--prometheus --help" ;;
	log) opts="--json --count --wait --help" ;;
	metrics) opts="--listen --help" ;;
	status|down|dump) opts="--help" ;;
	*) opts="" ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	return 0
}
complete -F _kmeshctl kmeshctl
