using System.Diagnostics;

namespace SharpTransformer.Tests.Packaging;

public class PackageConsumptionTests
{
    // Packs src/SharpTransformer, then builds and runs a fresh console app that references only the .nupkg
    // and runs a forward pass. A unique prerelease version keeps the NuGet cache from serving an older package.
    [Fact]
    public void FreshConsoleAppBuildsAgainstPackedNupkgAndRunsForwardPass()
    {
        var work = Directory.CreateTempSubdirectory("sharpt-pack-");
        try
        {
            string version = $"0.0.0-test{DateTime.UtcNow:yyyyMMddHHmmss}{Environment.ProcessId}";
            string feed = Path.Combine(work.FullName, "feed");
            Run("dotnet", $"pack \"{Path.Combine(TestPaths.Root, "src", "SharpTransformer")}\" -c Release -o \"{feed}\" -p:Version={version}", TestPaths.Root);
            var nupkg = Path.Combine(feed, $"SharpTransformer.{version}.nupkg");
            Assert.True(File.Exists(nupkg), $"pack did not produce {nupkg}");
            using (var zip = System.IO.Compression.ZipFile.OpenRead(nupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("lib/net10.0/SharpTransformer.dll", names);
                Assert.Contains("lib/net10.0/SharpTransformer.xml", names);
                Assert.Contains("README.md", names);
                var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
                Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
                Assert.Contains("System.Numerics.Tensors", nuspec);
                Assert.DoesNotContain("runtimes/", string.Join("\n", names));   // no native binaries
            }

            string app = Path.Combine(work.FullName, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="SharpTransformer" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using SharpTransformer.Models.Gpt2;
                using SharpTransformer.Tensors;
                var model = new Gpt2(Gpt2Config.Tiny);
                var ids = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
                var logits = model.Forward(ids);
                Console.WriteLine($"logits {logits.ShapeString} finite={logits.ToArray().All(float.IsFinite)}");
                """);
            // The app lives outside the repository, so the repo's Directory.Build.props does not apply.
            var output = Run("dotnet", "run -c Release", app);
            Assert.Contains("logits (2, 3, 64) finite=True", output);
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static string Run(string file, string args, string cwd)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException($"{file} {args} timed out"); }
        string all = stdout.Result + stderr.Result;
        Assert.True(p.ExitCode == 0, $"{file} {args} failed with {p.ExitCode}:\n{all}");
        return all;
    }
}
