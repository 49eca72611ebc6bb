#!/usr/bin/python3
"""Oracle fixtures for the ROUGE/BLEU tests, from Debian's python3-nltk 3.8 (apt-get install python3-nltk).

porter_nltk.tsv: word <TAB> nltk.stem.porter.PorterStemmer().stem(word) (the NLTK_EXTENSIONS mode that Google's rouge_score
uses) for the examples of Porter's paper, NLTK's irregular forms, and the 1500 most frequent lower-case words of the
DialogSum dev summaries (../shared/data/dialogsum), every word longer than 3 letters as rouge_score stems only those.

bleu_nltk.tsv: hypothesis <TAB> reference <TAB> 100 * nltk corpus_bleu over the already 13a-tokenized sentence pairs of one
corpus (blank line between corpora). Without zero n-gram counts NLTK's unsmoothed corpus BLEU equals sacreBLEU's (same
clipping, closest reference length, brevity penalty), so the cases are chosen with at least one 4-gram match per corpus.
Run: /usr/bin/python3 make_metric_oracles.py [path to dialogsum.dev.jsonl]
"""
import collections, json, re, sys
from nltk.stem.porter import PorterStemmer
from nltk.translate.bleu_score import corpus_bleu

paper = """caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping tanned
falling hissing fizzed failing filing happy sky relational conditional rational valenci hesitanci digitizer conformabli
radicalli differentli vileli analogousli vietnamization predication operator feudalism decisiveness hopefulness callousness
formaliti sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival allowance
inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou communism
activate angulariti homologous effective bowdlerize probate rate cease controll roll generalizations oscillators
skies dying lying tying news innings inning outings outing cannings canning howe proceed exceed succeed flies dies spied died
enjoy enjoyment spy fly try tried geology theology archaeology fully hopefully generously""".split()
words = list(dict.fromkeys(paper))
path = sys.argv[1] if len(sys.argv) > 1 else "../../../../../shared/data/dialogsum/dialogsum.dev.jsonl"
counts = collections.Counter()
for line in open(path, encoding="utf-8"):
    row = json.loads(line)
    counts.update(t for t in re.sub(r"[^a-z0-9]+", " ", row["summary"].lower()).split() if len(t) > 3)
for w, _ in counts.most_common(1500):
    if w not in words:
        words.append(w)
stemmer = PorterStemmer()
assert stemmer.mode == PorterStemmer.NLTK_EXTENSIONS
with open("porter_nltk.tsv", "w", encoding="utf-8") as f:
    for w in words:
        f.write(f"{w}\t{stemmer.stem(w)}\n")

corpora = [
    [("the cat sat on the mat .", "the cat sat on the mat ."),
     ("a quick brown fox jumps over the lazy dog", "the quick brown fox jumped over the lazy dog")],
    [("there is a cat on the mat", "the cat is on the mat"),
     ("he said that it was a good day for a walk in the park", "he said it was a very good day to walk in the park")],
    [("we will meet at 10 : 30 tomorrow in the office", "we will meet tomorrow at 10 : 30 in the main office")],
]
with open("bleu_nltk.tsv", "w", encoding="utf-8") as f:
    for corpus in corpora:
        score = 100 * corpus_bleu([[r.split()] for _, r in corpus], [h.split() for h, _ in corpus])
        for h, r in corpus:
            f.write(f"{h}\t{r}\t{score!r}\n")
        f.write("\n")
