// Regenerates gpt2-tiktoken-expected.json: GPT-2 ids from the real tiktoken (npm "tiktoken" 1.0.22, WASM build of the
// Rust library) and Hugging Face tokenizers (npm "tokenizers" 0.23.2, BPE from encoder.json + vocab.bpe, ByteLevel
// pre-tokenizer), which agree on every case. inputs.json holds the texts (TokenizerTestData.Adversarial made well-formed,
// and RandomStrings(2000, seed 7, wellFormed: true)).
const t = require('tokenizers'); const tk = require('tiktoken'); const fs = require('fs');
(async () => {
  const dir = process.argv[2] || '.';
  const model = await t.BPE.fromFile(dir + '/encoder.json', dir + '/vocab.bpe');
  const hf = new t.Tokenizer(model);
  hf.setPreTokenizer(t.byteLevelPreTokenizer(false, true));
  const enc = tk.get_encoding('gpt2');
  const inputs = JSON.parse(fs.readFileSync('inputs.json', 'utf8'));
  const cases = [];
  for (const text of inputs) {
    const ids = Array.from(enc.encode(text, [], []));
    const h = Array.from((await hf.encode(text, null, { addSpecialTokens: false })).getIds());
    if (JSON.stringify(ids) !== JSON.stringify(h)) throw new Error('tiktoken and HF disagree on ' + JSON.stringify(text));
    cases.push({ text, ids });
  }
  fs.writeFileSync('gpt2-tiktoken-expected.json', JSON.stringify({ tiktoken: '1.0.22', tokenizers: '0.23.2', cases }));
})().catch(e => { console.error(e); process.exit(1); });
