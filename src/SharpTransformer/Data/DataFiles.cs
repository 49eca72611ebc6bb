namespace SharpTransformer.Data;

/// <summary>Opens record files by extension.</summary>
public static class DataFiles
{
    /// <summary>
    /// Records of a file: <c>.tsv</c>/<c>.tab</c> and <c>.csv</c> through <see cref="DelimitedReader"/>,
    /// <c>.jsonl</c>/<c>.ndjson</c>/<c>.json</c> (one object per line) through <see cref="JsonLinesReader"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown extension.</exception>
    public static IEnumerable<DataRecord> Open(string path, DataReaderOptions? options = null) =>
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".tsv" or ".tab" => new DelimitedReader(path, DelimitedFormat.Tsv, options),
            ".csv" => new DelimitedReader(path, DelimitedFormat.Csv, options),
            ".jsonl" or ".ndjson" or ".json" => new JsonLinesReader(path, options),
            var e => throw new ArgumentException($"Cannot tell the format of '{path}' from its extension '{e}' (expected .tsv, .csv, .jsonl).", nameof(path)),
        };
}
