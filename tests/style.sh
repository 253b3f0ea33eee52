#!/bin/sh
# Every C file of the tree is as clang-format writes it with the
# committed .clang-format.  Only Debian 12's clang-format 14 is the
# reference: other versions lay some lines out differently, so they skip.
cd "${1:?source dir}" || exit 1
command -v clang-format >/dev/null || { echo "SKIP: no clang-format"; exit 77; }
case $(clang-format --version) in
*"version 14."*) ;;
*) echo "SKIP: not clang-format 14: $(clang-format --version)"; exit 77 ;;
esac
find digest tests -name '*.[ch]' -print | sort |
	xargs clang-format --dry-run --Werror ||
	{ echo "FAIL: run clang-format -i on the files above"; exit 1; }
