namespace SharpTransformer.Tests.Fixtures;

/// <summary>
/// Data-driven check of every model folder of every fixture root (<see cref="TestPaths.FixtureRoots"/>: $SHARPT_FIXTURES alone
/// when set, else ../shared/fixtures and the roots the later issues list): build the model from config.json, load
/// model.safetensors, and match every output of expected.safetensors (<see cref="FixtureChecks"/>). Folders without config.json
/// (adapters) belong to other tests. Tolerance 1e-4 absolute (the fixtures README).
/// </summary>
public class HuggingFaceFixtureTests
{
    /// <summary>
    /// "root/folder" for every model folder of every root. A root with no model folder gives one row "root/" so that the
    /// theory still runs (it then checks that the root really holds none).
    /// </summary>
    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        foreach (var root in TestPaths.FixtureRoots)
        {
            var folders = FixtureChecks.ModelFolders(root).ToList();
            if (folders.Count == 0) data.Add(Path.GetFileName(root) + "/");
            foreach (var dir in folders) data.Add($"{Path.GetFileName(root)}/{Path.GetFileName(dir)}");
        }
        return data;
    }

    private static string Resolve(string label)
    {
        int slash = label.IndexOf('/');
        var root = TestPaths.FixtureRoots.Single(r => Path.GetFileName(r) == label[..slash]);
        return Path.Combine(root, label[(slash + 1)..]);
    }

    /// <summary>True for any root: every folder with a config.json is of a supported model_type (else the failure names the folder
    /// and the type); folders without one (adapters) are left to their own test.</summary>
    [Fact]
    public void EveryModelFolderOfEveryFixtureRootIsOfASupportedType()
    {
        foreach (var root in TestPaths.FixtureRoots) FixtureChecks.AssertEveryModelFolderIsSupported(root);
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void MatchesPyTorch(string folder)
    {
        string dir = Resolve(folder);
        if (folder.EndsWith('/'))
        {
            Assert.Empty(FixtureChecks.ModelFolders(dir));
            return;
        }
        FixtureChecks.Run(dir);
    }
}
