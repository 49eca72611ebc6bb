#!/usr/bin/env bash
# Makes the SentencePiece oracle fixture: small models trained by Debian's spm_train (sentencepiece 0.1.97,
# `apt-get install sentencepiece python3-sentencepiece`) on a slice of ../shared/data/tinyshakespeare, and the ids
# spm_encode gives for held-out lines (Shakespeare lines the trainer did not see, DialogSum dialogue lines and a few
# hand-written lines with NFKC-relevant, unknown and multi-byte characters), and what spm_decode makes of those ids. Run from this folder.
set -euo pipefail
shared=../../../../../../shared/data
sed -n '1,4000p' $shared/tinyshakespeare/input.txt > /tmp/spm-train.txt
{
  sed -n '30001,30150p' $shared/tinyshakespeare/input.txt | grep -v '^$'
  /usr/bin/python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    if i >= 20: break
    try: d = json.loads(line)
    except Exception: break
    for t in d["dialogue"].split("\n")[:3]: print(t)' $shared/dialogsum/dialogsum.dev.jsonl
  printf '%s\n' 'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ and ﬁne ligatures ① ½' '  leading   and   repeated   spaces  ' 'émigré café naïve Ångström' \
    'Emoji 🙂 and CJK 漢字 and Ελληνικά' 'tab	separated	text' 'ÀÉÎÕÜ ß ﬀ ㌀'
} > heldout.txt
common="--input=/tmp/spm-train.txt --vocab_size=400 --num_threads=1 --minloglevel=2 --character_coverage=0.9995"
spm_train $common --model_prefix=unigram --model_type=unigram
spm_train $common --model_prefix=unigram-bytes --model_type=unigram --byte_fallback=true --normalization_rule_name=identity
spm_train $common --model_prefix=bpe --model_type=bpe --normalization_rule_name=identity
spm_train $common --model_prefix=bpe-bytes --model_type=bpe --byte_fallback=true --normalization_rule_name=identity
rm -f ./*.vocab
for m in unigram unigram-bytes bpe bpe-bytes; do
  spm_encode --model=$m.model --output_format=id < heldout.txt > $m.ids
  spm_decode --model=$m.model --input_format=id < $m.ids > $m.decoded
done
