using System.Diagnostics;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Generation;
using SharpTransformer.Models.Gpt2;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// <c>sharpt bench generate --beams N</c>: greedy decoding and beam search of width N on the same random GPT-2, alternated
/// (greedy, beams, greedy, beams, ...) for <c>--rounds</c> rounds; prints the median cost per token of greedy, per token per
/// beam of the beam search, and their ratio (the target is at most 1.3).
/// </summary>
internal static class BenchGenerateBeams
{
    public static int Run(string model, int tokens, int threads, int prompt, int beams, int rounds)
    {
        var config = ModelConfigs.Gpt2(model);
        if (threads > 0) CpuBackend.Default.Threads = threads;
        if (prompt + tokens > config.ContextLength) throw new CliException($"--prompt + --tokens exceeds the context length {config.ContextLength}.");
        var net = new Gpt2(config);
        net.Eval();
        var gen = new TextGenerator(net);
        var ids = Enumerable.Range(1, prompt).ToArray();
        var options = new GenerationOptions(MaxNewTokens: tokens, Greedy: true);   // no stop tokens: every run decodes `tokens` steps
        var beamOptions = new BeamSearchOptions(NumBeams: beams);
        Console.WriteLine($"{model}: {net.ParameterCount():N0} parameters, cpu ({CpuBackend.Default.Threads} threads), prompt {prompt}, {tokens} tokens, {beams} beams, {rounds} rounds");
        gen.Generate(ids, options with { MaxNewTokens = 2 });                        // warm-up
        gen.BeamSearch(ids, options with { MaxNewTokens = 2 }, beamOptions);
        var greedy = new List<double>();
        var beam = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            var g = gen.Generate(ids, options);
            greedy.Add(sw.Elapsed.TotalSeconds / g.Length);
            sw.Restart();
            var h = gen.BeamSearch(ids, options, beamOptions);
            beam.Add(sw.Elapsed.TotalSeconds / (h[0].Tokens.Length * (double)beams));
            Console.WriteLine($"round {r + 1}: greedy {greedy[^1] * 1000:F2} ms/token, beam {beam[^1] * 1000:F2} ms/token/beam");
        }
        double mg = BenchTrainStepCommand.Median(greedy), mb = BenchTrainStepCommand.Median(beam);
        Console.WriteLine($"median greedy {mg * 1000:F2} ms/token; beam search {mb * 1000:F2} ms/token/beam ({mb * beams * 1000:F2} ms/step; target ratio <= 1.3)");
        Console.WriteLine($"beam/greedy cost per token per beam: {(mb / mg).ToString("F3", System.Globalization.CultureInfo.InvariantCulture)}");
        return 0;
    }
}
