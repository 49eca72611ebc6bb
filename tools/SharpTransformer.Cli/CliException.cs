namespace SharpTransformer.Cli;

/// <summary>A user error found while running a command: printed as one line, without a stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
