namespace SharpTransformer.Data;

/// <summary>The dialect of a delimited text file.</summary>
public enum DelimitedFormat
{
    /// <summary>
    /// Tab-separated, one record per line, no quoting: quote characters are ordinary text (as GLUE's TSV files are read,
    /// with Python's <c>csv.QUOTE_NONE</c>). A field cannot contain a tab or a line break.
    /// </summary>
    Tsv,

    /// <summary>
    /// Comma-separated with RFC 4180 quoting: a field in double quotes may hold commas, line breaks and doubled quotes
    /// (<c>""</c> for one <c>"</c>). A quote inside an unquoted field is kept as text, as Python's csv module does.
    /// </summary>
    Csv,
}
