#!/bin/sh
# deploy/lambda/package.sh BUILD OUT.zip [--model FILE.blob | --workspace DIR]
#
# The deployment zip of `make lambda`: bootstrap and BUILD's score.fcgi at the
# zip's root, with the blob as model.blob or the workspace as workspace/ (the
# places score.fcgi looks under LAMBDA_TASK_ROOT).  Python 3's zipfile keeps
# the files' modes (bootstrap and score.fcgi must be executable, and every file
# readable by Lambda's user).  score.fcgi must be the static one `make` builds:
# Lambda's Amazon Linux 2023 has an older glibc than Debian 12.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 BUILD OUT.zip --model FILE.blob | --workspace DIR" >&2; exit 2; }
build=$1 out=$2 what=$3 src=$4
stage=$build/lambda-stage
rm -rf "$stage"
mkdir -p "$stage"
cp deploy/lambda/bootstrap "$build/score.fcgi" "$stage/"
case $what in
--model) cp "$src" "$stage/model.blob" ;;
--workspace) cp -R "$src" "$stage/workspace" ;;
*) echo "$0: $what: use --model or --workspace" >&2; exit 2 ;;
esac
strip "$stage/score.fcgi" 2>/dev/null || :   # its debug info is of no use on Lambda
chmod -R a+rX "$stage"
chmod 755 "$stage/bootstrap" "$stage/score.fcgi"
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
rm -f "$out"
(cd "$stage" && python3 -m zipfile -c "$out" $(ls -A))
echo "$out: $(du -k "$out" | cut -f1) KiB: $(ls -A "$stage" | tr '\n' ' ')"
