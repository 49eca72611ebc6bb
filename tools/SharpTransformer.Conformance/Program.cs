using SharpTransformer.ConformanceRunner;
using SharpTransformer.Ilgpu;
using SharpTransformer.Models.Gpt2;

// sharpt-conformance --backend ilgpu:cuda [--filter TEXT] [--model gpt2|gpt2-tiny|none] [--batch 2 --seq 64] [--list] [--diagnose]
// Prints PASS/FAIL per case and, last, "conformance: P passed, F failed"; exits 1 when any case failed.
string backendName = "ilgpu", filter = "", modelName = "gpt2";
int batch = 2, seq = 64;
bool list = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--backend": backendName = Next(); break;
        case "--filter": filter = Next(); break;
        case "--model": modelName = Next(); break;
        case "--batch": batch = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--seq": seq = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--list": list = true; break;
        case "--diagnose": return Diagnose.Run();
        default:
            Console.Error.WriteLine($"sharpt-conformance: unknown argument '{args[i]}'. Usage: --backend {BackendSelector.Help} [--filter TEXT] [--model gpt2|gpt2-tiny|none] [--batch B] [--seq T] [--list]");
            return 2;
    }
}

var cases = SuiteRunner.Cases().Where(c => c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
Gpt2Config? model = modelName switch
{
    "gpt2" => Gpt2Config.Small,
    "gpt2-tiny" => Gpt2Config.Tiny,
    "none" => null,
    _ => throw new ArgumentException($"--model {modelName}: use gpt2, gpt2-tiny or none"),
};
var extra = new List<(string Name, Func<SharpTransformer.Backends.IBackend, string?> Run)>
{
    ("Device_MatMul_LargeShapesTakeTheRegisterTiledKernelAndMatchTheCpu", DeviceChecks.LargeMatMul),
};
if (model is not null)
    extra.Add(($"Device_{modelName}_TrainingStepMatchesTheCpu(batch {batch}, seq {seq})", b => DeviceChecks.Gpt2Step(b, model, batch, seq)));
extra = extra.Where(e => e.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
if (list)
{
    foreach (var c in cases) Console.WriteLine(c.Name);
    foreach (var e in extra) Console.WriteLine(e.Name);
    return 0;
}

var backend = BackendSelector.Create(backendName);
Console.WriteLine($"backend: {backend.Name}{(backend is IlgpuBackend g ? $" ({g.DeviceName}, GEMM group {g.GemmTile}x{g.GemmTile})" : "")}; {cases.Count} suite cases, {extra.Count} device checks");
int passed = 0, failed = 0;
foreach (var (name, method, caseArgs) in cases)
{
    if (SuiteRunner.Report(name, () => SuiteRunner.Run(backend, method, caseArgs))) passed++; else failed++;
}
foreach (var (name, run) in extra)
{
    if (SuiteRunner.Report(name, () => run(backend))) passed++; else failed++;
}
Console.WriteLine($"conformance on {backend.Name}: {passed} passed, {failed} failed");
(backend as IDisposable)?.Dispose();
return failed == 0 ? 0 : 1;
