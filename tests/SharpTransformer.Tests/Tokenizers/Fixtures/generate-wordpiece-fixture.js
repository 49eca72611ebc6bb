// Regenerates wordpiece-hf-expected.json and wordpiece-tokenizer.json with Hugging Face tokenizers (npm "tokenizers" 0.23.2):
// wordpiece-vocab.txt was trained by WordPieceTrainer on Tiny Shakespeare + SST-2, 1500 tokens) and
// inputs.json (the texts) here, then run node generate-wordpiece-fixture.js.
const t = require('tokenizers');
const fs = require('fs');
(async () => {
  const inputs = JSON.parse(fs.readFileSync('./inputs.json', 'utf8'));
  const vocab = {};
  fs.readFileSync('./wordpiece-vocab.txt', 'utf8').split('\n').forEach((l, i) => { if (l.length) vocab[l] = i; });
  const out = { hf_version: require('tokenizers/package.json').version, cases: [] };
  const make = (lower) => {
    const tok = new t.Tokenizer(t.WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
    tok.setNormalizer(t.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: lower }));
    tok.setPreTokenizer(t.bertPreTokenizer());
    tok.setPostProcessor(t.bertProcessing(['[SEP]', vocab['[SEP]']], ['[CLS]', vocab['[CLS]']]));
    tok.setDecoder(t.wordPieceDecoder('##', true));
    return tok;
  };
  for (const lower of [true, false]) {
    const tok = make(lower);
    if (lower) tok.save('./wordpiece-tokenizer.json');
    for (const s of inputs) {
      const e = await tok.encode(s);
      const ids = e.getIds();
      out.cases.push({ lowercase: lower, text: s, ids, offsets: e.getOffsets(), decoded: await tok.decode(ids, false), decodedSkip: await tok.decode(ids, true) });
    }
  }
  fs.writeFileSync('./wordpiece-hf-expected.json', JSON.stringify(out));
  console.log(out.cases.length, out.cases[60]);
})().catch(e => { console.error(e); process.exit(1); });
