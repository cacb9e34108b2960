#!/usr/bin/env bash
# A cargo runner that runs nothing. The test build names both shipped
# targets in each cargo run (RECPIPE_TEST_TARGETS, scripts/test.sh), since
# cargo unifies dependency features across the targets of one run and a run
# naming one target alone would build it again; a run then chooses whose
# tests it runs by giving the other target this runner
# (CARGO_TARGET_<TRIPLE>_RUNNER).
echo "     (not now: $(basename "$1") runs in its own step of scripts/test.sh)"
