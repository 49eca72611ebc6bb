using System.Text.Json;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.Nn;
using SharpTransformer.Peft;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>
/// Data-driven check of every LoRA adapter folder (one holding <c>adapter_config.json</c>) of every fixture root
/// (<see cref="TestPaths.FixtureRoots"/>; ../shared/fixtures-lora by default): load the base named in base.txt from the
/// <c>fixtures/</c> folder beside the root, load the adapter with <see cref="Lora.Load"/>, and match PyTorch + PEFT: logits, the
/// loss, the gradient of every adapter tensor (the base gets none), greedy tokens with and without the KV cache; then merge
/// and match the logits, the loss and the greedy tokens again. Tolerance 1e-4 absolute (the fixtures-lora README).
/// </summary>
public class LoraFixtureTests
{
    /// <summary>"root/folder" for every adapter folder of every root; a root with none gives one row "root/".</summary>
    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        foreach (var root in TestPaths.FixtureRoots)
        {
            var folders = AdapterFolders(root);
            if (folders.Count == 0) data.Add(Path.GetFileName(root) + "/");
            foreach (var dir in folders) data.Add($"{Path.GetFileName(root)}/{Path.GetFileName(dir)}");
        }
        return data;
    }

    private static List<string> AdapterFolders(string root) => !Directory.Exists(root)
        ? throw new DirectoryNotFoundException($"Fixture root '{root}' does not exist (set {TestPaths.FixturesVariable} to a folder of fixture folders).")
        : Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, Lora.ConfigFileName))).OrderBy(d => d, StringComparer.Ordinal).ToList();

    private static string Resolve(string label, out string root)
    {
        int slash = label.IndexOf('/');
        root = TestPaths.FixtureRoots.Single(r => Path.GetFileName(r) == label[..slash]);
        return Path.Combine(root, label[(slash + 1)..]);
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void MatchesPeft(string folder)
    {
        string dir = Resolve(folder, out var root);
        if (folder.EndsWith('/'))
        {
            // No adapter folder in this root: nothing to check (the row stands for the skipped root).
            Assert.Empty(AdapterFolders(dir));
            return;
        }
        string label = folder;
        string baseName = File.ReadAllText(Path.Combine(dir, "base.txt")).Trim();
        string baseDir = Path.Combine(Path.GetDirectoryName(root)!, "fixtures", baseName);
        Assert.True(Directory.Exists(baseDir), $"{label}: base fixture '{baseName}' not found at {baseDir}");

        var model = FixtureModels.Load(baseDir).Model;
        var adapted = Lora.Load(model, dir);
        model.Eval();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")));
        var wantModules = json.RootElement.GetProperty("lora_modules").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(wantModules, adapted.Select(p => Lora.HuggingFacePath(model, p)).ToList());

        using var expected = SafeTensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        var input = Tensor.FromArray(expected.ReadInts("input_ids"), expected.ShapeOf("input_ids"));
        var labels = Tensor.FromArray(expected.ReadInts("labels"), expected.ShapeOf("labels"));
        var tol = FixtureChecks.Tolerance;

        var logits = model.Forward(input);
        FixtureChecks.Compare(label, "logits", expected.ReadFloats("logits"), logits.ToArray(), expected.ShapeOf("logits"), tol);
        var loss = Functional.CrossEntropy(logits, labels, ignoreIndex: -100);
        FixtureChecks.Compare(label, "loss", expected.ReadFloats("loss"), [loss.Item()], [1], tol);

        model.ZeroGrad();
        loss.Backward();
        var factors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, layer) in Lora.Layers(model))
        {
            string name = "base_model.model." + Lora.HuggingFacePath(model, path);
            factors[name + ".lora_A.weight"] = layer.LoraA["default"];
            factors[name + ".lora_B.weight"] = layer.LoraB["default"];
        }
        var grads = expected.Names.Where(n => n.StartsWith("grad.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(factors.Keys.Order(StringComparer.Ordinal), grads.Select(g => g["grad.".Length..]));
        foreach (var g in grads)
        {
            var t = factors[g["grad.".Length..]];
            Assert.True(t.Grad is not null, $"{label}: {g}: the adapter tensor got no gradient");
            FixtureChecks.Compare(label, g, expected.ReadFloats(g), t.Grad!.ToArray(), expected.ShapeOf(g), tol);
        }
        var lora = new HashSet<Tensor>(factors.Values, ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in model.NamedParameters().Where(x => !lora.Contains(x.Parameter)))
        {
            Assert.False(p.RequiresGrad, $"{label}: base parameter {name} is not frozen");
            Assert.True(p.Grad is null, $"{label}: base parameter {name} got a gradient");
        }

        var prompt = json.RootElement.GetProperty("greedy_prompt_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var want = json.RootElement.GetProperty("greedy_new_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var gen = new TextGenerator(model);
        var opts = new GenerationOptions(MaxNewTokens: want.Length, Greedy: true);
        FixtureChecks.SameTokens(label, "greedy tokens with the KV cache", want, gen.Generate(prompt, opts));
        FixtureChecks.SameTokens(label, "greedy tokens without the KV cache", want, gen.Generate(prompt, opts with { UseCache = false }));

        // Merged: W += scaling·B·A must give the same outputs.
        Lora.Merge(model);
        Assert.All(Lora.Layers(model), l => Assert.True(l.Layer.IsMerged));
        var merged = model.Forward(input);
        FixtureChecks.Compare(label, "logits (merged)", expected.ReadFloats("logits"), merged.ToArray(), expected.ShapeOf("logits"), tol);
        var mergedLoss = Functional.CrossEntropy(merged, labels, ignoreIndex: -100);
        FixtureChecks.Compare(label, "loss (merged)", expected.ReadFloats("loss"), [mergedLoss.Item()], [1], tol);
        FixtureChecks.SameTokens(label, "greedy tokens (merged, KV cache)", want, gen.Generate(prompt, opts));
        FixtureChecks.SameTokens(label, "greedy tokens (merged, no KV cache)", want, gen.Generate(prompt, opts with { UseCache = false }));
    }
}
