#!/usr/bin/env bash
# Reproduce docs/evaluation.md: convert the shared data at run time (nothing is committed),
# import it into throwaway platforms, and print every figure.
#   bench/evaluate.sh [SHARED_DATA_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
WORK=${2:-var/eval}
G=.venv/bin/greenplat

.venv/bin/python -m bench.evaldata --data "$DATA" --out "$WORK"
for setup in csl-keywords csl-titles; do
  [ -e "$WORK/$setup.imported" ] || {
    $G import achievements "$WORK/$setup/achievements.jsonl" --data-dir "$WORK/db-$setup"
    touch "$WORK/$setup.imported"
  }
done
[ -e "$WORK/expertise.imported" ] || {
  for library in experts achievements problems; do
    $G import "$library" "$WORK/expertise/$library.jsonl" --data-dir "$WORK/db-expertise"
  done
  touch "$WORK/expertise.imported"
}

echo "== problem -> achievement (keyword queries)"
$G eval --qrels "$DATA/csl-dev-qrels-keywords.jsonl" --to achievements --mode all \
  --data-dir "$WORK/db-csl-keywords"
echo "== title -> abstract (titles replaced by keywords in the library)"
$G eval --qrels "$DATA/csl-dev-qrels-titles.jsonl" --to achievements --mode all \
  --data-dir "$WORK/db-csl-titles"
echo "== expertise (loss, lower is better)"
for n in 1 2 3 4 5 6 7 8 9 10; do
  echo "d_20_$n"
  $G eval --ratings "$WORK/expertise/ratings-d_20_$n.jsonl" --data-dir "$WORK/db-expertise"
done
echo "== relevance bar: out-of-domain abstention (bar on), keyword ranking (bar lifted)"
.venv/bin/python -m bench.abstention prepare --data "$DATA" --out "$WORK/abstain"
[ -e "$WORK/abstain.imported" ] || {
  $G import achievements "$WORK/abstain/achievements.jsonl" --data-dir "$WORK/db-abstain"
  touch "$WORK/abstain.imported"
}
for bar in on all; do
  opt=$([ $bar = all ] && echo --all || true)
  $G match --to achievements --queries "$WORK/abstain/queries.jsonl" --k 10 $opt \
    --out "$WORK/abstain/$bar.jsonl" --data-dir "$WORK/db-abstain"
  .venv/bin/python -m bench.abstention score "$WORK/abstain/$bar.jsonl" --out "$WORK/abstain"
done
