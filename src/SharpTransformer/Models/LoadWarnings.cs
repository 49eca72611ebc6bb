namespace SharpTransformer.Models;

/// <summary>Where loaders report what they let pass (missing pooler, newly initialised head): a caller's list, else standard error.</summary>
internal static class LoadWarnings
{
    /// <summary>Adds <paramref name="message"/> to <paramref name="sink"/>, or writes it to standard error when there is no sink.</summary>
    public static void Report(ICollection<string>? sink, string message)
    {
        if (sink is not null) sink.Add(message);
        else Console.Error.WriteLine("warning: " + message);
    }
}
