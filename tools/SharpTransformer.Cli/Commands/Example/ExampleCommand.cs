using System.CommandLine;

namespace SharpTransformer.Cli.Commands.Example;

/// <summary><c>sharpt example &lt;what&gt;</c>: worked examples that run end to end without downloads.</summary>
internal static class ExampleCommand
{
    public static Command Create() => new("example", "worked examples that run end to end without a pretrained model")
    {
        ExampleInstructCommand.Create(),
    };
}
