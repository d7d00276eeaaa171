#!/usr/bin/env bash
# Make plink2 and plink1.9 available: install Debian's packages when missing and allowed,
# otherwise say how to get them (or to run the workflow with --use-conda).
set -euo pipefail
missing=()
command -v plink2 >/dev/null 2>&1 || missing+=(plink2)
command -v plink1.9 >/dev/null 2>&1 || command -v plink >/dev/null 2>&1 || missing+=(plink1.9)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
  exit 0
fi
cat >&2 <<MSG
PLINK binaries missing: ${missing[*]}.
Install them, e.g. on Debian/Ubuntu: sudo apt-get install plink1.9 plink2
(or download from https://www.cog-genomics.org/plink/2.0/ and put plink2 and plink1.9 on PATH),
or run the workflow with conda: snakemake --cores all --use-conda
MSG
exit 1
