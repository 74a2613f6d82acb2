#!/usr/bin/env bash
# Every recorded artefact, regenerated from the code in one go, or checked.
# What is recorded, by what, and the check that fails when it is stale:
#
#   docs/schema/*.schema.json          refresh-race schema           cargo test --test it schema::
#   docs/reference-matrix.md           scripts/reference-matrix.sh   cargo test --test it cli::
#   docs/presets.md                    presets::markdown()           cargo test --test it presets::
#   tests/golden/naive-seed7.txt       refresh-race run (seeded)     cargo test --test it cli::
#   tests/golden/export/*              the exports of a seeded run   cargo test --test it export::
#   tests/ui-unit/fixtures/explore/*   refresh-race explore          cargo test --test it explore::
#   tests/ui-unit/fixtures/*.json      scripts/record-fixtures.mjs   cargo test --test it fixtures::
#   tests/ui-unit/streams/*.ndjson     scripts/record-streams.mjs    record-streams.mjs --check
#   docs/libraries.md (--libraries)    scripts/library-table.mjs     none: minutes of Chromium
#
# usage: scripts/bless.sh              rewrite them all, then review `git diff`
#        scripts/bless.sh --check      fail when any is stale
#        scripts/bless.sh --check --cargo-tests-ran
#                                      only what `cargo test` does not check
#                                      (scripts/test.sh, right after it)
#        scripts/bless.sh --libraries  also rerun the libraries' table (slow)
# env:   CARGO_TARGET_DIR   where cargo builds (default: target)
#        REFRESH_RACE_BIN   a CLI already built (else: cargo build -p refresh-race)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=false
libraries=false
cargo_ran=false
for arg in "$@"; do
  case "$arg" in
    --check) check=true ;;
    --libraries) libraries=true ;;
    --cargo-tests-ran) cargo_ran=true ;;
    *) echo "usage: scripts/bless.sh [--check [--cargo-tests-ran]] [--libraries]" >&2; exit 2 ;;
  esac
done

export CARGO_TERM_COLOR=never
# A caller that built the CLI already says where (scripts/test.sh does: a
# build of its own here would resolve other features and compile again).
if [[ -z ${REFRESH_RACE_BIN:-} ]]; then
  cargo build -q -p refresh-race
  export REFRESH_RACE_BIN="${CARGO_TARGET_DIR:-target}/debug/refresh-race"
fi

# Each check by name: the test that compares an artefact with the code.
staleness_tests() {
  cargo test -q --test it schema::checked_in_schemas_are_current
  cargo test -q --test it -- cli::text_timeline_of_a_seeded_naive_race_matches_the_golden_file cli::the_matrix_has_tabs_and_modes_and_the_reference_table_is_current
  cargo test -q --test it presets::the_preset_table_in_docs_is_generated_from_the_code
  cargo test -q --test it export::exports_of_the_recorded_seeded_run_match_their_goldens
  cargo test -q --test it explore::the_ui_fixtures_are_what_the_explorer_writes
  cargo test -q --test it fixtures::
}

if $check; then
  $cargo_ran || staleness_tests
  node scripts/record-streams.mjs --check
  echo "bless: every recorded artefact is current"
  exit 0
fi

"$REFRESH_RACE_BIN" schema --out docs/schema
bash scripts/reference-matrix.sh
REFRESH_RACE_WRITE_DOCS=1 cargo test -q --test it presets::the_preset_table_in_docs_is_generated_from_the_code
UPDATE_GOLDEN=1 cargo test -q --test it cli::text_timeline_of_a_seeded_naive_race_matches_the_golden_file
UPDATE_FIXTURE=1 UPDATE_GOLDEN=1 cargo test -q --test it export::exports_of_the_recorded_seeded_run_match_their_goldens
UPDATE_FIXTURES=1 cargo test -q --test it explore::the_ui_fixtures_are_what_the_explorer_writes
node scripts/record-fixtures.mjs
node scripts/record-streams.mjs
if $libraries; then node scripts/library-table.mjs; fi

# What was rewritten must now pass its own check.
staleness_tests
node scripts/record-streams.mjs --check
echo
git status --short -- docs tests/golden tests/ui-unit/fixtures tests/ui-unit/streams
echo "bless: review the diff above, run node --test tests/ui-unit/*.test.mjs, commit"
