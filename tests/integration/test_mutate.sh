#!/usr/bin/env bash
# test_mutate.sh: the session pod mutation fixtures (tests/mutate), each patch applied with
# python3-jsonpatch and the patched pod reviewed again; see tests/mutate/run_fixtures.py.
set -euo pipefail
: "${SA_BIN:?}" "${SA_SRC:?}"
exec /usr/bin/python3 "$SA_SRC/tests/mutate/run_fixtures.py"
